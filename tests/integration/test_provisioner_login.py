"""The provisioner login, proven on a real PostgreSQL 16 server (devtools/postgres.py).

The cluster's owner (staging) runs as the master; every attached stack (previews) runs as the
provisioner, `CREATEROLE` and nothing more. Here the master is an Aurora-like stand-in: not a
superuser, `CREATEROLE CREATEDB`, a member of an `rds_superuser` stand-in, owner of the
database. The attack matrix runs as the provisioner: each attack its own case, asserting
PostgreSQL's exact refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from components.executors import ExecutionError, PsycopgExecutor
from components.sql import Layout, create_plan, hand_over_plan, provisioner_plan, teardown_plan
from devtools.postgres import Server
from policies.contracts.names import PG_PROVISIONER

pytestmark = pytest.mark.postgres

DB = "provisioned"
MASTER, MASTER_PW = "prov_master", "master-Password-1"
RDS_SUPERUSER = "prov_rds_superuser"  # stands in for Aurora's rds_superuser
PROVISIONER_PW = "provisioner-Password-2"
OWNER_ENV, PREVIEW, LEGACY = "prov-staging", "prov-pr-2", "prov-pr-1"
PASSWORDS = {OWNER_ENV: "staging-Password-3", PREVIEW: "preview-Password-4", LEGACY: "legacy-Password-5"}


def layout(env: str) -> Layout:
    return Layout(env=env, database=DB, connection_limit=5)


def connect(pg: Server, user: str, password: str) -> psycopg.Connection[Any]:
    return psycopg.connect(pg.dsn(user, password, DB), autocommit=True)


def as_master(pg: Server) -> PsycopgExecutor:
    return PsycopgExecutor(pg.dsn(MASTER, MASTER_PW, DB))


def as_provisioner(pg: Server) -> PsycopgExecutor:
    return PsycopgExecutor(pg.dsn(PG_PROVISIONER, PROVISIONER_PW, DB))


@pytest.fixture(scope="module")
def cluster(pg: Server) -> Iterator[Server]:
    """The shared cluster as staging leaves it: staging's own environment (master), the
    provisioner (master), and a preview created by the provisioner."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {RDS_SUPERUSER} NOLOGIN")
        admin.execute(f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{MASTER_PW}' IN ROLE {RDS_SUPERUSER}")
        admin.execute(f"CREATE DATABASE {DB} OWNER {MASTER}")
    as_master(pg).apply(create_plan(layout(OWNER_ENV), PASSWORDS[OWNER_ENV]))
    as_master(pg).apply(provisioner_plan(DB, PROVISIONER_PW))
    as_provisioner(pg).apply(create_plan(layout(PREVIEW), PASSWORDS[PREVIEW]))
    with connect(pg, layout(OWNER_ENV).role, PASSWORDS[OWNER_ENV]) as staging:
        staging.execute("CREATE TABLE secrets (id int PRIMARY KEY, body text)")
        staging.execute("INSERT INTO secrets VALUES (1, 'staging only')")
    yield pg
    as_provisioner(pg).apply(teardown_plan(layout(PREVIEW)))
    as_master(pg).apply(teardown_plan(layout(OWNER_ENV)))
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {DB}")
        for role in (PG_PROVISIONER, MASTER, RDS_SUPERUSER):
            admin.execute(f"DROP ROLE {role}")


@pytest.fixture
def provisioner(cluster: Server) -> Iterator[psycopg.Connection[Any]]:
    with connect(cluster, PG_PROVISIONER, PROVISIONER_PW) as conn:
        yield conn


# --- what the provisioner is -------------------------------------------------------------------


def test_the_provisioner_has_createrole_and_no_other_power(cluster: Server) -> None:
    with connect(cluster, MASTER, MASTER_PW) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolcreaterole, rolsuper, rolcreatedb, rolreplication, rolbypassrls, rolinherit "
            "FROM pg_roles WHERE rolname = %s",
            (PG_PROVISIONER,),
        ).fetchone()
        assert row == (True, True, False, False, False, False, True)
        # On the database: CREATE (schemas) and CONNECT with grant option (for the roles it creates).
        acl = conn.execute(
            "SELECT privilege_type, is_grantable FROM aclexplode((SELECT datacl FROM pg_database WHERE datname = %s)) a"
            " WHERE a.grantee = %s::regrole ORDER BY 1",
            (DB, PG_PROVISIONER),
        ).fetchall()
        assert acl == [("CONNECT", True), ("CREATE", False)]
        # Member of exactly the roles it created, never the owner's.
        member_of = conn.execute(
            "SELECT DISTINCT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "WHERE m.member = %s::regrole ORDER BY 1",
            (PG_PROVISIONER,),
        ).fetchall()
        assert member_of == [(layout(PREVIEW).role,)]


