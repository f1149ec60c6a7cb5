"""TableStore: the environment's tables, as a schema and a login role on its cluster.

A Pulumi dynamic provider applies the SQL plan of components/sql.py through the RDS Data API
(or, for self-hosted PostgreSQL, a DSN):
- create: the create plan;
- diff/update: a new password or connection limit is applied in place; a new environment
  name, schema, role, database or cluster is a replacement (a new schema, and the old one
  torn down);
- check/diff during a preview: inputs that depend on a resource not created yet (the cluster
  being created or replaced, a new random password) arrive as Pulumi's unknown sentinel.
  They never crash: check validates only what is known, and diff reports an unknown value
  as a change, and an unknown value that decides replacement (the cluster ARN, the names) as
  a replacement. That is the conservative answer: the preview may show a replacement that
  `pulumi up` (which diffs again with the real values) turns out not to need, never the
  reverse;
- delete: the teardown plan, which for staging and prod refuses until the deletion was
  confirmed (`envstack:confirmDeletion`, applied by a `pulumi up` before the destroy).

The role's password comes from pulumi-random; the credentials go to a Secrets Manager secret
in the shape RDS uses (username, password, host, port, dbname, engine) plus the schema.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_aws as aws
import pulumi_random as random

from components.base import EnvstackComponent
from components.cluster import ClusterAttachment
from components.provider import child
from components.pulumi_runtime import is_unknown
from policies.contracts import names
from policies.contracts.conventions import SCHEMA_ROLE, TABLE_STORE, TAG_PURPOSE, dynamic_parts
from policies.contracts.names import DEFAULT_PROJECT, pg_identifier

PASSWORD_LENGTH = 40
# Changing any of these moves the environment's tables elsewhere: a replacement.
REPLACE_ON = ("env", "schema", "role", "database", "clusterArn")
# Changing any of these is applied in place.
IN_PLACE = ("connectionLimit", "deletionConfirmed", "deleteNeedsConfirmation", "envType", "executor")


def password_hash(password: str) -> str:
    """What the state keeps of the password, to tell a rotation without keeping it in outputs."""
    return hashlib.sha256(password.encode()).hexdigest()


class DeletionRefusedError(RuntimeError):
    """Dropping the tables of a staging or prod environment was not confirmed."""


class TableStoreProvider(pulumi.dynamic.ResourceProvider):
    """Applies the schema-and-role plan. Imports stay inside the methods: Pulumi serialises
    this provider into the state, and its host process loads the plan modules by name."""

    def _layout(self, props: dict[str, Any]) -> Any:
        from components.sql import Layout

        return Layout(
            env=props["env"],
            database=props["database"],
            connection_limit=int(props["connectionLimit"]),
            schema=props["schema"],
            role=props["role"],
        )

    def _executor(self, props: dict[str, Any]) -> Any:
        from components.executors import executor_from

        return executor_from(props["executor"])

    def _outs(self, props: dict[str, Any]) -> dict[str, Any]:
        # The SDK's host sets the serialised provider (`__provider`) in the outputs itself.
        outs = {k: v for k, v in props.items() if k != "password"}
        outs["passwordHash"] = password_hash(props["password"])
        return outs

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        from components.sql import create_plan

        self._executor(props).apply(create_plan(self._layout(props), props["password"]))
        return pulumi.dynamic.CreateResult(id_=f"{props['database']}/{props['schema']}", outs=self._outs(props))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Validates the inputs that are known; unknown ones pass through unchanged."""
        from components.sql import PlanError, scram_verifier

        failures = []
        # The layout validates the environment's name and the connection limit; it takes the
        # schema, role and database names as given, so an unknown one does not stop the check.
        if not any(is_unknown(news.get(k)) for k in ("env", "connectionLimit")):
            try:
                self._layout(news)
            except (ValueError, KeyError, TypeError) as err:
                failures.append(pulumi.dynamic.CheckFailure("env", f"invalid table store layout: {err}"))
        password = news.get("password")
        if not is_unknown(password):
            try:
                if not isinstance(password, str):
                    raise PlanError(f"the role's password must be a string, not {type(password).__name__}")
                scram_verifier(password)
            except PlanError as err:
                failures.append(pulumi.dynamic.CheckFailure("password", str(err)))
        executor = news.get("executor")
        kind = executor.get("kind") if isinstance(executor, dict) else executor
        if not is_unknown(kind) and kind not in ("data-api", "dsn"):
            failures.append(
                pulumi.dynamic.CheckFailure("executor", f"unknown executor kind {kind!r}; allowed: data-api, dsn")
            )
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        """See the module's docstring: an unknown value is a change, and a replacement when it
        decides replacement."""

        def value(props: dict[str, Any], key: str) -> Any:
            if key != "clusterArn":
                return props.get(key)
            executor = props.get("executor")
            return executor.get(key) if isinstance(executor, dict) else executor  # a whole unknown executor

        # An unknown value is never equal to a known one (`Unknown` compares by identity, and
        # no real input is the wire sentinel), so `!=` reports it as a change.
        replaces = [k for k in REPLACE_ON if value(olds, k) != value(news, k)]
        in_place = [k for k in IN_PLACE if olds.get(k) != news.get(k)]
        password = news["password"]
        rotated = is_unknown(password) or olds.get("passwordHash") != password_hash(password)
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces or in_place or rotated),
            replaces=replaces,
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        from components.sql import create_plan

        # The create plan is idempotent: it sets the password and limit in place and keeps the data.
        self._executor(news).apply(create_plan(self._layout(news), news["password"]))
        return pulumi.dynamic.UpdateResult(outs=self._outs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from components.sql import teardown_plan

        if props.get("deleteNeedsConfirmation") and not props.get("deletionConfirmed"):
            raise DeletionRefusedError(
                f"refusing to drop the tables of {props['envType']} environment '{props['env']}' "
                f"(schema {props['schema']}): set envstack:confirmDeletion to '{props['env']}' and run "
                "`pulumi up` first"
            )
        self._executor(props).apply(teardown_plan(self._layout(props)))


class SchemaRole(pulumi.dynamic.Resource, **dynamic_parts(SCHEMA_ROLE)):
    """The dynamic resource: one environment's schema and role in one database."""

    schema: pulumi.Output[str]
    role: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TableStoreProvider(), name, props, opts)


