"""EncryptionKey: the environment's own KMS key, for types whose settings ask for one (prod)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import EnvstackComponent
from components.provider import child
from policies.contracts import names
from policies.contracts.conventions import ENCRYPTION_KEY
from policies.contracts.names import DEFAULT_PROJECT, kms_alias

# What the CI deploy role does with the key, granted in the key policy itself so that prod's first
# `up` does not wait for tag-based IAM access (`aws:ResourceTag`), which AWS documents can take
# up to five minutes to apply after the tags are set: the provider calls EnableKeyRotation right
# after CreateKey, and RDS creates a grant soon after. The same actions as envctl's `kms-key`
# scope for the deploy role (tests/components/test_encryption.py keeps the two in step).
DEPLOY_ROLE_ACTIONS = (
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:EnableKeyRotation",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


@dataclass(frozen=True)
class EncryptionKeyArgs:
    env: str
    partition: str  # aws_facts.region_partition of the stack's region
    project: str = DEFAULT_PROJECT
    deploy_role_arn: str | None = None  # envstack:deployRoleArn, required by the config where a key is made


def key_policy(partition: str, account: str, deploy_role_arn: str) -> dict[str, Any]:
    """The key's own policy (CKV2_AWS_64), with no wildcard principal (CKV_AWS_33):

    - the account's root gets the key's administration and use, as AWS's default key policy
      does. This is what keeps the key manageable if the deploy role goes away, and it delegates
      to IAM: the runtime role reaches the key through its own IAM policy (kms:ViaService), and
      S3, Secrets Manager and RDS use the key on their callers' behalf, so no service principal
      needs a statement of its own;
    - the CI deploy role gets what `pulumi up` does with the key, without depending on tags."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "DeployRole",
                "Effect": "Allow",
                "Principal": {"AWS": deploy_role_arn},
                "Action": list(DEPLOY_ROLE_ACTIONS),
                "Resource": "*",
            },
        ],
    }


class EncryptionKey(EnvstackComponent):
    """A customer-managed KMS key with rotation on and an explicit key policy (key_policy),
    plus an alias naming the environment.

    The key is retained on delete, whatever the type and even once deletion is confirmed: the
    final snapshot and the secrets in their recovery window outlive `pulumi destroy` and can be
    read only with this key. Retire it by hand once they are gone (docs/lifecycle.md)."""

    TYPE = ENCRYPTION_KEY

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        deploy_role = args.deploy_role_arn
        if not deploy_role:
            raise ValueError("an environment's own key needs envstack:deployRoleArn (the CI deploy role's ARN)")
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.key = aws.kms.Key(
            name,
            aws.kms.KeyArgs(
                description=f"{names.label(args.env)}: files, secrets and database storage",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=identity.account_id.apply(
                    lambda account: json.dumps(key_policy(args.partition, account, deploy_role), sort_keys=True)
                ),
            ),
            opts=child(self),
        )
        aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=kms_alias(args.env, args.project), target_key_id=self.key.key_id),
            # A fixed name: a replacement must free it first. The alias holds no data.
            opts=child(self, delete_before_replace=True),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
