"""Checkov on envstack, against the baseline: an independent second opinion beside the policy pack.

`scripts/checkov` (which .ci/run and the GitHub workflow call) makes Checkov's own virtualenv and
runs this module with the project's: it exports every committed stack and a preview (the
`envctl pr-config` environment, rendered offline) as Terraform plan JSON
(`envctl plan STACK --format terraform-plan`), runs Checkov's terraform_plan framework on them,
and compares the failed checks with policies/checkov-baseline.yaml:

- a failed check that the baseline does not list for that stack type fails the build;
- a baseline entry that no longer fails fails the build too, until a commit removes it, so the
  list only shrinks;
- every entry needs a one-line reason: `setting: ...`, `document: ...` or `not applicable: ...`.

An entry is a check ID and a Terraform resource type, per environment type (dev, staging, prod,
custom): the reason holds for every resource of that type in that kind of environment.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "policies" / "checkov-baseline.yaml"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
REASON_KINDS = ("setting: ", "document: ", "not applicable: ")


class GateError(Exception):
    """The gate cannot run: a malformed baseline, or Checkov failed to scan (exit 2)."""


class Entry(BaseModel):
    """One accepted failing check: the check, the Terraform type it fails on, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    check: StrictStr = Field(pattern=r"^CKV2?_[A-Z0-9]+_[0-9]+$")
    type: StrictStr = Field(pattern=r"^aws_[a-z0-9_]+$")
    reason: StrictStr

    @field_validator("reason")
    @classmethod
    def _one_line_of_a_known_kind(cls, reason: str) -> str:
        if "\n" in reason.strip() or not reason.startswith(REASON_KINDS):
            raise ValueError(f"a reason is one line starting with {' or '.join(repr(k) for k in REASON_KINDS)}")
        if len(reason.split(":", 1)[1].strip()) < 10:
            raise ValueError("a reason says what the setting, document or inapplicability is")
        return reason


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dev: list[Entry] = Field(default_factory=list)
    custom: list[Entry] = Field(default_factory=list)
    staging: list[Entry] = Field(default_factory=list)
    prod: list[Entry] = Field(default_factory=list)

    def accepted(self, env_type: str) -> set[tuple[str, str]]:
        return {(e.check, e.type) for e in getattr(self, env_type)}


def load_baseline(path: Path) -> Baseline:
    """The baseline file, validated: a problem is one GateError line naming the entry."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
        baseline = Baseline.model_validate(data)
    except (OSError, yaml.YAMLError) as err:
        raise GateError(f"{path}: {err}".splitlines()[0]) from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GateError(f"{path}: {where}: {first['msg']}") from None
    for env_type in ("dev", "custom", "staging", "prod"):
        keys = [(e.check, e.type) for e in getattr(baseline, env_type)]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise GateError(f"{path}: {env_type} lists {duplicates[0][0]} on {duplicates[0][1]} twice")
    return baseline


@dataclass
class StackResult:
    """What Checkov said about one stack's export."""

    stack: str
    env_type: str
    passed: int
    failed: set[tuple[str, str]]  # (check ID, Terraform type)
    failed_count: int


@dataclass
class Verdict:
    new: list[tuple[str, str, str]] = field(default_factory=list)  # (stack, check, type)
    stale: list[tuple[str, str, str]] = field(default_factory=list)  # (env type, check, type)

    @property
    def ok(self) -> bool:
        return not self.new and not self.stale


def compare(results: list[StackResult], baseline: Baseline) -> Verdict:
    """New failures (not in the baseline of the stack's type) and stale entries (an entry that
    failed in none of the scanned stacks of its type). Types with no scanned stack are not judged."""
    verdict = Verdict()
    for r in results:
        verdict.new += [(r.stack, c, t) for c, t in sorted(r.failed - baseline.accepted(r.env_type))]
    for env_type in sorted({r.env_type for r in results}):
        failing = set().union(*(r.failed for r in results if r.env_type == env_type))
        verdict.stale += [(env_type, c, t) for c, t in sorted(baseline.accepted(env_type) - failing)]
    return verdict


