"""What an environment holds (envctl/inventory.py): its stores offline, as a rendering declares
them, and live on moto (S3, CloudWatch, Secrets Manager); the Data API read is checked at the
request level (botocore's Stubber). `envctl env show --live`, which prints these, is
tests/envctl/test_env_live.py's."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from components.executors import DataApiExecutor, ExecutionError
from envctl import inventory
from envctl.plan import Rendering
from tests.support.deployed import TABLES, deploy_qa
from tests.support.program import REGION, committed_plan, render_raw

pytestmark = pytest.mark.usefixtures("project")  # every test works on a copy of the project


def test_past_the_listing_limit_files_are_cloudwatchs_estimate(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_tables_through_the_data_api_at_the_request_level(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_the_stores_of_a_rendering_are_named_by_its_outputs(rendered: dict[str, Rendering]) -> None:
    r = rendered["dev"]
    found = inventory.stores(r.to_json())
    assert [(s.store, s.resource) for s in found] == [
        ("schema", "envstack-dev-tables"),
        ("bucket", "envstack-dev-files"),
        ("user pool", "envstack-dev-users"),
        ("key secret", "envstack-dev-api-key"),
        ("runtime role", "envstack-dev-runtime"),
    ]
    outputs = ["databaseSchema", "bucketName", "userPoolId", "apiKeySecretArn", "runtimeRoleArn"]
    assert [s.identifier for s in found] == [str(r.outputs[o]) for o in outputs]
    assert {s.fate for s in found} == {"deleted"}  # dev keeps nothing
    assert found[0].detail == "schema env_dev dropped with every table and row, and role env_dev"


def test_a_store_the_plan_does_not_declare_is_left_out(rendered: dict[str, Rendering]) -> None:
    plan = rendered["dev"].to_json()
    plan["resources"] = [r for r in plan["resources"] if not r["name"].endswith("-users")]
    assert [s.store for s in inventory.stores(plan)] == ["schema", "bucket", "key secret", "runtime role"]


@pytest.mark.parametrize(
    ("err", "line"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "not yours"}}, "ListObjectsV2"),
            "AWS refused: AccessDenied: not yours",
        ),
        (ClientError({"Error": {}}, "ListObjectsV2"), "AWS refused: error:"),
        (
            EndpointConnectionError(endpoint_url="https://s3"),
            'EndpointConnectionError: Could not connect to the endpoint URL: "https://s3"',
        ),
        (
            ExecutionError("permission denied for schema env_qa\nDETAIL: more"),
            "ExecutionError: permission denied for schema env_qa",
        ),
        (ValueError(""), "ValueError"),
    ],
)
def test_a_read_that_could_not_be_made_is_one_line(err: Exception, line: str) -> None:
    assert inventory.refused(err) == line


def test_a_section_that_could_not_be_read_carries_its_error() -> None:
    live = inventory.Live(
        record="/envstack/envstack/environments/qa", users_error="AWS refused: x", files={"objects": 0}
    )
    assert live.errors == ["AWS refused: x"]
    assert live.to_json() == {
        "record": "/envstack/envstack/environments/qa",
        "tables": None,
        "tables_error": None,
        "users": None,
        "users_error": "AWS refused: x",
        "files": {"objects": 0},
        "files_error": None,
    }


def test_users_and_files_that_cannot_be_read_are_each_reported_in_their_own_section(aws: Any) -> None:
    record = {**deploy_qa(), "userPoolId": f"{REGION}_missing", "bucketName": "envstack-qa-files-missing"}
    live = inventory.read_live(boto3.session.Session(), record, None)
    assert live.users is None and live.users_error is not None
    assert live.users_error.startswith("AWS refused: ResourceNotFoundException: ")
    assert live.files is None and live.files_error == "AWS refused: NoSuchBucket: The specified bucket does not exist"


def test_a_pool_without_an_estimate_counts_none(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeUserPool's answer may omit EstimatedNumberOfUsers: zero, not a crash."""
    session = boto3.session.Session()
    cognito = session.client("cognito-idp", region_name=REGION)
    stubber = Stubber(cognito)
    stubber.add_response("describe_user_pool", {"UserPool": {"Id": "p"}}, {"UserPoolId": "p"})
    stubber.activate()
    monkeypatch.setattr(session, "client", lambda name, region_name: cognito)
    counted = inventory.user_count(session, {"region": REGION, "userPoolId": "p"})
    assert counted == {"count": 0, "source": "Cognito EstimatedNumberOfUsers (estimate)"}


def test_stores_are_named_in_the_plans_own_project_and_an_output_it_lacks_is_an_empty_identifier() -> None:
    acme = inventory.stores(render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="dev").to_json())
    assert [s.resource for s in acme] == [
        "envstack-4-acme-dev-tables",
        "envstack-4-acme-dev-files",
        "envstack-4-acme-dev-users",
        "envstack-4-acme-dev-api-key",
        "envstack-4-acme-dev-runtime",
    ]
    plan = committed_plan("dev")
    del plan["outputs"]["userPoolId"]
    assert [s.identifier for s in inventory.stores(plan)][2] == ""
    del plan["outputs"]
    assert {s.identifier for s in inventory.stores(plan)} == {""}
