"""The SQL plan of an environment's table isolation: one schema and one login role per
environment, on a database that several environments share.

Pure and deterministic: `create_plan` and `teardown_plan` return the ordered statements and
touch nothing. Both executors (the RDS Data API and a direct psycopg connection) run the same
statements, in one transaction.

The recipe follows `shared/reference/security-controls.md`:
- the schema is owned by the administering role (the cluster's master user) and the
  environment's role gets USAGE and CREATE on it, so the role can create and use tables
  there but cannot grant its schema to anyone else;
- the role is NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS with a
  connection limit, and its search_path is pinned to its own schema;
- every schema and role envstack creates carries a comment naming its environment; an
  existing schema or role without that comment is a name collision and fails loudly,
  because adopting it would let a later `DROP SCHEMA … CASCADE` destroy someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.names import LABEL
from components.naming import pg_identifier

MARKER = LABEL  # the comment prefix on every schema and role envstack owns: never change it


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


@dataclass(frozen=True)
class Statement:
    """One SQL statement. `params` are named (`:name`) bind parameters, for the statements
    that can take them; DDL cannot, so identifiers and literals there are quoted instead.
    `secret` marks statements that carry the password: executors never log them."""

    sql: str
    params: dict[str, str | int] = field(default_factory=dict)
    secret: bool = False

    def shown(self) -> str:
        """The statement as it may be printed."""
        return "-- (statement carrying the role's password, not shown)" if self.secret else self.sql


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
        return MARKER + self.env


def hardening_plan(database: str) -> list[Statement]:
    """Once per database, idempotent: nothing reaches the database or `public` by default."""
    db = quote_ident(database)
    return [
        Statement("SET LOCAL standard_conforming_strings = on"),
        Statement(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC"),
        Statement("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        Statement("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"),
    ]


def create_plan(layout: Layout, password: str) -> list[Statement]:
    """Create or update an environment's schema and role. Idempotent: applying it again
    changes nothing but the password and connection limit, and keeps every table and row."""
    schema, role = quote_ident(layout.schema), quote_ident(layout.role)
    role_lit, schema_lit = quote_literal(layout.role), quote_literal(layout.schema)
    marker = quote_literal(layout.marker)
    limit = int(layout.connection_limit)
    pw = quote_literal(password)
    return [
        *hardening_plan(layout.database),
        # The role: created once with every NO… attribute; an existing role must be ours and
        # unprivileged (ALTER ROLE cannot reset SUPERUSER, REPLICATION or BYPASSRLS without
        # being superuser, which the RDS master user is not).
        Statement(
            "DO $envstack$ DECLARE r pg_roles%ROWTYPE; note text; BEGIN\n"
            f"  SELECT * INTO r FROM pg_roles WHERE rolname = {role_lit};\n"
            "  IF NOT FOUND THEN\n"
            f"    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
            f"NOBYPASSRLS CONNECTION LIMIT {limit} PASSWORD {pw};\n"
            f"    COMMENT ON ROLE {role} IS {marker};\n"
            "  ELSE\n"
            "    note := shobj_description(r.oid, 'pg_authid');\n"
            f"    IF note IS DISTINCT FROM {marker} THEN\n"
            f"      RAISE EXCEPTION 'role % exists but was not created by envstack for this environment "
            f"(comment %); refusing to adopt it', {role_lit}, coalesce(note, 'none');\n"
            "    END IF;\n"
            "    IF r.rolsuper OR r.rolreplication OR r.rolbypassrls THEN\n"
            f"      RAISE EXCEPTION 'role % has SUPERUSER, REPLICATION or BYPASSRLS; refusing to use it', {role_lit};\n"
            "    END IF;\n"
            "  END IF;\n"
            "END $envstack$",
            secret=True,
        ),
        # Password rotation and limit changes are applied in place, on every run.
        Statement(
            f"ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT {limit} PASSWORD {pw}",
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
        Statement(f"GRANT CONNECT ON DATABASE {quote_ident(layout.database)} TO {role}"),
        Statement(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}"),
        # Objects the administrator creates in the schema (migrations) belong to the role's use;
        # functions the role creates are not executable by PUBLIC.
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON TABLES TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON SEQUENCES TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT EXECUTE ON FUNCTIONS TO {role}"),
        Statement(f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"),
        Statement(f"ALTER ROLE {role} SET search_path = {schema}"),
    ]


def teardown_plan(layout: Layout) -> list[Statement]:
    """Remove an environment's schema (with every table and row), its role and everything the
    role owns. Idempotent; refuses a schema or role envstack did not create for it."""
    schema, role = quote_ident(layout.schema), quote_ident(layout.role)
    role_lit, schema_lit = quote_literal(layout.role), quote_literal(layout.schema)
    marker = quote_literal(layout.marker)
    db = quote_ident(layout.database)
    return [
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
