"""envctl's errors and exit codes: what each kind of failure is, and the code it exits with.

The CLI boundary (envctl/console.py `Boundary`) is the one place that turns them into one line
on stderr and an exit code:

    0  ok
    1  findings or differences: a check ran and said no (a mandatory rule, a refused destroy,
       `diff --exit-code`, AWS refusing a request, a Pulumi CLI call past its deadline)
    2  bad input or usage: an unknown stack, an invalid config, a malformed or missing file,
       a usage error, an option that would do nothing, no AWS region
    3  an unexpected internal error: a bug in envctl, never a finding about the stacks
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 3


class EnvctlError(Exception):
    """An error envctl expected: its message is one line naming the input and what is allowed."""

    exit_code = EXIT_USAGE


class UsageError(EnvctlError):
    """Bad input: an argument, option or file that envctl cannot use (exit 2)."""


class RenderError(EnvctlError):
    """The program failed under the mock runtime for this stack's config (exit 2, as bad input:
    the config given is what the program refused)."""


class FailureError(EnvctlError):
    """A check that ran and said no, or a service that refused (exit 1)."""

    exit_code = EXIT_FAILURE


def aws_refusal(err: Any) -> str:
    """The one line for a request AWS refused (a botocore ClientError): its code and message."""
    error = err.response.get("Error", {})
    return f"AWS refused: {error.get('Code', 'error')}: {error.get('Message', '')}".strip()
