"""What an environment holds: its stores offline, and with `--live` what is in them.

Offline (`stores`): from a rendering of the committed stack, each store (schema, bucket, user
pool, API key secret, runtime role) with its identifier (the stack output) and what
`pulumi destroy` would do to it, as the data-loss manifest judges it (envctl/manifest.py).

Live (`read_live`): from the environment's own SSM record (components/records.py), with
- tables: each table of the schema and its row estimate from the catalogue's statistics
  (`pg_class.reltuples` once the table was analysed, else `pg_stat_user_tables.n_live_tup`),
  read through the executor interface the table store uses: the RDS Data API with the
  environment's own credentials secret, or a direct connection (`--dsn`);
- users: Cognito's `EstimatedNumberOfUsers` (DescribeUserPool; one call, Cognito's estimate);
- files: ListObjectsV2 up to LIST_LIMIT objects, counting objects and bytes; past that, S3's
  daily CloudWatch storage metrics (NumberOfObjects, BucketSizeBytes), labelled an estimate.
A read AWS or PostgreSQL refuses is reported in its section; the others still run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from components.executors import ExecutionError, Executor
from envctl.errors import aws_refusal
from envctl.manifest import fate
from envctl.plan import env_name, env_project
from policies.contracts import conventions
from policies.contracts.names import logical, record_name

LIST_LIMIT = 10_000  # objects listed before falling back to CloudWatch's daily metrics
PAGE = 1000  # ListObjectsV2's largest page

# Each store: (label, the store's role in its logical name, resource type, the output naming it).
STORES = (
    ("schema", "tables", conventions.SCHEMA_ROLE, "databaseSchema"),
    ("bucket", "files", conventions.BUCKET, "bucketName"),
    ("user pool", "users", conventions.USER_POOL, "userPoolId"),
    ("key secret", "api-key", conventions.SECRET, "apiKeySecretArn"),
    ("runtime role", "runtime", conventions.ROLE, "runtimeRoleArn"),
)

ROW_ESTIMATES = """
SELECT c.relname AS name,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE COALESCE(s.n_live_tup, 0) END AS rows,
       CASE WHEN c.reltuples >= 0 THEN 'pg_class.reltuples' ELSE 'pg_stat_user_tables.n_live_tup' END AS source
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


@dataclass
class Store:
    store: str
    resource: str
    identifier: str
    fate: str
    detail: str


def stores(plan: dict[str, Any]) -> list[Store]:
    """The environment's stores in a plan, each with what `pulumi destroy` would do to it."""
    outputs = plan.get("outputs", {})
    env, project = env_name(plan), env_project(plan)
    found = []
    for label, role, type_, output in STORES:
        name = logical(env, role, project)
        resource = next((r for r in plan["resources"] if r["type"] == type_ and r["name"] == name), None)
        if resource is None:
            continue
        verdict, detail = fate(resource)
        found.append(Store(label, name, str(outputs.get(output, "")), verdict, detail))
    return found


# --- live --------------------------------------------------------------------------------------


def refused(err: Exception) -> str:
    """One line for a read that could not be made."""
    from botocore.exceptions import ClientError

    if isinstance(err, ClientError):
        return aws_refusal(err)
    return f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}".rstrip(": ")


@dataclass
class Live:
    """What the environment holds; a section that could not be read carries its `error`."""

    record: str
    tables: list[dict[str, Any]] | None = None
    tables_error: str | None = None
    users: dict[str, Any] | None = None
    users_error: str | None = None
    files: dict[str, Any] | None = None
    files_error: str | None = None

    @property
    def errors(self) -> list[str]:
        return [e for e in (self.tables_error, self.users_error, self.files_error) if e]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_record(session: Any, region: str, project: str, env: str) -> dict[str, Any]:
    """The environment's own SSM record (raises what boto3 raises)."""
    name = record_name(project, env)
    value = session.client("ssm", region_name=region).get_parameter(Name=name)["Parameter"]["Value"]
    record: dict[str, Any] = json.loads(value)
    return record


def table_rows(executor: Executor, schema: str) -> list[dict[str, Any]]:
    """Each table of `schema` and its row estimate, through the executor's `query`."""
    rows = executor.query(ROW_ESTIMATES, {"schema": schema})
    return [{"table": str(r[0]), "rows": int(r[1]), "source": str(r[2])} for r in rows]


