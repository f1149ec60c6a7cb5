"""The access boundary, proven: the runtime roles as rendered, evaluated by moto's IAM engine
(every pair of environments, including a preview that shares staging's cluster), end to end on
moto with IAM enforcement on (S3 and STS), and chained to the real-PostgreSQL isolation matrix.

What runs where is stated in docs/access.md: S3 is checked end to end; Cognito, Secrets
Manager, KMS and the Data API by policy evaluation only (moto authorises them with resource `*`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import enable_iam_authentication
from moto.iam.access_control import IAMPolicy, PermissionResult
from psycopg import errors

from components.access import PROD_KEY, STATEMENTS, TABLES_DATA_API
from components.executors import PsycopgExecutor
from components.sql import Layout, create_plan, teardown_plan
from components.tables import credentials_document
from devtools.postgres import Server
from envctl import access
from envctl.plan import Rendering
from policies.contracts import conventions, names
from policies.contracts.names import DATABASE
from tests.support.program import PLATFORM_ROLE, PROJECT_DEFAULTS, REGION, only, render_raw

PREVIEW = "pr-7"
# Which store each statement of the runtime policy grants on.
STORE_OF = {
    "FilesBucket": "files (bucket)",
    "FilesObjects": "files (objects)",
    "Users": "users",
    "ApiKey": "API key",
    "TablesCredentials": "tables (credentials)",
    "TablesDataApi": "tables (cluster)",
    "ProdKey": "encryption key",
}


@pytest.fixture(scope="module")
def renderings(rendered: dict[str, Rendering]) -> dict[str, Rendering]:
    """staging, a custom preview attached (by ARN) to staging's very cluster, dev and prod."""
    attachment = rendered["staging"].outputs["clusterAttachment"]
    preview = render_raw(
        {
            "envstack:type": "custom",
            "envstack:cluster": {
                "name": attachment["name"],
                "arn": attachment["arn"],
                "secretArn": attachment["secretArn"],
                "endpoint": attachment["endpoint"],
            },
        },
        stack=PREVIEW,
    )
    return {"staging": rendered["staging"], PREVIEW: preview, "dev": rendered["dev"], "prod": rendered["prod"]}


@pytest.fixture(scope="module")
def envs(renderings: dict[str, Rendering]) -> dict[str, access.EnvAccess]:
    return {env: access.env_access(r.to_json()) for env, r in renderings.items()}


def verdict(document: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> Any:
    return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource, None, context)


def contexts(action: str, region: str) -> list[dict[str, str] | None]:
    """KMS calls are evaluated as made through each service the key statement names."""
    if action.startswith("kms:"):
        return [{"kms:ViaService": f"{s}.{region}.amazonaws.com"} for s in ("s3", "secretsmanager")]
    return [None]


def test_the_preview_really_shares_staging_cluster(envs: dict[str, access.EnvAccess]) -> None:
    assert envs[PREVIEW].stores["tables (cluster)"] == envs["staging"].stores["tables (cluster)"]
    others = [k for k in envs["staging"].stores if k != "tables (cluster)"]
    assert all(envs[PREVIEW].stores[k] != envs["staging"].stores[k] for k in others)


def test_each_store_is_the_arn_of_the_environments_own_resource(
    envs: dict[str, access.EnvAccess], rendered: dict[str, Rendering]
) -> None:
    """The matrix evaluates the ARNs the program exports for its own resources, and the cluster
    its table store runs on (the ARNs' text is the mock runtime's, so it is not asserted)."""
    resources = rendered["prod"].resources
    buckets = {r.name: r for r in resources if r.type == conventions.BUCKET}

    def secret(purpose: str) -> str | None:
        return next(
            r.arn
            for r in resources
            if r.type == conventions.SECRET and r.inputs["tags"][conventions.TAG_PURPOSE] == purpose
        )

    [files] = only(resources, conventions.LOGGING).property_dependencies["bucket"]  # not the log bucket
    assert envs["prod"].stores == {
        "files (bucket)": buckets[files].arn,
        "files (objects)": f"{buckets[files].arn}/{access.OBJECT_KEY}",
        "users": only(resources, conventions.USER_POOL).arn,
        "API key": secret("api-key"),
        "tables (credentials)": secret("database-credentials"),
        "tables (cluster)": only(resources, conventions.CLUSTER).arn,
        "encryption key": only(resources, conventions.KMS_KEY).arn,
    }


