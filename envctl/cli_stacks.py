"""The commands that read deployed environments: cards (from the Pulumi CLI, saved outputs or the
SSM records) and resolve (an API key's record from the key index)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from envctl import cards as cards_mod
from envctl import formats, pagedata
from envctl.cli_common import CardsFormat, FormatOption, ViewFormat, emit, guarded, show
from envctl.console import EXIT_FAILURE, EXIT_USAGE, fail, progress
from envctl.stackfiles import committed_stacks
from policies.contracts.names import DEFAULT_PROJECT


def cards(  # noqa: PLR0917 (one parameter per option, as typer wants)
    stacks: Annotated[
        list[str] | None, typer.Argument(help="Stacks to show (default: the committed stacks).", show_default=False)
    ] = None,
    from_files: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Saved `pulumi stack output --json --stack S > S.json` files; repeatable."),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Read the project's environment records from SSM Parameter Store.")
    ] = False,
    project: Annotated[
        str | None, typer.Option("--project", help=f"With --live: the platform project (default {DEFAULT_PROJECT}).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="With --live: default AWS_REGION, then the AWS SDK's.")
    ] = None,
    format: Annotated[
        CardsFormat, typer.Option("--format", "-f", help="table (text), json, markdown, or html (one page).")
    ] = CardsFormat.text,
) -> None:
    """Show the environment cards: name, type, cloud provider, region, cluster and created-at.

    Reads each stack's outputs with the Pulumi CLI when it is on PATH (else renders the
    committed stacks offline), saved output files
    given with --from, or with --live the records the stacks keep in SSM (all of the
    project's, or the STACKs named). A stack with no outputs or record is not deployed."""
    if from_files and (stacks or live):
        fail(
            f"--from takes each stack from its file's name; give {'--live' if live else 'STACK arguments'} "
            "or --from files, not both",
            EXIT_USAGE,
        )
    unused = next((o for o, v in (("--project", project), ("--region", region)) if v is not None and not live), None)
    if unused:
        fail(f"{unused} does nothing without --live; allowed: --live {unused} ...", EXIT_USAGE)
    project = project or DEFAULT_PROJECT
    offline = False
    if live:
        from envctl import live as live_mod

        guarded(lambda: live_mod.check_project(project), "checking --project")
        client = guarded(lambda: live_mod.ssm_client(region), "checking --region")
        with progress("reading environment records"):
            records = live_mod.read_records(client, project)
        result = guarded(lambda: live_mod.cards_from_records(records, stacks, committed_stacks()), "reading records")
    elif from_files:
        result = guarded(lambda: cards_mod.cards_from_files(from_files), "reading saved outputs")
    else:
        cli = cards_mod.pulumi_cli()
        names, offline = stacks or committed_stacks(), cli is None
        if cli is None:  # offline: each committed stack rendered (envctl/pagedata.py)
            result = guarded(lambda: pagedata.cards_offline(names), "rendering the committed stacks")
        else:
            result = guarded(lambda: cards_mod.cards_from_cli(names, cli), "reading stack outputs")
    if format is CardsFormat.html:
        emit(guarded(lambda: pagedata.page(result, project if live else None, region, offline), "reading stores"))
        return
    show(
        format,
        json=lambda: [c.to_json() for c in result],
        markdown=lambda: formats.cards_markdown(result),
        text=lambda: formats.render_text(formats.cards_table(result)),
    )


def resolve(
    key: Annotated[str, typer.Argument(help="The publishable key (pk_...), or - to read it from stdin.")],
    region: Annotated[str | None, typer.Option("--region", help="Default: the AWS SDK's.")] = None,
    project: Annotated[str, typer.Option("--project", help="The platform project.")] = DEFAULT_PROJECT,
    format: FormatOption = ViewFormat.text,
) -> None:
    """Print the environment record of an API key, from the project's key index in SSM.

    What the platform's API does for each X-API-Key header. A malformed key is refused before
    any AWS call (exit 2); a key no environment has exits 1."""
    from components.records import KEY_ALLOWED, well_formed
    from components.resolver import UnknownKeyError
    from envctl import live as live_mod

    if key == "-":
        key = sys.stdin.readline().strip()
    if not well_formed(key):  # before anything touches AWS; the key itself is never echoed
        fail(f"KEY: not an envstack API key; allowed: {KEY_ALLOWED}", EXIT_USAGE)
    guarded(lambda: live_mod.check_project(project), "checking --project")
    client = guarded(lambda: live_mod.ssm_client(region), "checking --region")
    try:
        with progress("resolving"):
            record = live_mod.resolve_key(client, key, project)
    except UnknownKeyError as err:  # components/resolver.py's: a key no environment has
        fail(str(err), EXIT_FAILURE)
    show(
        format,
        json=lambda: record,
        markdown=lambda: "".join(f"- {k}: `{v}`\n" for k, v in sorted(record.items())),
        text=lambda: "".join(f"{k}: {v}\n" for k, v in sorted(record.items())),
    )
