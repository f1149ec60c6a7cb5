"""Environment: one isolated backend environment, composed of its stores, and its card."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumiverse_time

from components.access import Access, AccessArgs
from components.api_key import ApiKey, ApiKeyArgs
from components.aws_facts import region_partition
from components.base import EnvstackComponent
from components.cluster import Cluster, ClusterArgs, ClusterAttachment, attach
from components.config import StackConfig
from components.encryption import EncryptionKey, EncryptionKeyArgs
from components.files import Files, FilesArgs
from components.protection import protection
from components.provisioner import Provisioner, ProvisionerArgs
from components.records import RECORD_FIELDS
from components.registration import Registration, RegistrationArgs
from components.settings import TypeSettings, settings_for
from components.tables import TableStore, TableStoreArgs
from components.users import Users, UsersArgs
from policies.contracts import names
from policies.contracts.conventions import CLOUD_PROVIDER, ENVIRONMENT

# --- each component's inputs from the type's settings row (components/settings.py) --------------
# The components name their inputs in their Args and know nothing of the settings table; these
# are the one place a row's fields become a component's.


def files_args(s: TypeSettings, kms_key_arn: pulumi.Input[str] | None = None) -> FilesArgs:
    """The fields of the settings row the files use."""
    return FilesArgs(
        force_destroy=s.force_destroy,
        versioning=s.versioning,
        noncurrent_version_days=s.noncurrent_version_days,
        access_logging=s.access_logging,
        access_log_days=s.access_log_days,
        kms_key_arn=kms_key_arn,
    )


def users_args(s: TypeSettings) -> UsersArgs:
    """The fields of the settings row the users use."""
    return UsersArgs(
        mfa=s.mfa,
        password_min_length=s.password_min_length,
        password_all_classes=s.password_all_classes,
        deletion_protection=s.user_pool_deletion_protection,
        tier=s.user_pool_tier,
        threat_protection=s.threat_protection,
    )


def cluster_args(
    s: TypeSettings,
    identifier: str,
    *,
    database: str = names.DATABASE,
    max_capacity: float | None = None,
    subnet_group: str | None = None,
    security_group_ids: tuple[str, ...] = (),
    kms_key_arn: pulumi.Input[str] | None = None,
) -> ClusterArgs:
    """The fields of the settings row the cluster uses; `max_capacity` (a cluster assignment's)
    overrides the type's."""
    return ClusterArgs(
        identifier=identifier,
        min_capacity=s.cluster_min_capacity,
        max_capacity=max_capacity or s.cluster_max_capacity,
        deletion_protection=s.cluster_deletion_protection,
        backup_retention_days=s.backup_retention_days,
        final_snapshot=s.final_snapshot,
        log_exports=tuple(s.log_exports),
        performance_insights=s.performance_insights,
        database=database,
        subnet_group=subnet_group,
        security_group_ids=security_group_ids,
        kms_key_arn=kms_key_arn,
    )


@dataclass(frozen=True)
class EnvironmentArgs:
    config: StackConfig
    stack: str


class Environment(EnvstackComponent):
    """Everything one environment isolates: files (S3), end users (Cognito), its publishable
    API key (Secrets Manager) and its tables (TableStore: a schema and role on its cluster).

    Its `outputs` are the stack outputs: the environment card first, then each store's
    identifiers. AWS resources inherit the regional provider given in `opts.providers`.
    """

    TYPE = ENVIRONMENT

    settings: TypeSettings
    key: EncryptionKey | None
    files: Files
    users: Users
    api_key: ApiKey
    owned_cluster: Cluster | None
    provisioner: Provisioner | None
    attachment: ClusterAttachment
    tables: TableStore
    access: Access
    created_at: pulumiverse_time.Static

    def __init__(self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cfg = args.config
        s = settings_for(cfg)
        # What the type keeps, applied once to every stateful resource below (protection.py).
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[protection(s)]))
        super().__init__(name, opts)
        self.settings = s
        under_me = pulumi.ResourceOptions(parent=self)

        def logical(env: str, role: str) -> str:  # every name carries the platform project
            return names.logical(env, role, cfg.project)

        self.key = (
            EncryptionKey(
                logical(name, "key"),
                EncryptionKeyArgs(
                    env=name,
                    project=cfg.project,
                    partition=region_partition(cfg.region),
                    deploy_role_arn=cfg.deploy_role_arn,
                ),
                under_me,
            )
            if s.customer_managed_key
            else None
        )
        kms_key_arn = self.key.arn if self.key else None
        self.files = Files(logical(name, "files"), files_args(s, kms_key_arn=kms_key_arn), under_me)
        self.users = Users(logical(name, "users"), users_args(s), under_me)
        self.api_key = ApiKey(
            logical(name, "api-key"),
            ApiKeyArgs(
                env=name,
                env_type=cfg.type.value,
                region=cfg.region,
                secret_recovery_days=s.secret_recovery_days,
                version=cfg.api_key_version,
                kms_key_arn=kms_key_arn,
                retiring_version=cfg.api_key_retiring,
            ),
            under_me,
        )
        # Set once, when the environment is created; later updates never change it.
        self.created_at = pulumiverse_time.Static(logical(name, "created-at"), opts=under_me)

        self.owned_cluster = None
        network = cfg.network
        subnet_group, security_group_ids = (network.subnet_group, network.security_group_ids) if network else (None, ())
        if cfg.cluster is None:  # dev: a private cluster that pauses when idle
            self.owned_cluster = Cluster(
                logical(name, "cluster"),
                cluster_args(
                    s,
                    names.cluster_identifier(name, cfg.project),
                    subnet_group=subnet_group,
                    security_group_ids=security_group_ids,
                    kms_key_arn=kms_key_arn,
                ),
                under_me,
            )
        elif cfg.cluster.create:  # staging or prod owning its assigned cluster
            self.owned_cluster = Cluster(
                cfg.cluster.name,
                cluster_args(
                    s,
                    cfg.cluster.name,
                    database=cfg.cluster.database,
                    max_capacity=cfg.cluster.max_capacity,
                    subnet_group=subnet_group,
                    security_group_ids=security_group_ids,
                    kms_key_arn=kms_key_arn,
                ),
                under_me,
            )
        self.attachment = self.owned_cluster.attachment if self.owned_cluster else attach(cfg.cluster)  # type: ignore[arg-type]
        self.provisioner = None
        if cfg.cluster is not None and cfg.cluster.create and self.owned_cluster is not None:
            # A shared cluster: the login that the stacks attached to it provision with.
            self.provisioner = Provisioner(
                logical(name, "provisioner"),
                ProvisionerArgs(
                    cluster=self.attachment,
                    secret_recovery_days=s.secret_recovery_days,
                    kms_key_arn=kms_key_arn,
                    depends_on=(self.owned_cluster,),
                ),
                under_me,
            )
            self.attachment = replace(self.attachment, provisioner_secret_arn=self.provisioner.secret.arn)
        self.tables = TableStore(
            logical(name, "tables"),
            TableStoreArgs(
                env=name,
                env_type=cfg.type.value,
                db_connection_limit=s.db_connection_limit,
                delete_needs_confirmation=s.delete_needs_confirmation,
                secret_recovery_days=s.secret_recovery_days,
                attachment=self.attachment,
                password_version=cfg.db_password_version,
                deletion_confirmed=cfg.deletion_confirmed,
                kms_key_arn=kms_key_arn,
                depends_on=(self.owned_cluster,) if self.owned_cluster else (),
                project=cfg.project,
            ),
            under_me,
        )
        # The one principal of the environment: reaches only the resources above (docs/access.md).
        self.access = Access(
            logical(name, "runtime"),
            AccessArgs(
                env=name,
                region=cfg.region,
                principals=cfg.platform_principals,
                permissions_boundary=cfg.permissions_boundary,
                bucket_arn=self.files.bucket.arn,
                user_pool_arn=self.users.user_pool.arn,
                api_key_secret_arn=self.api_key.secret.arn,
                database_secret_arn=self.tables.secret.arn,
                cluster_arn=self.attachment.arn,
                kms_key_arn=kms_key_arn,
            ),
            under_me,
        )

        self.outputs: dict[str, Any] = {
            # The environment card.
            "name": name,
            "type": cfg.type.value,
            "cloudProvider": CLOUD_PROVIDER,
            "region": cfg.region,
            "cluster": cfg.cluster.name if cfg.cluster else "",
            "createdAt": self.created_at.rfc3339,
            # The stores.
            "bucketName": self.files.bucket.bucket,
            "bucketArn": self.files.bucket.arn,
            "userPoolId": self.users.user_pool.id,
            "userPoolArn": self.users.user_pool.arn,
            "userPoolClientId": self.users.client.id,
            "apiKeySecretArn": self.api_key.secret.arn,
            "apiKey": self.api_key.key,
            "databaseSchema": self.tables.schema,
            "databaseSecretArn": self.tables.secret.arn,
            "databaseCluster": self.attachment.name,
            "runtimeRoleArn": self.access.role.arn,
        }
        if self.key is not None:
            self.outputs["kmsKeyArn"] = self.key.arn
        if cfg.cluster is not None and cfg.cluster.create:
            self.outputs["clusterAttachment"] = self.attachment.as_output()
        # The platform's view of the environment, in SSM: its record and its keys' index.
        record = {f: self.outputs[f] for f in RECORD_FIELDS if f in self.outputs}
        record.update(project=cfg.project, stack=args.stack, databaseClusterArn=self.attachment.arn)
        if self.key is not None:
            record["kmsKeyArn"] = self.key.arn
        self.registration = Registration(
            logical(name, "registry"),
            RegistrationArgs(
                project=cfg.project,
                env=name,
                fields=record,
                keys=self.api_key.keys,
                runtime_role_arn=self.access.role.arn,  # the role a request for this environment assumes
                record_depends_on=(self.access.policy,),  # ...with its permissions already in place
            ),
            under_me,
        )
        self.outputs["environmentRecord"] = self.registration.record_name
        self.register_outputs(self.outputs)
