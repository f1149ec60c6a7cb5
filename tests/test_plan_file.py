"""envctl/plan.py's reader of saved plans: where a problem is, named for a person."""

from __future__ import annotations

import pytest

from envctl.errors import UsageError
from envctl.plan import parse_plan


def _problem(data: object) -> str:
    with pytest.raises(UsageError) as err:
        parse_plan(data, "p.json")
    return str(err.value)


def test_a_resource_that_is_not_an_object_is_named_by_its_index() -> None:
    assert _problem({"stack": "dev", "resources": ["x"]}).startswith(
        'p.json: not a plan JSON file: resources[0]: got "x"'
    )


def test_a_resource_without_a_name_is_named_by_its_index_alone() -> None:
    assert _problem({"stack": "dev", "resources": [{"type": "t"}]}).startswith(
        "p.json: not a plan JSON file: resources[0].name is missing;"
    )
    assert _problem({"stack": "dev", "resources": [{"type": "t", "name": 7}]}).startswith(
        "p.json: not a plan JSON file: resources[0].name: got 7"
    )


def test_a_named_resource_is_named_by_its_name_too() -> None:
    assert _problem({"stack": "dev", "resources": [{"name": "files"}]}).startswith(
        "p.json: not a plan JSON file: resources[0] ('files').type is missing;"
    )


def test_a_plan_that_is_not_an_object_names_what_it_is() -> None:
    assert _problem(["x"]) == (
        "p.json: not a plan JSON file (a JSON list; expected the output of `envctl plan STACK --format json`)"
    )


def test_a_long_schema_version_is_shown_cut_to_40_characters() -> None:
    version = "9" * 60
    assert _problem({"schemaVersion": version, "stack": "dev", "resources": []}).startswith(
        f'p.json: not a plan JSON file: schemaVersion "{"9" * 39}: this envctl reads 1 to '
    )


def test_a_long_wrong_value_is_shown_cut_to_60_characters() -> None:
    assert _problem({"stack": "dev", "resources": [{"name": "n", "type": ["t" * 80]}]}).startswith(
        f"p.json: not a plan JSON file: resources[0] ('n').type: got [\"{'t' * 55}... ("
    )
    assert _problem({"stack": "dev", "resources": [{"name": "n", "type": ["t" * 56]}]}).startswith(
        f"p.json: not a plan JSON file: resources[0] ('n').type: got [\"{'t' * 56}\"] ("
    )


def test_a_saved_snapshot_reads_back_as_itself() -> None:
    import json

    from tests.conftest import ROOT

    for stack in ("dev", "prod"):
        saved = json.loads((ROOT / "tests" / "snapshots" / f"{stack}.json").read_text())
        assert any("arn" in r for r in saved["resources"])
        assert any("arn" not in r for r in saved["resources"])
        assert parse_plan(saved, stack).to_json() == saved
