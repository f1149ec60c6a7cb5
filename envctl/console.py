"""Where envctl speaks: results on stdout, progress and errors on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

err_console = Console(stderr=True)

EXIT_FAILURE = 1
EXIT_USAGE = 2  # bad input: unknown stack, invalid config, malformed file, unmappable name


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """One clear message (a config error keeps its list of problems) and a non-zero exit."""
    err_console.print(f"envctl: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner on stderr, and only on a terminal: stdout stays clean for --format json."""
    if err_console.is_terminal:
        with err_console.status(what):
            yield
    else:
        yield
