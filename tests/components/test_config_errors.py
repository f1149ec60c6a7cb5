"""The config contract's error text (components/config_errors.py) on a contract of its own:
how a value is quoted, the did-you-mean, JSON text of an object- or list-valued key, and each of
pydantic's errors rewritten as one line `key: got <value>; allowed: <what>`. Every refusal of the
stack's own contract, word for word, is tests/components/test_config.py's."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.config_errors import NOT_SET, ConfigError, Contract, KeyRuleError, _did_you_mean, decode_json, show


class Net(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    subnet_group: str = Field(alias="subnetGroup", description="the DB subnet group")


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: str = Field(alias="envstack:type", description="the type")
    limit: int = Field(5, alias="x:limit", ge=1, le=9, description="the connection limit")
    flag: bool = Field(False, alias="x:flag")
    net: Net | None = Field(None, alias="x:network", description="the network")
    name: str = Field("a", alias="envstack:name", description="the name")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value == "bad":
            raise ValueError("a name other than bad")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Root:
        if self.name == "keyed":
            raise KeyRuleError("x:other", 3, "set x:other to 4")
        return self


KNOWN = ("envstack:type", "x:limit", "x:flag", "x:network", "envstack:name")
CONTRACT = Contract(Root, {"x:network": ("network", Net)}, KNOWN)


def problems(raw: dict[str, Any], *, defaulted_name: bool = False) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationError) as err:
        Root.model_validate(raw)
    return CONTRACT.problems(err.value, ["dev", "prod"], stack="S", defaulted_name=defaulted_name)


def test_a_value_is_quoted_as_json_and_an_unset_key_says_so() -> None:
    assert show(NOT_SET) == "nothing (the key is not set)"
    assert show(None) == "null"
    assert show({"b": 1, "a": [True]}) == '{"a": [true], "b": 1}'
    assert show(datetime.date(2024, 1, 2)) == '"2024-01-02"'


def test_a_refusal_is_one_line_per_problem_under_one_heading() -> None:
    err = ConfigError([("x:a", '"1"', "a whole number"), ("x:b", "null", "a string")])
    assert (
        str(err) == 'invalid stack config\n  x:a: got "1"; allowed: a whole number\n  x:b: got null; allowed: a string'
    )
    assert err.keys == ["x:a", "x:b"]


def test_did_you_mean_compares_the_part_after_the_namespace() -> None:
    assert _did_you_mean("x:limt", KNOWN) == " (did you mean x:limit?)"
    assert _did_you_mean("y:limt", KNOWN) == " (did you mean x:limit?)"
    assert _did_you_mean("x:zzz", KNOWN) == ""
    assert _did_you_mean("subnetGrp", ["subnetGroup"]) == " (did you mean subnetGroup?)"


def test_json_text_is_decoded_and_anything_else_kept() -> None:
    assert decode_json("k", '{"a": 1}', is_list=False) == {"a": 1}
    assert decode_json("k", "[1]", is_list=True) == [1]
    kept = {"a": 1}
    assert decode_json("k", kept, is_list=False) is kept
    for is_list, shape in ((False, "an object"), (True, "a list")):
        with pytest.raises(ConfigError) as err:
            decode_json("x:network", "{not json", is_list=is_list)
        assert err.value.problems == [("x:network", '"{not json"', f"{shape}; set it with `pulumi config set --path`")]


def test_each_kind_of_error_in_the_contracts_words() -> None:
    assert problems({"x:limit": "many", "x:flag": "maybe"}) == [
        ("envstack:type", "nothing (the key is not set)", "one of dev, prod"),  # the types, unset or wrong
        ("x:limit", '"many"', "a whole number (the connection limit)"),
        ("x:flag", '"maybe"', "true or false"),  # no description: the shape alone
    ]
    assert problems({"envstack:type": 1, "x:limit": 0}) == [
        ("envstack:type", "1", "one of dev, prod"),  # the environment types, whatever pydantic says
        ("x:limit", "0", "a whole number >= 1 (the connection limit)"),
    ]
    assert problems({"envstack:type": "dev", "x:limit": 10, "x:network": []}) == [
        ("x:limit", "10", "a whole number <= 9 (the connection limit)"),
        ("x:network", "[]", "an object (the network)"),
    ]


def test_an_unknown_key_names_the_keys_there_are() -> None:
    assert problems({"envstack:type": "dev", "x:limt": 2, "x:network": {"subnetGrp": "g"}}) == [
        ("x:network.subnetGroup", "nothing (the key is not set)", "must be set (the DB subnet group)"),
        (
            "x:network.subnetGrp",
            '"g"',
            "no such key (did you mean subnetGroup?); the network's keys are subnetGroup",
        ),
        (
            "x:limt",
            "2",
            "no such key (did you mean x:limit?); the envstack keys are envstack:type, x:limit, x:flag, x:network, envstack:name",
        ),
    ]


def test_a_rule_speaks_for_itself_and_a_cross_key_rule_names_its_key() -> None:
    assert problems({"envstack:type": "dev", "envstack:name": "bad"}) == [
        ("envstack:name", '"bad"', "a name other than bad")  # pydantic's "Value error, " dropped
    ]
    assert problems({"envstack:type": "dev", "envstack:name": "keyed"}) == [("x:other", "3", "set x:other to 4")]


def test_a_defaulted_name_says_where_it_came_from() -> None:
    assert problems({"envstack:type": "dev", "envstack:name": 1}, defaulted_name=True) == [
        ("envstack:name", "1", "a string (the name) (it defaulted to the stack name 'S'; set envstack:name)")
    ]
    assert problems({"envstack:type": "dev", "envstack:name": 1}) == [("envstack:name", "1", "a string (the name)")]


class Listed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principals: tuple[str, ...] = Field((), alias="x:principals", description="the principals")


def test_an_item_of_a_list_is_refused_by_its_place_with_the_shape_alone() -> None:
    """A contract of its own, built here: the item's refusal names no field (an item is not a key,
    and the list-valued key is no object), and an unknown key lists this contract's keys."""
    contract = Contract(Listed, {}, ("x:principals",))
    with pytest.raises(ValidationError) as err:
        Listed.model_validate({"x:principals": ["a", 5], "x:prinicpals": 1})
    assert contract.problems(err.value, [], stack="S", defaulted_name=False) == [
        ("x:principals.1", "5", "a string"),
        ("x:prinicpals", "1", "no such key (did you mean x:principals?); the envstack keys are x:principals"),
    ]