def test_the_provisioner_plan_is_idempotent_and_rotates_the_password(cluster: Server) -> None:
    as_master(cluster).apply(provisioner_plan(DB, "rotated-Password-9"))
    with connect(cluster, PG_PROVISIONER, "rotated-Password-9") as conn:
        assert conn.execute("SELECT current_user").fetchone() == (PG_PROVISIONER,)
    as_master(cluster).apply(provisioner_plan(DB, PROVISIONER_PW))


def test_a_provisioner_role_envstack_did_not_create_is_never_adopted(cluster: Server) -> None:
    with psycopg.connect(cluster.admin_dsn, autocommit=True) as admin:
        admin.execute(f"COMMENT ON ROLE {PG_PROVISIONER} IS NULL")  # as if someone else had made it
        try:
            with pytest.raises(
                ExecutionError, match=r"was not created by envstack as the provisioner \(comment none\)"
            ):
                as_master(cluster).apply(provisioner_plan(DB, "any-Password-1"))
        finally:
            admin.execute(f"COMMENT ON ROLE {PG_PROVISIONER} IS 'envstack provisioner'")
    with connect(cluster, PG_PROVISIONER, PROVISIONER_PW) as conn:  # nothing of the refused plan applied
        assert conn.execute("SELECT current_user").fetchone() == (PG_PROVISIONER,)


# --- the positive path, as the provisioner ---------------------------------------------------------


def test_the_provisioner_creates_uses_and_tears_down_an_environment(cluster: Server) -> None:
    env = layout("prov-pr-3")
    as_provisioner(cluster).apply(create_plan(env, "pr3-Password-1"))
    with connect(cluster, env.role, "pr3-Password-1") as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
        assert conn.execute("SELECT body FROM notes").fetchall() == [("mine",)]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f'SELECT * FROM "{layout(OWNER_ENV).schema}".secrets')
    as_provisioner(cluster).apply(teardown_plan(env))
    with connect(cluster, MASTER, MASTER_PW) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (env.schema,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (env.role,)).fetchone() == (0,)


@pytest.mark.parametrize("plan", [create_plan, teardown_plan], ids=["create", "teardown"])
def test_the_provisioner_plan_refuses_the_owners_environment_with_the_reason(cluster: Server, plan: Any) -> None:
    args = (layout(OWNER_ENV), "x-Password-1") if plan is create_plan else (layout(OWNER_ENV),)
    with pytest.raises(ExecutionError, match=r"was created by another administrator.*envctl db hand-over"):
        as_provisioner(cluster).apply(plan(*args))
    with connect(cluster, layout(OWNER_ENV).role, PASSWORDS[OWNER_ENV]) as conn:  # untouched
        assert conn.execute("SELECT body FROM secrets").fetchall() == [("staging only",)]


# --- the attack matrix, as the provisioner ---------------------------------------------------------

S, R = layout(OWNER_ENV).schema, layout(OWNER_ENV).role
P = layout(PREVIEW).role
NO_SCHEMA, NOT_SCHEMA_OWNER = f"permission denied for schema {S}", f"must be owner of schema {S}"
NOT_DB_OWNER = f"must be owner of database {DB}"
ALTER_ROLE = "permission denied to alter role"


def no_admin(role: str, verb: str = "alter") -> str:
    return f'Only roles with the CREATEROLE attribute and the ADMIN option on role "{role}" may {verb} this role.'


def attribute(attr: str, verb: str = "change") -> str:
    what = f"create roles with the {attr} attribute" if verb == "create" else f"change the {attr} attribute"
    return f"Only roles with the {attr} attribute may {what}."


def no_grant(role: str) -> tuple[str, str]:
    return (
        f'permission denied to grant role "{role}"',
        f'Only roles with the ADMIN option on role "{role}" may grant this role.',
    )


