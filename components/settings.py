"""The per-type settings table: the one place that says how dev, custom, staging and prod differ.

Every component reads its knobs from a `TypeSettings`; none of them branches on the
environment type itself. The values follow `shared/reference/security-controls.md`: dev
and custom take the cheap, disposable end, prod the protected end, staging sits between.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from components.config import EnvType, StackConfig


@dataclass(frozen=True)
class TypeSettings:
    """How one environment type is provisioned. Field comments say which control each one is."""

    # Files (S3)
    force_destroy: bool  # destroy deletes the files (own rule)
    versioning: bool  # CKV_AWS_21
    noncurrent_version_days: int | None  # CKV2_AWS_61: expire old versions
    access_logging: bool  # CKV_AWS_18
    customer_managed_key: bool  # CKV_AWS_145 / CKV_AWS_149 / CKV_AWS_327: own KMS key for S3, secrets, RDS
    # Users (Cognito)
    mfa: Literal["OFF", "OPTIONAL", "ON"]
    password_min_length: int
    password_all_classes: bool  # require upper, lower, digits and symbols
    user_pool_deletion_protection: bool
    user_pool_tier: Literal["LITE", "ESSENTIALS", "PLUS"]
    threat_protection: Literal["OFF", "AUDIT", "ENFORCED"]  # needs the PLUS tier unless OFF
    # API key and database secrets (Secrets Manager)
    secret_recovery_days: int  # 0 deletes at once; otherwise 7..30
    # Cluster (Aurora PostgreSQL Serverless v2), when this type creates one
    cluster_min_capacity: float  # 0 lets the cluster pause when idle
    cluster_max_capacity: float
    cluster_deletion_protection: bool  # CKV_AWS_139
    # Pulumi `protect` on the cluster and its writer. Their identifiers are fixed, so a
    # replacement deletes them first (delete_before_replace): protect makes the engine refuse
    # any replacement of a cluster that holds data worth keeping (docs/lifecycle.md).
    cluster_protect: bool
    # A final snapshot when the cluster is deleted, named uniquely per cluster lifetime.
    final_snapshot: bool
    backup_retention_days: int  # CKV_AWS_133
    performance_insights: bool  # CKV_AWS_353/354
    log_exports: tuple[str, ...]  # CKV_AWS_324
    # Tables (schema and role)
    db_connection_limit: int
    # Pulumi
    protect: bool  # `protect` on every stateful resource
    delete_needs_confirmation: bool  # `pulumi destroy` keeps data until envstack:confirmDeletion is set


_DEV = TypeSettings(
    force_destroy=True,
    versioning=False,
    noncurrent_version_days=None,
    access_logging=False,
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