@dataclass(frozen=True)
class TableStoreArgs:
    env: str
    env_type: str
    # The settings row's fields this store uses (components/settings.py):
    db_connection_limit: int
    delete_needs_confirmation: bool
    secret_recovery_days: int
    attachment: ClusterAttachment
    password_version: int  # bump envstack:dbPasswordVersion to rotate
    deletion_confirmed: bool
    kms_key_arn: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()  # a cluster this stack creates must exist first
    project: str = DEFAULT_PROJECT


def credentials_document(
    *, password: str, host: str, port: int, database: str, role: str, schema: str | None = None
) -> str:
    """A database secret, in the shape RDS uses for its own secrets (which the Data API reads),
    plus the environment's schema when there is one (the provisioner's login has none)."""
    document: dict[str, str | int] = {
        "engine": "postgres",
        "host": host,
        "port": int(port),
        "dbname": database,
        "username": role,
        "password": password,
    }
    if schema is not None:
        document["schema"] = schema
    return json.dumps(document, sort_keys=True)


@dataclass(frozen=True)
class Credentials:
    """A database login's credentials secret: what differs between an environment's role and a
    cluster's provisioner login (components/provisioner.py). Everything else is one recipe."""

    description: pulumi.Input[str]
    purpose: str  # the envstack:purpose tag
    role: str
    schema: str | None = None  # the environment's schema; the provisioner's login has none
    secret_name: pulumi.Input[str] | None = None  # a fixed name; else Pulumi's auto-naming


def credentials_secret(
    parent: pulumi.Resource,
    name: str,
    login: Credentials,
    password: pulumi.Output[str],
    cluster: ClusterAttachment,
    *,
    recovery_days: int,
    kms_key_arn: pulumi.Input[str] | None,
    written_after: pulumi.Resource,
) -> aws.secretsmanager.Secret:
    """The secret `<name>-credentials` and its version, in the shape RDS uses (credentials_document),
    written only after `written_after` has set the login's password."""
    secret = aws.secretsmanager.Secret(
        f"{name}-credentials",
        aws.secretsmanager.SecretArgs(
            name=login.secret_name,
            description=login.description,
            recovery_window_in_days=recovery_days,
            kms_key_id=kms_key_arn,
            tags={TAG_PURPOSE: login.purpose},
        ),
        opts=child(parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-credentials-version",
        aws.secretsmanager.SecretVersionArgs(
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.all(password, cluster.endpoint, cluster.port, cluster.database).apply(
                    lambda v: credentials_document(
                        password=v[0], host=v[1], port=v[2], database=v[3], role=login.role, schema=login.schema
                    )
                )
            ),
        ),
        opts=child(parent, depends_on=[written_after]),
    )
    return secret


class TableStore(EnvstackComponent):
    """The environment's table schema and data: schema + role (dynamic) and its credentials secret."""

    TYPE = TABLE_STORE

    schema: str
    schema_role: SchemaRole
    secret: aws.secretsmanager.Secret

    def __init__(self, name: str, args: TableStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        self.schema = role = pg_identifier(args.env, args.project)
        password = random.RandomPassword(
            f"{name}-password",
            random.RandomPasswordArgs(
                length=PASSWORD_LENGTH, special=False, keepers={"version": str(args.password_version)}
            ),
            opts=child(self),
        )
        a = args.attachment
        self.schema_role = SchemaRole(
            name,
            {
                "env": args.env,
                "envType": args.env_type,
                "schema": self.schema,
                "role": role,
                "database": a.database,
                "connectionLimit": args.db_connection_limit,
                "password": pulumi.Output.secret(password.result),
                "deleteNeedsConfirmation": args.delete_needs_confirmation,
                "deletionConfirmed": args.deletion_confirmed,
                # Each value an output of its own: in a preview, an unknown secret ARN is not an
                # unknown cluster ARN (which diff reads as a replacement).
                "executor": {
                    "kind": "data-api",
                    "clusterArn": a.arn,
                    "secretArn": a.secret_arn,
                    "database": a.database,
                },
            },
            opts=child(
                self,
                additional_secret_outputs=["password"],
                depends_on=list(args.depends_on),
            ),
        )
        self.secret = credentials_secret(
            self,
            name,
            Credentials(
                description=f"Database credentials of {names.label(args.env)} (schema {self.schema})",
                purpose="database-credentials",
                role=role,
                schema=self.schema,
            ),
            password.result,
            a,
            recovery_days=args.secret_recovery_days,
            kms_key_arn=args.kms_key_arn,
            written_after=self.schema_role,  # written only after the role exists with this password
        )
        self.register_outputs({"databaseSchema": self.schema, "databaseSecretArn": self.secret.arn})
