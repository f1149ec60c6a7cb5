"""envctl/formats.py: how a plan, a diff, a manifest and findings are shown (text, JSON,
Markdown), exactly, and that no format ever shows a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from components.config import parse_config
from envctl import formats
from envctl.diff import Change, PlanDiff, ResourceDiff
from envctl.manifest import manifest
from envctl.plan import Rendering
from envctl.runtime import generated_password, record
from envctl.stackfiles import ROOT
from policies.contracts import conventions
from tests.support.program import STACKS, invoke, over_defaults, render_raw


def test_plan_tree_shows_hierarchy_and_protection() -> None:
    code, out, _ = invoke("plan", "prod")
    assert code == 0
    assert "envstack:index:Environment  prod" in out
    assert "aws:s3/bucket:Bucket  envstack-prod-files [protected]" in out
    # Files is a child of the Environment component, one level below it.
    lines = out.splitlines()
    env_line = next(i for i, line in enumerate(lines) if "envstack:index:Environment  prod" in line)
    files_line = next(line for line in lines if conventions.FILES in line)
    assert files_line.index(conventions.FILES) == lines[env_line].index(conventions.ENVIRONMENT) + 4


def test_plan_markdown_is_a_pr_comment() -> None:
    code, out, _ = invoke("plan", "staging", "--format", "markdown")
    assert code == 0
    assert out.startswith("### envstack plan: `staging` (staging, ap-northeast-2)")
    assert "| `envstack-staging-files` | `aws:s3/bucket:Bucket` |" in out


def _generated_values(r: Rendering) -> list[str]:
    """What the mocks generated for every random password: known values to hunt for."""
    values = []
    for res in r.by_type(conventions.RANDOM_PASSWORD):
        values.append(generated_password(r, res))
    return values


@pytest.mark.parametrize("stack", STACKS)
def test_generated_secrets_appear_in_no_format(rendered: dict[str, Rendering], stack: str, tmp_path: Path) -> None:
    known = _generated_values(rendered[stack])
    # The API key token and the database password, and the provisioner's on a shared cluster's owner.
    assert len(known) == (3 if "clusterAttachment" in rendered[stack].outputs else 2)
    outputs = [invoke("plan", stack, "--format", f)[1] for f in ("tree", "json", "markdown")]
    # The manifest and the diff read the plan JSON just written, as they read a saved plan.
    (saved := tmp_path / f"{stack}.json").write_text(outputs[1])
    (dev := tmp_path / "dev.json").write_text(formats.to_json(rendered["dev"].to_json()))
    outputs += [invoke("manifest", str(saved), "--format", f)[1] for f in ("text", "json", "markdown")]
    outputs += [invoke("diff", str(dev), str(saved), "--format", f)[1] for f in ("text", "json", "markdown")]
    for text in outputs:
        assert text
        for value in known:
            assert value not in text
            assert value[:16] not in text
    assert '"apiKey": "[secret]"' in outputs[1] and '"password": "[secret]"' in outputs[1]
    # The SSM environment record and key index entry are in what was searched, in the clear.
    assert outputs[1].count('"insecureValue": "') == 2 and "/envstack/envstack/api-keys/" in outputs[1]


def test_no_key_appears_during_a_rotation() -> None:
    """Mid-rotation a stack holds two keys: neither is in any plan format, nor the secret document."""
    raw = {"envstack:type": "dev", "envstack:apiKeyVersion": 2, "envstack:apiKeyRetiring": 1}
    r = render_raw(raw, stack="dev")
    known = _generated_values(r)
    assert len(known) == 3  # two API keys and the database password
    texts = [formats.to_json(r.to_json()), formats.plan_markdown(r), formats.render_text(formats.plan_tree(r))]
    texts += [formats.manifest_text(manifest(r.to_json()))]
    assert texts[0].count('"insecureValue": "') == 3  # the record and both keys' index entries were searched
    for text in texts:
        for value in known:
            assert value not in text and value[:16] not in text


def test_a_known_config_secret_appears_in_no_format() -> None:
    """A program that feeds a secret config value into a resource and an output."""
    known = "KNOWN-SECRET-VALUE-8d1f2"
    raw = over_defaults({"aws:region": "ap-northeast-2", "envstack:type": "dev", "leaktest:token": known})

    def program() -> None:
        token = pulumi.Config("leaktest").require_secret("token")
        secret = aws.secretsmanager.Secret("leak")
        aws.secretsmanager.SecretVersion("leak-v", secret_id=secret.id, secret_string=token)
        pulumi.export("token", token)
        pulumi.export("tokenLength", token.apply(len))

    resources, outputs = record(program, stack="leak", region="ap-northeast-2", raw=raw, secret_keys=["leaktest:token"])
    r = Rendering(
        stack="leak", project="envstack", config=parse_config(raw, "leak"), resources=resources, outputs=outputs
    )
    texts = [formats.to_json(r.to_json()), formats.plan_markdown(r), formats.render_text(formats.plan_tree(r))]
    texts += [formats.manifest_text(manifest(r.to_json()))]
    for text in texts:
        assert known not in text
    assert r.outputs["token"] == "[secret]" and r.outputs["tokenLength"] == "[secret]"
    assert next(x for x in resources if x.name == "leak-v").inputs["secretString"] == "[secret]"


def test_plan_json_is_byte_identical_across_processes() -> None:
    def run(seed: str) -> bytes:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.run(
            [sys.executable, "-m", "envctl", "plan", "prod", "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        ).stdout

    first, second = run("1"), run("2")
    assert first == second and first


def test_diff_formats() -> None:
    code, out, _ = invoke("diff", "staging", "prod", "--format", "json")
    assert code == 0 and set(json.loads(out)) == {"a", "b", "only_in_a", "only_in_b", "changed", "outputs"}
    code, out, _ = invoke("diff", "staging", "prod", "--format", "markdown")
    assert code == 0 and out.startswith("### envstack diff: `staging` → `prod`")


def test_manifest_formats() -> None:
    code, out, _ = invoke("manifest", "prod", "--format", "json")
    assert code == 0 and set(json.loads(out)) == {"stack", "environment", "type", "warning", "verdict", "items"}
    code, out, _ = invoke("manifest", "dev", "--format", "markdown")
    assert code == 0 and "> Deleting an environment permanently removes all tables, data, users, and files" in out
    code, out, _ = invoke("manifest", "staging")
    assert code == 0 and "REFUSED" in out


def test_a_diff_reads_the_same_in_text_and_markdown_line_for_line() -> None:
    d = PlanDiff(
        "dev",
        "prod",
        only_in_a=[{"type": "t:a", "name": "gone"}],
        only_in_b=[{"type": "t:b", "name": "new"}],
        changed=[ResourceDiff("t:c", "files", [Change("inputs.versioning", False, True), Change("inputs.x", None, 1)])],
        outputs=[Change("kmsKeyArn", None, "arn")],
    )
    assert formats.diff_text(d) == (
        "--- dev\n+++ prod\n"
        "- only in dev: t:a  gone\n"
        "+ only in prod: t:b  new\n"
        "~ t:c  files\n"
        "    inputs.versioning: false -> true\n"
        "    inputs.x: (absent) -> 1\n"
        "~ outputs\n"
        '    kmsKeyArn: (absent) -> "arn"\n'
    )
    assert formats.diff_markdown(d) == (
        "### envstack diff: `dev` → `prod`\n\n"
        "| side | type | resource |\n|---|---|---|\n"
        "| only in `dev` | `t:a` | `gone` |\n"
        "| only in `prod` | `t:b` | `new` |\n\n"
        "| resource | property | `dev` | `prod` |\n|---|---|---|---|\n"
        "| `files` | `inputs.versioning` | `false` | `true` |\n"
        "| `files` | `inputs.x` | `(absent)` | `1` |\n"
        '| outputs | `kmsKeyArn` | `(absent)` | `"arn"` |\n'
    )
    empty = PlanDiff("dev", "dev")
    assert formats.diff_text(empty) == "no differences between dev and dev\n"
    assert formats.diff_markdown(empty) == "### envstack diff: `dev` → `dev`\n\nNo differences.\n"
