"""Registration: the environment's record and its API keys' index entries in SSM Parameter Store.

See components/records.py for the layout. The parameters are plain `String`s written with
`insecure_value`, so previews and `envctl plan` show exactly what the platform will read:
they hold no secret. An index entry's name is derived from the secret key, which would make
Pulumi treat it as secret too; it is `unsecret`ed on purpose, because it is a SHA-256 of a
key with about 256 bits of randomness, from which nothing about the key can be learned. The
record lists the same hashes (`apiKeyHashes`), unsecreted for the same reason: the resolver
believes an index entry only if the record it names lists the key's hash.

Order: the record is written after the runtime role's policy (`depends_on`), so a platform
that reads `runtimeRoleArn` finds a role that can already do its work; each index entry is
written after the record (and deleted before it), so a new key never meets a record that
does not list it yet. Finishing a rotation updates the record before Pulumi deletes the old
entry (deletes come last), so for those seconds the old key reads as a forgery, and is refused.

Nothing here is protected or retained: destroying the environment deletes its record and
index entries, so its keys stop resolving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import EnvstackComponent
from components.provider import child
from components.records import (
    KEY_HASHES,
    index_document,
    key_hash,
    key_index_name,
    record_document,
)
from policies.contracts.conventions import REGISTRATION
from policies.contracts.names import label, record_name


@dataclass(frozen=True)
class RegistrationArgs:
    project: str
    env: str
    # The record's fields (components/records.py RECORD_FIELDS), as plain values or Outputs.
    fields: Mapping[str, pulumi.Input[str]]
    # Each active key version and its key (a secret Output).
    keys: Mapping[int, pulumi.Output[str]]
    runtime_role_arn: pulumi.Input[str] | None = None  # the Access component's role (docs/access.md)
    # What must exist before the record points at it: the runtime role's policy.
    record_depends_on: Sequence[pulumi.Resource] = ()


def _parameter(
    name: str,
    path: pulumi.Input[str],
    value: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
    *,
    depends_on: Sequence[pulumi.Resource],
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
        opts=child(parent, depends_on=list(depends_on)),
    )


class Registration(EnvstackComponent):
    """`/envstack/<project>/environments/<env>` and `/envstack/<project>/api-keys/<sha256>`."""

    TYPE = REGISTRATION

    record: aws.ssm.Parameter
    index: dict[int, aws.ssm.Parameter]
    record_name: str

    def __init__(self, name: str, args: RegistrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        fields: dict[str, pulumi.Input[object]] = dict(args.fields)
        if args.runtime_role_arn is not None:
            fields["runtimeRoleArn"] = args.runtime_role_arn
        versions = sorted(args.keys)
        hashes = pulumi.Output.all(*(args.keys[v] for v in versions)).apply(lambda ks: [key_hash(k) for k in ks])
        fields[KEY_HASHES] = pulumi.Output.unsecret(hashes)
        self.record_name = record_name(args.project, args.env)
        self.record = _parameter(
            f"{name}-record",
            self.record_name,
            pulumi.Output.all(**fields).apply(record_document),
            f"{label(args.env)}: its record (project {args.project})",
            self,
            depends_on=args.record_depends_on,
        )
        self.index = {}
        for version in versions:
            self.index[version] = _parameter(
                f"{name}-key-v{version}",
                pulumi.Output.unsecret(args.keys[version].apply(lambda k: key_index_name(args.project, key_hash(k)))),
                index_document(args.project, args.env, version),
                f"{label(args.env)}: index entry of API key version {version} (project {args.project})",
                self,
                depends_on=[self.record],
            )
        self.register_outputs({"record": self.record_name})
