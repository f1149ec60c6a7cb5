"""The SQL plan as a pure function: order, quoting, determinism, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.sql import (
    LOCK_DATABASE,
    LOCK_ENVIRONMENT,
    Layout,
    PlanError,
    Statement,
    create_plan,
    database_lock,
    disable_provisioner_plan,
    environment_lock,
    hand_over_plan,
    provisioner_plan,
    quote_ident,
    quote_literal,
    scram_verifier,
    teardown_plan,
)
from policies.contracts.names import UnmappableNameError, pg_identifier
from tests.support.program import ROOT

SALT = bytes(range(16))


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
    with pytest.raises(PlanError, match=r"^a string literal cannot hold a NUL character$"):
        quote_literal("nul\x00")
    with pytest.raises(PlanError, match=r"^invalid identifier ''$"):
        quote_ident("")
    # PostgreSQL ends an identifier at a NUL byte: "a\0b" would silently name "a".
    with pytest.raises(PlanError, match=r"^invalid identifier 'a\\x00b'$"):
        quote_ident("a\x00b")


@given(st.text(min_size=1).filter(lambda s: "\x00" not in s))
def test_quote_literal_round_trips_any_text(value: str) -> None:
    quoted = quote_literal(value)
    assert quoted[0] == quoted[-1] == "'"
    assert quoted[1:-1].replace("''", "'") == value
    assert "'" not in quoted[1:-1].replace("''", "")


def test_create_plan_is_deterministic_and_ordered() -> None:
    layout = Layout(env="dev", database="envstack", connection_limit=20)
    plan = create_plan(layout, "pw", salt=SALT)
    assert plan == create_plan(layout, "pw", salt=SALT)
    assert plan != create_plan(layout, "pw")  # a fresh random salt otherwise
    sql = [s.sql for s in plan]
    hardening = [
        f"SELECT pg_advisory_xact_lock({LOCK_DATABASE}, 0)",
        # Only the database's owner revokes on the database; the provisioner cannot, and skips it.
        "DO $envstack$ BEGIN\n"
        "  IF pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = 'envstack'), 'USAGE') THEN\n"
        '    REVOKE ALL ON DATABASE "envstack" FROM PUBLIC;\n'
        "    REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
        "  END IF;\n"
        "END $envstack$",
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    ]
    # The environment's lock comes first, the database-wide steps last, under the database lock.
    assert sql[1] == environment_lock(layout).sql
    assert sql[-4:-1] == hardening
    assert sql[-1] == 'GRANT CONNECT ON DATABASE "envstack" TO "env_dev"'
    create_role = next(s for s in sql if "CREATE ROLE" in s)
    assert (
        'CREATE ROLE "env_dev" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS '
        "CONNECTION LIMIT 20;" in create_role
    )
    assert "PASSWORD" not in create_role  # a failing collision check logs no password at all
    alter = sql.index(next(s for s in sql if "PASSWORD" in s))
    assert sql.index(create_role) < alter < next(i for i, s in enumerate(sql) if "CREATE SCHEMA" in s)
    assert sql[alter].endswith(f"PASSWORD '{scram_verifier('pw', SALT)}'")
    assert 'GRANT USAGE, CREATE ON SCHEMA "env_dev" TO "env_dev"' in sql
    assert sql[-5] == 'ALTER ROLE "env_dev" SET search_path = "env_dev"'
    assert any(s.startswith('ALTER DEFAULT PRIVILEGES IN SCHEMA "env_dev"') for s in sql)


def test_every_statement_that_touches_a_shared_row_runs_under_the_database_lock() -> None:
    """pg_database's ACL and the administrator's default privileges are one row each for every
    environment: each plan must hold the database lock before it changes them."""
    layout = Layout(env="dev", database="envstack", connection_limit=20)
    shared = ("ON DATABASE", "ON SCHEMA public", "ALTER DEFAULT PRIVILEGES REVOKE", "DROP OWNED")
    for plan in (create_plan(layout, "pw"), teardown_plan(layout), hand_over_plan(layout)):
        sql = [s.sql for s in plan]
        locked = sql.index(database_lock().sql)
        assert sql.index(environment_lock(layout).sql) < locked  # always in this order: no deadlock
        touching = [i for i, s in enumerate(sql) if any(t in s for t in shared)]
        assert touching and min(touching) > locked


def test_lock_keys_are_stable_and_per_environment() -> None:
    def key(env: str) -> str:
        return environment_lock(Layout(env=env, database="d", connection_limit=1)).sql

    assert key("pr-1") == key("pr-1") != key("pr-2")
    assert key("pr-1").startswith(f"SELECT pg_advisory_xact_lock({LOCK_ENVIRONMENT}, ")
    assert LOCK_ENVIRONMENT != LOCK_DATABASE


def test_scram_verifier_matches_rfc7677_and_postgresql_format() -> None:
    """RFC 7677's test vector: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
    4096 iterations; the server signature check there pins ServerKey, StoredKey is H(ClientKey)."""
    import base64
    import hashlib
    import hmac

    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_verifier("pencil", salt)
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    assert verifier == f"SCRAM-SHA-256$4096:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"
    # RFC 7677 section 3: the client proof of the example exchange, from StoredKey's ClientKey.
    auth = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, hmac.digest(stored, auth, "sha256"), strict=True))
    assert b64(proof) == b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    assert b64(hmac.digest(server, auth, "sha256")) == b"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_a_password_saslprep_refuses_is_one_clear_error() -> None:
    with pytest.raises(PlanError) as info:
        create_plan(Layout(env="dev", database="envstack", connection_limit=5), "bad\x07bell")
    assert str(info.value) == (
        "the role's password is not valid SASLprep text (control characters forbidden); use printable characters"
    )


def test_statements_carrying_the_password_are_marked_and_never_shown() -> None:
    plan = create_plan(Layout(env="dev", database="envstack", connection_limit=5), "hunter2-secret", salt=SALT)
    assert all("hunter2-secret" not in s.sql for s in plan)  # the plaintext is never sent
    verifier = scram_verifier("hunter2-secret", SALT)
    carrying = [s for s in plan if verifier in s.sql]
    assert len(carrying) == 1 and all(s.secret for s in carrying)
    assert all(verifier not in s.shown() and "hunter2-secret" not in s.shown() for s in plan)


def test_teardown_plan_order() -> None:
    sql = [s.sql for s in teardown_plan(Layout(env="pr-7", database="envstack", connection_limit=5))]
    assert sql[:2] == [environment_lock(Layout(env="pr-7", database="d", connection_limit=1)).sql, database_lock().sql]
    assert "REVOKE CONNECT" in sql[2] and "NOLOGIN" in sql[2]
    assert "pg_terminate_backend" in sql[3]
    assert sql[4] == 'DROP SCHEMA IF EXISTS "env_pr_7" CASCADE'
    assert 'DROP OWNED BY "env_pr_7"' in sql[5] and sql[5].index("DROP OWNED") < sql[5].index("DROP ROLE")


@pytest.mark.parametrize("limit", [1, 10_000])
def test_connection_limit_bounds_are_inclusive(limit: int) -> None:
    plan = create_plan(Layout(env="dev", database="envstack", connection_limit=limit), "pw", salt=SALT)
    assert f"CONNECTION LIMIT {limit};" in next(s.sql for s in plan if "CREATE ROLE" in s.sql)


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_connection_limit_outside_the_bounds_is_one_clear_error(limit: int) -> None:
    with pytest.raises(PlanError, match=rf"^connection limit {limit} is outside 1\.\.10000$"):
        Layout(env="dev", database="envstack", connection_limit=limit)


def test_schema_and_role_default_to_the_environments_identifier_and_keep_given_names() -> None:
    default = Layout(env="pr-7", database="envstack", connection_limit=5)
    assert (default.schema, default.role) == ("env_pr_7", "env_pr_7")
    given = Layout(env="pr-7", database="envstack", connection_limit=5, schema="s_given", role="r_given")
    assert (given.schema, given.role) == ("s_given", "r_given")
    assert default.marker == "envstack environment pr-7"  # the comment that proves ownership


def test_statements_are_shown_as_they_are_unless_they_carry_the_verifier() -> None:
    assert Statement("SELECT 1").shown() == "SELECT 1"
    assert Statement("SELECT 1").secret is False
    assert Statement("ALTER ROLE x PASSWORD 'v'", secret=True).shown() == (
        "-- (statement carrying the role's password verifier, not shown)"
    )


def test_lock_keys_never_change_between_versions() -> None:
    """Two envstack versions running at once must take the same advisory locks."""
    assert database_lock().sql == "SELECT pg_advisory_xact_lock(1701738033, 0)"
    lock = environment_lock(Layout(env="pr-1", database="d", connection_limit=1))
    assert lock.sql == "SELECT pg_advisory_xact_lock(1701738034, -1642121235)"


def test_lock_keys_are_signed_int4() -> None:
    prefix = f"SELECT pg_advisory_xact_lock({LOCK_ENVIRONMENT}, "
    keys = [
        int(environment_lock(Layout(env=f"pr-{n}", database="d", connection_limit=1)).sql[len(prefix) : -1])
        for n in range(64)
    ]
    assert all(-(2**31) <= k < 2**31 for k in keys)
    assert min(keys) < 0 < max(keys)  # the whole signed range is used


def test_a_fresh_salt_is_16_random_bytes() -> None:
    import base64

    salts = {scram_verifier("pw").split("$")[1].split(":")[1] for _ in range(2)}
    assert len(salts) == 2
    assert all(len(base64.b64decode(s)) == 16 for s in salts)


PLAN_TEXT = ROOT / "tests" / "fixtures" / "sql-plans.sql"


def render_plans() -> str:
    """The create, teardown and hand-over plans of one environment and the provisioner's plan, every statement in full (the verifier
    from a fixed salt), as reviewed against the recipe docs/tables.md describes statement by statement."""
    layout = Layout(env="pr-7", database="envstack", connection_limit=10)
    out = []
    plans = (
        ("create", create_plan(layout, "pw", salt=SALT)),
        ("teardown", teardown_plan(layout)),
        ("provisioner", provisioner_plan("envstack", "pw", salt=SALT)),
        ("hand-over", hand_over_plan(layout)),
        ("disable-provisioner", disable_provisioner_plan()),
    )
    for name, plan in plans:
        for number, statement in enumerate(plan, 1):
            flags = (" secret" if statement.secret else "") + (
                f" params={statement.params}" if statement.params else ""
            )
            out.append(f"-- {name} {number}{flags}\n{statement.sql};\n")
    return "\n".join(out)


def test_the_plans_are_the_reviewed_sql_word_for_word() -> None:
    """Any change to a statement, even to the case of a keyword, shows up as a change to
    tests/fixtures/sql-plans.sql in review. Regenerate: .venv/bin/python -m tests.components.test_sql"""
    assert render_plans() == PLAN_TEXT.read_text()


if __name__ == "__main__":
    PLAN_TEXT.write_text(render_plans())
