"""The Aurora (RDS) rules (policies/rules_rds.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.model import UNKNOWN
from tests.support.policies import (
    CLUSTER,
    INSTANCE,
    A,
    Case,
    M,
    Mutation,
    _remove_key,
    _set,
    _type,
    edge_findings,
)

CASES: list[Case] = [
    # aurora-backup-retention: 14 days in prod (and when the type is unknown), 1 day elsewhere; absent is 1.
    ("prod", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=14)], []),
    (
        "prod",
        "aurora-backup-retention",
        [_set(*CLUSTER, "backupRetentionPeriod", value=13)],
        [(M, "prod-main", "backups are kept 13 day(s), below 14")],
    ),
    (
        "prod",
        "aurora-backup-retention",
        [_remove_key(*CLUSTER, "backupRetentionPeriod")],
        [(M, "prod-main", "backups are kept 1 day(s), below 14")],
    ),
    ("prod", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=UNKNOWN)], []),
    ("staging", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=1)], []),
    ("staging", "aurora-backup-retention", [_remove_key(*CLUSTER, "backupRetentionPeriod")], []),
    (
        "staging",
        "aurora-backup-retention",
        [_set(*CLUSTER, "backupRetentionPeriod", value=0)],
        [(M, "shared-nonprod", "backups are kept 0 day(s), below 1")],
    ),
    (
        "staging",
        "aurora-backup-retention",
        [_type(None)],
        [(M, "shared-nonprod", "backups are kept 7 day(s), below 14")],
    ),
    # aurora-deletion-protection: every shared cluster; dev's private cluster is not shared.
    ("dev", "aurora-deletion-protection", [], []),
    (
        "staging",
        "aurora-deletion-protection",
        [_remove_key(*CLUSTER, "deletionProtection")],
        [(M, "shared-nonprod", "deletion protection is off on a shared cluster")],
    ),
    ("prod", "aurora-deletion-protection", [_set(*CLUSTER, "deletionProtection", value=UNKNOWN)], []),
    # aurora-not-public: absent is private; the cluster is checked as well as the instance.
    ("prod", "aurora-not-public", [_remove_key(*INSTANCE, "publiclyAccessible")], []),
    (
        "prod",
        "aurora-not-public",
        [_set(*CLUSTER, "publiclyAccessible", value=True)],
        [(M, "prod-main", "publicly accessible")],
    ),
    ("prod", "aurora-not-public", [_set(*INSTANCE, "publiclyAccessible", value=UNKNOWN)], []),
    # aurora-auto-minor-version-upgrade: absent is on (AWS's default).
    ("prod", "aurora-auto-minor-version-upgrade", [_remove_key(*INSTANCE, "autoMinorVersionUpgrade")], []),
    ("prod", "aurora-auto-minor-version-upgrade", [_set(*INSTANCE, "autoMinorVersionUpgrade", value=UNKNOWN)], []),
    # aurora-performance-insights: absent is off; its key is checked only when it is on.
    (
        "prod",
        "aurora-performance-insights",
        [_remove_key(*INSTANCE, "performanceInsightsEnabled"), _remove_key(*INSTANCE, "performanceInsightsKmsKeyId")],
        [(M, "prod-main-writer", "Performance Insights is off")],
    ),
    ("prod", "aurora-performance-insights", [_set(*INSTANCE, "performanceInsightsEnabled", value=UNKNOWN)], []),
    ("dev", "aurora-performance-insights", [], [(A, "envstack-dev-cluster-writer", "Performance Insights is off")]),
    # aurora-log-export: absent is not exported; an unknown entry might be postgresql.
    (
        "prod",
        "aurora-log-export",
        [_remove_key(*CLUSTER, "enabledCloudwatchLogsExports")],
        [(M, "prod-main", "the postgresql log is not exported")],
    ),
    (
        "prod",
        "aurora-log-export",
        [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade"])],
        [(M, "prod-main", "the postgresql log is not exported")],
    ),
    (
        "prod",
        "aurora-log-export",
        [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade", "postgresql"])],
        [],
    ),
    ("prod", "aurora-log-export", [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade", UNKNOWN])], []),
    ("prod", "aurora-log-export", [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=UNKNOWN)], []),
    # Each rule has a passing and a failing case here (tests/policies/test_rules.py checks it).
    # aurora-storage-encrypted, aurora-iam-auth, aurora-copy-tags-to-snapshot: absent is off.
    ("prod", "aurora-storage-encrypted", [_set(*CLUSTER, "storageEncrypted", value=UNKNOWN)], []),
    (
        "prod",
        "aurora-storage-encrypted",
        [_remove_key(*CLUSTER, "storageEncrypted")],
        [(M, "prod-main", "storage is not encrypted")],
    ),
    ("prod", "aurora-iam-auth", [_set(*CLUSTER, "iamDatabaseAuthenticationEnabled", value=UNKNOWN)], []),
    (
        "prod",
        "aurora-iam-auth",
        [_set(*CLUSTER, "iamDatabaseAuthenticationEnabled", value=False)],
        [(M, "prod-main", "IAM database authentication is off")],
    ),
    ("prod", "aurora-copy-tags-to-snapshot", [_set(*CLUSTER, "copyTagsToSnapshot", value=UNKNOWN)], []),
    (
        "prod",
        "aurora-copy-tags-to-snapshot",
        [_remove_key(*CLUSTER, "copyTagsToSnapshot")],
        [(M, "prod-main", "tags are not copied to snapshots")],
    ),
    (
        "prod",
        "aurora-auto-minor-version-upgrade",
        [_set(*INSTANCE, "autoMinorVersionUpgrade", value=False)],
        [(M, "prod-main-writer", "automatic minor version upgrades are off")],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
