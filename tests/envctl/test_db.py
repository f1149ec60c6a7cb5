"""`envctl db up/down/provisioner/hand-over`: local mode against the real server."""

from __future__ import annotations

import json

import psycopg
import pytest

from devtools.postgres import Server
from envctl.cli import app
from policies.contracts.names import DATABASE, PG_PROVISIONER
from tests.support.program import runner


def test_db_up_json_gives_the_environment_role_dsn_and_is_idempotent(pg: Server) -> None:
    args = ["db", "up", "--dsn", pg.admin_url, "--env", "local-dev", "--json", "--password", "local-pw-1"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert set(result) == {"environment", "schema", "role", "dsn"}
    assert result["environment"] == "local-dev" and result["schema"] == result["role"] == "env_local_dev"
    with psycopg.connect(result["dsn"], autocommit=True) as conn:
        assert conn.execute("SELECT current_user, current_schema()").fetchone() == ("env_local_dev", "env_local_dev")
        conn.execute("CREATE TABLE todo (id int)")
        conn.execute("INSERT INTO todo VALUES (1)")
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and json.loads(again.stdout) == result
    with psycopg.connect(result["dsn"]) as conn:
        assert conn.execute("SELECT id FROM todo").fetchall() == [(1,)]

    down = runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "local-dev"])
    assert down.exit_code == 0, down.output
    assert runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "local-dev"]).exit_code == 0
    with psycopg.connect(pg.admin_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'env_local_dev'").fetchone() == (0,)


def test_db_up_without_password_generates_one(pg: Server) -> None:
    out = runner.invoke(app, ["db", "up", "--dsn", pg.admin_url, "--env", "local-gen", "--json"])
    assert out.exit_code == 0, out.output
    dsn = json.loads(out.stdout)["dsn"]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("env_local_gen",)
    assert runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "local-gen"]).exit_code == 0


def test_db_up_text_output(pg: Server) -> None:
    out = runner.invoke(app, ["db", "up", "--dsn", pg.admin_url, "--env", "local-txt"])
    assert out.exit_code == 0 and "schema env_local_txt" in out.stdout
    runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "local-txt"])


def test_a_name_that_cannot_be_mapped_is_refused_with_exit_2() -> None:
    out = runner.invoke(app, ["db", "up", "--dsn", "host=/nowhere", "--env", "Bad_Name"])
    assert out.exit_code == 2
    assert "--env" in out.stderr and "Bad_Name" in out.stderr


def test_a_password_saslprep_refuses_is_refused_with_exit_2() -> None:
    out = runner.invoke(app, ["db", "up", "--dsn", "host=/nowhere", "--env", "dev", "--password", "bell\x07"])
    assert out.exit_code == 2
    assert out.stderr.count("\n") == 1 and "--password" in out.stderr and "printable characters" in out.stderr
    assert "bell" not in out.stderr  # the password itself is never echoed


def test_a_dsn_that_cannot_connect_is_one_clear_error() -> None:
    out = runner.invoke(app, ["db", "up", "--dsn", "postgresql://u@127.0.0.1:1/db", "--env", "dev"])
    assert out.exit_code == 1
    assert "cannot connect to PostgreSQL" in out.stderr
    assert "Traceback" not in out.output


def test_a_malformed_dsn_is_refused_with_exit_2() -> None:
    out = runner.invoke(app, ["db", "down", "--dsn", "host=x port", "--env", "dev"])
    assert out.exit_code == 2 and "--dsn" in out.stderr


@pytest.mark.postgres
def test_db_up_takes_the_shared_format_option_and_keeps_json_as_a_hidden_alias(pg: Server) -> None:
    args = ["db", "up", "--dsn", pg.admin_url, "--env", "local-fmt", "--password", "local-pw-3"]
    as_format = runner.invoke(app, [*args, "--format", "json"])
    as_alias = runner.invoke(app, [*args, "--json"])
    assert as_format.exit_code == 0 and as_alias.exit_code == 0, as_format.output + as_alias.output
    assert json.loads(as_format.stdout) == json.loads(as_alias.stdout)
    assert json.loads(as_format.stdout)["schema"] == "env_local_fmt"
    assert "--json" not in runner.invoke(app, ["db", "up", "--help"]).stdout
    runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "local-fmt"])


def test_hand_over_takes_only_previews_and_says_so() -> None:
    result = runner.invoke(app, ["db", "hand-over", "--dsn", "host=/nowhere", "--env", "pr-1", "--env", "staging"])
    assert result.exit_code == 2
    assert result.output.strip().endswith(
        "--env 'staging': only previews named pr-<number> are handed over (the owner's stay)"
    )


@pytest.mark.postgres
def test_a_preview_the_master_made_is_handed_to_the_provisioner_which_then_removes_it(pg: Server) -> None:
    """The runbook's steps with the CLI: a preview created the old way (as the administrator), the
    provisioner created, the hand-over, then `db down` as the provisioner (the sweep)."""
    up = runner.invoke(app, ["db", "up", "--dsn", pg.admin_url, "--env", "pr-77", "--password", "pr77-pw-1"])
    assert up.exit_code == 0, up.output
    made = runner.invoke(app, ["db", "provisioner", "--dsn", pg.admin_url, "--password", "prov-pw-1"])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"provisioner {PG_PROVISIONER} on database {DATABASE}: ")
    as_provisioner = pg.dsn(PG_PROVISIONER, "prov-pw-1")
    try:
        refused = runner.invoke(app, ["db", "down", "--dsn", as_provisioner, "--env", "pr-77"])
        assert refused.exit_code == 1 and "envctl db hand-over" in refused.output
        handed = runner.invoke(app, ["db", "hand-over", "--dsn", pg.admin_url, "--env", "pr-77"])
        assert handed.exit_code == 0, handed.output
        assert handed.stdout == f"environment pr-77: schema env_pr_77 and role env_pr_77 handed to {PG_PROVISIONER}\n"
        down = runner.invoke(app, ["db", "down", "--dsn", as_provisioner, "--env", "pr-77"])
        assert down.exit_code == 0, down.output
        with psycopg.connect(pg.admin_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'env_pr_77'").fetchone() == (0,)
    finally:
        runner.invoke(app, ["db", "down", "--dsn", pg.admin_url, "--env", "pr-77"])
        with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:  # the provisioner is cluster-wide
            conn.execute(f"REVOKE ALL ON DATABASE {DATABASE} FROM {PG_PROVISIONER} CASCADE")
            conn.execute(f"DROP ROLE {PG_PROVISIONER}")
