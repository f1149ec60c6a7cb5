"""The helpers the pull-request workflows call: PR stack config, the disposable guard, the sweep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from components.config import parse_config
from envctl import pr
from envctl.cli import app
from envctl.pr import check_disposable, pr_config, select_for_sweep
from envctl.render import RenderError, render_config

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()
REF = "acme/envstack/staging"


def test_pr_config_is_a_custom_environment_attached_to_stagings_cluster() -> None:
    doc = pr_config(42, REF)
    config = doc["config"]
    assert config == {
        "aws:region": "ap-northeast-2",
        "envstack:type": "custom",
        "envstack:cluster": {"name": "shared-nonprod", "stack": REF},
    }
    parsed = parse_config(config, "pr-42")
    assert parsed.name == "pr-42" and parsed.cluster is not None and not parsed.cluster.create


def test_pr_config_renders_without_creating_a_cluster() -> None:
    config = pr_config(42, REF)["config"]
    r = render_config("pr-42", config, [], parse_config(config, "pr-42"))
    assert not r.by_type("aws:rds/cluster:Cluster") and not r.by_type("aws:kms/key:Key")
    assert r.outputs["type"] == "custom"


@pytest.mark.parametrize(("number", "ref"), [(0, REF), (-3, REF), (5, "not-a-stack-ref")])
def test_pr_config_refuses_bad_input(number: int, ref: str) -> None:
    with pytest.raises(RenderError):
        pr_config(number, ref)


def test_pr_config_cli_prints_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = runner.invoke(app, ["pr-config", "7", "--cluster-stack", REF])
    assert out.exit_code == 0
    assert yaml.safe_load(out.stdout) == pr_config(7, REF)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        (tmp_path / name).write_text((Path(__file__).parent.parent / name).read_text())
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    assert runner.invoke(app, ["pr-config", "7", "--cluster-stack", REF, "--write"]).exit_code == 0
    assert yaml.safe_load((tmp_path / "Pulumi.pr-7.yaml").read_text()) == pr_config(7, REF)
    bad = runner.invoke(app, ["pr-config", "0", "--cluster-stack", REF])
    assert bad.exit_code == 2 and "positive integer" in bad.stderr


# --- the disposable guard ------------------------------------------------------------------

CUSTOM_OUT = {"name": "pr-7", "type": "custom", "cluster": "shared-nonprod"}
CUSTOM_CFG = {"envstack:type": {"value": "custom", "secret": False}, "aws:region": {"value": "ap-northeast-2"}}


@pytest.mark.parametrize(
    ("stack", "outputs", "config", "ok", "why"),
    [
        ("pr-7", CUSTOM_OUT, CUSTOM_CFG, True, "custom pull-request environment"),
        ("acme/envstack/pr-7", CUSTOM_OUT, CUSTOM_CFG, True, "custom"),
        ("pr-7", {}, CUSTOM_CFG, True, "custom"),  # never deployed: the config decides
        ("pr-7", CUSTOM_OUT, {}, True, "custom"),
        ("prod", {"type": "prod"}, {}, False, "not a pull-request stack"),
        ("staging", CUSTOM_OUT, CUSTOM_CFG, False, "not a pull-request stack"),
        ("pr-7", {"type": "prod"}, CUSTOM_CFG, False, "output 'type' = 'prod'"),  # a renamed prod stack
        ("pr-7", CUSTOM_OUT, {"envstack:type": {"value": "staging"}}, False, "config envstack:type = 'staging'"),
        ("pr-7", {}, {}, False, "no envstack:type"),
        ("pr-7", {**CUSTOM_OUT, "clusterAttachment": {"arn": "x"}}, CUSTOM_CFG, False, "owns a cluster"),
        ("pr-07", CUSTOM_OUT, CUSTOM_CFG, False, "not a pull-request stack"),
        ("pr-7-prod", CUSTOM_OUT, CUSTOM_CFG, False, "not a pull-request stack"),
    ],
)
def test_only_custom_pr_stacks_are_disposable(
    stack: str, outputs: dict[str, Any], config: dict[str, Any], ok: bool, why: str
) -> None:
    verdict = check_disposable(stack, outputs, config)
    assert verdict.disposable is ok
    assert why in verdict.reason


def test_disposable_cli_exit_codes(tmp_path: Path) -> None:
    outputs, config = tmp_path / "out.json", tmp_path / "cfg.json"
    outputs.write_text(json.dumps({"type": "prod"}))
    config.write_text(json.dumps(CUSTOM_CFG))
    refused = runner.invoke(app, ["disposable", "pr-3", "--outputs", str(outputs), "--config", str(config)])
    assert refused.exit_code == 1 and "refusing to destroy" in refused.stderr
    outputs.write_text(json.dumps(CUSTOM_OUT))
    assert runner.invoke(app, ["disposable", "pr-3", "--outputs", str(outputs), "--config", str(config)]).exit_code == 0
    outputs.write_text("{not json")
    broken = runner.invoke(app, ["disposable", "pr-3", "--outputs", str(outputs)])
    assert broken.exit_code == 2 and "malformed JSON" in broken.stderr


# --- the sweep -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def test_sweep_selects_closed_and_stale_pr_stacks_only() -> None:
    stacks = json.loads((FIXTURES / "pulumi-stack-ls.json").read_text())
    picks = select_for_sweep(stacks, open_prs={7, 8, 10, 11, 12}, ttl=timedelta(hours=168), now=NOW)
    assert [(p.stack, p.reason) for p in picks] == [
        ("pr-8", "not updated for more than 168 hours"),
        ("pr-9", "pull request #9 is closed"),
    ]


def test_sweep_never_picks_long_lived_or_odd_stacks_even_when_everything_is_closed_and_old() -> None:
    stacks = json.loads((FIXTURES / "pulumi-stack-ls.json").read_text())
    picks = select_for_sweep(stacks, open_prs=set(), ttl=timedelta(hours=1), now=NOW)
    picked = {p.stack for p in picks}
    assert picked == {"pr-7", "pr-8", "pr-9", "acme/envstack/pr-11", "pr-12"}
    assert not picked & {"dev", "staging", "prod", "pr-007", "prod-pr-3", "pr-10"}  # pr-10 is mid-update


def test_sweep_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prs = tmp_path / "prs.json"
    prs.write_text(json.dumps([{"number": n} for n in (7, 8, 9, 10, 11, 12)]))
    out = runner.invoke(
        app,
        [
            "sweep",
            "--stacks",
            str(FIXTURES / "pulumi-stack-ls.json"),
            "--open-prs",
            str(prs),
            "--ttl-hours",
            "100000",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0 and json.loads(out.stdout) == []
    # sweep.yml pipes the text output, one stack a line, into scripts/destroy-preview.
    monkeypatch.setattr(pr, "now_utc", lambda: NOW)
    out = runner.invoke(
        app, ["sweep", "--stacks", str(FIXTURES / "pulumi-stack-ls.json"), "--open-prs", str(prs), "--ttl-hours", "1"]
    )
    assert out.exit_code == 0
    # pr-10 is mid-update and pr-12 was never updated: neither is idle past the TTL.
    assert out.stdout == "acme/envstack/pr-11\npr-7\npr-8\npr-9\n"
