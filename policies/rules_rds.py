"""The Aurora (RDS) rules: encryption, IAM authentication, snapshots' tags, deletion protection,
backups, public access, minor upgrades, Performance Insights and log export. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from policies.contracts.conventions import CLUSTER, INSTANCE
from policies.model import PROD, UNIVERSAL, Res, Rule, Stack, collector, holds, known

RULES: list[Rule] = []
rule = collector(RULES)


def _cluster_flag_off(s: Stack, prop: str, message: str) -> Iterator[tuple[Res, str]]:
    """Every cluster has the boolean `prop` on. Registered below with partial, at module level:
    mutmut mutates only functions that tests call, not code that runs once at import."""
    for cluster in s.of(CLUSTER):
        if not holds(cluster.get(prop), True):
            yield cluster, message


rule(
    "aurora-storage-encrypted",
    UNIVERSAL,
    "CKV_AWS_96; AVD-AWS-0079",
    "Every Aurora cluster encrypts its storage.",
)(partial(_cluster_flag_off, prop="storageEncrypted", message="storage is not encrypted"))
rule(
    "aurora-iam-auth",
    UNIVERSAL,
    "CKV_AWS_162; AVD-AWS-0176",
    "Every Aurora cluster has IAM database authentication on.",
)(partial(_cluster_flag_off, prop="iamDatabaseAuthenticationEnabled", message="IAM database authentication is off"))
rule(
    "aurora-copy-tags-to-snapshot",
    UNIVERSAL,
    "CKV_AWS_313",
    "Every Aurora cluster copies its tags to snapshots.",
)(partial(_cluster_flag_off, prop="copyTagsToSnapshot", message="tags are not copied to snapshots"))


@rule(
    "aurora-deletion-protection",
    UNIVERSAL,
    "CKV_AWS_139; AVD-AWS-0343",
    "Every shared Aurora cluster has deletion protection (dev's private cluster is not shared).",
    deletion_guard=True,
)
def _aurora_deletion(s: Stack) -> Iterator[tuple[Res, str]]:
    if s.env_type == "dev":
        return
    for cluster in s.of(CLUSTER):
        if not holds(cluster.get("deletionProtection"), True):
            yield cluster, "deletion protection is off on a shared cluster"


@rule(
    "aurora-backup-retention",
    UNIVERSAL,
    "CKV_AWS_133; AVD-AWS-0077",
    "Every Aurora cluster keeps backups: at least 14 days in prod, at least 1 day elsewhere.",
)
def _aurora_backups(s: Stack) -> Iterator[tuple[Res, str]]:
    minimum = 14 if s.env_type in (None, "prod") else 1
    for cluster in s.of(CLUSTER):
        days = cluster.get("backupRetentionPeriod")
        days = 1 if days is None else days
        if known(days) and int(days) < minimum:
            yield cluster, f"backups are kept {days} day(s), below {minimum}"


@rule(
    "aurora-not-public", UNIVERSAL, "CKV_AWS_17; AVD-AWS-0180", "No Aurora cluster or instance is publicly accessible."
)
def _aurora_public(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.of(CLUSTER) + s.of(INSTANCE):
        if not holds(res.get("publiclyAccessible") or False, False):
            yield res, "publicly accessible"


@rule(
    "aurora-auto-minor-version-upgrade",
    UNIVERSAL,
    "CKV_AWS_226",
    "Every Aurora instance takes minor version upgrades automatically.",
)
def _aurora_minor(s: Stack) -> Iterator[tuple[Res, str]]:
    for instance in s.of(INSTANCE):
        if instance.get("autoMinorVersionUpgrade") is False:
            yield instance, "automatic minor version upgrades are off"


@rule(
    "aurora-performance-insights",
    PROD,
    "CKV_AWS_353, CKV_AWS_354",
    "Every Aurora instance has Performance Insights on, encrypted with the environment's own key.",
)
def _aurora_pi(s: Stack) -> Iterator[tuple[Res, str]]:
    for instance in s.of(INSTANCE):
        enabled = instance.get("performanceInsightsEnabled")
        if not holds(enabled, True):
            yield instance, "Performance Insights is off"
        elif known(enabled) and not instance.get("performanceInsightsKmsKeyId"):
            yield instance, "Performance Insights is not encrypted with the environment's own key"


@rule("aurora-log-export", PROD, "CKV_AWS_324", "Every Aurora cluster exports its postgresql log to CloudWatch.")
def _aurora_logs(s: Stack) -> Iterator[tuple[Res, str]]:
    for cluster in s.of(CLUSTER):
        exports = cluster.get("enabledCloudwatchLogsExports")
        if known(exports) and all(known(e) for e in exports or []) and "postgresql" not in (exports or []):
            yield cluster, "the postgresql log is not exported"
