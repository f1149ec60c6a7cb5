"""The whole program, per committed stack: the environment card and the deletion semantics."""

from __future__ import annotations

import re

import pytest

from envctl.errors import RenderError
from envctl.plan import Rendering
from policies.contracts import conventions, names
from policies.contracts.conventions import TAG_ENVIRONMENT, TAG_PROJECT, TAG_STACK, TAG_TYPE
from tests.support.program import CONFIRMED_PROD, PLATFORM_ROLE, REGION, STACKS, assert_all_aws_on, only, render_raw

CARD = ("name", "type", "cloudProvider", "region", "cluster", "createdAt")
STATEFUL = (
    conventions.SCHEMA_ROLE,
    conventions.BUCKET,
    conventions.USER_POOL,
    conventions.SECRET,
    conventions.CLUSTER,
    conventions.KMS_KEY,
)
PROVIDER = f"aws-{REGION}"


def test_the_three_stacks_are_committed() -> None:
    assert set(STACKS) >= {"dev", "staging", "prod"}


@pytest.mark.parametrize("stack", STACKS)
def test_card_has_the_seed_fields(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    out = r.outputs
    assert all(field in out for field in CARD)
    assert out["name"] == r.config.name and out["type"] == r.config.type.value
    assert out["cloudProvider"] == "aws" and out["region"] == REGION
    assert out["cluster"] == ("" if r.config.type.value == "dev" else r.config.cluster.name)  # type: ignore[union-attr]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out["createdAt"])
    for key in ("bucketName", "userPoolId", "userPoolClientId", "apiKeySecretArn"):
        assert out[key], key
    assert out["apiKey"] == "[secret]"


@pytest.mark.parametrize("stack", STACKS)
def test_created_at_is_a_time_static_that_nothing_retriggers(rendered: dict[str, Rendering], stack: str) -> None:
    static = only(rendered[stack].resources, conventions.STATIC_TIME)
    assert "triggers" not in static.inputs and "rfc3339" not in static.inputs


@pytest.mark.parametrize("stack", STACKS)
def test_one_explicit_regional_provider_tags_everything(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    provider = only(r.resources, conventions.AWS_PROVIDER)
    assert provider.name == PROVIDER and provider.inputs["region"] == REGION
    tags = provider.inputs["defaultTags"]["tags"]
    assert tags == {
        TAG_ENVIRONMENT: r.config.name,
        TAG_TYPE: r.config.type.value,
        TAG_PROJECT: "envstack",
        TAG_STACK: stack,
    }
    assert_all_aws_on(r.resources, PROVIDER)


def _stateful(r: Rendering) -> list:
    return [x for x in r.resources if x.type in STATEFUL]


@pytest.mark.parametrize("stack", STACKS)
def test_deletion_semantics_by_type(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    kind = r.config.type.value
    bucket = next(x for x in r.by_type(conventions.BUCKET) if x.name.endswith("-files"))
    pool = only(r.resources, conventions.USER_POOL)
    secrets = r.by_type(conventions.SECRET)
    # The API key and the database credentials, and the provisioner's where the stack owns a shared cluster.
    assert len(secrets) == (3 if "clusterAttachment" in r.outputs else 2)
    windows = {x.inputs["recoveryWindowInDays"] for x in secrets}
    if kind in ("dev", "custom"):
        assert bucket.inputs["forceDestroy"] is True
        assert windows == {0}
        assert pool.inputs["deletionProtection"] == "INACTIVE"
        assert not any(x.protect for x in r.resources)
    elif kind == "staging":
        assert bucket.inputs["forceDestroy"] is False
        assert windows == {7}
        assert pool.inputs["deletionProtection"] == "ACTIVE"
    else:
        assert kind == "prod"
        assert bucket.inputs["forceDestroy"] is False
        assert windows == {30}
        assert pool.inputs["deletionProtection"] == "ACTIVE"
        assert _stateful(r) and all(x.protect for x in _stateful(r)), [x.name for x in _stateful(r) if not x.protect]
        assert only(r.resources, conventions.CLUSTER).inputs["deletionProtection"] is True


def test_prod_deletion_confirmed_lifts_every_guard_but_keeps_recovery_and_snapshot() -> None:
    r = render_raw(CONFIRMED_PROD, stack="prod")
    assert not any(x.protect for x in r.resources)
    assert only(r.resources, conventions.USER_POOL).inputs["deletionProtection"] == "INACTIVE"
    assert all(b.inputs["forceDestroy"] is True for b in r.by_type(conventions.BUCKET))
    cluster = only(r.resources, conventions.CLUSTER)
    assert cluster.inputs["deletionProtection"] is False and cluster.inputs["skipFinalSnapshot"] is False
    assert {x.inputs["recoveryWindowInDays"] for x in r.by_type(conventions.SECRET)} == {30}
    # The key that the kept snapshot and secrets need is not scheduled for deletion (docs/lifecycle.md).
    key = only(r.resources, conventions.KMS_KEY)
    assert key.retain_on_delete is True
    assert cluster.inputs["kmsKeyId"] == key.arn


def test_staging_deletion_confirmed_lets_destroy_remove_files_and_users() -> None:
    raw = {
        "envstack:type": "staging",
        "envstack:cluster": {"name": "shared-nonprod", "create": True},
        "envstack:confirmDeletion": "staging",
        "envstack:platformPrincipals": [PLATFORM_ROLE],
    }
    r = render_raw(raw, stack="staging")
    assert only(r.resources, conventions.USER_POOL).inputs["deletionProtection"] == "INACTIVE"
    assert only(r.resources, conventions.BUCKET).inputs["forceDestroy"] is True


PAY_PER_USE_PREVIEW_TYPES = {
    conventions.AWS_PROVIDER,
    conventions.STACK_REFERENCE,
    conventions.ENVIRONMENT,
    conventions.FILES,
    conventions.USERS,
    conventions.API_KEY,
    conventions.TABLE_STORE,
    conventions.ACCESS,
    conventions.ROLE,  # IAM is not billed
    conventions.ROLE_POLICY,
    conventions.REGISTRATION,
    conventions.SSM_PARAMETER,  # Standard-tier parameters carry no charge
    conventions.BUCKET,
    conventions.PUBLIC_ACCESS_BLOCK,
    conventions.OWNERSHIP,
    conventions.SSE,
    conventions.BUCKET_POLICY,
    conventions.USER_POOL,
    conventions.USER_POOL_CLIENT,
    conventions.SECRET,
    conventions.SECRET_VERSION,
    conventions.RANDOM_PASSWORD,
    conventions.STATIC_TIME,
    conventions.SCHEMA_ROLE,
}


def test_custom_preview_attaches_by_stack_reference_and_creates_nothing_slow() -> None:
    raw = {"envstack:type": "custom", "envstack:cluster": {"name": "shared-nonprod", "stack": "acme/envstack/staging"}}
    r = render_raw(raw, stack="pr-42")
    assert r.outputs["type"] == "custom" and r.outputs["cluster"] == "shared-nonprod"
    ref = only(r.resources, conventions.STACK_REFERENCE)
    assert ref.inputs["name"] == "acme/envstack/staging"
    # An allow-list, not a deny-list: a preview declares only resources that are free at rest
    # or billed per request. A new type here (a cluster, a NAT gateway, a KMS key, anything
    # hourly-billed) must be added on purpose.
    assert {x.type for x in r.resources} == PAY_PER_USE_PREVIEW_TYPES
    assert "clusterAttachment" not in r.outputs
    # It provisions through the owner's provisioner login, never the cluster's master secret.
    store = only(r.resources, conventions.SCHEMA_ROLE)
    assert (
        store.inputs["executor"]["secretArn"]
        .split(":secret:")[1]
        .startswith(names.provisioner_secret_name("staging-cluster") + "-")
    )
    assert not r.by_type(conventions.PROVISIONER_ROLE)


def test_custom_preview_can_attach_by_arns() -> None:
    raw = {
        "envstack:type": "custom",
        "envstack:cluster": {
            "name": "ext",
            "arn": "arn:aws:rds:ap-northeast-2:123456789012:cluster:ext",
            "secretArn": "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-1",
            "endpoint": "ext.cluster-x.ap-northeast-2.rds.amazonaws.com",
        },
    }
    r = render_raw(raw, stack="pr-7")
    assert not r.by_type(conventions.STACK_REFERENCE) and not r.by_type(conventions.CLUSTER)


def test_stacks_that_own_a_shared_cluster_export_its_attachment(rendered: dict[str, Rendering]) -> None:
    attachment = rendered["staging"].outputs["clusterAttachment"]
    assert set(attachment) == {"name", "arn", "secretArn", "provisionerSecretArn", "endpoint", "port", "database"}
    r = rendered["staging"]
    # The owner: its own table store and the provisioner's plan log in as the master; the secret it
    # exports holds the provisioner's login, under the name the CI roles' policies grant by.
    master = attachment["secretArn"]
    assert only(r.resources, conventions.SCHEMA_ROLE).inputs["executor"]["secretArn"] == master
    assert only(r.resources, conventions.PROVISIONER_ROLE).inputs["executor"]["secretArn"] == master
    secret = next(x for x in r.by_type(conventions.SECRET) if x.arn == attachment["provisionerSecretArn"])
    assert secret.inputs["name"] == names.provisioner_secret_name("shared-nonprod") != master
    assert not rendered["dev"].by_type(conventions.PROVISIONER_ROLE)  # a private cluster has none
    assert "clusterAttachment" not in rendered["dev"].outputs  # dev's cluster is private


def test_a_bad_config_stops_the_program_with_the_config_message() -> None:
    from envctl.runtime import record

    def program() -> None:
        import runpy

        from envctl.stackfiles import ROOT

        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    with pytest.raises(RenderError, match=r"envstack:type: got \"qa\""):
        record(program, stack="dev", region=REGION, raw={"aws:region": REGION, "envstack:type": "qa"})


@pytest.mark.parametrize(
    ("stack", "cluster"),
    [
        ("dev", None),
        ("staging", {"name": "shared-nonprod", "create": True}),
        ("prod", {"name": "prod-main", "create": True}),
    ],
)
def test_the_network_key_places_every_created_cluster(stack: str, cluster: dict[str, object] | None) -> None:
    """docs/lifecycle.md, "A network for every created cluster": dev too can leave the default VPC (many organisation accounts have none)."""
    raw: dict[str, object] = {
        "envstack:type": stack,
        "envstack:network": {"subnetGroup": "private-db", "securityGroupIds": ["sg-0123456789abcdef0"]},
    }
    if cluster:
        raw["envstack:cluster"] = cluster
        raw["envstack:platformPrincipals"] = [PLATFORM_ROLE]
    r = render_raw(raw, stack=stack)
    db = only(r.resources, conventions.CLUSTER)
    assert db.inputs["dbSubnetGroupName"] == "private-db"
    assert db.inputs["vpcSecurityGroupIds"] == ["sg-0123456789abcdef0"]
    assert only(r.resources, conventions.INSTANCE).inputs["dbSubnetGroupName"] == "private-db"