def test_every_role_is_denied_every_action_on_every_other_environment(envs: dict[str, access.EnvAccess]) -> None:
    probed = access.actions()
    checked = 0
    for a in envs.values():
        own = set(a.stores.values())
        for b in envs.values():
            if a is b:
                continue
            for store, arn in b.stores.items():
                for action in probed:
                    for context in contexts(action, b.region):
                        result = verdict(a.permissions, action, arn, context)
                        if arn in own:  # only the shared cluster, and only for the Data API
                            assert store == "tables (cluster)", (a.env, b.env, store)
                            assert (result == PermissionResult.PERMITTED) == (action in TABLES_DATA_API), action
                        else:
                            assert result != PermissionResult.PERMITTED, (a.env, action, b.env, store)
                        checked += 1
    # 4 roles x 3 others x their stores x every action: a count, so that nothing is skipped.
    assert checked > 4 * 3 * 6 * len(probed)


def test_each_role_is_allowed_what_it_needs_on_its_own_resources(envs: dict[str, access.EnvAccess]) -> None:
    for env in envs.values():
        granted = {sid for sid in STATEMENTS if sid != "ProdKey" or "encryption key" in env.stores}
        for sid in granted:
            arn = env.stores[STORE_OF[sid]]
            for action in STATEMENTS[sid]:
                for context in contexts(action, env.region):
                    assert verdict(env.permissions, action, arn, context) == PermissionResult.PERMITTED, (sid, action)
        for probe in access.PROBES:  # and nothing beyond the catalogue
            for arn in env.stores.values():
                assert verdict(env.permissions, probe, arn) != PermissionResult.PERMITTED, (env.env, probe, arn)


def test_prod_key_only_through_s3_and_secrets_manager(envs: dict[str, access.EnvAccess]) -> None:
    prod = envs["prod"]
    key = prod.stores["encryption key"]
    for action in PROD_KEY:
        via_ec2 = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
        assert verdict(prod.permissions, action, key, via_ec2) == PermissionResult.DENIED
        assert verdict(prod.permissions, action, key, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}) == (
            PermissionResult.PERMITTED
        )


def test_the_evaluation_can_fail_a_widened_policy(envs: dict[str, access.EnvAccess]) -> None:
    """The proof is not vacuous: one widened statement and moto allows the other environment."""
    widened = json.loads(json.dumps(envs[PREVIEW].permissions))
    widened["Statement"][0]["Resource"] = ["arn:aws:s3:::envstack-*"]
    staging_bucket = envs["staging"].stores["files (bucket)"]
    assert verdict(widened, "s3:ListBucket", staging_bucket) == PermissionResult.PERMITTED


def test_trust_admits_the_platform_principal_and_nobody_else(envs: dict[str, access.EnvAccess]) -> None:
    staging = envs["staging"]
    assert staging.principals == ["arn:aws:iam::123456789012:role/platform-api-staging"]
    assume = "sts:AssumeRole"
    ok = IAMPolicy(json.dumps(staging.trust)).is_action_permitted(assume, staging.role_arn, staging.principals[0])
    assert ok == PermissionResult.PERMITTED
    for stranger in (PLATFORM_ROLE, envs["prod"].principals[0], "arn:aws:iam::210987654321:role/platform-api-staging"):
        denied = IAMPolicy(json.dumps(staging.trust)).is_action_permitted(assume, staging.role_arn, stranger)
        assert denied == PermissionResult.DENIED, stranger
    # dev and the preview trust the project's named principals (Pulumi.yaml), never an account root.
    defaults = sorted(PROJECT_DEFAULTS["envstack:platformPrincipals"])
    assert sorted(envs["dev"].principals) == sorted(envs[PREVIEW].principals) == defaults
    assert not any(p.endswith(":root") for p in defaults)


def test_envctl_matrix_finds_no_crossing_and_shows_the_shared_cluster(renderings: dict[str, Rendering]) -> None:
    m = access.matrix([r.to_json() for r in renderings.values()])
    assert m.crossings == []
    shared = sorted((c.role, c.target, c.store, tuple(c.allowed)) for c in m.cells if c.shared)
    data_api = tuple(sorted(TABLES_DATA_API))
    assert shared == [
        (PREVIEW, "staging", "tables (cluster)", data_api),
        ("staging", PREVIEW, "tables (cluster)", data_api),
    ]


# --- end to end, on moto with IAM enforcement on ---------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _deploy(env: access.EnvAccess, bucket: str) -> str:
    """Create the environment's bucket and runtime role from the rendered documents."""
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    iam = boto3.client("iam")
    path, name = env.role_arn.split(":role", 1)[1].rsplit("/", 1)
    role = iam.create_role(
        RoleName=name,
        Path=path + "/",
        AssumeRolePolicyDocument=json.dumps(env.trust),
        MaxSessionDuration=env.max_session or 3600,
    )["Role"]
    assert role["Arn"] == env.role_arn  # the rendered ARN, in moto's default account
    iam.put_role_policy(RoleName=name, PolicyName=names.RUNTIME_POLICY_NAME, PolicyDocument=json.dumps(env.permissions))
    return str(role["Arn"])


