"""Where envctl speaks: results on stdout; progress and errors on stderr, through one boundary.

`Boundary` is the click group every command runs under: an `EnvctlError` becomes one line and
its exit code (envctl/errors.py), and any other exception one line saying it is a bug (exit 3),
so no traceback and no misleading verdict reaches the user. ENVCTL_DEBUG=1 shows the traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from envctl.errors import EXIT_BUG, EXIT_FAILURE, EXIT_USAGE, EnvctlError, FailureError, UsageError

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "Boundary", "err_console", "fail", "progress", "say_error", "usage_line"]
# Plain text only: what envctl prints names config keys (`envstack:a`), placeholders (`[secret]`) and
# paths, which rich's emoji codes, markup and highlighting would otherwise rewrite.
err_console = Console(stderr=True, emoji=False, markup=False, highlight=False)


def say_error(message: str) -> None:
    err_console.print(f"envctl: {message}", markup=False, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Stop with one clear message (a config error keeps its list of problems) and `code`."""
    raise (UsageError if code == EXIT_USAGE else FailureError)(message)


def usage_line(err: TyperException) -> str:
    """Click's usage error as one line: its message and where the help is, never a box."""
    message = " ".join(err.format_message().split()).replace("Value error, ", "")  # typer's pydantic prefix
    ctx = getattr(err, "ctx", None)
    return f"{message} (see `{ctx.command_path} --help`)" if ctx is not None else message


class Boundary(TyperGroup):
    """The CLI's one error boundary: every command, subcommands included, runs inside `invoke`;
    `main` turns click's own usage errors (unknown option, missing argument, bad value) into one
    line and exit 2, where typer would draw a box."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        inner = {"args": args, "prog_name": prog_name, "complete_var": complete_var, **extra}
        if not standalone_mode:
            return super().main(**inner, standalone_mode=False, windows_expand_args=windows_expand_args)
        try:
            code = super().main(**inner, standalone_mode=False, windows_expand_args=windows_expand_args)
        except TyperException as err:  # click's usage errors, as typer vendors them
            if type(err).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
                say_error(usage_line(err))
            sys.exit(err.exit_code)
        except Abort:  # Ctrl-C at a prompt
            say_error("aborted")
            sys.exit(EXIT_FAILURE)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (Exit, Abort, TyperException):  # typer's own: exit codes, usage errors, Ctrl-C
            raise
        except EnvctlError as err:
            say_error(str(err))
            raise typer.Exit(err.exit_code) from None
        except Exception as err:
            if os.environ.get("ENVCTL_DEBUG"):
                raise
            detail = f"{type(err).__name__}: {err}".splitlines()[0]
            say_error(
                f"internal error, a bug in envctl and not a finding about your stacks ({detail}); "
                "rerun with ENVCTL_DEBUG=1 for the traceback and report it"
            )
            raise typer.Exit(EXIT_BUG) from None


@contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner on stderr, and only on a terminal: stdout stays clean for --format json."""
    if err_console.is_terminal:
        with err_console.status(what):
            yield
    else:
        yield
