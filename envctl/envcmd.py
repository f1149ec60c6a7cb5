"""`envctl env create|show|delete`: the console's create button, environment switch and delete
dialog, as commands. The logic is envctl/environments.py (create, delete) and
envctl/inventory.py (what an environment holds); this module is arguments and output."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from components.config import EnvType
from envctl import formats
from envctl import inventory as inv
from envctl.cards import Card, card_from_outputs
from envctl.cli_common import FormatOption, ViewFormat, emit, rendering_of, show
from envctl.console import EXIT_FAILURE, err_console, fail, progress
from envctl.environments import (
    ClusterChoice,
    Request,
    create,
    delete_steps,
    is_guarded,
    next_steps,
    parse_set,
    run_steps,
    set_confirmation,
)
from envctl.errors import UsageError
from envctl.manifest import manifest
from envctl.plan import Rendering
from envctl.render import render
from envctl.stackfiles import stack_file

env_app = typer.Typer(help="Create, show and delete environments (one stack each).", no_args_is_help=True)


NameArgument = Annotated[str, typer.Argument(help="The environment's stack name: Pulumi.<NAME>.yaml.")]
LiveOption = Annotated[bool, typer.Option("--live", help="Also read what it holds: tables, users, files (AWS).")]
DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="With --live: read tables over this PostgreSQL DSN instead of the RDS Data API."),
]


@env_app.command("create")
def create_command(  # noqa: PLR0917 (one parameter per option, as typer wants)
    name: NameArgument,
    type_: Annotated[EnvType, typer.Option("--type", help="dev, staging, prod or custom.")],
    region: Annotated[str | None, typer.Option("--region", help="Default: the cluster stack's region.")] = None,
    cluster_stack: Annotated[
        str | None, typer.Option("--cluster-stack", help="Attach to the cluster ORG/PROJECT/STACK owns.")
    ] = None,
    cluster_arn: Annotated[str | None, typer.Option("--cluster-arn", help="Attach to a cluster outside envstack.")] = (
        None
    ),
    cluster_secret_arn: Annotated[
        str | None, typer.Option("--cluster-secret-arn", help="With --cluster-arn: its master secret.")
    ] = None,
    cluster_endpoint: Annotated[
        str | None, typer.Option("--cluster-endpoint", help="With --cluster-arn: its writer endpoint.")
    ] = None,
    create_cluster: Annotated[
        str | None, typer.Option("--create-cluster", help="staging or prod: create and own cluster NAME.")
    ] = None,
    cluster_name: Annotated[
        str | None, typer.Option("--cluster-name", help="The assignment's name; default: the owner's or the ARN's.")
    ] = None,
    project: Annotated[str | None, typer.Option("--project", help="The platform project (envstack:project).")] = None,
    platform_principal: Annotated[
        list[str] | None,
        typer.Option("--platform-principal", help="envstack:platformPrincipals: an IAM role ARN; repeatable."),
    ] = None,
    permissions_boundary: Annotated[
        str | None, typer.Option("--permissions-boundary", help="envstack:permissionsBoundary: a policy ARN.")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Any other contract key: NAMESPACE:KEY=VALUE; repeatable.")
    ] = None,
) -> None:
    """Write Pulumi.NAME.yaml for a new environment, render it offline and check it.

    The file is kept only if the config contract accepts it and the policy pack finds no
    mandatory violation. Needs no Pulumi CLI; prints the Pulumi commands that follow."""
    request = Request(
        name=name,
        type=type_,
        region=region,
        cluster=ClusterChoice(
            stack=cluster_stack,
            arn=cluster_arn,
            secret_arn=cluster_secret_arn,
            endpoint=cluster_endpoint,
            create=create_cluster,
            name=cluster_name,
        ),
        project=project,
        platform_principals=platform_principal or (),
        permissions_boundary=permissions_boundary,
        extra=parse_set(set_ or ()),
    )
    with progress(f"rendering and checking {name}"):
        created = create(request)
    findings = formats.findings_text(name, type_.value, created.findings)
    if created.mandatory:
        emit(findings)
        fail(f"{created.path.name} not written: a mandatory policy rule is violated (above)", EXIT_FAILURE)
    advisory = f"{len(created.findings)} advisory finding(s), listed by `envctl check {name}`"
    err_console.print(f"wrote {created.path.name}: rendered offline; no mandatory policy finding, {advisory}")
    emit("next:\n" + "".join(f"  {step}\n" for step in next_steps(name)))


# --- show ----------------------------------------------------------------------------------


def _offline(name: str) -> tuple[Rendering, Card, list[inv.Store]]:
    rendering = rendering_of(name)
    card = card_from_outputs(name, rendering.outputs, f"rendering of {name}")
    return rendering, card, inv.stores(rendering.to_json())


def _live(rendering: Rendering, dsn: str | None) -> inv.Live:
    import boto3

    from components.executors import PsycopgExecutor
    from envctl.live import AwsError

    config = rendering.config
    session = boto3.session.Session()
    try:
        with progress("reading the environment's record"):
            record = inv.read_record(session, config.region, config.project, config.name)
    except Exception as err:  # boto3's errors: the record is the one read everything else needs
        raise AwsError(f"environment record of {config.name}: {inv.refused(err)}") from None
    with progress("reading tables, users and files"):
        return inv.read_live(session, record, PsycopgExecutor(dsn) if dsn else None)


def show_json(card: Card, stores: list[inv.Store], live: inv.Live | None) -> dict[str, Any]:
    shown: dict[str, Any] = {"card": card.to_json(), "stores": [asdict(s) for s in stores]}
    if live is not None:
        shown["live"] = live.to_json()
    return shown


def _files_line(files: dict[str, Any]) -> str:
    size = "unknown" if files["bytes"] is None else f"{files['bytes']} bytes"
    return f"{files['objects']} objects, {size} ({files['source']})"


def live_lines(live: inv.Live, bullet: str, code: str) -> list[str]:
    """The live sections as lines (text: bullet '  ', code ''; Markdown: '- ', '`')."""
    lines = [f"Tables (schema, row estimates from the catalogue's statistics; record {code}{live.record}{code}):"]
    if live.tables_error:
        lines.append(f"{bullet}not read: {live.tables_error}")
    for t in live.tables or []:
        lines.append(f"{bullet}{code}{t['table']}{code}: ~{t['rows']} rows ({t['source']})")
    if live.tables == []:
        lines.append(f"{bullet}no tables")
    users = f"not read: {live.users_error}" if live.users_error else f"{live.users['count']} ({live.users['source']})"  # type: ignore[index]
    files = f"not read: {live.files_error}" if live.files_error else _files_line(live.files or {})
    return [*lines, f"Users: {users}", f"Files: {files}"]


def show_text(card: Card, stores: list[inv.Store], live: inv.Live | None) -> str:
    head = formats.render_text(formats.cards_table([card]))
    table = Table("store", "resource", "identifier", "on delete", "detail", title="Stores")
    for s in stores:
        table.add_row(s.store, s.resource, s.identifier, s.fate.upper(), s.detail)
    body = head + formats.render_text(table)
    return body + ("\n".join(live_lines(live, "  ", "")) + "\n" if live is not None else "")


def show_markdown(card: Card, stores: list[inv.Store], live: inv.Live | None) -> str:
    rows = "".join(f"| {s.store} | `{s.resource}` | `{s.identifier}` | **{s.fate}** | {s.detail} |\n" for s in stores)
    text = (
        formats.cards_markdown([card])
        + "\n| store | resource | identifier | on delete | detail |\n|---|---|---|---|---|\n"
        + rows
    )
    return text + ("\n" + "\n\n".join(live_lines(live, "- ", "`")) + "\n" if live is not None else "")


@env_app.command("show")
def show_command(
    name: NameArgument,
    live: LiveOption = False,
    dsn: DsnOption = None,
    format: FormatOption = ViewFormat.text,
) -> None:
    """Show an environment: its card and stores, with what deletion would do to each.

    Offline from the committed stack. With --live, from its SSM record: each table with a row
    estimate, the user count and the files; a read that is refused is reported (exit 1)."""
    if dsn and not live:
        raise UsageError("--dsn: only with --live; allowed: --live --dsn DSN")
    rendering, card, stores = _offline(name)
    found = _live(rendering, dsn) if live else None
    show(
        format,
        json=lambda: show_json(card, stores, found),
        markdown=lambda: show_markdown(card, stores, found),
        text=lambda: show_text(card, stores, found),
    )
    if found is not None and found.errors:
        raise typer.Exit(EXIT_FAILURE)


# --- delete --------------------------------------------------------------------------------


def _typed_name(env: str, confirm: str | None) -> str:
    if confirm is not None:
        return confirm
    try:
        typed: str = typer.prompt(f"Type the environment's name ({env}) to delete it", err=True)
    except typer.Abort:
        raise UsageError(f"no name typed; allowed: the environment's name {env!r} (or --confirm {env})") from None
    return typed


@env_app.command("delete")
def delete_command(  # noqa: PLR0917 (one parameter per option, as typer wants)
    name: NameArgument,
    confirm: Annotated[
        str | None, typer.Option("--confirm", help="For scripts: the environment's name, instead of typing it.")
    ] = None,
    live: LiveOption = False,
    dsn: DsnOption = None,
    run: Annotated[bool, typer.Option("--run", help="Run the Pulumi steps (needs `pulumi` on PATH).")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="With --run: seconds per Pulumi step.")] = 3600,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Back out: remove envstack:confirmDeletion from the stack file.")
    ] = False,
) -> None:
    """Delete an environment: show what will be lost, then ask for its name, as the console does.

    Guarded types (staging, prod) get envstack:confirmDeletion in their stack file; then the
    Pulumi steps are printed, or run with --run."""
    if cancel:
        if confirm or run or live:
            raise UsageError("--cancel: alone; allowed: `envctl env delete NAME --cancel`")
        changed = set_confirmation(name, None) if stack_file(name).is_file() else None
        if changed is None:
            render(name)  # the one message for an unknown stack
        err_console.print(
            f"removed envstack:confirmDeletion from Pulumi.{name}.yaml" if changed else "no confirmation to remove"
        )
        emit(f"if step 1 was applied, restore the guards with:\n  pulumi up --stack {name}\n")
        return
    if dsn and not live:
        raise UsageError("--dsn: only with --live; allowed: --live --dsn DSN")
    rendering, _, _ = _offline(name)
    loss = manifest(rendering.to_json())
    emit(formats.manifest_text(loss))
    if live:
        emit("\n".join(live_lines(_live(rendering, dsn), "  ", "")) + "\n")
    env = rendering.config.name
    typed = _typed_name(env, confirm)
    if typed != env:
        raise UsageError(f"typed {typed!r}; allowed: exactly the environment's name {env!r}. Nothing was written")
    guarded = is_guarded(rendering.config.type)
    if guarded and set_confirmation(name, env):
        err_console.print(f"wrote envstack:confirmDeletion: {env} into Pulumi.{name}.yaml")
    steps = delete_steps(name, guarded)
    if run:
        run_steps(steps, timeout, err_console.print)
        err_console.print(f"deleted {name}")
        return
    first = "step 1 (apply the confirmation), then step 2 (delete):" if guarded else "delete:"
    back_out = f"to back out: envctl env delete {name} --cancel\n" if guarded else ""
    emit(f"{first}\n" + "".join(f"  {' '.join(s)}\n" for s in steps) + back_out)
