"""envctl's review commands: plan, snapshots, diff, manifest, cards."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from envctl import formats
from envctl.cards import CARD_FIELDS
from envctl.cli import app
from envctl.diff import diff_plans
from envctl.manifest import manifest
from envctl.plan import Rendering
from envctl.render import load_plan, render
from envctl.stackfiles import ROOT
from policies.contracts import conventions
from tests.support.program import CONFIRMED_PROD, STACKS, render_raw, runner

SNAPSHOTS = ROOT / "tests" / "snapshots"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


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


# --- diff ----------------------------------------------------------------------------------


def test_diff_dev_prod_shows_what_prod_has_that_dev_does_not() -> None:
    d = diff_plans(load_plan("dev"), load_plan("prod"), "dev", "prod")
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


# --- manifest ------------------------------------------------------------------------------


def _fates(stack_or_plan: str | dict) -> dict[str, str]:
    plan = load_plan(stack_or_plan) if isinstance(stack_or_plan, str) else stack_or_plan
    return {x.category + ":" + x.resource: x.fate for x in manifest(plan).items}


def test_manifest_dev_deletes_everything_for_good() -> None:
    m = manifest(load_plan("dev"))
    assert {x.category for x in m.items} >= {"tables and data", "users", "files", "API keys"}
    assert all(x.fate == "deleted" for x in m.items), m.items
    assert "permanently delete" in m.verdict and "cannot be undone" in m.warning


def test_manifest_prod_refuses_everything() -> None:
    m = manifest(load_plan("prod"))
    assert m.items and all(x.fate == "refused" for x in m.items)
    key = next(x for x in m.items if x.category == "encryption key")
    assert key.detail.endswith("even then it is retained on delete")
    assert "stopped by" in m.verdict


def test_manifest_staging_keeps_files_users_and_tables_and_can_recover_keys() -> None:
    fates = _fates("staging")
    assert fates["files:envstack-staging-files"] == "refused"
    assert fates["users:envstack-staging-users"] == "refused"
    assert fates["tables and data:envstack-staging-tables"] == "refused"
    assert fates["API keys:envstack-staging-api-key"] == "recoverable"
    assert fates["tables and data (whole cluster):shared-nonprod"] == "refused"


def test_manifest_after_prod_confirmation_shows_the_loss() -> None:
    r = render_raw(CONFIRMED_PROD, stack="prod")
    fates = _fates(r.to_json())
    assert fates["tables and data:envstack-prod-tables"] == "deleted"
    assert fates["files:envstack-prod-files"] == "deleted"
    assert fates["API keys:envstack-prod-api-key"] == "recoverable"
    assert fates["encryption key:envstack-prod-key"] == "retained"  # it outlives its data (docs/lifecycle.md)


# --- cards ---------------------------------------------------------------------------------

DEV_OUTPUTS = {
    "name": "dev",
    "type": "dev",
    "cloudProvider": "aws",
    "region": "ap-northeast-2",
    "cluster": "",
    "createdAt": "2026-11-20T01:02:03Z",
    "bucketName": "b",
    "apiKey": "[secret]",
}


def test_cards_from_saved_outputs_including_a_stack_not_deployed(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps(DEV_OUTPUTS))
    (tmp_path / "staging.json").write_text("{}")
    files = ["--from", str(tmp_path / "dev.json"), "--from", str(tmp_path / "staging.json")]
    code, out, _ = invoke("cards", *files, "--format", "json")
    assert code == 0
    cards = json.loads(out)
    assert cards[0] == {"stack": "dev", "deployed": True, **{k: DEV_OUTPUTS[k] for k in CARD_FIELDS}}
    assert cards[1]["stack"] == "staging" and cards[1]["deployed"] is False
    code, out, _ = invoke("cards", *files)
    assert code == 0 and "not deployed" in out and "2026-11-20T01:02:03Z" in out
    code, out, _ = invoke("cards", *files, "--format", "markdown")
    assert code == 0 and "| `staging` | _not deployed_ |" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("{broken", "malformed JSON"), ("[1]", "expected a JSON object"), ('{"name": "x"}', "not envstack outputs")],
)
def test_cards_refuse_malformed_saved_outputs(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.json").write_text(content)
    code, out, err = invoke("cards", "--from", str(tmp_path / "x.json"))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_cards_without_cli_or_saved_outputs_render_the_committed_stacks(
    monkeypatch: pytest.MonkeyPatch, rendered: dict[str, Rendering]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # the page works with no Pulumi CLI
    code, out, err = invoke("cards", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == [
        {"stack": s, "deployed": True, **{f: r.outputs[f] for f in CARD_FIELDS}} for s, r in rendered.items()
    ]


def test_cards_read_stack_outputs_through_the_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in `pulumi` executable on PATH answers `stack output --json --stack S` as the CLI does."""
    (tmp_path / "dev.json").write_text(json.dumps(DEV_OUTPUTS))
    (tmp_path / "staging.json").write_text("{}")
    fake = tmp_path / "pulumi"
    fake.write_text(
        f'#!/bin/sh\n[ "$1 $2 $3 $4" = "stack output --json --stack" ] || exit 9\n'
        f'cat "{tmp_path}/$5.json" 2>/dev/null || {{ echo "error: no stack named $5" >&2; exit 255; }}\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    code, out, _ = invoke("cards", "dev", "staging", "--format", "json")
    assert code == 0, out
    assert [(c["stack"], c["deployed"]) for c in json.loads(out)] == [("dev", True), ("staging", False)]
    code, _, err = invoke("cards", "ghost")
    assert code == 2 and "pulumi stack output --stack ghost: error: no stack named ghost" in err


def test_diff_reads_absent_options_of_an_older_plan_as_the_engines_defaults() -> None:
    """A base-branch snapshot from before deleteBeforeReplace/ignoreChanges were recorded
    differs only where a resource really sets them."""
    new = load_plan("dev")
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


def test_the_manifest_knows_the_fate_of_every_stateful_type_and_no_other() -> None:
    from envctl.manifest import _FATES
    from policies.contracts.conventions import STATEFUL

    assert set(_FATES) == set(STATEFUL)
