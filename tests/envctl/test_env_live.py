"""`envctl env show --live` and the Environments page with what an environment holds.

End to end: the environment's record, user pool, users, bucket and files are created by the
test on moto (SSM, Cognito, S3, CloudWatch, Secrets Manager); its schema, tables and rows on
the real PostgreSQL, read over `--dsn`. The Data API path is checked at the request level
(botocore's Stubber), as tests/components/test_executors.py checks the table store's. The page is driven
in headless Chromium (tests/support/browser.py's, through Playwright): a click and the arrow keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components.executors import DataApiExecutor, PsycopgExecutor
from components.sql import Layout, create_plan, teardown_plan
from devtools.postgres import DATABASE, Server
from envctl import cards as cards_mod
from envctl import inventory
from envctl.cards import card_from_outputs
from envctl.cli import app
from envctl.page import cards_html
from envctl.pagedata import Details
from envctl.render import render
from policies.contracts import conventions
from tests.support.browser import chromium, png_size
from tests.support.program import REGION, ROOT, STAGING_REF, runner
from tests.support.records import deploy

pytestmark = pytest.mark.usefixtures("project")  # every test works on a copy of the project
PASSWORD = "qa-Password-1"
FILES = {"a.txt": b"12345", "b/c.bin": b"x" * 1000, "d.json": b"{}"}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def deploy_qa(files: dict[str, bytes] = FILES) -> dict[str, Any]:
    """What `pulumi up` of a custom environment `qa` leaves in AWS, on moto: its record (from the
    rendering), a user pool with two users, and a bucket with `files`. Returns the record."""
    assert (
        runner.invoke(app, ["env", "create", "qa", "--type", "custom", "--cluster-stack", STAGING_REF]).exit_code == 0
    )
    rendering = render("qa")
    ssm = boto3.client("ssm", region_name=REGION)
    deploy(ssm, rendering)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName="envstack-qa-users")["UserPool"]["Id"]
    for user in ("ann", "bob"):
        cognito.admin_create_user(UserPoolId=pool, Username=user)
    s3 = boto3.client("s3", region_name=REGION)
    record: dict[str, Any] = json.loads(
        ssm.get_parameter(Name=rendering.outputs["environmentRecord"])["Parameter"]["Value"]
    )
    s3.create_bucket(Bucket=record["bucketName"], CreateBucketConfiguration={"LocationConstraint": REGION})
    for key, body in files.items():
        s3.put_object(Bucket=record["bucketName"], Key=key, Body=body)
    record["userPoolId"] = pool  # moto chooses the pool's id; the record names it, as the program's does
    ssm.put_parameter(Name=rendering.outputs["environmentRecord"], Value=json.dumps(record), Overwrite=True)
    return record


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


TABLES = [
    {"table": "notes", "rows": 2, "source": "pg_stat_user_tables.n_live_tup"},
    {"table": "posts", "rows": 120, "source": "pg_class.reltuples"},
]


def test_show_live_reads_tables_users_and_files(aws: None, qa_tables: str) -> None:
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


def test_a_refused_read_is_reported_and_the_others_still_run(aws: None) -> None:
    deploy_qa()
    # No --dsn: the Data API with the environment's own secret, which moto does not hold.
    code, out, _ = show("--format", "json")
    live = json.loads(out)["live"]
    assert code == 1
    assert live["tables"] is None and live["tables_error"].startswith("AWS refused: ResourceNotFoundException")
    assert live["users"]["count"] == 2 and live["files"]["objects"] == 3
    code, out, _ = show()
    assert code == 1 and "Tables (" in out and "  not read: AWS refused: ResourceNotFoundException" in out


def test_show_live_of_an_environment_without_a_record_is_one_line(aws: None) -> None:
    result = runner.invoke(app, ["env", "show", "dev", "--live"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().startswith("envctl: environment record of dev: AWS refused: ParameterNotFound")


def test_past_the_listing_limit_files_are_cloudwatchs_estimate(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inventory, "LIST_LIMIT", 4)
    monkeypatch.setattr(inventory, "PAGE", 2)
    record = deploy_qa({f"f{i}": b"x" * i for i in range(1, 7)})
    other = boto3.client("s3", region_name=REGION)  # another bucket: the metrics are the environment's own
    other.create_bucket(Bucket="unrelated", CreateBucketConfiguration={"LocationConstraint": REGION})
    for i in range(10):
        other.put_object(Bucket="unrelated", Key=str(i), Body=b"y")
    from datetime import UTC, datetime, timedelta

    boto3.client("cloudwatch", region_name=REGION).put_metric_data(  # an older day's figure: the newest one counts
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": "NumberOfObjects",
                "Dimensions": [
                    {"Name": "BucketName", "Value": record["bucketName"]},
                    {"Name": "StorageType", "Value": "AllStorageTypes"},
                ],
                "Timestamp": datetime.now(UTC) - timedelta(days=2),
                "Value": 999,
            }
        ],
    )
    pages: list[str] = []
    session = boto3.session.Session()
    s3 = session.client("s3", region_name=REGION)
    s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: pages.append("page"))
    monkeypatch.setattr(
        session, "client", lambda name, region_name: s3 if name == "s3" else boto3.client(name, region_name=region_name)
    )
    files = inventory.file_totals(session, record)
    assert len(pages) == 2  # 4 objects listed, then the metrics
    # moto publishes BucketSizeBytes as its own key-store size, not the sum of the bodies: compare with it
    size = boto3.client("cloudwatch", region_name=REGION).list_metrics(Namespace="AWS/S3", MetricName="BucketSizeBytes")
    assert size["Metrics"] and (files["objects"], files["estimate"]) == (6, True) and files["bytes"] > 21
    assert files["source"].startswith("estimate: S3's daily CloudWatch metrics of ")
    assert files["source"].endswith("(more than 4 objects)")


def test_tables_through_the_data_api_at_the_request_level(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod"
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secret = secrets.create_secret(Name="qa-credentials", SecretString=json.dumps({"dbname": "envstack"}))["ARN"]
    record = {"region": REGION, "databaseClusterArn": cluster, "databaseSecretArn": secret}
    executor = inventory.data_api_executor(boto3.session.Session(), record)
    assert executor == DataApiExecutor(cluster, secret, "envstack")
    client = boto3.client("rds-data", region_name=REGION)
    monkeypatch.setattr(DataApiExecutor, "client", lambda self: client)
    with Stubber(client) as stubber:
        stubber.add_response(
            "execute_statement",
            {
                "records": [
                    [{"stringValue": "notes"}, {"longValue": 2}, {"stringValue": "pg_stat_user_tables.n_live_tup"}],
                    [{"stringValue": "posts"}, {"longValue": 120}, {"stringValue": "pg_class.reltuples"}],
                ]
            },
            {
                "resourceArn": cluster,
                "secretArn": secret,
                "database": "envstack",
                "sql": inventory.ROW_ESTIMATES,
                "parameters": [{"name": "schema", "value": {"stringValue": "env_qa"}}],
            },
        )
        assert inventory.table_rows(executor, "env_qa") == TABLES
        stubber.assert_no_pending_responses()


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


def test_the_page_shows_live_tables_users_and_files(aws: None, qa_tables: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    record = deploy_qa()
    session = boto3.session.Session()
    card = card_from_outputs("qa", record, "record of qa")
    found = Details(
        inventory.stores(render("qa").to_json()), live=inventory.read_live(session, record, PsycopgExecutor(qa_tables))
    )
    other = card_from_outputs("dev", render("dev").outputs, "dev")
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


def test_the_live_page_through_the_cli_reports_what_it_could_not_read(aws: None) -> None:
    deploy_qa()
    result = runner.invoke(app, ["cards", "--live", "--region", REGION, "--format", "html"])
    assert result.exit_code == 0, result.stderr
    assert '<p data-live="users">2 (' in result.stdout and '<p data-live="files">3 objects, 1007 bytes' in result.stdout
    assert "not read: AWS refused: ResourceNotFoundException" in result.stdout  # tables: no secret on moto
    assert conventions.CLOUD_PROVIDER.upper() in result.stdout and str(ROOT) not in result.stdout
