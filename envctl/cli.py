"""The command-line interface: the app, its global options, and the registration of every command.

One thin command per feature (arguments, options, --format) lives by concern in envctl/cli_plan.py
(offline review), envctl/cli_stacks.py (deployed environments), envctl/cli_ops.py (previews, access,
IAM) and envctl/db.py; each calls the module that owns the logic, and every error reaches the one
boundary in envctl/console.py."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from envctl import cli_ops, cli_plan, cli_stacks
from envctl.console import Boundary
from envctl.db import db_app
from envctl.envcmd import env_app

app = typer.Typer(
    name="envctl",
    help="envstack's helper: render, review and check environments offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Boundary,  # the one error boundary: envctl/console.py
)
app.add_typer(db_app, name="db")
app.add_typer(env_app, name="env")


def _version(given: bool) -> None:
    if given:
        from importlib.metadata import version

        sys.stdout.write(f"envctl {version('envstack')}\n")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print envctl's version and exit.")
    ] = False,
) -> None:
    """envstack's helper: render, review and check environments offline."""


# In the order `envctl --help` lists them.
app.command()(cli_plan.plan)
app.command()(cli_plan.diff)
app.command()(cli_plan.manifest)
app.command()(cli_stacks.cards)
app.command()(cli_plan.snapshot)
app.command("pr-config")(cli_ops.pr_config)
app.command()(cli_ops.disposable)
app.command()(cli_ops.sweep)
app.command("review-comment")(cli_ops.review_comment)
app.command()(cli_plan.check)
app.command("rules")(cli_plan.list_rules)
app.command("access")(cli_ops.access_matrix)
app.command("iam-policy")(cli_ops.iam_policy)
app.command()(cli_stacks.resolve)