PASSWORD_DETAIL = (
    "To change another role's password, the current user must have the CREATEROLE attribute and the ADMIN option "
    "on the role."
)
# Each attack: (SQL, PostgreSQL's message, its DETAIL or ""); every one must fail with SQLSTATE 42501.
ATTACKS: dict[str, tuple[str, str, str]] = {
    # another environment's schema and role: staging's own, created by the master
    "read-staging-table": (f"SELECT * FROM {S}.secrets", NO_SCHEMA, ""),
    "write-staging-table": (f"INSERT INTO {S}.secrets VALUES (2, 'x')", NO_SCHEMA, ""),
    "delete-staging-rows": (f"DELETE FROM {S}.secrets", NO_SCHEMA, ""),
    "create-in-staging-schema": (f"CREATE TABLE {S}.planted (id int)", NO_SCHEMA, ""),
    "drop-staging-schema": (f"DROP SCHEMA {S} CASCADE", NOT_SCHEMA_OWNER, ""),
    "rename-staging-schema": (f"ALTER SCHEMA {S} RENAME TO stolen", NOT_SCHEMA_OWNER, ""),
    "take-staging-schema": (f"ALTER SCHEMA {S} OWNER TO {PG_PROVISIONER}", NOT_SCHEMA_OWNER, ""),
    "grant-itself-staging-schema": (f"GRANT USAGE ON SCHEMA {S} TO {PG_PROVISIONER}", NO_SCHEMA, ""),
    "comment-staging-schema": (f"COMMENT ON SCHEMA {S} IS 'x'", NOT_SCHEMA_OWNER, ""),
    "schema-owned-by-staging-role": (f"CREATE SCHEMA planted AUTHORIZATION {R}", f'must be able to SET ROLE "{R}"', ""),
    "drop-staging-role": (f"DROP ROLE {R}", "permission denied to drop role", no_admin(R, "drop")),
    "disable-staging-role": (f"ALTER ROLE {R} NOLOGIN", ALTER_ROLE, no_admin(R)),
    "repoint-staging-search-path": (f"ALTER ROLE {R} SET search_path = public", ALTER_ROLE, no_admin(R)),
    "comment-staging-role": (
        f"COMMENT ON ROLE {R} IS 'x'",
        "permission denied",
        f'The current user must have the ADMIN option on role "{R}".',
    ),
    "set-role-staging": (f"SET ROLE {R}", f'permission denied to set role "{R}"', ""),
    "session-authorization-staging": (
        f"SET SESSION AUTHORIZATION {R}",
        "permission denied to set session authorization",
        "",
    ),
    "drop-owned-by-staging": (
        f"DROP OWNED BY {R}",
        "permission denied to drop objects",
        f'Only roles with privileges of role "{R}" may drop objects owned by it.',
    ),
    "reassign-owned-by-staging": (
        f"REASSIGN OWNED BY {R} TO {PG_PROVISIONER}",
        "permission denied to reassign objects",
        f'Only roles with privileges of role "{R}" may reassign objects owned by it.',
    ),
    "terminate-staging-session": (
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{R}'",
        "permission denied to terminate process",
        "Only roles with privileges of the role whose process is being terminated or with privileges of the "
        '"pg_signal_backend" role may terminate this process.',
    ),
    # granting itself, or a role it made, another role
    **{
        f"grant-itself-{role}": (f"GRANT {role} TO {PG_PROVISIONER}", *no_grant(role))
        for role in (
            R,
            MASTER,
            RDS_SUPERUSER,
            "pg_read_all_data",
            "pg_write_all_data",
            "pg_signal_backend",
            "pg_read_server_files",
            "pg_execute_server_program",
        )
    },
    "grant-own-role-pg_read_all_data": (f"GRANT pg_read_all_data TO {P}", *no_grant("pg_read_all_data")),
    "new-role-in-pg_read_all_data": ("CREATE ROLE planted IN ROLE pg_read_all_data", *no_grant("pg_read_all_data")),
    "new-role-in-rds-superuser": (f"CREATE ROLE planted IN ROLE {RDS_SUPERUSER}", *no_grant(RDS_SUPERUSER)),
    # powerful attributes: on a new role, on itself, on a role it created
    **{
        f"create-{attr.lower()}": (
            f"CREATE ROLE planted {attr}",
            "permission denied to create role",
            attribute(attr, "create"),
        )
        for attr in ("SUPERUSER", "BYPASSRLS", "REPLICATION", "CREATEDB")
    },
    "itself-superuser": (f"ALTER ROLE {PG_PROVISIONER} SUPERUSER", ALTER_ROLE, attribute("SUPERUSER")),
    **{
        # It holds no ADMIN OPTION on itself, so it cannot alter its own attributes at all.
        f"itself-{attr.lower()}": (f"ALTER ROLE {PG_PROVISIONER} {attr}", ALTER_ROLE, no_admin(PG_PROVISIONER))
        for attr in ("BYPASSRLS", "REPLICATION", "CREATEDB")
    },
    **{
        f"own-role-{attr.lower()}": (f"ALTER ROLE {P} {attr}", ALTER_ROLE, attribute(attr))
        for attr in ("SUPERUSER", "BYPASSRLS", "REPLICATION", "CREATEDB")
    },
    # other roles' passwords
    "staging-role-password": (f"ALTER ROLE {R} PASSWORD 'stolen'", ALTER_ROLE, PASSWORD_DETAIL),
    "master-password": (f"ALTER ROLE {MASTER} PASSWORD 'stolen'", ALTER_ROLE, PASSWORD_DETAIL),
    # the database's defaults and settings
    "alter-database-set": (f"ALTER DATABASE {DB} SET search_path = public", NOT_DB_OWNER, ""),
    "alter-database-owner": (f"ALTER DATABASE {DB} OWNER TO {PG_PROVISIONER}", NOT_DB_OWNER, ""),
    "alter-database-connection-limit": (f"ALTER DATABASE {DB} CONNECTION LIMIT 1", NOT_DB_OWNER, ""),
    "role-setting-in-database": (f"ALTER ROLE {R} IN DATABASE {DB} SET search_path = public", ALTER_ROLE, no_admin(R)),
    "every-role-setting": (
        "ALTER ROLE ALL SET search_path = public",
        "permission denied to alter setting",
        "Only roles with the SUPERUSER attribute may alter settings globally.",
    ),
    "default-privileges-of-master": (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {MASTER} GRANT SELECT ON TABLES TO {PG_PROVISIONER}",
        "permission denied to change default privileges",
        "",
    ),
    "default-privileges-of-staging": (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {R} GRANT SELECT ON TABLES TO {PG_PROVISIONER}",
        "permission denied to change default privileges",
        "",
    ),
    "alter-system": (
        "ALTER SYSTEM SET log_statement = 'none'",
        'permission denied to set parameter "log_statement"',
        "",
    ),
    # the server itself
    "read-server-file": ("SELECT pg_read_file('PG_VERSION')", "permission denied for function pg_read_file", ""),
    "copy-to-program": (
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "permission denied to COPY to or from an external program",
        'Only roles with privileges of the "pg_execute_server_program" role may COPY to or from an external program.',
    ),
    "create-database": ("CREATE DATABASE planted", "permission denied to create database", ""),
}


