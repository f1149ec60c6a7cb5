"""scripts/destroy-preview against a stand-in `pulumi` on PATH: only a missing stack is
"nothing to destroy"; any other failure of `pulumi stack select` must fail the job.

The stand-in prints what the real CLI prints. Pulumi 3's `stack select` reports a missing
stack on stderr as `error: no stack named '<name>' found` and exits 255 (pulumi/pulumi
pkg/cmd/pulumi/stack/stack_select.go; the name may be printed shortened, pulumi/actions#777).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.program import ROOT

SCRIPT = ROOT / "scripts" / "destroy-preview"
STACK = "organization/envstack/pr-7"

# `pulumi stack select` answers in each scenario: (stderr, exit code).
MISSING = ("error: no stack named 'organization/pr-7' found", 255)
FAILURES = {
    "not logged in": ("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions", 255),
    "network": (
        'error: could not query backend for stack: Get "https://api.pulumi.com/api/user/stacks": '
        "dial tcp: lookup api.pulumi.com: no such host",
        255,
    ),
    "forbidden": ("error: [403] Forbidden: Resource protected by GitHub SAML enforcement.", 255),
    # Old CLIs appended a login hint to the missing-stack message: then it is a login problem.
    "missing, but not logged in": (
        "error: no stack named 'pr-7' found; you aren't logged into the Pulumi Cloud -- did you forget to 'pulumi login'?",
        255,
    ),
}

STAND_IN = """#!/usr/bin/env bash
# A stand-in for the Pulumi CLI: logs every call, answers `stack select` as told.
printf '%s\\n' "$*" >> "$PULUMI_LOG"
case "$1 $2" in
  "stack select")
    if [ -n "$SELECT_STDERR" ]; then printf '%s\\n' "$SELECT_STDERR" >&2; exit "$SELECT_EXIT"; fi ;;
  "stack output") printf '%s\\n' '{"type": "custom", "name": "pr-7"}' ;;
  "config --json") printf '%s\\n' '{"envstack:type": {"value": "custom", "secret": false}}' ;;
esac
exit 0
"""


def run(tmp_path: Path, select: tuple[str, int] | None) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(STAND_IN)
    pulumi.chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    stderr, code = select or ("", 0)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_LOG": str(log),
        "SELECT_STDERR": stderr,
        "SELECT_EXIT": str(code),
    }
    proc = subprocess.run([str(SCRIPT), STACK], env=env, capture_output=True, text=True, timeout=60, check=False)
    return proc, log.read_text().splitlines()


def test_a_missing_stack_is_nothing_to_destroy(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, MISSING)
    assert proc.returncode == 0, proc.stderr
    assert f"no stack {STACK}: nothing to destroy" in proc.stdout
    assert calls == [f"stack select {STACK}"]


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_any_other_select_failure_fails_the_job_and_destroys_nothing(tmp_path: Path, case: str) -> None:
    proc, calls = run(tmp_path, FAILURES[case])
    assert proc.returncode == 1, (case, proc.stdout, proc.stderr)
    assert FAILURES[case][0] in proc.stderr  # the CLI's own reason reaches the job log
    assert "nothing to destroy" not in proc.stdout
    assert calls == [f"stack select {STACK}"]


def test_an_existing_custom_preview_is_checked_then_destroyed_and_removed(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, None)
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        f"stack select {STACK}",
        f"stack output --json --stack {STACK}",
        f"config --json --stack {STACK}",
        f"destroy --yes --skip-preview --stack {STACK}",
        f"stack rm --yes {STACK}",
    ]


def test_the_workflows_let_a_failed_destroy_fail_the_job() -> None:
    """pr-environment runs the script as the step itself (bash -e); the sweep keeps going after
    one failure but fails the run, and gives each call no stdin so none eats the list."""
    pr_env = (ROOT / ".github/workflows/pr-environment.yml").read_text()
    assert 'run: scripts/destroy-preview "$STACK"\n' in pr_env
    sweep = (ROOT / ".github/workflows/sweep.yml").read_text()
    assert 'scripts/destroy-preview "$stack" </dev/null || status=1' in sweep
    assert sweep.rstrip().endswith('exit "$status"')