def parse_checkov(report: Any, files: dict[str, tuple[str, str]]) -> list[StackResult]:
    """Checkov's JSON report (one framework: a dict; several: a list) as one result per file.
    `files` maps each scanned file's name to its (stack, environment type)."""
    reports = report if isinstance(report, list) else [report]
    if any(r.get("check_type") != "terraform_plan" for r in reports if isinstance(r, dict) and "check_type" in r):
        raise GateError("Checkov reported a framework other than terraform_plan")
    by_file: dict[str, StackResult] = {
        name: StackResult(stack=s, env_type=t, passed=0, failed=set(), failed_count=0) for name, (s, t) in files.items()
    }
    for r in reports:
        if not isinstance(r, dict):
            raise GateError(f"Checkov's report is not JSON objects (got {type(r).__name__})")
        if r.get("summary", {}).get("parsing_errors"):
            raise GateError(f"Checkov could not parse {r['summary']['parsing_errors']} export(s)")
        results = r.get("results", {})
        for outcome in ("passed_checks", "failed_checks"):
            for c in results.get(outcome, []):
                name = Path(c["file_path"]).name
                if name not in by_file:
                    raise GateError(f"Checkov reported a file it was not given: {c['file_path']}")
                target = by_file[name]
                if outcome == "passed_checks":
                    target.passed += 1
                else:
                    target.failed.add((c["check_id"], c["resource"].split(".", 1)[0]))
                    target.failed_count += 1
    return list(by_file.values())


def exports(directory: Path) -> dict[str, tuple[str, str]]:
    """Every committed stack and a preview, exported to `directory`: file name -> (stack, type)."""
    from envctl.iam import preview_rendering
    from envctl.render import render
    from envctl.stackfiles import committed_stacks
    from envctl.terraform_plan import export

    files: dict[str, tuple[str, str]] = {}
    # the committed stacks, and the preview `envctl pr-config 1` configures (iam.preview_rendering)
    renderings = [*(render(stack) for stack in committed_stacks()), preview_rendering()]
    for rendering in renderings:
        name = f"{rendering.stack}.tfplan.json"
        (directory / name).write_text(json.dumps(export(rendering.to_json()).plan, indent=1, sort_keys=True))
        files[name] = (rendering.stack, rendering.config.type.value)
    return files


def run_checkov(directory: Path, checkov: Path) -> Any:
    """Checkov's terraform_plan framework over every export in `directory`, offline."""
    command = [str(checkov), "-d", str(directory), "--framework", "terraform_plan", "-o", "json"]
    command += ["--skip-download", "--compact"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)  # noqa: S603
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise GateError(f"checkov exited {done.returncode}: {(done.stderr.strip().splitlines() or [''])[-1]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--checkov", type=Path, default=CHECKOV)
    parser.add_argument("--keep", type=Path, help="write the exports and Checkov's report to this directory")
    args = parser.parse_args(argv)
    try:
        baseline = load_baseline(args.baseline)
        with tempfile.TemporaryDirectory() as tmp:
            directory = args.keep or Path(tmp)
            directory.mkdir(parents=True, exist_ok=True)
            files = exports(directory)
            started = time.monotonic()
            report = run_checkov(directory, args.checkov)
            elapsed = time.monotonic() - started
            if args.keep:
                (directory / "checkov-report.json").write_text(json.dumps(report, indent=1))
            results = parse_checkov(report, files)
    except GateError as err:
        print(f"scripts/checkov: {err}", file=sys.stderr)
        return 2
    for r in results:
        print(f"{r.stack} ({r.env_type}): {r.passed} passed, {r.failed_count} failed")
    verdict = compare(results, baseline)
    for stack, check, type_ in verdict.new:
        print(f"NEW: {check} fails on {type_} in {stack}: fix it, or accept it in {args.baseline.name} with a reason")
    for env_type, check, type_ in verdict.stale:
        print(f"STALE: {check} on {type_} ({env_type}) no longer fails: remove it from {args.baseline.name}")
    print(f"checkov ran in {elapsed:.1f}s: {'matches the baseline' if verdict.ok else 'differs from the baseline'}")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
