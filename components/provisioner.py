"""Provisioner: the least-privilege login that stacks attached to a shared cluster provision with.

The stack that owns a shared cluster (staging's `shared-nonprod`, `create: true`) creates it
through the SQL plan `provisioner_plan` (components/sql.py), run with the cluster's master
secret, which only the owning stack uses. Its credentials go to the Secrets Manager secret
`names.provisioner_secret_name(<cluster>)`, whose ARN the owner exports in `clusterAttachment`
(`provisionerSecretArn`); attached stacks (previews) give that secret to the RDS Data API
instead of the master's. What the provisioner can and cannot do: docs/tables.md.

Deleting it disables the login (`NOLOGIN`) and keeps the role: it owns the schemas of the
previews it created, and dropping it would have to drop or reassign them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_aws as aws
import pulumi_random as random

from components.base import EnvstackComponent
from components.cluster import ClusterAttachment
from components.provider import child
from components.pulumi_runtime import is_unknown
from components.tables import PASSWORD_LENGTH, Credentials, credentials_secret, password_hash
from policies.contracts.conventions import PROVISIONER, PROVISIONER_ROLE, dynamic_parts
from policies.contracts.names import PG_PROVISIONER, provisioner_secret_name

REPLACE_ON = ("database", "clusterArn")  # another database or cluster: a login there, this one disabled


class ProvisionerProvider(pulumi.dynamic.ResourceProvider):
    """Applies `provisioner_plan` as the master. Imports stay inside the methods: Pulumi
    serialises this provider into the state (as components/tables.py explains)."""

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        from components.executors import executor_from
        from components.sql import provisioner_plan

        executor_from(props["executor"]).apply(provisioner_plan(props["database"], props["password"]))
        outs = {k: v for k, v in props.items() if k != "password"}
        outs["passwordHash"] = password_hash(props["password"])
        return outs

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=f"{props['database']}/{PG_PROVISIONER}", outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        def value(props: dict[str, Any], key: str) -> Any:
            executor = props.get("executor")
            if key != "clusterArn":
                return props.get(key)
            return executor.get(key) if isinstance(executor, dict) else executor

        replaces = [k for k in REPLACE_ON if value(olds, k) != value(news, k)]
        password = news["password"]
        rotated = is_unknown(password) or olds.get("passwordHash") != password_hash(password)
        moved = olds.get("executor") != news.get("executor")
        return pulumi.dynamic.DiffResult(changes=bool(replaces or rotated or moved), replaces=replaces)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=self._apply(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from components.executors import executor_from
        from components.sql import disable_provisioner_plan

        executor_from(props["executor"]).apply(disable_provisioner_plan())


class ProvisionerRole(pulumi.dynamic.Resource, **dynamic_parts(PROVISIONER_ROLE)):
    """The dynamic resource: the provisioner login on one cluster's database."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ProvisionerProvider(), name, props, opts)


@dataclass(frozen=True)
class ProvisionerArgs:
    cluster: ClusterAttachment  # the owned cluster: its Data API ARNs are the master's
    secret_recovery_days: int  # TypeSettings.secret_recovery_days
    kms_key_arn: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()  # the cluster and its writer must exist first


class Provisioner(EnvstackComponent):
    """The provisioner login and its credentials secret."""

    TYPE = PROVISIONER

    secret: aws.secretsmanager.Secret

    def __init__(self, name: str, args: ProvisionerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        c = args.cluster
        password = random.RandomPassword(
            f"{name}-password", random.RandomPasswordArgs(length=PASSWORD_LENGTH, special=False), opts=child(self)
        )
        role = ProvisionerRole(
            name,
            {
                "database": c.database,
                "password": pulumi.Output.secret(password.result),
                "executor": {
                    "kind": "data-api",
                    "clusterArn": c.arn,
                    "secretArn": c.secret_arn,
                    "database": c.database,
                },
            },
            opts=child(self, additional_secret_outputs=["password"], depends_on=list(args.depends_on)),
        )
        self.secret = credentials_secret(
            self,
            name,
            Credentials(
                description=pulumi.Output.concat("Provisioner login of envstack cluster ", c.name),
                purpose="provisioner-credentials",
                role=PG_PROVISIONER,
                # A fixed name: the CI roles' policies grant reading it by name (envctl/iam.py).
                secret_name=pulumi.Output.from_input(c.name).apply(provisioner_secret_name),
            ),
            password.result,
            c,
            recovery_days=args.secret_recovery_days,
            kms_key_arn=args.kms_key_arn,
            written_after=role,  # written only after the login has this password
        )
        self.register_outputs({"provisionerSecretArn": self.secret.arn})
