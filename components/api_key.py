"""ApiKey: the environment's publishable key (`pk_...`), kept in Secrets Manager."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.provider import child
from components.settings import TypeSettings
from components.tags import TAG_PURPOSE

KEY_PREFIX = "pk_"
TOKEN_LENGTH = 43  # 43 URL-safe characters: about 256 bits


@dataclass(frozen=True)
class ApiKeyArgs:
    env: str
    env_type: str
    region: str
    settings: TypeSettings
    version: int  # bump envstack:apiKeyVersion to rotate
    kms_key_arn: pulumi.Input[str] | None = None


def secret_document(key: str, env: str, env_type: str, region: str) -> str:
    """The secret's JSON: what the platform's API needs to map an X-API-Key header to its environment."""
    return json.dumps(
        {"apiKey": key, "environment": env, "type": env_type, "region": region, "header": "X-API-Key"},
        sort_keys=True,
    )


class ApiKey(pulumi.ComponentResource):
    """A publishable key generated once by pulumi-random (stable across `pulumi up`; replaced
    when `version` changes) and stored as JSON in a secret of the environment's own.

    The secret carries the tag `envstack:purpose=api-key`, so the platform's API can list
    every environment's key with one tag filter.
    """

    key: pulumi.Output[str]
    secret: aws.secretsmanager.Secret

    def __init__(self, name: str, args: ApiKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("envstack:index:ApiKey", name, None, opts)
        token = random.RandomPassword(
            f"{name}-token",
            random.RandomPasswordArgs(
                length=TOKEN_LENGTH,
                special=True,
                override_special="-_",  # URL-safe alphabet: A-Z a-z 0-9 - _
                keepers={"version": str(args.version)},
            ),
            opts=child(self),
        )
        self.key = pulumi.Output.secret(pulumi.Output.concat(KEY_PREFIX, token.result))
        self.secret = aws.secretsmanager.Secret(
            name,
            aws.secretsmanager.SecretArgs(
                description=f"Publishable API key (X-API-Key) of envstack environment {args.env}",
                recovery_window_in_days=args.settings.secret_recovery_days,
                kms_key_id=args.kms_key_arn,
                tags={TAG_PURPOSE: "api-key"},
            ),
            opts=child(self, protect=args.settings.protect),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-version",
            aws.secretsmanager.SecretVersionArgs(
                secret_id=self.secret.id,
                secret_string=self.key.apply(lambda k: secret_document(k, args.env, args.env_type, args.region)),
            ),
            opts=child(self),
        )
        self.register_outputs({"apiKeySecretArn": self.secret.arn, "apiKey": self.key})
