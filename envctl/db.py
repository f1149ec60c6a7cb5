"""`envctl db`: local mode. The same SQL plan and direct executor as the TableStore, on any
PostgreSQL reachable by a DSN, so developers get the environment layout locally; and the
cluster owner's two steps for the provisioner login (docs/tables.md): `provisioner` creates it
on a cluster managed outside envstack, `hand-over` migrates previews the master created."""

from __future__ import annotations

import json
import secrets
import string
from enum import StrEnum
from typing import Annotated

import typer

from components.executors import ExecutionError, PsycopgExecutor
from components.sql import Layout, PlanError, create_plan, hand_over_plan, provisioner_plan, teardown_plan
from envctl.console import EXIT_FAILURE, EXIT_USAGE, fail
from envctl.pr import PR_STACK
from policies.contracts.names import PG_PROVISIONER, UnmappableNameError

db_app = typer.Typer(help="Create or remove an environment's schema and role on any PostgreSQL.", no_args_is_help=True)
ALPHABET = string.ascii_letters + string.digits


class DbFormat(StrEnum):
    """The --format values of envctl's other commands that `db up` prints."""

    text = "text"
    json = "json"


DsnOption = Annotated[str, typer.Option("--dsn", help="An administrator's libpq DSN or postgresql:// URL.")]
EnvOption = Annotated[str, typer.Option("--env", help="The environment's name, e.g. dev or pr-42.")]


def _layout(env: str, dsn: str, connection_limit: int) -> tuple[Layout, dict[str, str]]:
    from psycopg import conninfo

    try:
        params = {k: str(v) for k, v in conninfo.conninfo_to_dict(dsn).items() if v is not None}
    except Exception as err:  # psycopg raises ProgrammingError for a malformed DSN
        fail(f"--dsn is not a valid connection string: {err}", EXIT_USAGE)
    database = params.get("dbname") or params.get("user") or "postgres"  # libpq's own default
    try:
        return Layout(env=env, database=database, connection_limit=connection_limit), params
    except UnmappableNameError as err:
        fail(f"--env: {err}", EXIT_USAGE)


@db_app.command("up")
def up(  # noqa: PLR0917 (one parameter per option, as typer wants)
    dsn: DsnOption,
    env: EnvOption,
    format: Annotated[DbFormat, typer.Option("--format", "-f", help="text, or json (one JSON object).")] = (
        DbFormat.text
    ),
    as_json: Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated: --format json.")] = False,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="ENVCTL_DB_PASSWORD",
            help="The role's password; a new random one if unset (so re-running rotates it).",
        ),
    ] = None,
    connection_limit: Annotated[int, typer.Option("--connection-limit", min=1, max=500)] = 20,
) -> None:
    """Create or update ENV's schema and role; idempotent, existing tables and rows are kept."""
    from psycopg import conninfo

    layout, params = _layout(env, dsn, connection_limit)
    password = password or "".join(secrets.choice(ALPHABET) for _ in range(32))
    try:
        plan = create_plan(layout, password)
    except PlanError as err:  # a password SASLprep refuses
        fail(f"--password: {err}", EXIT_USAGE)
    try:
        PsycopgExecutor(dsn).apply(plan)
    except ExecutionError as err:
        fail(str(err), EXIT_FAILURE)
    own = {**params, "user": layout.role, "password": password, "dbname": layout.database}
    result = {
        "environment": env,
        "schema": layout.schema,
        "role": layout.role,
        "dsn": conninfo.make_conninfo(**own),
    }
    if as_json or format is DbFormat.json:
        typer.echo(json.dumps(result, sort_keys=True))
    else:
        typer.echo(f"environment {env}: schema {layout.schema}, role {layout.role} on database {layout.database}")
        typer.echo(f"connect as the environment: {result['dsn']}")


@db_app.command("down")
def down(dsn: DsnOption, env: EnvOption) -> None:
    """Drop ENV's schema with all its tables and data, and its role; idempotent."""
    layout, _ = _layout(env, dsn, EXIT_FAILURE)
    try:
        PsycopgExecutor(dsn).apply(teardown_plan(layout))
    except ExecutionError as err:
        fail(str(err), EXIT_FAILURE)
    typer.echo(f"environment {env}: schema {layout.schema} and role {layout.role} removed")


@db_app.command("provisioner")
def provisioner(
    dsn: Annotated[str, typer.Option("--dsn", help="The cluster master's libpq DSN or postgresql:// URL.")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password", envvar="ENVCTL_DB_PASSWORD", help="The login's password; a new random one if unset."
        ),
    ] = None,
) -> None:
    """As the cluster's master: create or update the provisioner login that attached stacks use.

    Stacks that own their cluster do this themselves; this is for a cluster managed elsewhere."""
    layout, params = _layout("provisioner", dsn, 1)  # validates the DSN; the name is a placeholder
    password = password or "".join(secrets.choice(ALPHABET) for _ in range(32))
    try:
        plan = provisioner_plan(layout.database, password)
    except PlanError as err:
        fail(f"--password: {err}", EXIT_USAGE)
    try:
        PsycopgExecutor(dsn).apply(plan)
    except ExecutionError as err:
        fail(str(err), EXIT_FAILURE)
    from psycopg import conninfo

    own = {**params, "user": PG_PROVISIONER, "password": password, "dbname": layout.database}
    typer.echo(f"provisioner {PG_PROVISIONER} on database {layout.database}: {conninfo.make_conninfo(**own)}")


@db_app.command("hand-over")
def hand_over(
    dsn: Annotated[str, typer.Option("--dsn", help="The cluster master's libpq DSN or postgresql:// URL.")],
    envs: Annotated[list[str], typer.Option("--env", help="A preview created by the master, e.g. pr-42; repeatable.")],
) -> None:
    """As the cluster's master, once: give the provisioner the previews the master created.

    The provisioner gets ADMIN OPTION on each role, the schema and the CONNECT grant, so their
    updates and the sweep work. Only pr-<number> previews: the owner's own stay with the master."""
    for env in envs:
        if not PR_STACK.match(env):
            fail(f"--env {env!r}: only previews named pr-<number> are handed over (the owner's stay)", EXIT_USAGE)
    for env in envs:
        layout, _ = _layout(env, dsn, 1)
        try:
            PsycopgExecutor(dsn).apply(hand_over_plan(layout))
        except ExecutionError as err:
            fail(f"{env}: {err}", EXIT_FAILURE)
        typer.echo(f"environment {env}: schema {layout.schema} and role {layout.role} handed to {PG_PROVISIONER}")
