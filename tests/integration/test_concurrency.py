"""Many plans at once on one database, as pull-request previews on staging's shared cluster:
creates of distinct environments, repeated creates of one environment and teardowns, all
started together against the real server. Every one must succeed and the end state must be
exact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from components.executors import PsycopgExecutor
from components.sql import Layout, Statement, create_plan, teardown_plan
from devtools.postgres import Server
from policies.contracts import names
from policies.contracts.names import DATABASE

pytestmark = pytest.mark.postgres

NEW = [f"conc-new-{i:02d}" for i in range(20)]  # created together, each once
SAME = "conc-same"  # created by 6 runs at once
SAME_RUNS = 6
GONE = [f"conc-gone-{i}" for i in range(6)]  # existing; torn down together
PASSWORD = {env: f"{env}-Pw-1" for env in [*NEW, SAME, *GONE]}


def layout(env: str) -> Layout:
    return Layout(env=env, database=DATABASE, connection_limit=4)


def ident(env: str) -> str:
    return layout(env).role


def run_together(pg: Server, plans: list[list[Statement]]) -> list[str]:
    """Applies every plan on its own connection, all released at the same moment; returns the failures."""
    start = threading.Barrier(len(plans))

    def apply(plan: list[Statement]) -> str | None:
        executor = PsycopgExecutor(pg.admin_dsn)
        start.wait(timeout=30)
        try:
            executor.apply(plan)
        except Exception as err:
            return f"{type(err).__name__}: {err}"
        return None

    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        return [r for r in pool.map(apply, plans) if r is not None]


def scalar(conn: psycopg.Connection[Any], sql: str, *params: object) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def test_thirty_two_plans_at_once_all_succeed_and_leave_the_exact_end_state(pg: Server) -> None:
    executor = PsycopgExecutor(pg.admin_dsn)
    for env in GONE:
        executor.apply(create_plan(layout(env), PASSWORD[env]))
    plans = [
        *(create_plan(layout(env), PASSWORD[env]) for env in NEW),
        *(create_plan(layout(SAME), PASSWORD[SAME]) for _ in range(SAME_RUNS)),
        *(teardown_plan(layout(env)) for env in GONE),
    ]
    assert len(plans) >= 30
    try:
        assert run_together(pg, plans) == []
        kept = sorted(ident(env) for env in [*NEW, SAME])
        with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
            schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'env_conc_%'")]
            roles = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'env_conc_%'")]
            assert sorted(schemas) == kept
            assert sorted(roles) == kept
            assert not scalar(conn, "SELECT has_database_privilege('public', %s, 'CONNECT')", DATABASE)
            assert not scalar(conn, "SELECT has_schema_privilege('public', 'public', 'CREATE')")
            for env in [*NEW, SAME]:
                name = ident(env)
                assert scalar(conn, "SELECT obj_description(%s::regnamespace, 'pg_namespace')", name) == names.label(
                    env
                )
                assert scalar(conn, "SELECT shobj_description(%s::regrole, 'pg_authid')", name) == names.label(env)
                assert scalar(
                    conn,
                    "SELECT has_database_privilege(%s, %s, 'CONNECT') AND has_schema_privilege(%s, %s, 'USAGE, CREATE')"
                    " AND pg_get_userbyid(nspowner) = current_user FROM pg_namespace WHERE nspname = %s",
                    name,
                    DATABASE,
                    name,
                    name,
                    name,
                )
                assert scalar(conn, "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", name) == 4
                assert scalar(
                    conn,
                    "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
                    "WHERE r.rolname = %s",
                    name,
                ) == [f"search_path={name}"]
                # One ALTER DEFAULT PRIVILEGES row per kind, not one per run.
                assert (
                    scalar(conn, "SELECT count(*) FROM pg_default_acl WHERE defaclnamespace = %s::regnamespace", name)
                    == 3
                )
            for env in GONE:
                name = ident(env)
                assert (
                    scalar(conn, "SELECT count(*) FROM pg_shdepend d WHERE d.refobjid::regrole::text = %s", name) == 0
                )
                assert name not in str(scalar(conn, "SELECT datacl FROM pg_database WHERE datname = %s", DATABASE))
        for env in [*NEW, SAME]:
            with psycopg.connect(pg.dsn(ident(env), PASSWORD[env]), autocommit=True) as conn:
                conn.execute("CREATE TABLE t (id int)")  # lands in its own schema
                assert scalar(
                    conn, "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 't'::regclass"
                ) == ident(env)
    finally:
        for env in [*NEW, SAME, *GONE]:
            executor.apply(teardown_plan(layout(env)))
