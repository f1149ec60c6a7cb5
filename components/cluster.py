"""Cluster: an Aurora PostgreSQL Serverless v2 cluster, and how an environment reaches one.

Design (documented in docs/reference.md, "envstack:cluster"):
- dev creates a small private cluster of its own that pauses when idle (no assignment);
- staging and prod may create their assigned cluster (`create: true`) and then export
  `clusterAttachment` for other stacks;
- every other stack, and every custom (preview) stack always, attaches by reference:
  a StackReference to the owning stack, or ARNs of a cluster managed elsewhere, and
  provisions through the cluster's provisioner login (components/provisioner.py), never
  through its master secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.base import EnvstackComponent
from components.config import ClusterAssignment
from components.provider import child
from policies.contracts import names
from policies.contracts.conventions import CLUSTER_COMPONENT

# The major version only: AWS creates the cluster at that major's default minor and upgrades
# it in place (automatic minor upgrades), and the provider keeps "16" in state while
# `engine_version_actual` reports the running minor, so an AWS upgrade is never a diff. A
# pinned minor ("16.6") makes every `pulumi up` after an AWS upgrade try to go back and fail
# (terraform-aws-rds-aurora#228). Scale to zero needs 16.3+, the Data API 16.1+: AWS's default
# 16.x must be at least 16.3 (docs/lifecycle.md).
ENGINE_VERSION = "16"
# Changes to the engine version are ignored after creation: clusters created with a pinned
# minor keep it in their inputs, and a major upgrade is a deliberate step (docs/lifecycle.md).
IGNORED_CHANGES = ["engineVersion"]


@dataclass(frozen=True)
class ClusterAttachment:
    """What the table store needs of a cluster: the Data API's two ARNs and a network endpoint.

    `secret_arn` is the secret this stack's Data API calls log in with: the master's for the
    stack that owns the cluster, the provisioner's for a stack attached to it. The owner also
    carries `provisioner_secret_arn`, which it exports for the attached stacks."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    endpoint: pulumi.Input[str]
    port: pulumi.Input[int]
    database: pulumi.Input[str]
    provisioner_secret_arn: pulumi.Input[str] | None = None

    def as_output(self) -> pulumi.Output[dict[str, Any]]:
        """The `clusterAttachment` stack output that other stacks' StackReferences read."""
        return pulumi.Output.all(
            name=self.name,
            arn=self.arn,
            secretArn=self.secret_arn,
            provisionerSecretArn=self.provisioner_secret_arn,
            endpoint=self.endpoint,
            port=self.port,
            database=self.database,
        )


@dataclass(frozen=True)
class ClusterArgs:
    """The cluster's identity and network, and what the type decides for it (components/settings.py,
    one field each)."""

    identifier: str
    min_capacity: float  # 0: the cluster pauses when idle
    max_capacity: float  # the type's, or the cluster assignment's maxCapacity
    deletion_protection: bool
    backup_retention_days: int
    final_snapshot: bool  # a uniquely named snapshot when the cluster is deleted
    log_exports: tuple[str, ...]
    performance_insights: bool
    database: str = names.DATABASE
    subnet_group: str | None = None
    security_group_ids: tuple[str, ...] = ()
    kms_key_arn: pulumi.Input[str] | None = None


