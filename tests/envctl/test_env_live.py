"""`envctl env show --live` and the Environments page with what an environment holds.

End to end: the environment's record, user pool, users, bucket and files are created by the
test on moto (SSM, Cognito, S3, CloudWatch, Secrets Manager); its schema, tables and rows on
the real PostgreSQL, read over `--dsn`. The Data API path is checked at the request level in
tests/envctl/test_inventory.py, with inventory's own reads. The page is driven in headless Chromium (tests/support/browser.py's, through Playwright): a click and the arrow keys.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from components.executors import PsycopgExecutor
from components.sql import Layout, create_plan, teardown_plan
from devtools.postgres import Server
from envctl import cards as cards_mod
from envctl import envcmd, inventory
from envctl.cards import card_from_outputs
from envctl.cli import app
from envctl.page import cards_html
from envctl.pagedata import Details
from envctl.render import render
from policies.contracts import conventions
from policies.contracts.names import DATABASE
from tests.support.browser import chromium, png_size
from tests.support.deployed import TABLES, deploy_qa
from tests.support.program import REGION, ROOT, committed, runner

pytestmark = pytest.mark.usefixtures("project")  # every test works on a copy of the project
PASSWORD = "qa-Password-1"


@pytest.fixture
def qa_tables(pg: Server) -> Iterator[str]:
    """Schema env_qa on the real server with two tables made by qa's own role; yields its DSN."""
    layout = Layout(env="qa", database=DATABASE, connection_limit=5)
    admin = PsycopgExecutor(pg.admin_dsn)
    admin.apply(create_plan(layout, PASSWORD))
    dsn = pg.dsn(layout.role, PASSWORD)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE posts (id int)")
        conn.execute("INSERT INTO posts SELECT generate_series(1, 120)")
        conn.execute("ANALYZE posts")  # reltuples: exact for a table this small
        conn.execute("CREATE TABLE notes (id int)")
        conn.execute("INSERT INTO notes VALUES (1), (2)")  # never analysed: pg_stat_user_tables
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT 1")  # the flush happens when this session next goes idle
    yield dsn
    admin.apply(teardown_plan(layout))


def show(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["env", "show", "qa", "--live", *args])
    return result.exit_code, result.stdout, result.stderr


def test_show_live_reads_tables_users_and_files(aws: Any, qa_tables: str) -> None:
    record = deploy_qa()
    code, out, err = show("--dsn", qa_tables, "--format", "json")
    assert code == 0, err
    live = json.loads(out)["live"]
    assert live["record"] == "/envstack/envstack/environments/qa"
    assert live["tables"] == TABLES
    assert live["users"] == {"count": 2, "source": "Cognito EstimatedNumberOfUsers (estimate)"}
    assert live["files"] == {"objects": 3, "bytes": 1007, "source": "counted (ListObjectsV2)", "estimate": False}
    assert (live["tables_error"], live["users_error"], live["files_error"]) == (None, None, None)
    assert json.loads(out)["card"]["cluster"] == "shared-nonprod" and record["name"] == "qa"

    code, out, _ = show("--dsn", qa_tables)
    assert code == 0
    assert "  posts: ~120 rows (pg_class.reltuples)\n" in out and "  notes: ~2 rows (pg_stat_user_tables" in out
    assert "Users: 2 (Cognito EstimatedNumberOfUsers (estimate))\n" in out
    assert "Files: 3 objects, 1007 bytes (counted (ListObjectsV2))\n" in out
    code, out, _ = show("--dsn", qa_tables, "--format", "markdown")
    assert code == 0 and "- `posts`: ~120 rows" in out and "| key secret | `envstack-qa-api-key` |" in out

    result = runner.invoke(app, ["env", "delete", "qa", "--live", "--dsn", qa_tables, "--confirm", "qa"])
    assert result.exit_code == 0, result.stderr
    assert "  posts: ~120 rows (pg_class.reltuples)\n" in result.stdout  # what will be lost, live
    assert result.stdout.endswith("delete:\n  pulumi destroy --stack qa\n  pulumi stack rm qa\n")


