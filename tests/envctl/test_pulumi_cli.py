"""The one way envctl runs the Pulumi CLI (envctl/pulumi_cli.py): its deadline from
ENVCTL_PULUMI_TIMEOUT, refused in one line when it is no number of seconds, and a real
subprocess (a stand-in `pulumi` script) run to completion or killed, with everything it started,
at the deadline. A new user's hanging CLI is tests/envctl/test_rough_edges.py's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envctl.errors import FailureError, UsageError
from envctl.pulumi_cli import DEFAULT_TIMEOUT, TIMEOUT_VARIABLE, Done, run_pulumi, timeout_seconds


def cli(tmp_path: Path, body: str) -> str:
    path = tmp_path / "pulumi"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(
    ("given", "seconds"), [(None, DEFAULT_TIMEOUT), ("  ", DEFAULT_TIMEOUT), ("2.5", 2.5), ("1e3", 1000.0)]
)
def test_the_deadline_is_the_variable_else_the_default(
    given: str | None, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    if given is None:
        monkeypatch.delenv(TIMEOUT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(TIMEOUT_VARIABLE, given)
    assert timeout_seconds() == seconds
    assert DEFAULT_TIMEOUT == 120.0


@pytest.mark.parametrize("given", ["0", "-1", "inf", "nan", "ten"])
def test_a_deadline_that_is_no_number_of_seconds_is_one_line(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, given)
    with pytest.raises(UsageError) as err:
        timeout_seconds()
    assert str(err.value) == f"ENVCTL_PULUMI_TIMEOUT: got {given!r}; allowed: a number of seconds above 0"


def test_a_call_returns_its_exit_code_and_both_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_VARIABLE, raising=False)
    done = run_pulumi(cli(tmp_path, 'echo "args: $*"\necho oops >&2\nexit 3\n'), ["stack", "ls", "--json"])
    assert done == Done(3, "args: stack ls --json\n", "oops\n")


def test_past_the_deadline_the_cli_and_what_it_started_are_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child `sleep` keeps the output pipes open: only killing the process group ends the wait."""
    monkeypatch.setenv(TIMEOUT_VARIABLE, "0.5")
    started = time.monotonic()
    with pytest.raises(FailureError) as err:
        run_pulumi(cli(tmp_path, "sleep 30 &\nsleep 30\n"), ["stack", "output"])
    assert time.monotonic() - started < 10
    assert str(err.value) == (
        "pulumi stack output: no answer within 0.5s (ENVCTL_PULUMI_TIMEOUT); "
        "check the backend login (`pulumi whoami`), or raise ENVCTL_PULUMI_TIMEOUT"
    )
