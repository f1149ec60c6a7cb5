"""Registration: the environment's record and its API keys' index entries in SSM Parameter Store.

See components/records.py for the layout. The parameters are plain `String`s written with
`insecure_value`, so previews and `envctl plan` show exactly what the platform will read:
they hold no secret. An index entry's name is derived from the secret key, which would make
Pulumi treat it as secret too; it is `unsecret`ed on purpose, because it is a SHA-256 of a
key with about 256 bits of randomness, from which nothing about the key can be learned.

Nothing here is protected or retained: destroying the environment deletes its record and
index entries, so its keys stop resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.names import label
from components.provider import child
from components.records import index_document, key_hash, key_index_name, record_document, record_name


@dataclass(frozen=True)
class RegistrationArgs:
    project: str
    env: str
    # The record's fields (components/records.py RECORD_FIELDS), as plain values or Outputs.
    fields: Mapping[str, pulumi.Input[str]]
    # Each active key version and its key (a secret Output).
    keys: Mapping[int, pulumi.Output[str]]
    runtime_role_arn: pulumi.Input[str] | None = None  # the Access component's role (docs/access.md)


def _parameter(
    name: str, path: pulumi.Input[str], value: pulumi.Input[str], description: str, parent: pulumi.Resource
) -> aws.ssm.Parameter:
    return aws.ssm.Parameter(
        name,
        aws.ssm.ParameterArgs(
            name=path,
            type=aws.ssm.ParameterType.STRING,
            tier="Standard",
            data_type="text",
            insecure_value=value,
            description=description,
        ),
        opts=child(parent),
    )


class Registration(pulumi.ComponentResource):
    """`/envstack/<project>/environments/<env>` and `/envstack/<project>/api-keys/<sha256>`."""

    record: aws.ssm.Parameter
    index: dict[int, aws.ssm.Parameter]
    record_name: str

    def __init__(self, name: str, args: RegistrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("envstack:index:Registration", name, None, opts)
        fields: dict[str, pulumi.Input[str]] = dict(args.fields)
        if args.runtime_role_arn is not None:
            fields["runtimeRoleArn"] = args.runtime_role_arn
        self.record_name = record_name(args.project, args.env)
        self.record = _parameter(
            f"{name}-record",
            self.record_name,
            pulumi.Output.all(**fields).apply(record_document),
            f"{label(args.env)}: its record (project {args.project})",
            self,
        )
        self.index = {}
        for version, key in sorted(args.keys.items()):
            self.index[version] = _parameter(
                f"{name}-key-v{version}",
                pulumi.Output.unsecret(key.apply(lambda k: key_index_name(args.project, key_hash(k)))),
                index_document(args.project, args.env, version),
                f"{label(args.env)}: index entry of API key version {version} (project {args.project})",
                self,
            )
        self.register_outputs({"record": self.record_name})