def _session_s3(role_arn: str) -> Any:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=role_arn, RoleSessionName="platform-api", DurationSeconds=3600
    )["Credentials"]
    return boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return str(info.value.response["Error"]["Code"])


@pytest.mark.usefixtures("aws_env")
def test_end_to_end_a_role_reaches_its_own_bucket_and_not_the_other(
    envs: dict[str, access.EnvAccess], rendered: dict[str, Rendering]
) -> None:
    a, b = envs[PREVIEW], envs["staging"]
    bucket = {e.env: e.stores["files (bucket)"].removeprefix("arn:aws:s3:::") for e in (a, b)}
    role_a = _deploy(a, bucket[a.env])
    _deploy(b, bucket[b.env])
    s3 = _session_s3(role_a)  # assumed before enforcement starts: see docs/access.md on trust
    with enable_iam_authentication():
        s3.put_object(Bucket=bucket[a.env], Key="hello.txt", Body=b"preview data")
        assert s3.get_object(Bucket=bucket[a.env], Key="hello.txt")["Body"].read() == b"preview data"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket[a.env])["Contents"]] == ["hello.txt"]
        s3.delete_object(Bucket=bucket[a.env], Key="hello.txt")
        other = bucket[b.env]
        assert _denied(lambda: s3.put_object(Bucket=other, Key="x", Body=b"x")) == "AccessDenied"
        assert _denied(lambda: s3.get_object(Bucket=other, Key="x")) == "AccessDenied"
        assert _denied(lambda: s3.list_objects_v2(Bucket=other)) == "AccessDenied"
        assert _denied(lambda: s3.delete_object(Bucket=other, Key="x")) == "AccessDenied"
        assert _denied(lambda: s3.delete_bucket(Bucket=bucket[a.env])) == "AccessDenied"  # not granted either


# --- the tables link: the credentials A's role can read log in only as A ---------------------


@pytest.mark.postgres
def test_the_credentials_a_role_can_read_log_in_only_as_its_own_database_role(
    pg: Server, envs: dict[str, access.EnvAccess], renderings: dict[str, Rendering]
) -> None:
    a, b = envs[PREVIEW], envs["staging"]
    # 1. A's runtime role may read A's credentials secret, never B's (moto's evaluation).
    read = "secretsmanager:GetSecretValue"
    assert verdict(a.permissions, read, a.stores["tables (credentials)"]) == PermissionResult.PERMITTED
    assert verdict(a.permissions, read, b.stores["tables (credentials)"]) != PermissionResult.PERMITTED
    # 2. The secret of that ARN is the environment's table store's credentials secret, written
    #    (TableStore, credentials_document) with the login of the store's own database role.
    layouts = {}
    for env in (a.env, b.env):
        resources = renderings[env].resources
        secret = next(r for r in resources if r.arn == envs[env].stores["tables (credentials)"])
        assert secret.inputs["tags"] == {"envstack:purpose": "database-credentials"}
        assert any(r.property_dependencies.get("secretId") == [secret.name] for r in resources)  # its SecretVersion
        store = next(r for r in resources if r.type == conventions.SCHEMA_ROLE)
        assert store.parent == secret.parent  # the same TableStore
        layouts[env] = Layout(
            env=env, database=DATABASE, connection_limit=5, schema=store.inputs["schema"], role=store.inputs["role"]
        )
    assert layouts[a.env].role == "env_pr_7" and layouts[b.env].role == "env_staging"
    # 3. On a real PostgreSQL: those credentials log in as A's role, which cannot reach B's schema.
    passwords = {a.env: "preview-Password-1", b.env: "staging-Password-2"}
    executor = PsycopgExecutor(pg.admin_dsn)
    for env, layout in layouts.items():
        executor.apply(create_plan(layout, passwords[env]))
    try:
        with psycopg.connect(pg.dsn(layouts[b.env].role, passwords[b.env]), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
            conn.execute("INSERT INTO notes VALUES ('staging only')")
        doc = json.loads(
            credentials_document(
                password=passwords[a.env],
                host="127.0.0.1",
                port=pg.port,
                database=DATABASE,
                role=layouts[a.env].role,
                schema=layouts[a.env].schema,
            )
        )
        with psycopg.connect(pg.dsn(doc["username"], doc["password"], doc["dbname"]), autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (layouts[a.env].role,)
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f'SELECT * FROM "{layouts[b.env].schema}".notes')
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(pg.dsn(layouts[b.env].role, doc["password"]))
    finally:
        for layout in layouts.values():
            executor.apply(teardown_plan(layout))
