"""Cluster (components/cluster.py) built alone under mocks: Aurora Serverless v2, the final snapshot, the engine, the guards by type."""

from __future__ import annotations

import re

import pytest

from components.cluster import Cluster, ClusterArgs
from components.environment import cluster_args
from policies.contracts import conventions
from tests.support.program import DEV, KMS, PROD, STAGING, TEST_PROVIDER, assert_all_aws_on, build, only


@pytest.mark.parametrize("settings", [DEV, STAGING, PROD], ids=["dev", "staging", "prod"])
def test_cluster_is_serverless_v2_with_data_api_and_guards(settings) -> None:  # type: ignore[no-untyped-def]
    res = build(lambda o: Cluster("c", cluster_args(settings, "c-id"), o))
    assert_all_aws_on(res, TEST_PROVIDER)
    cluster = only(res, conventions.CLUSTER)
    i = cluster.inputs
    assert i["engine"] == "aurora-postgresql" and i["engineMode"] == "provisioned"
    assert i["enableHttpEndpoint"] is True
    assert i["storageEncrypted"] is True
    assert i["iamDatabaseAuthenticationEnabled"] is True
    assert i["manageMasterUserPassword"] is True and "masterPassword" not in i
    assert i["backupRetentionPeriod"] >= 7
    assert i["copyTagsToSnapshot"] is True
    assert i["deletionProtection"] is settings.cluster_deletion_protection
    assert i["serverlessv2ScalingConfiguration"]["minCapacity"] == settings.cluster_min_capacity
    writer = only(res, conventions.INSTANCE)
    assert writer.inputs["instanceClass"] == "db.serverless"
    assert writer.inputs["publiclyAccessible"] is False


@pytest.mark.parametrize("settings", [DEV, STAGING, PROD], ids=["dev", "staging", "prod"])
def test_final_snapshot_is_unique_to_one_cluster_lifetime_or_none(settings) -> None:  # type: ignore[no-untyped-def]
    """docs/lifecycle.md, "Final snapshots: unique per cluster lifetime (or none)": `up, destroy, up, destroy` must not collide on the final snapshot's name."""
    res = build(lambda o: Cluster("c", cluster_args(settings, "c-id"), o))
    cluster = only(res, conventions.CLUSTER)
    if not settings.final_snapshot:  # dev: deleting it removes everything for good
        assert settings is DEV
        assert cluster.inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in cluster.inputs
        assert not [r for r in res if r.type.startswith("random:")]
        return
    assert cluster.inputs["skipFinalSnapshot"] is False
    suffix = only(res, conventions.RANDOM_ID)
    # Generated once per cluster lifetime and kept in state: a child of the cluster's component,
    # so destroying the environment destroys it and re-creating it draws a new suffix.
    assert suffix.parent == "c" and suffix.inputs["byteLength"] >= 4
    assert cluster.property_dependencies["finalSnapshotIdentifier"] == [suffix.name]
    assert re.fullmatch(r"c-id-final-[0-9a-f]{8}", cluster.inputs["finalSnapshotIdentifier"])
    assert suffix.inputs["keepers"]["identifier"] == "c-id"


def test_a_replacement_cluster_draws_a_new_final_snapshot_suffix() -> None:
    """The suffix's keepers are the inputs that make AWS replace the cluster, so a replacement
    (which deletes the old cluster first, leaving its snapshot) never reuses that name."""

    def keepers(args: ClusterArgs) -> dict[str, str]:
        res = build(lambda o: Cluster("c", args, o))
        return dict(only(res, conventions.RANDOM_ID).inputs["keepers"])

    base = keepers(cluster_args(PROD, "c-id"))
    for changed in (
        cluster_args(PROD, "other"),
        cluster_args(PROD, "c-id", database="other"),
        cluster_args(PROD, "c-id", subnet_group="private-db"),
        cluster_args(PROD, "c-id", kms_key_arn=KMS),
    ):
        assert keepers(changed) != base, changed


@pytest.mark.parametrize("settings", [DEV, STAGING, PROD], ids=["dev", "staging", "prod"])
def test_engine_pins_the_major_only_and_the_writer_inherits_it(settings) -> None:  # type: ignore[no-untyped-def]
    """docs/lifecycle.md, "Engine version: the major only": an AWS minor upgrade must never turn into a diff that tries to go back."""
    res = build(lambda o: Cluster("c", cluster_args(settings, "c-id"), o))
    cluster = only(res, conventions.CLUSTER)
    assert re.fullmatch(r"\d+", cluster.inputs["engineVersion"]), cluster.inputs["engineVersion"]
    assert int(cluster.inputs["engineVersion"]) >= 16  # scale to zero needs 16.3+ (the major's default)
    assert cluster.ignore_changes == ["engineVersion"]
    writer = only(res, conventions.INSTANCE)
    assert "engineVersion" not in writer.inputs and writer.inputs["autoMinorVersionUpgrade"] is True


@pytest.mark.parametrize("settings", [DEV, STAGING, PROD], ids=["dev", "staging", "prod"])
def test_fixed_identifiers_are_deleted_before_replacement_and_guarded(settings) -> None:  # type: ignore[no-untyped-def]
    """docs/lifecycle.md, "Fixed physical names and replacement": the cluster and writer keep fixed identifiers, so a replacement must delete
    first; where the cluster holds data worth keeping, `protect` refuses the replacement."""
    res = build(lambda o: Cluster("c", cluster_args(settings, "c-id"), o), settings)
    for type_ in (conventions.CLUSTER, conventions.INSTANCE):
        r = only(res, type_)
        assert r.delete_before_replace is True, type_
        assert r.protect is settings.cluster_protect is (settings is not DEV), type_


@pytest.mark.parametrize(
    ("settings", "min_capacity", "auto_pause"),
    [(DEV, 0, 3600), (STAGING, 0, 3600), (PROD, 0.5, None)],
    ids=["dev", "staging", "prod"],
)
def test_dev_and_staging_clusters_can_pause_and_prod_cannot(settings, min_capacity, auto_pause) -> None:  # type: ignore[no-untyped-def]
    built = build(lambda o: Cluster("c", cluster_args(settings, "c"), o))
    scaling = only(built, conventions.CLUSTER).inputs["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == min_capacity
    assert scaling.get("secondsUntilAutoPause") == auto_pause
