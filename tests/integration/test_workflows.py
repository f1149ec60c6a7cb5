"""Structural checks of the GitHub workflows, beyond what check-jsonschema and zizmor audit
in scripts/test: the rules of the pull-request issue that a reviewer would otherwise check by eye."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.checks import each
from tests.support.program import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"].get("steps", []))
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    on: Any = doc["on"] if "on" in doc else doc[True]  # YAML 1.1 reads a bare `on` as True
    if isinstance(on, str):
        return {on: None}
    return dict(on) if isinstance(on, dict) else dict.fromkeys(on)


def external_actions(path: Path) -> list[str]:
    """Every `uses:` of a step that is not a local action."""
    return [u for step in steps(load(path)) if (u := step.get("uses")) and not u.startswith("./")]


def test_the_pinning_check_sees_the_actions_in_use() -> None:
    # The per-file check below loops over external actions; it must not pass on none at all.
    each((u for path in WORKFLOWS + ACTIONS for u in external_actions(path)), "external action", at_least=5)


def test_the_workflows_exist() -> None:
    names = {p.stem for p in WORKFLOWS}
    assert names == {"ci", "pr-review", "pr-environment", "sweep", "deploy", "deploy-stack", "drift"}


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    for uses in external_actions(path):
        assert SHA_PIN.match(uses), f"{path.name}: {uses} is not pinned to a commit SHA"
    for job in load(path).get("jobs", {}).values():
        uses = job.get("uses")
        assert uses is None or uses.startswith("./.github/workflows/"), uses


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_no_event_text_is_interpolated_into_scripts(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step.get('name')}"
        assert "${{" not in str(step.get("with", {}).get("script", "")), f"{path.name}: expression inside script"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_permissions(path: Path) -> None:
    doc = load(path)
    assert doc.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in doc["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} must declare its permissions"
        assert job["permissions"] != "write-all"
    assert "pull_request_target" not in triggers(doc)
    for step in steps(doc):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_aws_access_is_through_oidc_roles_only() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name
        for step in steps(load(path)):
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                assert "role-to-assume" in step["with"], path.name


def test_only_the_guarded_script_destroys_and_only_pr_events_or_the_sweep_call_it() -> None:
    for path in WORKFLOWS:
        for step in steps(load(path)):
            run = step.get("run", "")
            assert "pulumi destroy" not in run and "stack rm" not in run, f"{path.name} destroys directly"
            if "destroy-preview" in run:
                assert path.stem in {"pr-environment", "sweep"}, path.name
    script = (ROOT / "scripts" / "destroy-preview").read_text()
    assert script.index("envctl disposable") < script.index("pulumi destroy") < script.index("pulumi stack rm")


def test_prod_deploys_through_its_environment_serialised_per_stack() -> None:
    deploy = load(ROOT / ".github/workflows/deploy.yml")
    assert deploy["jobs"]["prod"]["needs"] == "staging" and deploy["jobs"]["staging"]["needs"] == "dev"
    job = load(ROOT / ".github/workflows/deploy-stack.yml")["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": False}


def test_preview_and_deploy_run_the_policy_pack() -> None:
    assert "policyPacks: policies" in (ROOT / ".github/workflows/deploy-stack.yml").read_text()
    assert "--policy-pack policies" in (ROOT / ".github/workflows/pr-environment.yml").read_text()
    assert 'envctl check "$STACK"' in (ROOT / ".github/workflows/deploy-stack.yml").read_text()


def test_drift_is_a_read_only_refresh_of_each_long_lived_stack() -> None:
    doc = load(ROOT / ".github/workflows/drift.yml")
    job = doc["jobs"]["refresh"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    assert any("pulumi refresh --preview-only --expect-no-changes" in s.get("run", "") for s in job["steps"])
    assert "schedule" in triggers(doc)
