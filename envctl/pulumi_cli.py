"""The one way envctl runs the Pulumi CLI: with a deadline, so a CLI that hangs (a backend that
never answers, a login prompt) never hangs envctl. ENVCTL_PULUMI_TIMEOUT sets the deadline in
seconds (default 120); past it the CLI and everything it started are killed and the call is one
FailureError line (exit 1: the tool or its backend did not answer, as when AWS refuses)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass

from envctl.errors import FailureError, UsageError

TIMEOUT_VARIABLE = "ENVCTL_PULUMI_TIMEOUT"
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def pulumi_cli() -> str | None:
    return shutil.which("pulumi")


def timeout_seconds() -> float:
    """The deadline of one Pulumi CLI call: ENVCTL_PULUMI_TIMEOUT, else DEFAULT_TIMEOUT."""
    given = os.environ.get(TIMEOUT_VARIABLE)
    if given is None or not given.strip():
        return DEFAULT_TIMEOUT
    try:
        seconds = float(given)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise UsageError(f"{TIMEOUT_VARIABLE}: got {given!r}; allowed: a number of seconds above 0")
    return seconds


def run_pulumi(cli: str, args: list[str]) -> Done:
    """Run `cli args` to completion or to the deadline. The CLI runs in its own session so that,
    on timeout, its whole process group is killed: plugins it started would otherwise keep the
    output pipes open and the wait would hang after all."""
    seconds = timeout_seconds()
    process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
        [cli, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        shown = f"{seconds:g}"
        raise FailureError(
            f"pulumi {' '.join(args)}: no answer within {shown}s ({TIMEOUT_VARIABLE}); "
            f"check the backend login (`pulumi whoami`), or raise {TIMEOUT_VARIABLE}"
        ) from None
    return Done(process.returncode, stdout, stderr)
