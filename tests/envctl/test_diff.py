"""envctl/diff.py on hand-made plans: the path of each nested difference, lists of values
compared whole, and a resource saved without inputs read as one with none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envctl.diff import diff_plans
from policies.contracts import conventions, names
from policies.contracts.conventions import TAG_PROJECT
from tests.support.program import committed_plan, invoke


def _plan(stack: str, inputs: dict[str, Any] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"name": f"envstack-{stack}-files", "type": "t"}
    if inputs is not None:
        resource["inputs"] = inputs
    return {"stack": stack, "resources": [resource], "outputs": {}}


def _changes(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    result = diff_plans(_plan("dev", a), _plan("prod", b), "dev", "prod")
    assert not result.only_in_a and not result.only_in_b  # one resource, matched across environments
    return [(c.path, c.a, c.b) for r in result.changed for c in r.changes]


def test_nested_objects_and_lists_of_objects_give_dotted_and_indexed_paths() -> None:
    a = {"tags": {"team": "a", "env": "envstack-dev-x"}, "rules": [{"id": "r1"}, {"id": "r2", "days": 1}]}
    b = {"tags": {"team": "b", "env": "envstack-prod-x"}, "rules": [{"id": "r1"}, {"id": "r2", "days": 7}]}
    assert _changes(a, b) == [("inputs.rules[1].days", 1, 7), ("inputs.tags.team", "a", "b")]


def test_a_list_of_plain_values_is_compared_whole_and_normalised() -> None:
    assert _changes({"ids": ["a", "b"]}, {"ids": ["a", "c"]}) == [("inputs.ids", ["a", "b"], ["a", "c"])]
    assert _changes({"ids": ["envstack-dev-x"]}, {"ids": ["envstack-prod-x"]}) == []


def test_a_resource_saved_without_inputs_has_none() -> None:
    assert _changes(None, {}) == []
    assert _changes(None, {"a": {"b": 1}}) == [("inputs.", {}, None), ("inputs.a.b", None, 1)]


def test_options_absent_from_an_older_plan_are_the_engines_defaults() -> None:
    a, b = _plan("dev", {}), _plan("prod", {})
    b["resources"][0].update(protect=False, retainOnDelete=False, deleteBeforeReplace=False, ignoreChanges=[])
    assert diff_plans(a, b, "dev", "prod").empty
    assert diff_plans(b, a, "prod", "dev").empty


def test_a_plan_saved_without_outputs_has_none() -> None:
    a, b = _plan("dev", {}), _plan("prod", {})
    del a["outputs"]
    assert diff_plans(a, b, "dev", "prod").empty
    assert diff_plans(b, a, "prod", "dev").empty


def _project_plan(stack: str) -> dict[str, Any]:
    provider = {
        "name": "aws",
        "type": conventions.AWS_PROVIDER,
        "inputs": {"defaultTags": {"tags": {TAG_PROJECT: "acme"}}},
    }
    return {"stack": stack, "resources": [provider], "outputs": {"bucket": names.logical(stack, "files", "acme")}}


def test_outputs_are_normalised_with_each_plans_own_project() -> None:
    assert names.logical("dev", "files", "acme") != names.logical("dev", "files")
    assert diff_plans(_project_plan("dev"), _project_plan("prod"), "dev", "prod").empty


def test_an_output_on_one_side_only_is_a_difference() -> None:
    a, b = _plan("dev", {}), _plan("prod", {})
    a["outputs"], b["outputs"] = {"extra": 1, "same": 2}, {"same": 2}
    assert [(c.path, c.a, c.b) for c in diff_plans(a, b, "dev", "prod").outputs] == [("extra", 1, None)]
    assert [(c.path, c.a, c.b) for c in diff_plans(b, a, "prod", "dev").outputs] == [("extra", None, 1)]


def test_the_project_is_the_providers_tag_only() -> None:
    from envctl.plan import env_project

    other = {"name": "x", "type": "t", "inputs": {"defaultTags": {"tags": {TAG_PROJECT: "other"}}}}
    plan = _project_plan("dev")
    plan["resources"].insert(0, other)
    assert env_project(plan) == "acme"
    assert env_project({"stack": "dev"}) == names.DEFAULT_PROJECT


def test_diff_dev_prod_shows_what_prod_has_that_dev_does_not() -> None:
    d = diff_plans(committed_plan("dev"), committed_plan("prod"), "dev", "prod")
    only_prod = {(r["type"], r["name"]) for r in d.only_in_b}
    assert (conventions.KMS_KEY, "envstack-<env>-key") in only_prod
    assert (conventions.VERSIONING, "envstack-<env>-files-versioning") in only_prod
    assert (conventions.CLUSTER, "envstack-<env>-cluster") in {(r["type"], r["name"]) for r in d.only_in_a}
    pool = next(r for r in d.changed if r.type == conventions.USER_POOL)
    assert {c.path: (c.a, c.b) for c in pool.changes}["inputs.mfaConfiguration"] == ("OPTIONAL", "ON")
    bucket = next(r for r in d.changed if r.type == conventions.BUCKET)
    assert {c.path: (c.a, c.b) for c in bucket.changes}["protect"] == (False, True)


def test_diff_against_own_snapshot_is_empty_and_exit_code_flags_differences() -> None:
    code, out, _ = invoke("diff", "tests/snapshots/prod.json", "prod", "--exit-code")
    assert code == 0 and out.startswith("no differences")
    code, out, _ = invoke("diff", "dev", "prod", "--exit-code")
    assert code == 1 and "+ only in prod: aws:kms/key:Key" in out


@pytest.mark.parametrize("content", ["{not json", "[]", '{"schemaVersion": 2, "stack": "x"}'])
def test_diff_refuses_a_malformed_saved_plan(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, out, err = invoke("diff", str(bad), "dev")
    assert code == 2 and out == "" and "not a plan JSON file" in err and len(err.strip().splitlines()) == 1


def test_diff_reads_absent_options_of_an_older_plan_as_the_engines_defaults() -> None:
    """A base-branch snapshot from before deleteBeforeReplace/ignoreChanges were recorded
    differs only where a resource really sets them."""
    new = committed_plan("dev")
    old = json.loads(json.dumps(new))
    for r in old["resources"]:
        for key in ("deleteBeforeReplace", "ignoreChanges", "dependsOn", "propertyDependencies"):
            del r[key]
    changed = {(c.name, ch.path) for c in diff_plans(old, new, "old", "new").changed for ch in c.changes}
    assert changed == {
        ("envstack-<env>-cluster", "deleteBeforeReplace"),
        ("envstack-<env>-cluster", "ignoreChanges"),
        ("envstack-<env>-cluster-writer", "deleteBeforeReplace"),
    }