def data_api_executor(session: Any, record: dict[str, Any]) -> Executor:
    """The Data API executor of the environment's own credentials secret; the database is the
    secret's `dbname` (components/tables.py stores the credentials in RDS's shape)."""
    from components.executors import DataApiExecutor

    secret = session.client("secretsmanager", region_name=record["region"]).get_secret_value(
        SecretId=record["databaseSecretArn"]
    )
    database = str(json.loads(secret["SecretString"])["dbname"])
    return DataApiExecutor(record["databaseClusterArn"], record["databaseSecretArn"], database)


def user_count(session: Any, record: dict[str, Any]) -> dict[str, Any]:
    pool = session.client("cognito-idp", region_name=record["region"]).describe_user_pool(
        UserPoolId=record["userPoolId"]
    )["UserPool"]
    return {"count": int(pool.get("EstimatedNumberOfUsers", 0)), "source": "Cognito EstimatedNumberOfUsers (estimate)"}


def file_totals(session: Any, record: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Objects and bytes of the bucket: counted up to LIST_LIMIT objects, else CloudWatch's estimate."""
    s3 = session.client("s3", region_name=record["region"])
    bucket = record["bucketName"]
    count = size = 0
    request: dict[str, Any] = {"Bucket": bucket, "MaxKeys": PAGE}
    while True:
        page = s3.list_objects_v2(**request)
        contents = page.get("Contents", [])
        count += len(contents)
        size += sum(int(o["Size"]) for o in contents)
        if not page.get("IsTruncated"):
            return {"objects": count, "bytes": size, "source": "counted (ListObjectsV2)", "estimate": False}
        if count >= LIST_LIMIT:
            return _metrics(session, record, count, now or datetime.now(UTC))
        request["ContinuationToken"] = page["NextContinuationToken"]


def _metrics(session: Any, record: dict[str, Any], listed: int, now: datetime) -> dict[str, Any]:
    cloudwatch = session.client("cloudwatch", region_name=record["region"])
    latest: dict[str, tuple[datetime, float]] = {}
    for metric, storage, statistic in (
        ("NumberOfObjects", "AllStorageTypes", "Average"),
        ("BucketSizeBytes", "StandardStorage", "Average"),
    ):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/S3",
            MetricName=metric,
            Dimensions=[
                {"Name": "BucketName", "Value": record["bucketName"]},
                {"Name": "StorageType", "Value": storage},
            ],
            StartTime=now - timedelta(days=3),
            EndTime=now,
            Period=86400,
            Statistics=[statistic],
        )["Datapoints"]
        if points:
            newest = max(points, key=lambda p: p["Timestamp"])
            latest[metric] = (newest["Timestamp"], float(newest[statistic]))
    if "NumberOfObjects" not in latest:
        return {
            "objects": listed,
            "bytes": None,
            "source": f"more than {LIST_LIMIT} objects; no CloudWatch storage metric in the last 3 days",
            "estimate": True,
        }
    when, objects = latest["NumberOfObjects"]
    return {
        "objects": int(objects),
        "bytes": int(latest["BucketSizeBytes"][1]) if "BucketSizeBytes" in latest else None,
        "source": f"estimate: S3's daily CloudWatch metrics of {when:%Y-%m-%d} (more than {LIST_LIMIT} objects)",
        "estimate": True,
    }


def read_live(session: Any, record: dict[str, Any], executor: Executor | None) -> Live:
    """Every live section; each failure is reported in its section, never raised.
    `executor`: a direct one (`--dsn`), or None for the Data API with the environment's secret."""
    from botocore.exceptions import BotoCoreError, ClientError

    expected = (ClientError, BotoCoreError, ExecutionError, KeyError, ValueError)
    live = Live(record=record_name(str(record.get("project")), str(record.get("name"))))
    try:
        live.tables = table_rows(executor or data_api_executor(session, record), record["databaseSchema"])
    except expected as err:
        live.tables_error = refused(err)
    try:
        live.users = user_count(session, record)
    except expected as err:
        live.users_error = refused(err)
    try:
        live.files = file_totals(session, record)
    except expected as err:
        live.files_error = refused(err)
    return live
