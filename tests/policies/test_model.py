"""The policy pack's model (policies/model.py): how nested and unknown values are read, which
provider tags name the environment and how a rule kind becomes a level. How a plan JSON's fields
become resources is tests/policies/test_plan_adapter.py's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies import rules
from policies.contracts import conventions
from policies.model import UNKNOWN, Res, collector, dig, holds, items, known, policy_document, provider_tags, stack_of
from tests.support.policies import TAGS


def test_unknown_shows_as_unknown() -> None:
    assert repr(UNKNOWN) == "<unknown>"  # in a failing assertion or a log line, not an object address


@pytest.mark.parametrize(
    ("value", "is_known"),
    [(UNKNOWN, False), (conventions.SECRET_PLACEHOLDER, False), ("x", True), (None, True), (False, True)],
)
def test_known_is_false_only_for_unknown_and_secret_values(value: Any, is_known: bool) -> None:
    assert known(value) is is_known
    assert holds(value, "expected") is not is_known  # unknown holds; any known value but the expected fails
    assert holds("expected", "expected")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("a", "b"), 1),
        (("list", 0), "first"),
        (("list", -2), "first"),
        (("list", 1), "last"),
        (("list", -1), "last"),
        (("list", 2), None),
        (("list", -3), None),
        (("list", "0"), None),
        (("a", 0), None),
        (("missing", "b"), None),
        (("a", "b", "c"), None),
        (("unknown",), UNKNOWN),
        (("unknown", "b", 0), UNKNOWN),
        (("list", 0, "x"), None),
        ((), {"a": {"b": 1}, "list": ["first", "last"], "unknown": UNKNOWN}),
    ],
)
def test_dig_reads_nested_values(path: tuple[str | int, ...], expected: Any) -> None:
    value = {"a": {"b": 1}, "list": ["first", "last"], "unknown": UNKNOWN}
    assert dig(value, *path) == expected
    assert Res("t", "n", value).get(*path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [([1, 2], [1, 2]), (None, []), ({"a": 1}, []), ("ab", []), (UNKNOWN, [UNKNOWN]), ([UNKNOWN], [UNKNOWN])],
)
def test_items_of_a_list_property(value: Any, expected: list[Any]) -> None:
    assert items(value) == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"defaultTags": {"tags": TAGS}}, TAGS),
        ({"defaultTags": json.dumps({"tags": TAGS})}, TAGS),  # as the engine may pass it
        ({"defaultTags": "{not json"}, None),
        ({"defaultTags": {"tags": "x"}}, None),
        ({"defaultTags": ["tags"]}, None),
        ({}, None),
    ],
)
def test_provider_tags(props: dict[str, Any], expected: dict[str, Any] | None) -> None:
    assert provider_tags(props) == expected


def _provider(name: str, tags: dict[str, Any] | None) -> Res:
    return Res(conventions.AWS_PROVIDER, name, {"defaultTags": {"tags": tags}} if tags is not None else {})


def test_the_stack_takes_its_environment_from_the_first_provider_with_tags() -> None:
    other = {**TAGS, conventions.TAG_ENVIRONMENT: "other"}
    stack = stack_of([_provider("untagged", None), _provider("first", TAGS), _provider("second", other)])
    assert (stack.env, stack.env_type, stack.project) == ("pr-5", "custom", "acme")
    assert not stack.deletion_confirmed


def test_the_stack_reads_only_text_tags_and_confirmation_that_is_true() -> None:
    odd = {conventions.TAG_ENVIRONMENT: 5, conventions.TAG_TYPE: ["prod"], conventions.TAG_PROJECT: None}
    confirmations = [Res(conventions.SCHEMA_ROLE, f"s{i}", {"deletionConfirmed": v}) for i, v in enumerate(["true", 1])]
    stack = stack_of([_provider("p", odd), *confirmations])
    assert (stack.env, stack.env_type, stack.project, stack.deletion_confirmed) == (None, None, None, False)
    assert stack_of([Res(conventions.SCHEMA_ROLE, "s", {"deletionConfirmed": True})]).deletion_confirmed
    assert not stack_of([Res(conventions.BUCKET, "b", {"deletionConfirmed": True})]).deletion_confirmed


@pytest.mark.parametrize(
    ("kind", "env_type", "level"),
    [
        (rules.LIFECYCLE, "dev", "mandatory"),
        (rules.LIFECYCLE, "custom", "mandatory"),
        (rules.INVARIANT, "staging", "mandatory"),
        (rules.UNIVERSAL, None, "mandatory"),
        (rules.PROD, "custom", "advisory"),
        (rules.UNIVERSAL, "anything-else", "advisory"),
    ],
)
def test_levels_of_every_kind(kind: str, env_type: str | None, level: str) -> None:
    assert rules.Rule("x", kind, "", "", lambda s: iter(())).level(env_type) == level


def test_a_finding_names_its_rule_resource_level_message_and_urn() -> None:
    bucket = Res(conventions.BUCKET, "files", {}, urn="urn:files")
    stack = stack_of([bucket])
    rule = rules.Rule("r", rules.PROD, "", "", lambda s: iter([(bucket, "the message")]), deletion_guard=True)
    assert rule.run(stack) == [rules.Finding("r", "files", "mandatory", "the message", "urn:files")]
    stack.deletion_confirmed = True
    assert rule.run(stack) == []
    unguarded = rules.Rule("r", rules.PROD, "", "", lambda s: iter([(bucket, "m")]))
    assert len(unguarded.run(stack)) == 1


def test_the_collector_registers_each_rule_as_declared_in_order() -> None:
    registered: list[rules.Rule] = []
    rule = collector(registered)

    def guarded(s: rules.Stack) -> Any:
        return iter(())

    def plain(s: rules.Stack) -> Any:
        return iter(())

    assert rule("a", rules.PROD, "CKV_1", "first", deletion_guard=True)(guarded) is guarded
    rule("b", rules.UNIVERSAL, "CKV_2", "second")(plain)
    assert registered == [
        rules.Rule("a", rules.PROD, "CKV_1", "first", guarded, True),
        rules.Rule("b", rules.UNIVERSAL, "CKV_2", "second", plain, False),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"Statement": [{"Effect": "Allow"}]}', {"Statement": [{"Effect": "Allow"}]}),
        ({"Statement": {"Effect": "Allow"}}, {"Statement": [{"Effect": "Allow"}]}),
        ("{}", {"Statement": []}),
        ("{oops", None),
        ("[]", None),
        (None, None),
        (UNKNOWN, UNKNOWN),
        (conventions.SECRET_PLACEHOLDER, UNKNOWN),
    ],
)
def test_policy_document(value: Any, expected: Any) -> None:
    assert policy_document(value) == expected