def test_a_refused_read_is_reported_and_the_others_still_run(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy_qa()
    announced: list[str] = []  # what the spinner says, on a terminal, while each read runs

    @contextlib.contextmanager
    def progress(what: str) -> Iterator[None]:
        announced.append(what)
        yield

    monkeypatch.setattr(envcmd, "progress", progress)
    # No --dsn: the Data API with the environment's own secret, which moto does not hold.
    code, out, _ = show("--format", "json")
    live = json.loads(out)["live"]
    assert code == 1
    assert live["tables"] is None and live["tables_error"].startswith("AWS refused: ResourceNotFoundException")
    assert live["users"]["count"] == 2 and live["files"]["objects"] == 3
    assert announced == ["reading the environment's record", "reading tables, users and files"]
    code, out, _ = show()
    assert code == 1 and "Tables (" in out and "  not read: AWS refused: ResourceNotFoundException" in out


def test_show_live_of_an_environment_without_a_record_is_one_line(aws: Any) -> None:
    result = runner.invoke(app, ["env", "show", "dev", "--live"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().startswith("envctl: environment record of dev: AWS refused: ParameterNotFound")


# --- the page ------------------------------------------------------------------------------


def test_the_page_offline_has_tabs_that_switch_by_click_and_arrow_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setattr(cards_mod, "pulumi_cli", lambda: None)  # as on a machine without the Pulumi CLI
    result = runner.invoke(app, ["cards", "--format", "html"])  # no Pulumi CLI on PATH: rendered offline
    assert result.exit_code == 0, result.stderr
    page_file = tmp_path / "environments.html"
    page_file.write_text(result.stdout)
    stacks = ["dev", "prod", "staging"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 720})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.resolve().as_uri())
        tabs = page.get_by_role("tab")
        assert [tabs.nth(i).get_attribute("data-stack") for i in range(tabs.count())] == stacks
        assert page.get_by_role("tablist").get_attribute("aria-label") == "Environments"

        def shown() -> list[str]:
            return [s for s in stacks if page.locator(f'[role="tabpanel"][data-stack="{s}"]').is_visible()]

        assert shown() == ["dev"]
        page.get_by_role("tab", name="staging").click()
        assert shown() == ["staging"]
        panel = page.get_by_role("tabpanel")
        assert panel.locator('[data-field="cluster"]').inner_text() == "shared-nonprod"
        # The program names the bucket's prefix; the suffix is the engine's auto-name (the mock's here).
        assert panel.locator('tr[data-store="bucket"] td').nth(1).inner_text().startswith("envstack-staging-files-")
        assert panel.locator('tr[data-store="user pool"] td').nth(2).inner_text() == "refused"
        assert page.get_by_role("tab", name="staging").get_attribute("aria-selected") == "true"
        assert page.get_by_role("tab", name="dev").get_attribute("aria-selected") == "false"
        page.keyboard.press("ArrowRight")  # wraps from the last tab to the first
        assert shown() == ["dev"] and page.evaluate("document.activeElement.dataset.stack") == "dev"
        page.keyboard.press("ArrowLeft")
        assert shown() == ["staging"]
        page.keyboard.press("Home")
        page.keyboard.press("ArrowRight")
        assert shown() == ["prod"] and page.get_by_role("tab", name="prod").get_attribute("tabindex") == "0"
        page.get_by_role("tab", name="staging").click()
        png = tmp_path / "page.png"
        page.screenshot(path=str(png))
        browser.close()
    assert requests == [page_file.resolve().as_uri()]  # self-contained: nothing else fetched
    assert png_size(png) == (1200, 720)
    if os.environ.get("ENVSTACK_WRITE_SCREENSHOT"):  # regenerates docs/environments-page.png
        Path(os.environ["ENVSTACK_WRITE_SCREENSHOT"]).write_bytes(png.read_bytes())


def test_the_page_shows_live_tables_users_and_files(aws: Any, qa_tables: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    record = deploy_qa()
    session = boto3.session.Session()
    card = card_from_outputs("qa", record, "record of qa")
    found = Details(
        inventory.stores(render("qa").to_json()), live=inventory.read_live(session, record, PsycopgExecutor(qa_tables))
    )
    other = card_from_outputs("dev", committed("dev").outputs, "dev")
    page_file = tmp_path / "live.html"
    page_file.write_text(cards_html([other, card], "project envstack", {"qa": found}))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(page_file.resolve().as_uri())
        assert not page.locator('tr[data-table="posts"]').is_visible()
        page.get_by_role("tab", name="qa").click()
        rows = page.locator('[role="tabpanel"][data-stack="qa"] tr[data-table]')
        assert [rows.nth(i).inner_text().split("\t")[:2] for i in range(rows.count())] == [
            ["notes", "2"],
            ["posts", "120"],
        ]
        assert page.locator('[data-live="users"]').inner_text().startswith("2 (")
        assert page.locator('[data-live="files"]').inner_text().startswith("3 objects, 1007 bytes")
        assert not page.locator('[role="tabpanel"][data-stack="dev"]').is_visible()
        browser.close()


def test_the_live_page_through_the_cli_reports_what_it_could_not_read(aws: Any) -> None:
    deploy_qa()
    result = runner.invoke(app, ["cards", "--live", "--region", REGION, "--format", "html"])
    assert result.exit_code == 0, result.stderr
    assert '<p data-live="users">2 (' in result.stdout and '<p data-live="files">3 objects, 1007 bytes' in result.stdout
    assert "not read: AWS refused: ResourceNotFoundException" in result.stdout  # tables: no secret on moto
    assert conventions.CLOUD_PROVIDER.upper() in result.stdout and str(ROOT) not in result.stdout
