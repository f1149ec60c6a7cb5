"""envctl: the command-line helper. `python -m envctl --help` lists the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from envctl import cards as cards_mod
from envctl import formats, review
from envctl.console import EXIT_FAILURE, EXIT_USAGE, err_console, fail, progress
from envctl.db import db_app
from envctl.render import RenderError, Rendering, committed_stacks, project_root, render

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


def show(format: StrEnum, *, json: Callable[[], Any], markdown: Callable[[], str], text: Callable[[], str]) -> None:
    """Print a result in the chosen format: JSON (sorted, stable), Markdown, or text (tree/table)."""
    if format.value == "json":
        emit(formats.to_json(json()))
    elif format.value == "markdown":
        emit(markdown())
    else:
        emit(text())


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="A committed stack: Pulumi.<STACK>.yaml.")],
    format: Annotated[PlanFormat, typer.Option("--format", "-f", help="tree, json or markdown.")] = PlanFormat.tree,
) -> None:
    """Render what STACK declares, offline: no credentials, network, Pulumi CLI or backend."""
    rendering = rendering_of(stack)
    show(
        format,
        json=rendering.to_json,
        markdown=lambda: formats.plan_markdown(rendering),
        text=lambda: formats.render_text(formats.plan_tree(rendering)),
    )


class ViewFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[ViewFormat, typer.Option("--format", "-f", help="text, json or markdown.")]


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="A committed stack, or a saved plan JSON file (e.g. a snapshot).")],
    b: Annotated[str, typer.Argument(help="The stack or plan file to compare with.")],
    format: FormatOption = ViewFormat.text,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when there are differences.")] = False,
) -> None:
    """What differs between two renderings: e.g. `diff dev prod` (what prod has that dev
    doesn't), or `diff tests/snapshots/prod.json prod` (the program against its snapshot)."""
    plan_a = guarded(lambda: review.load_plan(a), f"rendering {a}")
    plan_b = guarded(lambda: review.load_plan(b), f"rendering {b}")
    result = review.diff_plans(plan_a, plan_b, a, b)
    show(
        format,
        json=result.to_json,
        markdown=lambda: formats.diff_markdown(result),
        text=lambda: formats.diff_text(result),
    )
    if exit_code and not result.empty:
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def manifest(
    stack: Annotated[str, typer.Argument(help="A committed stack, or a saved plan JSON file.")],
    format: FormatOption = ViewFormat.text,
) -> None:
    """The data-loss manifest: what `pulumi destroy` of STACK would permanently delete
    (tables, data, users, API keys, files), and what is protected or retained."""
    result = review.manifest(guarded(lambda: review.load_plan(stack), f"rendering {stack}"))
    show(
        format,
        json=result.to_json,
        markdown=lambda: formats.manifest_markdown(result),
        text=lambda: formats.manifest_text(result),
    )


@app.command()
def cards(
    stacks: Annotated[
        list[str] | None, typer.Argument(help="Stacks to show (default: the committed stacks).", show_default=False)
    ] = None,
    from_files: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Saved `pulumi stack output --json --stack S > S.json` files; repeatable."),
    ] = None,
    format: Annotated[ViewFormat, typer.Option("--format", "-f", help="table (text), json or markdown.")] = (
        ViewFormat.text
    ),
) -> None:
    """The environment cards: name, type, cloud provider, region, cluster and created-at.

    Reads each stack's outputs with the Pulumi CLI when it is on PATH, or saved output files
    given with --from. A stack with no outputs yet is shown as not deployed."""
    if from_files:
        result = guarded(lambda: cards_mod.cards_from_files(from_files), "reading saved outputs")
    else:
        cli = cards_mod.pulumi_cli()
        if cli is None:
            fail(
                "the Pulumi CLI is not on PATH; pass saved outputs instead: "
                "`pulumi stack output --json --stack S > S.json`, then `envctl cards --from S.json`",
                EXIT_USAGE,
            )
        names = stacks or committed_stacks()
        result = guarded(lambda: cards_mod.cards_from_cli(names, cli), "reading stack outputs")
    show(
        format,
        json=lambda: [c.to_json() for c in result],
        markdown=lambda: formats.cards_markdown(result),
        text=lambda: formats.render_text(formats.cards_table(result)),
    )


@app.command()
def snapshot(
    check: Annotated[bool, typer.Option("--check", help="Only report drift; write nothing.")] = False,
) -> None:
    """Write tests/snapshots/<stack>.json for every committed stack (the golden renderings)."""
    drifted = []
    snapshots = project_root() / "tests" / "snapshots"
    for stack in committed_stacks():
        text = formats.to_json(rendering_of(stack).to_json())
        path = snapshots / f"{stack}.json"
        if path.is_file() and path.read_text() == text:
            continue
        drifted.append(stack)
        if not check:
            snapshots.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if check and drifted:
        fail(f"snapshots drifted for {', '.join(drifted)}; review, then run `python -m envctl snapshot`")
    err_console.print(f"snapshots {'checked' if check else 'written'}: {', '.join(committed_stacks())}")
