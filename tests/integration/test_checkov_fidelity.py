"""Fidelity of the Terraform-plan export, judged by Checkov itself (in .venv-checkov, made by
scripts/checkov): its own plan parser reads every export, and the checks that depend on nested
blocks and cross-resource links see what the program declares. Each check is also shown to
fail on an export with the declared thing removed, so that a pass is not an accident.

Evaluation only (Checkov reads the export offline). With CI=true a missing .venv-checkov fails.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.config import parse_config
from envctl import pr
from envctl.render import render, render_config
from envctl.stackfiles import project_config
from envctl.terraform_plan import export
from tests.support.program import ROOT

CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
FIDELITY_CHECKS = ("CKV_AWS_145", "CKV_AWS_19", "CKV_AWS_300", "CKV_AWS_353", "CKV_AWS_354", "CKV2_AWS_6")


@pytest.fixture(scope="module")
def checkov() -> Path:
    if not CHECKOV.exists():
        message = "Checkov's virtualenv is missing: run scripts/checkov (which scripts/test does before the suite)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHECKOV


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("exports")
    renderings = [render(s) for s in ("dev", "staging", "prod")]
    config = {**project_config(), **pr.pr_config(7, "organization/envstack/staging")["config"]}
    renderings.append(render_config("pr-7", config, [], parse_config(config, "pr-7")))
    paths = {}
    for r in renderings:
        paths[r.stack] = directory / f"{r.stack}.json"
        paths[r.stack].write_text(json.dumps(export(r.to_json()).plan))
    return paths


PARSE = """
import json, sys
from checkov.terraform.plan_parser import parse_tf_plan
errors = {}
definition, _ = parse_tf_plan(sys.argv[1], errors)
print(json.dumps({"errors": errors, "resource": definition["resource"]}, default=str))
"""


def parse(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(CHECKOV_PYTHON), "-c", PARSE, str(path)], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_checkovs_own_plan_parser_reads_every_export(checkov: Path, exports: dict[str, Path]) -> None:
    for stack, path in exports.items():
        parsed = parse(path)
        assert parsed["errors"] == {}, stack
        planned = json.loads(path.read_text())["planned_values"]["root_module"]["resources"]
        assert len(parsed["resource"]) == len(planned) > 10, stack
    prod = {next(iter(b)): next(iter(next(iter(b.values())).values())) for b in parse(exports["prod"])["resource"]}
    # The public access block's `bucket` is the bucket's reference, which the graph turns into an edge.
    block = prod["aws_s3_bucket_public_access_block"]
    assert block["bucket"] == ["aws_s3_bucket.envstack-prod-files.id"] or block["bucket"] == [
        "aws_s3_bucket.envstack-prod-files-logs.id"
    ]


def run_checks(checkov: Path, directory: Path) -> dict[tuple[str, str, str], str]:
    """(file, check, address) -> passed/failed, for the fidelity checks over every file in `directory`."""
    command = [str(checkov), "-d", str(directory), "--framework", "terraform_plan", "-o", "json"]
    command += ["--skip-download", "--compact", "--check", ",".join(FIDELITY_CHECKS)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-500:]
    report = json.loads(done.stdout)
    outcome = {}
    for kind in ("passed", "failed"):
        for c in report["results"][f"{kind}_checks"]:
            outcome[(Path(c["file_path"]).stem, c["check_id"], c["resource"])] = kind
    return outcome


def without(plan: dict[str, Any], address: str) -> dict[str, Any]:
    """The export with one resource removed from planned values, changes and configuration."""
    out = copy.deepcopy(plan)
    root = out["planned_values"]["root_module"]
    root["resources"] = [r for r in root["resources"] if r["address"] != address]
    out["resource_changes"] = [r for r in out["resource_changes"] if r["address"] != address]
    conf = out["configuration"]["root_module"]
    conf["resources"] = [r for r in conf["resources"] if r["address"] != address]
    assert len(root["resources"]) == len(plan["planned_values"]["root_module"]["resources"]) - 1
    return out


def test_nested_blocks_and_links_are_seen_as_the_program_declares_them(
    checkov: Path, exports: dict[str, Path], tmp_path: Path
) -> None:
    prod = json.loads(exports["prod"].read_text())
    (tmp_path / "prod.json").write_text(json.dumps(prod))
    # Mutants: prod without the files bucket's encryption resource, without its public access
    # block, with no multipart-abort rule, and with Performance Insights off on the writer.
    encryption = "aws_s3_bucket_server_side_encryption_configuration.envstack-prod-files-encryption"
    block = "aws_s3_bucket_public_access_block.envstack-prod-files-public-access-block"
    (tmp_path / "no-encryption.json").write_text(json.dumps(without(prod, encryption)))
    (tmp_path / "no-block.json").write_text(json.dumps(without(prod, block)))
    mutant = copy.deepcopy(prod)
    lifecycle = "aws_s3_bucket_lifecycle_configuration.envstack-prod-files-lifecycle"
    writer = "aws_rds_cluster_instance.prod-main-writer"
    for r in mutant["planned_values"]["root_module"]["resources"]:
        if r["address"] == lifecycle:
            del r["values"]["rule"][0]["abort_incomplete_multipart_upload"]
        if r["address"] == writer:
            r["values"]["performance_insights_enabled"] = False
    for r in mutant["configuration"]["root_module"]["resources"]:
        if r["address"] == writer:
            del r["expressions"]["performance_insights_kms_key_id"]
    (tmp_path / "mutant.json").write_text(json.dumps(mutant))

    outcome = run_checks(checkov, tmp_path)
    bucket = "aws_s3_bucket.envstack-prod-files"
    # prod's encryption through its separate configuration resource (SSE-KMS with its own key)
    assert outcome[("prod", "CKV_AWS_145", bucket)] == outcome[("prod", "CKV_AWS_19", bucket)] == "passed"
    assert outcome[("no-encryption", "CKV_AWS_145", bucket)] == "failed"
    # the multipart-abort rule inside the lifecycle configuration
    assert outcome[("prod", "CKV_AWS_300", lifecycle)] == "passed"
    assert outcome[("mutant", "CKV_AWS_300", lifecycle)] == "failed"
    # Performance Insights on prod's writer, encrypted with the environment's key
    assert outcome[("prod", "CKV_AWS_353", writer)] == outcome[("prod", "CKV_AWS_354", writer)] == "passed"
    assert outcome[("mutant", "CKV_AWS_353", writer)] == "failed"
    # public-access blocks linked to their buckets
    assert outcome[("prod", "CKV2_AWS_6", bucket)] == outcome[("prod", "CKV2_AWS_6", f"{bucket}-logs")] == "passed"
    assert outcome[("no-block", "CKV2_AWS_6", bucket)] == "failed"


def test_every_bucket_of_every_stack_is_linked_to_its_public_access_block_and_encryption(
    checkov: Path, exports: dict[str, Path], tmp_path: Path
) -> None:
    for stack, path in exports.items():
        (tmp_path / f"{stack}.json").write_text(path.read_text())
    outcome = run_checks(checkov, tmp_path)
    buckets = [k for k in outcome if k[1] == "CKV2_AWS_6"]
    assert len(buckets) == 5  # dev, staging, pr-7, prod and prod's log bucket
    assert all(outcome[k] == "passed" for k in buckets)
    assert all(outcome[(s, "CKV_AWS_19", a)] == "passed" for s, _, a in buckets)