@pytest.mark.parametrize(("sql", "message", "detail"), list(ATTACKS.values()), ids=list(ATTACKS))
def test_the_provisioner_is_refused(
    provisioner: psycopg.Connection[Any], cluster: Server, sql: str, message: str, detail: str
) -> None:
    with connect(cluster, R, PASSWORDS[OWNER_ENV]) as staging_session:  # a live session to go after
        staging_session.execute("SELECT 1")
        with pytest.raises(psycopg.Error) as refused:
            provisioner.execute(sql)
    diag = refused.value.diag
    assert (refused.value.sqlstate, diag.message_primary, diag.message_detail or "") == ("42501", message, detail)


def test_after_the_attacks_staging_is_intact(cluster: Server) -> None:
    with connect(cluster, R, PASSWORDS[OWNER_ENV]) as conn:
        assert conn.execute("SELECT id, body FROM secrets").fetchall() == [(1, "staging only")]
        assert conn.execute("SHOW search_path").fetchone() == (S,)
    with connect(cluster, MASTER, MASTER_PW) as conn:
        owner = conn.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", (S,)).fetchone()
        assert owner == (MASTER,)
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'planted'").fetchone() == (0,)
        settings = conn.execute(
            "SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = %s)",
            (DB,),
        )
        assert settings.fetchone() == (0,)


# --- previews created the old way (by the master), handed over once --------------------------------