class Cluster(EnvstackComponent):
    """Aurora PostgreSQL Serverless v2 with the RDS Data API on.

    Always: storage encrypted, IAM database authentication, not publicly accessible, backups
    retained, tags copied to snapshots, minor upgrades automatic, the master password managed
    by RDS in Secrets Manager (never in Pulumi state), the major engine version only, and
    delete-before-replace for the fixed identifiers. By type: minimum capacity (0 pauses an
    idle cluster), deletion protection, protect against replacement, a uniquely named final
    snapshot, backup retention, Performance Insights, log export, and a customer-managed key.
    """

    TYPE = CLUSTER_COMPONENT

    cluster: aws.rds.Cluster
    attachment: ClusterAttachment

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        min_capacity = args.min_capacity
        self.cluster = aws.rds.Cluster(
            name,
            aws.rds.ClusterArgs(
                cluster_identifier=args.identifier,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_mode=aws.rds.EngineMode.PROVISIONED,
                engine_version=ENGINE_VERSION,
                database_name=args.database,
                master_username=names.MASTER_USERNAME,
                manage_master_user_password=True,
                master_user_secret_kms_key_id=args.kms_key_arn,
                enable_http_endpoint=True,
                storage_encrypted=True,
                kms_key_id=args.kms_key_arn,
                iam_database_authentication_enabled=True,
                deletion_protection=args.deletion_protection,
                backup_retention_period=args.backup_retention_days,
                copy_tags_to_snapshot=True,
                skip_final_snapshot=not args.final_snapshot,
                final_snapshot_identifier=self._final_snapshot_identifier(name, args) if args.final_snapshot else None,
                enabled_cloudwatch_logs_exports=list(args.log_exports),
                db_subnet_group_name=args.subnet_group,
                vpc_security_group_ids=list(args.security_group_ids) or None,
                serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                    min_capacity=min_capacity,
                    max_capacity=args.max_capacity,
                    seconds_until_auto_pause=3600 if min_capacity == 0 else None,
                ),
            ),
            # A fixed identifier: a replacement must delete the old cluster first, and
            # `cluster_protect` makes the engine refuse that where the data matters.
            opts=child(self, delete_before_replace=True, ignore_changes=IGNORED_CHANGES),
        )
        aws.rds.ClusterInstance(
            names.writer(name),
            aws.rds.ClusterInstanceArgs(
                cluster_identifier=self.cluster.id,
                identifier=names.writer(args.identifier),
                instance_class="db.serverless",
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                # No engine_version: an Aurora instance runs its cluster's version.
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=args.performance_insights,
                performance_insights_kms_key_id=args.kms_key_arn if args.performance_insights else None,
                performance_insights_retention_period=7 if args.performance_insights else None,
                db_subnet_group_name=args.subnet_group,
            ),
            opts=child(self, delete_before_replace=True),
        )
        self.attachment = ClusterAttachment(
            name=args.identifier,
            arn=self.cluster.arn,
            secret_arn=self.cluster.master_user_secrets.apply(_managed_secret_arn),
            endpoint=self.cluster.endpoint,
            port=self.cluster.port,
            database=args.database,
        )
        self.register_outputs({"clusterAttachment": self.attachment.as_output()})

    def _final_snapshot_identifier(self, name: str, args: ClusterArgs) -> pulumi.Output[str]:
        """`<identifier>-final-<8 hex>`: unique to one cluster's lifetime, so re-creating the
        environment and deleting it again never collides with the snapshot the last deletion
        left (DBClusterSnapshotAlreadyExistsFault; terraform-aws-rds-cluster#129).

        The suffix is generated once and kept in state. Its keepers are the inputs that make
        AWS replace the cluster, so a replacement cluster gets a suffix of its own too."""
        suffix = random.RandomId(
            name + names.FINAL_SNAPSHOT_SUFFIX,
            random.RandomIdArgs(
                byte_length=4,
                keepers={
                    "identifier": args.identifier,
                    "database": args.database,
                    "subnetGroup": args.subnet_group or "",
                    "kmsKeyArn": args.kms_key_arn or "",
                    "engine": aws.rds.EngineType.AURORA_POSTGRESQL.value,
                    "masterUsername": names.MASTER_USERNAME,
                },
            ),
            opts=child(self),
        )
        return pulumi.Output.concat(args.identifier, names.FINAL_SNAPSHOT, suffix.hex)


def _managed_secret_arn(secrets: Sequence[aws.rds.outputs.ClusterMasterUserSecret]) -> str:
    """The ARN of the master secret RDS manages (manage_master_user_password=True)."""
    if not secrets or not secrets[0].secret_arn:
        raise ValueError("RDS returned no managed master secret for the cluster; the Data API needs one")
    return secrets[0].secret_arn


def _provisioner_secret_arn(attachment: dict[str, Any], owner: str) -> str:
    arn = attachment.get("provisionerSecretArn")
    if not arn:
        raise ValueError(
            f"the cluster owner's stack {owner} exports no provisionerSecretArn in clusterAttachment: "
            "run `pulumi up` on it first, so it creates the provisioner login (docs/runbooks.md)"
        )
    return str(arn)


def attach(assignment: ClusterAssignment) -> ClusterAttachment:
    """Reach an existing cluster by reference, as the assignment says (`stack` or `arn`)."""
    if assignment.stack is not None:
        ref = pulumi.StackReference(f"cluster-{assignment.name}", stack_name=assignment.stack)
        out = ref.require_output("clusterAttachment")
        owner = assignment.stack
        return ClusterAttachment(
            name=assignment.name,
            arn=out.apply(lambda a: a["arn"]),
            # The provisioner's login, never the master's (docs/tables.md).
            secret_arn=out.apply(lambda a: _provisioner_secret_arn(a, owner)),
            endpoint=out.apply(lambda a: a["endpoint"]),
            port=out.apply(lambda a: int(a["port"])),
            database=out.apply(lambda a: a["database"]),
        )
    assert assignment.arn and assignment.secret_arn and assignment.endpoint  # enforced by the config model
    return ClusterAttachment(
        name=assignment.name,
        arn=assignment.arn,
        secret_arn=assignment.secret_arn,
        endpoint=assignment.endpoint,
        port=assignment.port,
        database=assignment.database,
    )
