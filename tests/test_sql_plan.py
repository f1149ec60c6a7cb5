"""The SQL plan as a pure function: order, quoting, determinism, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.naming import UnmappableNameError, pg_identifier
from components.sql import Layout, PlanError, create_plan, quote_ident, quote_literal, teardown_plan


def test_identifier_rule_is_env_prefix_and_underscores() -> None:
    assert pg_identifier("dev") == "env_dev"
    assert pg_identifier("pr-42") == "env_pr_42"


@pytest.mark.parametrize("bad", ["Dev", "1dev", "dev;drop", 'x"y', "", "a" * 60, "dev_x"])
def test_names_that_cannot_be_mapped_safely_are_refused(bad: str) -> None:
    with pytest.raises(UnmappableNameError, match="cannot be mapped"):
        pg_identifier(bad)


def test_quoting() -> None:
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_literal("it's") == "'it''s'"
    with pytest.raises(PlanError):
        quote_literal("nul\x00")
    with pytest.raises(PlanError):
        quote_ident("")


@given(st.text(min_size=1).filter(lambda s: "\x00" not in s))
def test_quote_literal_round_trips_any_text(value: str) -> None:
    quoted = quote_literal(value)
    assert quoted[0] == quoted[-1] == "'"
    assert quoted[1:-1].replace("''", "'") == value
    assert "'" not in quoted[1:-1].replace("''", "")


def test_create_plan_is_deterministic_and_ordered() -> None:
    layout = Layout(env="dev", database="envstack", connection_limit=20)
    plan = create_plan(layout, "pw")
    assert plan == create_plan(layout, "pw")
    sql = [s.sql for s in plan]
    hardening = [
        'REVOKE ALL ON DATABASE "envstack" FROM PUBLIC',
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    ]
    assert sql[1:4] == hardening  # hardening comes first
    create_role = next(s for s in sql if "CREATE ROLE" in s)
    assert (
        'CREATE ROLE "env_dev" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS '
        "CONNECTION LIMIT 20 PASSWORD 'pw'" in create_role
    )
    assert sql.index(create_role) < next(i for i, s in enumerate(sql) if "CREATE SCHEMA" in s)
    assert 'GRANT USAGE, CREATE ON SCHEMA "env_dev" TO "env_dev"' in sql
    assert sql[-1] == 'ALTER ROLE "env_dev" SET search_path = "env_dev"'
    assert any(s.startswith('ALTER DEFAULT PRIVILEGES IN SCHEMA "env_dev"') for s in sql)


def test_statements_carrying_the_password_are_marked_and_never_shown() -> None:
    plan = create_plan(Layout(env="dev", database="envstack", connection_limit=5), "hunter2-secret")
    carrying = [s for s in plan if "hunter2-secret" in s.sql]
    assert carrying and all(s.secret for s in carrying)
    assert all("hunter2-secret" not in s.shown() for s in plan)


def test_teardown_plan_order() -> None:
    sql = [s.sql for s in teardown_plan(Layout(env="pr-7", database="envstack", connection_limit=5))]
    assert "REVOKE CONNECT" in sql[0] and "NOLOGIN" in sql[0]
    assert "pg_terminate_backend" in sql[1]
    assert sql[2] == 'DROP SCHEMA IF EXISTS "env_pr_7" CASCADE'
    assert 'DROP OWNED BY "env_pr_7"' in sql[3] and sql[3].index("DROP OWNED") < sql[3].index("DROP ROLE")


def test_connection_limit_is_bounded() -> None:
    with pytest.raises(PlanError):
        Layout(env="dev", database="envstack", connection_limit=0)