@pytest.fixture
def legacy(cluster: Server) -> Iterator[Layout]:
    """A preview the master created before the provisioner existed, with a table of its own role
    and one the master created in it (a migration run as the administrator)."""
    env = layout(LEGACY)
    as_master(cluster).apply(create_plan(env, PASSWORDS[LEGACY]))
    with connect(cluster, env.role, PASSWORDS[LEGACY]) as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('legacy')")
    with connect(cluster, MASTER, MASTER_PW) as conn:
        conn.execute(f"CREATE TABLE {env.schema}.migrated (id int)")
    yield env
    as_master(cluster).apply(teardown_plan(env))  # idempotent: nothing left after a passing test


def test_before_the_hand_over_the_sweep_is_refused_and_says_what_to_do(cluster: Server, legacy: Layout) -> None:
    with pytest.raises(ExecutionError, match=r"created by another administrator.*envctl db hand-over"):
        as_provisioner(cluster).apply(teardown_plan(legacy))
    with connect(cluster, legacy.role, PASSWORDS[LEGACY]) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("legacy",)]


def test_a_preview_created_the_old_way_is_handed_over_then_updated_and_swept(cluster: Server, legacy: Layout) -> None:
    as_master(cluster).apply(hand_over_plan(legacy))
    as_master(cluster).apply(hand_over_plan(legacy))  # idempotent
    # An update as the provisioner (a `pulumi up` of the preview): new password, data kept.
    as_provisioner(cluster).apply(create_plan(legacy, "rotated-Password-7"))
    with connect(cluster, legacy.role, "rotated-Password-7") as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("legacy",)]
    # The sweep: the provisioner drops the schema (with the master's table), the role and its grants.
    as_provisioner(cluster).apply(teardown_plan(legacy))
    with connect(cluster, MASTER, MASTER_PW) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (legacy.schema,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (legacy.role,)).fetchone() == (0,)
        acl = conn.execute("SELECT datacl::text FROM pg_database WHERE datname = %s", (DB,)).fetchone()
        assert acl is not None and legacy.role not in acl[0]


def test_the_hand_over_never_takes_a_schema_envstack_did_not_create(cluster: Server) -> None:
    with connect(cluster, MASTER, MASTER_PW) as conn:
        conn.execute("CREATE SCHEMA env_prov_pr_9")
        try:
            with pytest.raises(ExecutionError, match=r"was not created by envstack for this environment; refusing"):
                as_master(cluster).apply(hand_over_plan(layout("prov-pr-9")))
            owner = conn.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'env_prov_pr_9'")
            assert owner.fetchone() == (MASTER,)
        finally:
            conn.execute("DROP SCHEMA env_prov_pr_9")


def test_handing_over_an_environment_that_does_not_exist_changes_nothing(cluster: Server) -> None:
    as_master(cluster).apply(hand_over_plan(layout("prov-pr-404")))
    with connect(cluster, MASTER, MASTER_PW) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'env_prov_pr_404'").fetchone() == (0,)


# --- the Pulumi provider that the owning stack runs ------------------------------------------------


def test_the_provider_creates_rotates_and_on_delete_disables_the_login(cluster: Server) -> None:
    from components.provisioner import ProvisionerProvider

    provider = ProvisionerProvider()
    props = {
        "database": DB,
        "password": "provider-Password-1",
        "executor": {"kind": "dsn", "dsn": cluster.dsn(MASTER, MASTER_PW, DB)},
    }
    created = provider.create(props)
    outs = created.outs
    assert outs is not None and created.id == f"{DB}/{PG_PROVISIONER}" and "password" not in outs
    with connect(cluster, PG_PROVISIONER, "provider-Password-1") as conn:
        assert conn.execute("SELECT current_user").fetchone() == (PG_PROVISIONER,)
    assert not provider.diff(created.id, outs, props).changes
    rotated = {**props, "password": "provider-Password-2"}
    diff = provider.diff(created.id, outs, rotated)
    assert diff.changes and not diff.replaces
    moved = provider.diff(created.id, outs, {**props, "database": "other"})
    assert moved.replaces == ["database"]
    provider.delete(created.id, outs)
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        connect(cluster, PG_PROVISIONER, "provider-Password-1")
    provider.delete(created.id, outs)  # idempotent
    provider.update(created.id, outs, {**props, "password": PROVISIONER_PW})  # back, for the other tests
    with connect(cluster, PG_PROVISIONER, PROVISIONER_PW) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (PG_PROVISIONER,)
