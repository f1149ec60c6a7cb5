"""Table isolation, proven against a real PostgreSQL server: two environments on one database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from components.executors import ExecutionError, PsycopgExecutor
from components.sql import Layout, Statement, create_plan, teardown_plan
from devtools.postgres import Server
from policies.contracts.names import DATABASE

A, B = "iso-alpha", "iso-beta"
PASSWORDS = {A: "alpha-Password-1", B: "beta-Password-2"}


def layout(env: str) -> Layout:
    return Layout(env=env, database=DATABASE, connection_limit=5)


def admin(pg: Server) -> psycopg.Connection[Any]:
    return psycopg.connect(pg.admin_dsn, autocommit=True)


@pytest.fixture(scope="module")
def envs(pg: Server) -> Iterator[Server]:
    executor = PsycopgExecutor(pg.admin_dsn)
    for env in (A, B):
        executor.apply(create_plan(layout(env), PASSWORDS[env]))
    yield pg
    for env in (A, B):
        executor.apply(teardown_plan(layout(env)))


def connect_as(pg: Server, env: str) -> psycopg.Connection[Any]:
    return psycopg.connect(pg.dsn(layout(env).role, PASSWORDS[env]), autocommit=True)


@pytest.fixture
def alpha(envs: Server) -> Iterator[psycopg.Connection[Any]]:
    with connect_as(envs, A) as conn:
        yield conn


@pytest.fixture
def beta_table(envs: Server) -> str:
    """A table with a row in beta's schema, created by beta's own role."""
    with connect_as(envs, B) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS secrets (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO secrets VALUES (1, 'beta only') ON CONFLICT DO NOTHING")
    return f'"{layout(B).schema}".secrets'


# --- what an environment's own role can do -------------------------------------------------


def test_role_creates_writes_and_reads_tables_in_its_own_schema(alpha: psycopg.Connection[Any]) -> None:
    schema = layout(A).schema
    alpha.execute(f'CREATE TABLE "{schema}".posts (id serial PRIMARY KEY, title text)')
    alpha.execute(f'INSERT INTO "{schema}".posts (title) VALUES (%s)', ("hello",))
    assert alpha.execute(f'SELECT title FROM "{schema}".posts').fetchall() == [("hello",)]
    alpha.execute(f'DROP TABLE "{schema}".posts')


def test_unqualified_names_land_in_the_role_schema(alpha: psycopg.Connection[Any]) -> None:
    alpha.execute("CREATE TABLE notes (id int)")
    row = alpha.execute("SELECT schemaname FROM pg_tables WHERE tablename = 'notes'").fetchone()
    assert row == (layout(A).schema,)
    assert alpha.execute("SHOW search_path").fetchone() == (layout(A).schema,)
    alpha.execute("DROP TABLE notes")


# --- what it cannot do to the other environment or the database ----------------------------


def denied(conn: psycopg.Connection[Any], sql: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(sql)


def test_cannot_read_the_other_environments_tables(alpha: psycopg.Connection[Any], beta_table: str) -> None:
    denied(alpha, f"SELECT * FROM {beta_table}")


def test_cannot_write_the_other_environments_tables(alpha: psycopg.Connection[Any], beta_table: str) -> None:
    denied(alpha, f"INSERT INTO {beta_table} VALUES (2, 'from alpha')")
    denied(alpha, f"UPDATE {beta_table} SET body = 'x'")
    denied(alpha, f"DELETE FROM {beta_table}")
    denied(alpha, f"DROP TABLE {beta_table}")


def test_cannot_create_objects_in_the_other_schema(alpha: psycopg.Connection[Any]) -> None:
    schema = layout(B).schema
    denied(alpha, f'CREATE TABLE "{schema}".planted (id int)')
    denied(alpha, f'CREATE VIEW "{schema}".planted AS SELECT 1')
    denied(alpha, f'CREATE FUNCTION "{schema}".f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')


def test_cannot_create_objects_in_public(alpha: psycopg.Connection[Any]) -> None:
    denied(alpha, "CREATE TABLE public.planted (id int)")
    denied(alpha, "CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$")


def test_cannot_set_role_to_the_other_environment(alpha: psycopg.Connection[Any]) -> None:
    denied(alpha, f'SET ROLE "{layout(B).role}"')
    denied(alpha, f'SET SESSION AUTHORIZATION "{layout(B).role}"')


def test_cannot_create_roles_or_databases(alpha: psycopg.Connection[Any]) -> None:
    denied(alpha, "CREATE ROLE intruder LOGIN")
    denied(alpha, "CREATE DATABASE intruder")


def test_cannot_alter_the_other_role(alpha: psycopg.Connection[Any]) -> None:
    denied(alpha, f"ALTER ROLE \"{layout(B).role}\" PASSWORD 'stolen'")
    denied(alpha, f'ALTER ROLE "{layout(B).role}" SET search_path = public')
    denied(alpha, f'GRANT "{layout(B).role}" TO "{layout(A).role}"')


def test_cannot_read_pg_authid(alpha: psycopg.Connection[Any]) -> None:
    denied(alpha, "SELECT rolpassword FROM pg_authid")


def test_cannot_hijack_the_other_environment_through_search_path(envs: Server, alpha: psycopg.Connection[Any]) -> None:
    """CVE-2018-1058: a writable schema on another role's search_path lets its writer plant
    look-alike objects. Beta's search_path holds only beta's schema, which alpha cannot write,
    and nothing is writable in public; so what alpha plants can never be resolved by beta."""
    with admin(envs) as conn:
        setting = conn.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s",
            (layout(B).role,),
        ).fetchone()
    assert setting == ([f"search_path={layout(B).schema}"],)
    # Alpha plants a look-alike (unqualified, so in its own schema: the only one it can write).
    alpha.execute("CREATE FUNCTION upper(text) RETURNS text LANGUAGE sql AS $$ SELECT 'hijacked' $$")
    alpha.execute("CREATE FUNCTION envstack_lookup(text) RETURNS text LANGUAGE sql AS $$ SELECT 'hijacked' $$")
    try:
        with connect_as(envs, B) as beta:
            assert beta.execute("SHOW search_path").fetchone() == (layout(B).schema,)
            assert beta.execute("SELECT upper('ok')").fetchone() == ("OK",)
            # Beta cannot even see into alpha's schema by naming it.
            denied(beta, f"SELECT \"{layout(A).schema}\".upper('ok')")
            with pytest.raises(errors.UndefinedFunction):
                beta.execute("SELECT envstack_lookup('ok')")
    finally:
        alpha.execute(f'DROP FUNCTION "{layout(A).schema}".upper(text)')
        alpha.execute(f'DROP FUNCTION "{layout(A).schema}".envstack_lookup(text)')


def test_cannot_connect_as_the_other_role_with_its_own_password(envs: Server) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(envs.dsn(layout(B).role, PASSWORDS[A]))


# --- the lifecycle -------------------------------------------------------------------------


def test_applying_the_plan_again_changes_nothing_and_keeps_the_data(envs: Server, beta_table: str) -> None:
    with admin(envs) as conn:
        before = conn.execute(
            "SELECT r.rolconnlimit, r.rolsuper, r.rolinherit, n.nspname FROM pg_roles r, pg_namespace n "
            "WHERE r.rolname = %s AND n.nspname = %s",
            (layout(B).role, layout(B).schema),
        ).fetchone()
    PsycopgExecutor(envs.admin_dsn).apply(create_plan(layout(B), PASSWORDS[B]))
    with connect_as(envs, B) as beta:
        assert beta.execute("SELECT body FROM secrets WHERE id = 1").fetchone() == ("beta only",)
    with admin(envs) as conn:
        after = conn.execute(
            "SELECT r.rolconnlimit, r.rolsuper, r.rolinherit, n.nspname FROM pg_roles r, pg_namespace n "
            "WHERE r.rolname = %s AND n.nspname = %s",
            (layout(B).role, layout(B).schema),
        ).fetchone()
    assert before == after == (5, False, False, layout(B).schema)


def test_role_attributes_are_the_locked_down_set(envs: Server) -> None:
    with admin(envs) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls, "
            "rolconnlimit FROM pg_roles WHERE rolname = %s",
            (layout(A).role,),
        ).fetchone()
    assert row == (True, False, False, False, False, False, False, 5)


def _leftovers(conn: psycopg.Connection[Any], env: str) -> dict[str, int]:
    ident = layout(env).role
    return {
        "schema": conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (ident,)).fetchone()[0],  # type: ignore[index]
        "role": conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (ident,)).fetchone()[0],  # type: ignore[index]
        "owned": conn.execute(
            "SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON d.refobjid = r.oid WHERE r.rolname = %s",
            (ident,),
        ).fetchone()[0],  # type: ignore[index]
        "settings": conn.execute(
            "SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s",
            (ident,),
        ).fetchone()[0],  # type: ignore[index]
    }


def test_teardown_removes_everything_and_leaves_the_other_environment(pg: Server) -> None:
    env, other = "iso-gone", "iso-stays"
    executor = PsycopgExecutor(pg.admin_dsn)
    for name in (env, other):
        executor.apply(create_plan(layout(name), f"{name}-pw"))
    for name in (env, other):
        with psycopg.connect(pg.dsn(layout(name).role, f"{name}-pw"), autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("CREATE SEQUENCE s")
    lingering = psycopg.connect(pg.dsn(layout(env).role, f"{env}-pw"), autocommit=True)  # a session to be ended
    executor.apply(teardown_plan(layout(env)))
    executor.apply(teardown_plan(layout(env)))  # idempotent
    with admin(pg) as conn:
        assert _leftovers(conn, env) == {"schema": 0, "role": 0, "owned": 0, "settings": 0}
    with pytest.raises(psycopg.OperationalError):
        lingering.execute("SELECT 1")
    with psycopg.connect(pg.dsn(layout(other).role, f"{other}-pw"), autocommit=True) as conn:
        assert conn.execute("SELECT id FROM t").fetchall() == [(1,)]
    executor.apply(teardown_plan(layout(other)))


def test_password_rotation_and_limit_change_apply_in_place(pg: Server) -> None:
    env = "iso-rotate"
    executor = PsycopgExecutor(pg.admin_dsn)
    executor.apply(create_plan(layout(env), "first-pw"))
    with psycopg.connect(pg.dsn(layout(env).role, "first-pw"), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
    executor.apply(create_plan(Layout(env=env, database=DATABASE, connection_limit=9), "second-pw"))
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.dsn(layout(env).role, "first-pw"))
    with psycopg.connect(pg.dsn(layout(env).role, "second-pw"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        assert conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user").fetchone() == (9,)
    executor.apply(teardown_plan(layout(env)))


def test_a_schema_envstack_did_not_create_is_never_adopted_or_dropped(pg: Server) -> None:
    env = "iso-taken"
    with admin(pg) as conn:
        conn.execute(f'CREATE SCHEMA "{layout(env).schema}"')
        conn.execute(f'CREATE TABLE "{layout(env).schema}".precious (id int)')
    executor = PsycopgExecutor(pg.admin_dsn)
    with pytest.raises(ExecutionError, match="refusing to adopt"):
        executor.apply(create_plan(layout(env), "pw"))
    with pytest.raises(ExecutionError, match="refusing to drop"):
        executor.apply(teardown_plan(layout(env)))
    with admin(pg) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'precious'").fetchone() == (1,)
        # The failed plan committed nothing: no role was left behind.
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (layout(env).role,)).fetchone() == (0,)
        conn.execute(f'DROP SCHEMA "{layout(env).schema}" CASCADE')


def test_a_role_envstack_did_not_create_is_never_adopted(pg: Server) -> None:
    env = "iso-squat"
    with admin(pg) as conn:
        conn.execute(f'CREATE ROLE "{layout(env).role}" LOGIN')
    try:
        with pytest.raises(ExecutionError, match="refusing to adopt"):
            PsycopgExecutor(pg.admin_dsn).apply(create_plan(layout(env), "pw"))
    finally:
        with admin(pg) as conn:
            conn.execute(f'DROP ROLE "{layout(env).role}"')


def test_errors_never_show_the_password(pg: Server) -> None:
    env = "iso-squat2"
    with admin(pg) as conn:
        conn.execute(f'CREATE ROLE "{layout(env).role}" LOGIN')
    try:
        with pytest.raises(ExecutionError) as info:
            PsycopgExecutor(pg.admin_dsn).apply(create_plan(layout(env), "TopSecretPw123"))
        assert "TopSecretPw123" not in str(info.value)
    finally:
        with admin(pg) as conn:
            conn.execute(f'DROP ROLE "{layout(env).role}"')


def test_an_unreachable_dsn_is_one_clear_error() -> None:
    with pytest.raises(ExecutionError) as info:
        PsycopgExecutor("postgresql://nobody@127.0.0.1:1/none").apply(create_plan(layout("iso-x"), "pw"))
    assert str(info.value) == (  # the first line of libpq's message
        'cannot connect to PostgreSQL: connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused"
    )


@pytest.mark.postgres
def test_a_failure_at_commit_rolls_back_and_says_so(pg: Server) -> None:
    plan = [
        Statement("CREATE TABLE iso_commit_parent (id int PRIMARY KEY)"),
        Statement("CREATE TABLE iso_commit_child (id int REFERENCES iso_commit_parent DEFERRABLE INITIALLY DEFERRED)"),
        Statement("INSERT INTO iso_commit_child VALUES (1)"),  # checked only at COMMIT
    ]
    with pytest.raises(ExecutionError) as info:
        PsycopgExecutor(pg.admin_dsn).apply(plan)
    assert str(info.value) == (
        'insert or update on table "iso_commit_child" violates foreign key constraint '
        '"iso_commit_child_id_fkey" (while running: COMMIT)'
    )
    with admin(pg) as conn:
        assert conn.execute("SELECT to_regclass('iso_commit_parent')").fetchone() == (None,)


@pytest.mark.postgres
def test_a_direct_connection_gives_up_after_ten_seconds(pg: Server) -> None:
    with PsycopgExecutor(pg.admin_dsn).connect() as conn:
        assert "connect_timeout=10" in conn.info.dsn.split()


@pytest.mark.postgres
def test_named_parameters_are_bound_and_casts_are_left_alone(pg: Server) -> None:
    """The plan writes `:Name` placeholders; `::int` is a cast, not a placeholder."""
    with pytest.raises(ExecutionError) as info:
        PsycopgExecutor(pg.admin_dsn).apply([Statement("SELECT :Value_1::int", params={"Value_1": "not-a-number"})])
    assert (
        str(info.value) == 'invalid input syntax for type integer: "not-a-number" (while running: SELECT :Value_1::int)'
    )


# --- the password never reaches the server -------------------------------------------------


@pytest.mark.postgres
def test_the_password_never_reaches_the_server_log(pg: Server) -> None:
    """With log_statement=all every statement is logged, and a failing one is logged anyway
    (log_min_error_statement): the collision refusal fails, then a create succeeds; the log
    holds both, and never the plaintext. The role logs in with it all the same."""
    env, password = "iso-logged", "Plaintext-In-Log-9f2c71"
    logged = PsycopgExecutor(pg.admin_dsn + " options='-c log_statement=all'")
    with admin(pg) as conn:
        conn.execute(f'CREATE ROLE "{layout(env).role}" LOGIN')  # a squatter: the refusal fails
    try:
        with pytest.raises(ExecutionError, match="refusing to adopt"):
            logged.apply(create_plan(layout(env), password))
    finally:
        with admin(pg) as conn:
            conn.execute(f'DROP ROLE "{layout(env).role}"')
    logged.apply(create_plan(layout(env), password))
    try:
        log = pg.log.read_text(errors="replace")
        assert "refusing to adopt" in log  # the failure and its statement were logged
        assert f'ALTER ROLE "{layout(env).role}" WITH LOGIN' in log  # so was every statement
        assert password not in log
        with psycopg.connect(pg.dsn(layout(env).role, password), autocommit=True) as conn:
            stored = conn.execute("SELECT current_user").fetchone()
        assert stored == (layout(env).role,)
        with admin(pg) as conn:
            verifier = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (layout(env).role,)
            ).fetchone()
        assert verifier is not None and verifier[0].startswith("SCRAM-SHA-256$4096:")
        assert verifier[0] in log  # what was logged is the verifier, never the password
    finally:
        PsycopgExecutor(pg.admin_dsn).apply(teardown_plan(layout(env)))


@pytest.mark.postgres
def test_a_non_ascii_password_logs_in_as_postgresql_prepares_it(pg: Server) -> None:
    """The verifier applies SASLprep as PostgreSQL and libpq do: a non-ASCII password (with a
    non-ASCII space, which SASLprep maps to a plain one) logs in."""
    env, password = "iso-unicode", "pässwörd\u00a0Ünïcode-1"
    executor = PsycopgExecutor(pg.admin_dsn)
    executor.apply(create_plan(layout(env), password))
    try:
        with psycopg.connect(
            host="127.0.0.1", port=pg.port, user=layout(env).role, password=password, dbname=DATABASE
        ) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (layout(env).role,)
    finally:
        executor.apply(teardown_plan(layout(env)))


@pytest.mark.postgres
def test_the_suite_runs_postgresql_16_as_production_does(pg: Server) -> None:
    """Aurora runs major 16 (components/cluster.py); CREATEROLE's limits differ before 16."""
    from components.cluster import ENGINE_VERSION
    from devtools.postgres import MAJOR

    with admin(pg) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
    assert version is not None
    assert int(version[0]) // 10_000 == MAJOR == int(ENGINE_VERSION)
