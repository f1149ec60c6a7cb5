"""What every envctl command shares: the --format choices, the progress-guarded step, and the one
way results reach stdout. The commands themselves live in envctl/cli_*.py; envctl/cli.py registers
them on the app."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer

from envctl import formats
from envctl.console import progress
from envctl.plan import Rendering
from envctl.render import render

T = TypeVar("T")


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    tree = "tree"  # the text format's older name
    terraform_plan = "terraform-plan"  # Terraform's plan JSON, for Terraform-plan scanners


class ViewFormat(StrEnum):
    """The --format values every command shares (cards adds html)."""

    text = "text"
    json = "json"
    markdown = "markdown"


class CardsFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


FormatOption = Annotated[ViewFormat, typer.Option("--format", "-f", help="text, json or markdown.")]


def guarded(action: Callable[[], T], what: str) -> T:
    """Run one step under a progress spinner; its errors reach the boundary (envctl/console.py)."""
    with progress(what):
        return action()


def rendering_of(stack: str) -> Rendering:
    return guarded(lambda: render(stack), f"rendering {stack}")


def emit(text: str) -> None:
    sys.stdout.write(text)


def show(format: StrEnum, *, json: Callable[[], Any], markdown: Callable[[], str], text: Callable[[], str]) -> None:
    """Print a result in the chosen format: JSON (sorted, stable), Markdown, or text (tree/table)."""
    if format.value == "json":
        emit(formats.to_json(json()))
    elif format.value == "markdown":
        emit(markdown())
    else:
        emit(text())
