"""envctl/plan.py's reader of saved plans: where a problem is, named for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from envctl.errors import UsageError
from envctl.plan import parse_plan, read_plan_file
from envctl.stackfiles import read_json_file
from policies.contracts.conventions import PLAN_SCHEMA_VERSION


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


def test_a_plan_that_is_not_an_object_names_what_it_is() -> None:
    assert _problem(["x"]) == (
        "p.json: not a plan JSON file (a JSON list; expected the output of `envctl plan STACK --format json`)"
    )


def test_a_long_schema_version_is_shown_cut_to_40_characters() -> None:
    version = "9" * 60
    assert _problem({"schemaVersion": version, "stack": "dev", "resources": []}).startswith(
        f'p.json: the plan has schemaVersion "{"9" * 39}; this envctl reads schemaVersion {PLAN_SCHEMA_VERSION} only'
    )


def test_a_long_wrong_value_is_shown_cut_to_60_characters() -> None:
    base = {"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev"}
    assert _problem({**base, "resources": [{"name": "n", "type": ["t" * 80]}]}).startswith(
        f"p.json: not a plan JSON file: resources[0] ('n').type: got [\"{'t' * 55}... ("
    )
    assert _problem({**base, "resources": [{"name": "n", "type": ["t" * 56]}]}) == (
        f"p.json: not a plan JSON file: resources[0] ('n').type: got [\"{'t' * 56}\"] (input should be a valid "
        "string); expected the output of `envctl plan STACK --format json`"
    )
    assert _problem({**base, "resources": [{"name": "n", "type": ["t" * 57]}]}).startswith(
        f"p.json: not a plan JSON file: resources[0] ('n').type: got [\"{'t' * 55}... ("
    )


def test_a_saved_snapshot_reads_back_as_itself() -> None:
    import json

    from tests.support.program import ROOT

    for stack in ("dev", "prod"):
        saved = json.loads((ROOT / "tests" / "snapshots" / f"{stack}.json").read_text())
        assert any("arn" in r for r in saved["resources"])
        assert any("arn" not in r for r in saved["resources"])
        assert parse_plan(saved, stack).to_json() == saved


# --- the JSON and plan readers' exact refusals ---------------------------------------------------


def test_read_json_file_names_each_problem(tmp_path: Path) -> None:
    def problem(path: Path) -> str:
        with pytest.raises(UsageError) as err:
            read_json_file(path)
        return str(err.value)

    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "caf\xe9"}')
    assert problem(tmp_path) == f"{tmp_path}: is a directory, not a JSON file"
    assert problem(tmp_path / "none.json") == f"{tmp_path / 'none.json'}: cannot read (No such file or directory)"
    assert problem(latin) == f"{latin}: malformed JSON (not UTF-8 text)"
    blank = tmp_path / "blank.json"
    blank.write_text(" \n\t\r\n")
    assert read_json_file(blank) == {}


def test_read_plan_file_names_a_missing_or_empty_file(tmp_path: Path) -> None:
    hint = "expected the output of `envctl plan STACK --format json`"
    with pytest.raises(UsageError) as err:
        read_plan_file(tmp_path / "none.json")
    assert (
        str(err.value) == f"{tmp_path / 'none.json'}: no such file; give a plan JSON file ({hint}) or a committed stack"
    )
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(UsageError) as err:
        read_plan_file(tmp_path / "empty.json")
    assert str(err.value) == f"{tmp_path / 'empty.json'}: not a plan JSON file (empty); {hint}"


# --- the diff's name normalising -----------------------------------------------------------------


def test_a_value_that_is_exactly_the_environments_name_is_a_difference() -> None:
    from envctl.diff import diff_plans
    from tests.support.program import committed_plan

    result = diff_plans(committed_plan("dev"), committed_plan("staging"), "dev", "staging")
    assert ("name", "dev", "staging") in [(c.path, c.a, c.b) for c in result.outputs]


def test_two_environments_of_another_project_match_resource_by_resource() -> None:
    from envctl.diff import diff_plans
    from tests.support.program import render_raw

    one = render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="one").to_json()
    two = render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="two").to_json()
    result = diff_plans(one, two, "one", "two")
    assert one["resources"] and not result.only_in_a and not result.only_in_b


def test_a_key_with_a_control_character_is_shown_escaped_on_one_line() -> None:
    """Hypothesis found a propertyDependencies key "\\x1e" (a record separator), which splitlines()
    and terminals break the line at."""
    resource = {"name": "n", "type": "t", "propertyDependencies": {"\x1e": None}}
    plan = {"schemaVersion": PLAN_SCHEMA_VERSION, "stack": "dev", "resources": [resource]}
    problem = _problem(plan)
    assert problem.startswith("p.json: not a plan JSON file: resources[0] ('n')")
    assert ".propertyDependencies.'\\x1e': got null (input should be a valid list)" in problem
    assert len(problem.splitlines()) == 1
