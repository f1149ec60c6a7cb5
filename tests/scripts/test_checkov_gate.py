"""The Checkov gate's logic (scripts/checkov_gate.py) on synthetic Checkov reports and baselines.

The gate end to end (the real Checkov on the real exports) runs in scripts/test (so in .ci/run) as scripts/checkov;
tests/integration/test_checkov_fidelity.py runs Checkov too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import checkov_gate as gate
from tests.support.program import ROOT

REASON = "setting: a knob of components/settings.py"


def entry(check: str, type_: str) -> gate.Entry:
    return gate.Entry(check=check, type=type_, reason=REASON)


def report(*checks: tuple[str, str, str, str]) -> dict:
    """A Checkov JSON report of (outcome, file, check, address)."""
    results: dict[str, list] = {"passed_checks": [], "failed_checks": []}
    for outcome, file, check, address in checks:
        results[f"{outcome}_checks"].append({"check_id": check, "resource": address, "file_path": f"/{file}"})
    return {"check_type": "terraform_plan", "results": results, "summary": {"parsing_errors": 0}}


FILES = {"prod.tfplan.json": ("prod", "prod"), "pr-1.tfplan.json": ("pr-1", "custom")}


def test_results_are_counted_per_stack_and_keyed_by_check_and_type() -> None:
    results = gate.parse_checkov(
        report(
            ("passed", "prod.tfplan.json", "CKV_AWS_19", "aws_s3_bucket.a"),
            ("failed", "prod.tfplan.json", "CKV_AWS_144", "aws_s3_bucket.a"),
            ("failed", "prod.tfplan.json", "CKV_AWS_144", "aws_s3_bucket.b"),
            ("failed", "pr-1.tfplan.json", "CKV_AWS_18", "aws_s3_bucket.c"),
        ),
        FILES,
    )
    prod, preview = results
    assert (prod.stack, prod.env_type, prod.passed, prod.failed_count) == ("prod", "prod", 1, 2)
    assert prod.failed == {("CKV_AWS_144", "aws_s3_bucket")}
    assert (preview.env_type, preview.passed, preview.failed) == ("custom", 0, {("CKV_AWS_18", "aws_s3_bucket")})


def test_a_list_report_and_its_errors() -> None:
    both = [report(("failed", "prod.tfplan.json", "CKV_AWS_144", "aws_s3_bucket.a"))]
    assert gate.parse_checkov(both, FILES)[0].failed == {("CKV_AWS_144", "aws_s3_bucket")}
    broken = report()
    broken["summary"]["parsing_errors"] = 1
    with pytest.raises(gate.GateError, match="could not parse 1 export"):
        gate.parse_checkov(broken, FILES)
    with pytest.raises(gate.GateError, match=r"a file it was not given: /other\.json"):
        gate.parse_checkov(report(("passed", "other.json", "CKV_AWS_19", "aws_s3_bucket.a")), FILES)
    with pytest.raises(gate.GateError, match="other than terraform_plan"):
        gate.parse_checkov({"check_type": "terraform", "results": {}}, FILES)
    with pytest.raises(gate.GateError, match="not JSON objects"):
        gate.parse_checkov(["text"], FILES)


def result(stack: str, env_type: str, *failed: tuple[str, str]) -> gate.StackResult:
    return gate.StackResult(stack=stack, env_type=env_type, passed=1, failed=set(failed), failed_count=len(failed))


def test_a_new_failure_fails_and_an_accepted_one_does_not() -> None:
    baseline = gate.Baseline(prod=[entry("CKV_AWS_144", "aws_s3_bucket")])
    ok = gate.compare([result("prod", "prod", ("CKV_AWS_144", "aws_s3_bucket"))], baseline)
    assert ok.ok and ok.new == [] and ok.stale == []
    new = gate.compare(
        [result("prod", "prod", ("CKV_AWS_144", "aws_s3_bucket"), ("CKV_AWS_18", "aws_s3_bucket"))], baseline
    )
    assert not new.ok and new.new == [("prod", "CKV_AWS_18", "aws_s3_bucket")] and new.stale == []


def test_an_entry_of_another_type_or_resource_type_does_not_cover_a_failure() -> None:
    baseline = gate.Baseline(custom=[entry("CKV_AWS_18", "aws_s3_bucket")], prod=[entry("CKV_AWS_18", "aws_kms_key")])
    verdict = gate.compare([result("prod", "prod", ("CKV_AWS_18", "aws_s3_bucket"))], baseline)
    assert verdict.new == [("prod", "CKV_AWS_18", "aws_s3_bucket")]
    assert verdict.stale == [("prod", "CKV_AWS_18", "aws_kms_key")]  # custom was not scanned: not judged


def test_an_entry_that_no_longer_fails_is_stale_so_the_list_only_shrinks() -> None:
    baseline = gate.Baseline(prod=[entry("CKV_AWS_144", "aws_s3_bucket"), entry("CKV2_AWS_64", "aws_kms_key")])
    verdict = gate.compare([result("prod", "prod", ("CKV_AWS_144", "aws_s3_bucket"))], baseline)
    assert not verdict.ok and verdict.stale == [("prod", "CKV2_AWS_64", "aws_kms_key")] and verdict.new == []
    # Failing in one stack of the type is enough to keep the entry.
    two = gate.compare([result("a", "prod"), result("b", "prod", ("CKV2_AWS_64", "aws_kms_key"))], baseline)
    assert two.stale == [("prod", "CKV_AWS_144", "aws_s3_bucket")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("prod: [{check: CKV_AWS_1, type: aws_s3_bucket, reason: because}]", "one line starting with"),
        ("prod: [{check: CKV_AWS_1, type: aws_s3_bucket, reason: 'setting: x'}]", "says what the setting"),
        ("prod: [{check: CKV_AWS_1, type: aws_s3_bucket}]", "prod.0.reason: Field required"),
        ("prod: [{check: AWS_1, type: aws_s3_bucket, reason: 'setting: a real knob'}]", "prod.0.check"),
        ("prod: [{check: CKV_AWS_1, type: s3, reason: 'setting: a real knob'}]", "prod.0.type"),
        ("qa: []", "qa: Extra inputs are not permitted"),
        (
            "prod: [{check: CKV_AWS_1, type: aws_s3_bucket, reason: 'setting: a real knob'}, "
            "{check: CKV_AWS_1, type: aws_s3_bucket, reason: 'document: docs/x.md says so'}]",
            "lists CKV_AWS_1 on aws_s3_bucket twice",
        ),
        ("prod: [", "checkov-baseline.yaml: while parsing"),
    ],
)
def test_a_malformed_baseline_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "checkov-baseline.yaml"
    path.write_text(text)
    with pytest.raises(gate.GateError, match=problem) as err:
        gate.load_baseline(path)
    assert "\n" not in str(err.value)


def test_the_committed_baseline_is_valid_and_every_entry_has_a_reason() -> None:
    baseline = gate.load_baseline(ROOT / "policies" / "checkov-baseline.yaml")
    entries = baseline.dev + baseline.custom + baseline.staging + baseline.prod
    assert len(entries) >= 40
    assert all(e.reason.startswith(gate.REASON_KINDS) for e in entries)
    assert ("CKV2_AWS_8", "aws_rds_cluster") in baseline.accepted("prod")
    assert ("CKV2_AWS_61", "aws_s3_bucket") not in baseline.accepted("prod")  # fixed: the log bucket's lifecycle
