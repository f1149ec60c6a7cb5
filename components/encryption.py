"""EncryptionKey: the environment's own KMS key, for types whose settings ask for one (prod)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.names import DEFAULT_PROJECT
from components.naming import kms_alias
from components.provider import child


@dataclass(frozen=True)
class EncryptionKeyArgs:
    env: str
    project: str = DEFAULT_PROJECT


class EncryptionKey(pulumi.ComponentResource):
    """A customer-managed KMS key with rotation on and AWS's default key policy (account root
    only, no wildcard principal), plus an alias naming the environment.

    The key is retained on delete, whatever the type and even once deletion is confirmed: the
    final snapshot and the secrets in their recovery window outlive `pulumi destroy` and can be
    read only with this key. Retire it by hand once they are gone (docs/lifecycle.md)."""

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("envstack:index:EncryptionKey", name, None, opts)
        self.key = aws.kms.Key(
            name,
            aws.kms.KeyArgs(
                description=f"envstack environment {args.env}: files, secrets and database storage",
                enable_key_rotation=True,
                deletion_window_in_days=30,
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
