"""envctl/plan.py's reader of saved plans: where a problem is, named for a person."""

from __future__ import annotations

import pytest

from components.conventions import PLAN_SCHEMA_VERSION
from envctl.errors import UsageError
from envctl.plan import parse_plan


def _problem(data: object) -> str:
    with pytest.raises(UsageError) as err:
        parse_plan(data, "p.json")
    return str(err.value)


def test_a_resource_that_is_not_an_object_is_named_by_its_index() -> None:
    assert _problem({"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev", "resources": ["x"]}).startswith(
        'p.json: not a plan JSON file: resources[0]: got "x"'
    )


def test_a_resource_without_a_name_is_named_by_its_index_alone() -> None:
    assert _problem({"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev", "resources": [{"type": "t"}]}).startswith(
        "p.json: not a plan JSON file: resources[0].name is missing;"
    )
    assert _problem(
        {"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev", "resources": [{"type": "t", "name": 7}]}
    ).startswith("p.json: not a plan JSON file: resources[0].name: got 7")


def test_a_named_resource_is_named_by_its_name_too() -> None:
    assert _problem(
        {"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev", "resources": [{"name": "files"}]}
    ).startswith("p.json: not a plan JSON file: resources[0] ('files').type is missing;")
