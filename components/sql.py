"""The SQL plan of an environment's table isolation: one schema and one login role per
environment, on a database that several environments share.

Pure: `create_plan` and `teardown_plan` return the ordered statements and touch nothing
(`create_plan` is deterministic but for the verifier's random salt, which `salt` can fix).
Both executors (the RDS Data API and a direct psycopg connection) run the same statements, in
one transaction. Concurrent plans on one database are safe: see `database_lock` and
`environment_lock`.

The recipe (docs/tables.md explains it):
- the plans run as the administering role: the cluster's master user for the environments of
  the stack that owns the cluster, its provisioner login (`provisioner_plan`) for every stack
  attached to it. The schema is owned by the administering role and the environment's role
  gets USAGE and CREATE on it, so the role can create and use tables there but cannot grant
  its schema to anyone else;
- the provisioner is `CREATEROLE` without any other attribute: PostgreSQL 16 lets it alter,
  grant and drop only the roles it holds ADMIN OPTION on (those it created), and it owns only
  the schemas it created, so it never reaches the owner's own environments. Environments
  created by the master before the provisioner existed are handed over once by the owner
  (`hand_over_plan`);
- the role is NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS with a
  connection limit, and its search_path is pinned to its own schema;
- every schema and role envstack creates carries a comment naming its environment; an
  existing schema or role without that comment is a name collision and fails loudly,
  because adopting it would let a later `DROP SCHEMA … CASCADE` destroy someone else's data.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

from policies.contracts.names import PG_PROVISIONER, PREFIX, label, pg_identifier

PROVISIONER_MARKER = f"{PREFIX} provisioner"  # the comment on the provisioner login

# SCRAM-SHA-256 verifiers as PostgreSQL builds them (src/common/scram-common.c): 4096
# iterations, a 16-byte random salt.
SCRAM_ITERATIONS = 4096
SCRAM_SALT_BYTES = 16

# Advisory lock keys (the two-int4 form, a key space of its own in PostgreSQL): the first
# int names the kind of lock, the second the object. Advisory locks are per database.
LOCK_DATABASE = 0x656E7631  # "env1": the database-wide steps
LOCK_ENVIRONMENT = 0x656E7632  # "env2": one environment's schema and role


class PlanError(ValueError):
    """An input the plan cannot express safely."""


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, always double-quoted (embedded quotes doubled)."""
    if not name or "\x00" in name:
        raise PlanError(f"invalid identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A standard-conforming string literal (embedded quotes doubled; backslashes are literal
    because standard_conforming_strings is on, PostgreSQL's default since 9.1, and the plan
    sets it for its own transaction)."""
    if "\x00" in value:
        raise PlanError("a string literal cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), in the
    form `ALTER ROLE … PASSWORD` accepts as already encrypted, so the plaintext never reaches
    the server (nor its log). `scramp` applies SASLprep as PostgreSQL does; a password that
    SASLprep refuses is refused here (PostgreSQL would silently hash its raw bytes instead)."""
    from scramp import ScramException, ScramMechanism

    try:
        salt_used, stored_key, server_key, iterations = ScramMechanism("SCRAM-SHA-256").make_auth_info(
            password,
            iteration_count=SCRAM_ITERATIONS,
            salt=secrets.token_bytes(SCRAM_SALT_BYTES) if salt is None else salt,
        )
    except ScramException as err:
        raise PlanError(
            f"the role's password is not valid SASLprep text ({err.args[0]}); use printable characters"
        ) from None

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt_used)}${b64(stored_key)}:{b64(server_key)}"


@dataclass(frozen=True)
class Statement:
    """One SQL statement. `params` are named (`:name`) bind parameters, for the statements
    that can take them; DDL cannot, so identifiers and literals there are quoted instead.
    `secret` marks statements that carry the password's SCRAM verifier (never the plaintext):
    executors never show them, since a verifier helps an offline guess of the password."""

    sql: str
    params: dict[str, str | int] = field(default_factory=dict)
    secret: bool = False

    def shown(self) -> str:
        """The statement as it may be printed."""
        return "-- (statement carrying the role's password verifier, not shown)" if self.secret else self.sql


