"""envctl: the command-line helper. `python -m envctl --help` lists the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer

from envctl import formats
from envctl.console import EXIT_USAGE, fail, progress
from envctl.db import db_app
from envctl.render import RenderError, Rendering, render

app = typer.Typer(
    name="envctl",
    help="envstack's helper: render, review and check environments offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
T = TypeVar("T")


class PlanFormat(StrEnum):
    tree = "tree"
    json = "json"
    markdown = "markdown"


@app.callback()
def main() -> None:
    """envstack's helper: render, review and check environments offline."""


def guarded(action: Callable[[], T], what: str) -> T:
    with progress(what):
        try:
            return action()
        except RenderError as err:
            fail(str(err), EXIT_USAGE)


def rendering_of(stack: str) -> Rendering:
    return guarded(lambda: render(stack), f"rendering {stack}")


def emit(text: str) -> None:
    sys.stdout.write(text)


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="A committed stack: Pulumi.<STACK>.yaml.")],
    format: Annotated[PlanFormat, typer.Option("--format", "-f", help="tree, json or markdown.")] = PlanFormat.tree,
) -> None:
    """Render what STACK declares, offline: no credentials, network, Pulumi CLI or backend."""
    rendering = rendering_of(stack)
    if format is PlanFormat.json:
        emit(formats.to_json(rendering.to_json()))
    elif format is PlanFormat.markdown:
        emit(formats.plan_markdown(rendering))
    else:
        emit(formats.render_text(formats.plan_tree(rendering)))
