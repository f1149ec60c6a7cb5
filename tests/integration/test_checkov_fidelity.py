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

from envctl.iam import preview_rendering
from envctl.terraform_plan import export
from tests.support.program import ROOT, committed

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
    renderings = [*(committed(s) for s in ("dev", "staging", "prod")), preview_rendering()]
    paths = {}
    for r in renderings:
        paths[r.stack] = directory / f"{r.stack}.json"
        paths[r.stack].write_text(json.dumps(export(r.to_json()).plan))
    return paths


PARSE = """
import json, sys
from checkov.terraform.plan_parser import parse_tf_plan
parsed = {}
for path in sys.argv[1:]:
    errors = {}
    definition, _ = parse_tf_plan(path, errors)
    parsed[path] = {"errors": errors, "resource": definition["resource"]}
print(json.dumps(parsed, default=str))
"""


def parse(*paths: Path) -> dict[Path, dict[str, Any]]:
    """Checkov's own plan parser over each file, in one process (its import alone takes a second)."""
    done = subprocess.run(
        [str(CHECKOV_PYTHON), "-c", PARSE, *map(str, paths)], capture_output=True, text=True, check=True, timeout=120
    )
    return {Path(path): parsed for path, parsed in json.loads(done.stdout).items()}


def test_checkovs_own_plan_parser_reads_every_export(checkov: Path, exports: dict[str, Path]) -> None:
    parsed = parse(*exports.values())
    assert set(parsed) == set(exports.values())
    for stack, path in exports.items():
        assert parsed[path]["errors"] == {}, stack
        planned = json.loads(path.read_text())["planned_values"]["root_module"]["resources"]
        assert len(parsed[path]["resource"]) == len(planned) > 10, stack
    prod = {next(iter(b)): next(iter(next(iter(b.values())).values())) for b in parsed[exports["prod"]]["resource"]}
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


ENCRYPTION = "aws_s3_bucket_server_side_encryption_configuration.envstack-prod-files-encryption"
BLOCK = "aws_s3_bucket_public_access_block.envstack-prod-files-public-access-block"
LIFECYCLE = "aws_s3_bucket_lifecycle_configuration.envstack-prod-files-lifecycle"
WRITER = "aws_rds_cluster_instance.prod-main-writer"
BUCKET = "aws_s3_bucket.envstack-prod-files"


def mutants(prod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """prod without the files bucket's encryption resource, without its public access block, and
    with no multipart-abort rule and Performance Insights off on the writer."""
    mutant = copy.deepcopy(prod)
    for r in mutant["planned_values"]["root_module"]["resources"]:
        if r["address"] == LIFECYCLE:
            del r["values"]["rule"][0]["abort_incomplete_multipart_upload"]
        if r["address"] == WRITER:
            r["values"]["performance_insights_enabled"] = False
    for r in mutant["configuration"]["root_module"]["resources"]:
        if r["address"] == WRITER:
            del r["expressions"]["performance_insights_kms_key_id"]
    return {"no-encryption": without(prod, ENCRYPTION), "no-block": without(prod, BLOCK), "mutant": mutant}


@pytest.fixture(scope="module")
def outcome(
    checkov: Path, exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str, str], str]:
    """The fidelity checks over every export and prod's mutants, in one Checkov run."""
    directory = tmp_path_factory.mktemp("checked")
    for stack, path in exports.items():
        (directory / f"{stack}.json").write_text(path.read_text())
    for name, plan in mutants(json.loads(exports["prod"].read_text())).items():
        (directory / f"{name}.json").write_text(json.dumps(plan))
    return run_checks(checkov, directory)


def test_nested_blocks_and_links_are_seen_as_the_program_declares_them(
    outcome: dict[tuple[str, str, str], str],
) -> None:
    # prod's encryption through its separate configuration resource (SSE-KMS with its own key)
    assert outcome[("prod", "CKV_AWS_145", BUCKET)] == outcome[("prod", "CKV_AWS_19", BUCKET)] == "passed"
    assert outcome[("no-encryption", "CKV_AWS_145", BUCKET)] == "failed"
    # the multipart-abort rule inside the lifecycle configuration
    assert outcome[("prod", "CKV_AWS_300", LIFECYCLE)] == "passed"
    assert outcome[("mutant", "CKV_AWS_300", LIFECYCLE)] == "failed"
    # Performance Insights on prod's writer, encrypted with the environment's key
    assert outcome[("prod", "CKV_AWS_353", WRITER)] == outcome[("prod", "CKV_AWS_354", WRITER)] == "passed"
    assert outcome[("mutant", "CKV_AWS_353", WRITER)] == "failed"
    # public-access blocks linked to their buckets
    assert outcome[("prod", "CKV2_AWS_6", BUCKET)] == outcome[("prod", "CKV2_AWS_6", f"{BUCKET}-logs")] == "passed"
    assert outcome[("no-block", "CKV2_AWS_6", BUCKET)] == "failed"


def test_every_bucket_of_every_stack_is_linked_to_its_public_access_block_and_encryption(
    exports: dict[str, Path], outcome: dict[tuple[str, str, str], str]
) -> None:
    buckets = [k for k in outcome if k[0] in exports and k[1] == "CKV2_AWS_6"]
    assert len(buckets) == 5  # dev, staging, pr-1, prod and prod's log bucket
    assert all(outcome[k] == "passed" for k in buckets)
    assert all(outcome[(s, "CKV_AWS_19", a)] == "passed" for s, _, a in buckets)