@dataclass(frozen=True)
class Layout:
    """One environment's place in one database."""

    env: str
    database: str
    connection_limit: int
    schema: str = ""
    role: str = ""

    def __post_init__(self) -> None:
        ident = pg_identifier(self.env)  # raises UnmappableNameError for a name that cannot be mapped
        object.__setattr__(self, "schema", self.schema or ident)
        object.__setattr__(self, "role", self.role or ident)
        if not 1 <= self.connection_limit <= 10_000:
            raise PlanError(f"connection limit {self.connection_limit} is outside 1..10000")

    @property
    def marker(self) -> str:
        return label(self.env)  # the comment on every schema and role envstack owns: never change it


def _lock_key(text: str) -> int:
    """A stable signed int4 for an advisory lock (a collision only serialises more)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)


def database_lock() -> Statement:
    """Serialises the database-wide steps of every envstack plan on this database: they update
    one shared catalog row (pg_database, the administrator's default privileges), and two
    transactions doing that at once fail with `tuple concurrently updated`. Held until the
    plan's transaction ends."""
    return Statement(f"SELECT pg_advisory_xact_lock({LOCK_DATABASE}, 0)")


def environment_lock(layout: Layout) -> Statement:
    """Serialises plans of one environment (two runs of the same create, or a create and a
    teardown): concurrent CREATE ROLE of one name fails with a unique violation, concurrent
    GRANT, COMMENT or ALTER DEFAULT PRIVILEGES on one role with `tuple concurrently updated`.
    Keyed by the role name, which is cluster-wide; the lock itself is per database."""
    return Statement(f"SELECT pg_advisory_xact_lock({LOCK_ENVIRONMENT}, {_lock_key(layout.role)})")


def hardening_plan(database: str) -> list[Statement]:
    """Once per database, idempotent: nothing reaches the database or `public` by default.
    Under the database lock, which the plan then holds until it commits.
    The two database-level revokes belong to the database's owner (the cluster's master): the
    provisioner, which cannot make them, skips them. The default-privileges revoke is every
    administering role's own."""
    return [
        database_lock(),
        Statement(
            "DO $envstack$ BEGIN\n"
            "  IF pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = "
            f"{quote_literal(database)}), 'USAGE') THEN\n"
            f"    REVOKE ALL ON DATABASE {quote_ident(database)} FROM PUBLIC;\n"
            "    REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
            "  END IF;\n"
            "END $envstack$"
        ),
        Statement("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"),
    ]


def _administers(oid: str, role_lit: str) -> str:
    """PL/pgSQL lines: refuse, with what to do, a role the current administrator cannot
    administer: a preview's role created by the master, seen by the provisioner before the
    hand-over (42501, as PostgreSQL's own refusal would be, but saying why)."""
    return (
        f"    IF NOT pg_has_role(current_user, {oid}, 'MEMBER WITH ADMIN OPTION') THEN\n"
        "      RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = format("
        "'role %s was created by another administrator, and %s holds no ADMIN OPTION on it: the "
        "cluster owner hands it over first (envctl db hand-over)', "
        f"{role_lit}, current_user);\n"
        "    END IF;\n"
    )


def create_plan(layout: Layout, password: str, *, salt: bytes | None = None) -> list[Statement]:
    """Create or update an environment's schema and role. Idempotent: applying it again
    changes nothing but the password and connection limit, and keeps every table and row.

    The password itself never appears in the plan: the role gets a SCRAM-SHA-256 verifier
    computed here (a new random salt on every call). Locks: the environment's lock first; the
    database-wide steps (hardening, CONNECT on the database) come last, under the database
    lock, so concurrent plans of different environments queue only for those few statements.
    Both locks are always taken in that order, so plans cannot deadlock on them."""
    schema, role = quote_ident(layout.schema), quote_ident(layout.role)
    role_lit, schema_lit = quote_literal(layout.role), quote_literal(layout.schema)
    marker = quote_literal(layout.marker)
    limit = int(layout.connection_limit)
    verifier = quote_literal(scram_verifier(password, salt))
    return [
        Statement("SET LOCAL standard_conforming_strings = on"),
        environment_lock(layout),
        # The role: created once with every NO… attribute and no password (the next statement
        # sets it, so a failure here never logs a password); an existing role must be ours and
        # unprivileged (ALTER ROLE cannot reset SUPERUSER, REPLICATION or BYPASSRLS without
        # being superuser, which the RDS master user is not).
        Statement(
            "DO $envstack$ DECLARE r pg_roles%ROWTYPE; note text; BEGIN\n"
            f"  SELECT * INTO r FROM pg_roles WHERE rolname = {role_lit};\n"
            "  IF NOT FOUND THEN\n"
            f"    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
            f"NOBYPASSRLS CONNECTION LIMIT {limit};\n"
            f"    COMMENT ON ROLE {role} IS {marker};\n"
            "  ELSE\n"
            "    note := shobj_description(r.oid, 'pg_authid');\n"
            f"    IF note IS DISTINCT FROM {marker} THEN\n"
            f"      RAISE EXCEPTION 'role % exists but was not created by envstack for this environment "
            f"(comment %); refusing to adopt it', {role_lit}, coalesce(note, 'none');\n"
            "    END IF;\n"
            # CREATEDB too: PostgreSQL 16 lets only a CREATEDB role reset it, which the provisioner is not.
            "    IF r.rolsuper OR r.rolreplication OR r.rolbypassrls OR r.rolcreatedb THEN\n"
            f"      RAISE EXCEPTION 'role % has SUPERUSER, REPLICATION, BYPASSRLS or CREATEDB; refusing to use it', "
            f"{role_lit};\n"
            "    END IF;\n"
            f"{_administers('r.oid', role_lit)}"
            "  END IF;\n"
            "END $envstack$"
        ),
        # Password rotation and limit changes are applied in place, on every run (not NOCREATEDB:
        # PostgreSQL 16 refuses it from a role without CREATEDB; the check above refuses the attribute).
        Statement(
            f"ALTER ROLE {role} WITH LOGIN NOCREATEROLE NOINHERIT CONNECTION LIMIT {limit} PASSWORD {verifier}",
            secret=True,
        ),
        # The administering role joins the environment's role: PostgreSQL 16 requires it for
        # ALTER DEFAULT PRIVILEGES FOR ROLE and DROP OWNED BY. The reverse never happens.
        Statement(f"GRANT {role} TO CURRENT_USER"),
        Statement(
            "DO $envstack$ DECLARE note text; found_oid oid; BEGIN\n"
            f"  SELECT oid INTO found_oid FROM pg_namespace WHERE nspname = {schema_lit};\n"
            "  IF found_oid IS NULL THEN\n"
            f"    CREATE SCHEMA {schema} AUTHORIZATION CURRENT_USER;\n"
            f"    COMMENT ON SCHEMA {schema} IS {marker};\n"
            "  ELSE\n"
            "    note := obj_description(found_oid, 'pg_namespace');\n"
            f"    IF note IS DISTINCT FROM {marker} THEN\n"
            f"      RAISE EXCEPTION 'schema % exists but was not created by envstack for this environment "
            f"(comment %); refusing to adopt it', {schema_lit}, coalesce(note, 'none');\n"
            "    END IF;\n"
            "  END IF;\n"
            "END $envstack$"
        ),
        Statement(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC"),
        Statement(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}"),
        # Objects the administrator creates in the schema (migrations) belong to the role's use;
        # functions the role creates are not executable by PUBLIC.
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON TABLES TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON SEQUENCES TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT EXECUTE ON FUNCTIONS TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"),
        Statement(f"ALTER ROLE {role} SET search_path = {schema}"),
        *hardening_plan(layout.database),
        Statement(f"GRANT CONNECT ON DATABASE {quote_ident(layout.database)} TO {role}"),
    ]


def teardown_plan(layout: Layout) -> list[Statement]:
    """Remove an environment's schema (with every table and row), its role and everything the
    role owns. Idempotent; refuses a schema or role envstack did not create for it."""
    schema, role = quote_ident(layout.schema), quote_ident(layout.role)
    role_lit, schema_lit = quote_literal(layout.role), quote_literal(layout.schema)
    marker = quote_literal(layout.marker)
    db = quote_ident(layout.database)
    return [
        # Both locks, in the create plan's order: teardown revokes CONNECT on the database and
        # DROP OWNED BY rewrites its ACL, a database-wide row.
        environment_lock(layout),
        database_lock(),
        Statement(
            "DO $envstack$ DECLARE found_oid oid; BEGIN\n"
            f"  SELECT oid INTO found_oid FROM pg_namespace WHERE nspname = {schema_lit};\n"
            "  IF found_oid IS NOT NULL AND\n"
            f"     obj_description(found_oid, 'pg_namespace') IS DISTINCT FROM {marker} THEN\n"
            f"    RAISE EXCEPTION 'schema % was not created by envstack for this environment; refusing to drop it',"
            f" {schema_lit};\n"
            "  END IF;\n"
            f"  SELECT oid INTO found_oid FROM pg_roles WHERE rolname = {role_lit};\n"
            "  IF found_oid IS NOT NULL AND\n"
            f"     shobj_description(found_oid, 'pg_authid') IS DISTINCT FROM {marker} THEN\n"
            f"    RAISE EXCEPTION 'role % was not created by envstack for this environment; refusing to drop it',"
            f" {role_lit};\n"
            "  END IF;\n"
            "  IF found_oid IS NOT NULL THEN\n"
            f"{_administers('found_oid', role_lit)}"
            f"    ALTER ROLE {role} NOLOGIN;\n"
            f"    REVOKE CONNECT ON DATABASE {db} FROM {role};\n"
            f"    GRANT {role} TO CURRENT_USER;\n"
            "  END IF;\n"
            "END $envstack$"
        ),
        Statement(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = :role",
            params={"role": layout.role},
        ),
        Statement(f"DROP SCHEMA IF EXISTS {schema} CASCADE"),
        Statement(
            "DO $envstack$ BEGIN\n"
            f"  IF EXISTS (SELECT FROM pg_roles WHERE rolname = {role_lit}) THEN\n"
            f"    DROP OWNED BY {role};\n"
            f"    DROP ROLE {role};\n"
            "  END IF;\n"
            "END $envstack$"
        ),
    ]


def provisioner_plan(database: str, password: str, *, salt: bytes | None = None) -> list[Statement]:
    """Run by the cluster's owner (the master): create or update the provisioner login that
    attached stacks administer their environments with. Idempotent; refuses a role of that name
    that envstack did not create, or one with SUPERUSER, REPLICATION or BYPASSRLS.

    `CREATEROLE` and nothing else among the attributes; on the database CREATE (for schemas) and
    CONNECT with grant option (each environment role it creates needs CONNECT, and PUBLIC has
    none after hardening). INHERIT, so that the environment roles it grants itself give it
    what teardown needs (DROP OWNED BY, ending their sessions)."""
    role, role_lit = quote_ident(PG_PROVISIONER), quote_literal(PG_PROVISIONER)
    marker, db = quote_literal(PROVISIONER_MARKER), quote_ident(database)
    return [
        Statement("SET LOCAL standard_conforming_strings = on"),
        *hardening_plan(database),
        Statement(
            "DO $envstack$ DECLARE r pg_roles%ROWTYPE; note text; BEGIN\n"
            f"  SELECT * INTO r FROM pg_roles WHERE rolname = {role_lit};\n"
            "  IF NOT FOUND THEN\n"
            f"    CREATE ROLE {role} LOGIN CREATEROLE INHERIT NOSUPERUSER NOCREATEDB NOREPLICATION NOBYPASSRLS;\n"
            f"    COMMENT ON ROLE {role} IS {marker};\n"
            "  ELSE\n"
            "    note := shobj_description(r.oid, 'pg_authid');\n"
            f"    IF note IS DISTINCT FROM {marker} THEN\n"
            f"      RAISE EXCEPTION 'role % exists but was not created by envstack as the provisioner "
            f"(comment %); refusing to adopt it', {role_lit}, coalesce(note, 'none');\n"
            "    END IF;\n"
            "    IF r.rolsuper OR r.rolreplication OR r.rolbypassrls THEN\n"
            f"      RAISE EXCEPTION 'role % has SUPERUSER, REPLICATION or BYPASSRLS; refusing to use it', {role_lit};\n"
            "    END IF;\n"
            "  END IF;\n"
            "END $envstack$"
        ),
        Statement(
            f"ALTER ROLE {role} WITH LOGIN CREATEROLE INHERIT NOCREATEDB PASSWORD "
            f"{quote_literal(scram_verifier(password, salt))}",
            secret=True,
        ),
        Statement(f"GRANT CREATE ON DATABASE {db} TO {role}"),
        Statement(f"GRANT CONNECT ON DATABASE {db} TO {role} WITH GRANT OPTION"),
    ]


def disable_provisioner_plan() -> list[Statement]:
    """Run by the owner when the provisioner resource is deleted: the login is disabled, the role
    kept (it owns the schemas of the previews it created). Idempotent."""
    role_lit = quote_literal(PG_PROVISIONER)
    return [
        Statement(
            "DO $envstack$ BEGIN\n"
            f"  IF EXISTS (SELECT FROM pg_roles WHERE rolname = {role_lit}) THEN\n"
            f"    ALTER ROLE {quote_ident(PG_PROVISIONER)} NOLOGIN;\n"
            "  END IF;\n"
            "END $envstack$"
        )
    ]


def hand_over_plan(layout: Layout) -> list[Statement]:
    """Run once by the cluster's owner (the master) for an environment it created before the
    provisioner existed (an older preview): the provisioner gets ADMIN OPTION on its role, owns
    its schema, and becomes the grantor of its CONNECT, so the provisioner's update and teardown
    plans work on it. Idempotent; refuses a schema or role envstack did not create for it; an
    environment with neither is nothing to do."""
    schema, role = quote_ident(layout.schema), quote_ident(layout.role)
    role_lit, schema_lit = quote_literal(layout.role), quote_literal(layout.schema)
    marker, db = quote_literal(layout.marker), quote_ident(layout.database)
    provisioner = quote_ident(PG_PROVISIONER)
    return [
        environment_lock(layout),
        database_lock(),
        Statement(
            "DO $envstack$ DECLARE role_oid oid; schema_oid oid; BEGIN\n"
            f"  SELECT oid INTO role_oid FROM pg_roles WHERE rolname = {role_lit};\n"
            f"  SELECT oid INTO schema_oid FROM pg_namespace WHERE nspname = {schema_lit};\n"
            f"  IF role_oid IS NOT NULL AND shobj_description(role_oid, 'pg_authid') IS DISTINCT FROM {marker}\n"
            f"     OR schema_oid IS NOT NULL AND obj_description(schema_oid, 'pg_namespace') IS DISTINCT FROM {marker}"
            " THEN\n"
            f"    RAISE EXCEPTION 'schema or role % was not created by envstack for this environment; refusing to "
            f"hand it over', {role_lit};\n"
            "  END IF;\n"
            # The owner may SET ROLE to the provisioner it created: ALTER SCHEMA … OWNER needs it.
            f"  GRANT {provisioner} TO CURRENT_USER;\n"
            "  IF role_oid IS NOT NULL THEN\n"
            f"    GRANT {role} TO {provisioner} WITH ADMIN OPTION;\n"
            f"    REVOKE CONNECT ON DATABASE {db} FROM {role};\n"
            f"    SET LOCAL ROLE {provisioner};\n"
            f"    GRANT CONNECT ON DATABASE {db} TO {role};\n"
            "    RESET ROLE;\n"
            "  END IF;\n"
            "  IF schema_oid IS NOT NULL THEN\n"
            f"    ALTER SCHEMA {schema} OWNER TO {provisioner};\n"
            "  END IF;\n"
            "END $envstack$"
        ),
    ]
