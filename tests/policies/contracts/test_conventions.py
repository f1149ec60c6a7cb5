"""One rule for plan versions (policies/contracts/conventions.plan_version_refusal), applied by both readers:
envctl's plan reader (diff, manifest, access, check --plan, review-comment's base snapshots) and
the policy pack's offline adapter. A plan that one command refuses, every command refuses, alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envctl.cli import app
from policies import rules
from policies.contracts import conventions
from tests.support.program import ROOT, runner

SNAPSHOT = ROOT / "tests" / "snapshots" / "dev.json"
COMMANDS = {
    "diff": ["diff", "{plan}", str(SNAPSHOT)],
    "manifest": ["manifest", "{plan}"],
    "check": ["check", "--plan", "{plan}"],
    "access": ["access", "{plan}"],
}


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        (None, "has no schemaVersion"),
        (1, "has schemaVersion 1"),
        (3, "has schemaVersion 3"),
        ("2", 'has schemaVersion "2"'),
    ],
)
def test_every_reader_refuses_a_plan_of_another_version_with_the_same_line(
    tmp_path: Path, version: Any, shown: str
) -> None:
    plan = json.loads(SNAPSHOT.read_text())
    assert plan["schemaVersion"] == conventions.PLAN_SCHEMA_VERSION
    if version is None:
        del plan["schemaVersion"]
    else:
        plan["schemaVersion"] = version
    path = tmp_path / "old.json"
    path.write_text(json.dumps(plan))
    line = (
        f"envctl: {path}: the plan {shown}; this envctl reads schemaVersion 2 only: "
        "re-render it with this envctl (`envctl plan STACK --format json`)\n"
    )
    for name, argv in COMMANDS.items():
        out = runner.invoke(app, [str(path) if a == "{plan}" else a for a in argv])
        assert (out.exit_code, out.stdout, out.stderr) == (2, "", line), name
    # The pack's adapter, given the plan itself, refuses it by the same rule and words.
    with pytest.raises(rules.PlanVersionError) as refused:
        rules.from_plan(plan)
    assert f"{path}: {refused.value}\n" == line.removeprefix("envctl: ")


def test_the_plan_envctl_writes_is_the_version_both_readers_read() -> None:
    plan = json.loads(SNAPSHOT.read_text())
    assert conventions.plan_version_refusal(plan) is None
    assert runner.invoke(app, ["check", "--plan", str(SNAPSHOT)]).exit_code == 0
    assert runner.invoke(app, ["diff", str(SNAPSHOT), str(SNAPSHOT), "--exit-code"]).exit_code == 0
    assert conventions.plan_version_refusal({"schemaVersion": True}) is not None  # JSON true is no 1 or 2
    assert conventions.plan_version_refusal({"schemaVersion": 2.0}) is not None


def test_the_refusal_shows_at_most_40_characters_of_any_version_value() -> None:
    """The line stays one short line whatever the value: JSON, cut at 40 characters; a value that
    is no JSON (a plan handed to the pack's adapter in memory) is shown as text."""
    tail = "; this envctl reads schemaVersion 2 only: re-render it with this envctl (`envctl plan STACK --format json`)"
    assert (
        conventions.plan_version_refusal({"schemaVersion": "v" * 60}) == f'the plan has schemaVersion "{"v" * 39}{tail}'
    )
    assert conventions.plan_version_refusal({"schemaVersion": {2}}) == f'the plan has schemaVersion "{{2}}"{tail}'


def test_a_dynamic_resource_declares_the_module_and_name_of_its_type_token() -> None:
    from components.provisioner import ProvisionerRole
    from components.tables import SchemaRole

    assert conventions.dynamic_parts(conventions.SCHEMA_ROLE) == {"module": "envstack", "name": "SchemaRole"}
    assert f"pulumi-python:{SchemaRole._resource_type_name}" == conventions.SCHEMA_ROLE
    assert f"pulumi-python:{ProvisionerRole._resource_type_name}" == conventions.PROVISIONER_ROLE
    with pytest.raises(ValueError, match=r"^'aws:s3/bucket:Bucket' is not a dynamic resource's type"):
        conventions.dynamic_parts(conventions.BUCKET)
