"""The offline review commands of envctl/cli_plan.py end to end through the CLI: plan in every
format, its refusals, secrets in stack files, and the committed snapshots. Diff, manifest and cards
have their own modules (test_diff.py, test_manifest.py, test_cards.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from envctl import formats
from envctl.plan import Rendering
from envctl.render import render
from envctl.stackfiles import ROOT
from policies.contracts import conventions
from tests.support.program import STACKS, invoke

SNAPSHOTS = ROOT / "tests" / "snapshots"


# --- plan ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_lists_exactly_what_the_mocks_recorded(rendered: dict[str, Rendering], stack: str) -> None:
    code, out, _ = invoke("plan", stack, "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert set(plan) == {"schemaVersion", "stack", "project", "resources", "outputs"}
    assert plan["schemaVersion"] == conventions.PLAN_SCHEMA_VERSION == 2
    assert (plan["stack"], plan["project"]) == (stack, "envstack")
    recorded = [(r.type, r.name) for r in rendered[stack].resources]
    assert [(r["type"], r["name"]) for r in plan["resources"]] == recorded
    for r in plan["resources"]:
        shown = {
            "name",
            "type",
            "parent",
            "provider",
            "inputs",
            "protect",
            "retainOnDelete",
            "deleteBeforeReplace",
            "ignoreChanges",
            "dependsOn",
            "propertyDependencies",
        }
        # AWS resources also show their placeholder ARN, which the access matrix reads.
        assert set(r) == (shown | {"arn"} if r["type"].startswith("aws:") else shown)
        assert r["dependsOn"] == sorted(set(r["dependsOn"]))  # deterministic
    assert plan["outputs"]["name"] == rendered[stack].config.name


def test_unknown_stack_is_one_line_and_exit_2() -> None:
    code, out, err = invoke("plan", "nope", "--format", "json")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "envctl: unknown stack 'nope': Pulumi.nope.yaml does not exist (committed stacks: dev, prod, staging)"
    ]


def _project(tmp_path: Path, stack: str, config: str) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(config)
    return tmp_path


def test_a_config_error_shows_the_program_message_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, "bad", "config:\n  aws:region: ap-northeast-2\n  envstack:type: qa\n")
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, out, err = invoke("plan", "bad")
    assert code == 2 and out == ""
    assert 'envstack:type: got "qa"; allowed: one of dev, staging, prod, custom' in err


def test_a_malformed_stack_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSTACK_ROOT", str(_project(tmp_path, "broken", "config: [unclosed\n")))
    code, _, err = invoke("plan", "broken")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Pulumi.broken.yaml:2:1: not valid YAML" in err


# --- secrets never appear ------------------------------------------------------------------


def test_stack_file_secrets_render_as_secret_not_ciphertext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cipher = "v1:AAAAKNOWNCIPHERTEXT=="
    root = _project(
        tmp_path,
        "enc",
        f"config:\n  aws:region: ap-northeast-2\n  envstack:type: dev\n  aws:secretKey:\n    secure: {cipher}\n",
    )
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, out, _ = invoke("plan", "enc", "--format", "json")
    assert code == 0 and cipher not in out


# --- determinism and snapshots -------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_rendering_matches_the_committed_snapshot(stack: str) -> None:
    path = SNAPSHOTS / f"{stack}.json"
    assert path.is_file(), f"no snapshot for {stack}: run `python -m envctl snapshot`"
    current = formats.to_json(render(stack).to_json())
    assert current == path.read_text(), (
        f"the rendering of {stack} drifted from {path.relative_to(ROOT)}. If the change is intended, regenerate "
        "the snapshots with `python -m envctl snapshot` and commit them; `python -m envctl diff "
        f"tests/snapshots/{stack}.json {stack}` shows what changed."
    )


def test_snapshot_check_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, "dev", (ROOT / "Pulumi.dev.yaml").read_text())
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    assert invoke("snapshot")[0] == 0
    assert (root / "tests" / "snapshots" / "dev.json").read_text() == (SNAPSHOTS / "dev.json").read_text()
    assert invoke("snapshot", "--check")[0] == 0
    (root / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text() + "  envstack:apiKeyVersion: 2\n")
    code, _, err = invoke("snapshot", "--check")
    assert code == 1 and "snapshots drifted for dev" in err and "python -m envctl snapshot" in err
