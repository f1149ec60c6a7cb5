"""The per-type settings table: the one place that says how dev, custom, staging and prod differ.

Every component reads its knobs from a `TypeSettings`; none of them branches on the
environment type itself. The values follow the security controls the project was given (each field's
doc names its Checkov ID; the table is rendered in docs/reference.md): dev
and custom take the cheap, disposable end, prod the protected end, staging sits between.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from components.config import EnvType, StackConfig


def _doc(text: str) -> Any:
    """A settings field with its documentation: docs/reference.md is generated from it."""
    return field(metadata={"doc": text})


@dataclass(frozen=True)
class TypeSettings:
    """How one environment type is provisioned. Each field's doc says what it controls and,
    where one applies, which scanner control (Checkov ID) it satisfies."""

    # Files (S3)
    force_destroy: bool = _doc("S3: `pulumi destroy` deletes the files with the bucket (own rule)")
    versioning: bool = _doc("S3: versioning (CKV_AWS_21)")
    noncurrent_version_days: int | None = _doc("S3: days until noncurrent versions expire (CKV2_AWS_61)")
    access_logging: bool = _doc("S3: server access logging to an SSE-S3 log bucket of its own (CKV_AWS_18)")
    access_log_days: int | None = _doc("S3: days the log bucket keeps access logs before they expire (CKV2_AWS_61)")
    customer_managed_key: bool = _doc(
        "KMS: an own key, rotation on, for S3, secrets and RDS (CKV_AWS_145, CKV_AWS_149, CKV_AWS_327)"
    )
    # Users (Cognito)
    mfa: Literal["OFF", "OPTIONAL", "ON"] = _doc("Cognito: MFA (TOTP)")
    password_min_length: int = _doc("Cognito: minimum password length")
    password_all_classes: bool = _doc("Cognito: passwords need upper, lower, digits and symbols")
    user_pool_deletion_protection: bool = _doc("Cognito: deletion protection")
    user_pool_tier: Literal["LITE", "ESSENTIALS", "PLUS"] = _doc("Cognito: feature plan (PLUS is billed per user)")
    threat_protection: Literal["OFF", "AUDIT", "ENFORCED"] = _doc("Cognito: threat protection (needs PLUS)")
    # API key and database secrets (Secrets Manager)
    secret_recovery_days: int = _doc("Secrets Manager: recovery window in days (0 deletes at once)")
    # Cluster (Aurora PostgreSQL Serverless v2), when this type creates one
    cluster_min_capacity: float = _doc("Aurora: minimum ACU (0 pauses an idle cluster)")
    cluster_max_capacity: float = _doc("Aurora: maximum ACU")
    cluster_deletion_protection: bool = _doc("Aurora: deletion protection (CKV_AWS_139)")
    cluster_protect: bool = _doc(
        "Aurora: Pulumi `protect` on the cluster and writer, whose fixed identifiers make a "
        "replacement delete first (docs/lifecycle.md)"
    )
    final_snapshot: bool = _doc("Aurora: a final snapshot on delete, named uniquely per cluster lifetime")
    backup_retention_days: int = _doc("Aurora: backup retention in days (CKV_AWS_133)")
    performance_insights: bool = _doc("Aurora: Performance Insights (CKV_AWS_353, CKV_AWS_354)")
    log_exports: tuple[str, ...] = _doc("Aurora: logs exported to CloudWatch (CKV_AWS_324)")
    # Tables (schema and role)
    db_connection_limit: int = _doc("PostgreSQL: the environment role's connection limit")
    # Pulumi
    protect: bool = _doc("Pulumi `protect` on every stateful resource")
    delete_needs_confirmation: bool = _doc("`pulumi destroy` keeps the data until envstack:confirmDeletion is set")


_DEV = TypeSettings(
    force_destroy=True,
    versioning=False,
    noncurrent_version_days=None,
    access_logging=False,
    access_log_days=None,
    customer_managed_key=False,
    mfa="OPTIONAL",
    password_min_length=8,
    password_all_classes=False,
    user_pool_deletion_protection=False,
    user_pool_tier="ESSENTIALS",
    threat_protection="OFF",
    secret_recovery_days=0,
    cluster_min_capacity=0,
    cluster_max_capacity=2,
    cluster_deletion_protection=False,  # dev's cluster is its own, never shared
    cluster_protect=False,
    final_snapshot=False,  # the product: deleting dev removes everything for good
    backup_retention_days=7,
    performance_insights=False,
    log_exports=(),
    db_connection_limit=20,
    protect=False,
    delete_needs_confirmation=False,
)

SETTINGS: dict[EnvType, TypeSettings] = {
    EnvType.DEV: _DEV,
    # custom (previews) follows dev; it never creates a cluster, so the cluster fields are unused.
    EnvType.CUSTOM: dataclasses.replace(_DEV, db_connection_limit=10),
    EnvType.STAGING: TypeSettings(
        force_destroy=False,
        versioning=True,
        noncurrent_version_days=30,
        access_logging=False,
        access_log_days=None,
        customer_managed_key=False,
        mfa="OPTIONAL",
        password_min_length=10,
        password_all_classes=True,
        user_pool_deletion_protection=True,
        user_pool_tier="ESSENTIALS",
        threat_protection="OFF",
        secret_recovery_days=7,
        cluster_min_capacity=0,
        cluster_max_capacity=8,
        cluster_deletion_protection=True,  # staging's cluster is shared with the previews
        cluster_protect=True,
        final_snapshot=True,
        backup_retention_days=7,
        performance_insights=False,
        log_exports=("postgresql",),
        db_connection_limit=50,
        protect=False,
        delete_needs_confirmation=True,
    ),
    EnvType.PROD: TypeSettings(
        force_destroy=False,
        versioning=True,
        noncurrent_version_days=90,
        access_logging=True,
        access_log_days=365,  # a year of access logs for audits; older ones expire (docs/lifecycle.md)
        customer_managed_key=True,
        mfa="ON",
        password_min_length=12,
        password_all_classes=True,
        user_pool_deletion_protection=True,
        user_pool_tier="PLUS",
        threat_protection="ENFORCED",
        secret_recovery_days=30,
        cluster_min_capacity=0.5,
        cluster_max_capacity=16,
        cluster_deletion_protection=True,
        cluster_protect=True,
        final_snapshot=True,
        backup_retention_days=14,
        performance_insights=True,
        log_exports=("postgresql",),
        db_connection_limit=100,
        protect=True,
        delete_needs_confirmation=True,
    ),
}


def settings_for(config: StackConfig) -> TypeSettings:
    """The effective settings of one environment: its type's row, adjusted by its config.

    `envstack:confirmDeletion` (step one of the two-step deletion) lifts every guard that
    would keep `pulumi destroy` from removing the data: `protect`, deletion protection and
    the bucket's refusal to delete its files. Recovery windows, final snapshots and the
    retained KMS key stay.
    """
    row = SETTINGS[config.type]
    if config.db_connection_limit is not None:
        row = dataclasses.replace(row, db_connection_limit=config.db_connection_limit)
    if config.deletion_confirmed:
        row = dataclasses.replace(
            row,
            force_destroy=True,
            protect=False,
            user_pool_deletion_protection=False,
            cluster_deletion_protection=False,
            cluster_protect=False,
        )
    return row
