"""The stack config contract: every key a user sets with `pulumi config set`.

This module is the one place that knows the config keys' types, their defaults and the rules
between them (their names are components/config_keys.py's). The program
(components/pulumi_runtime.py) and `envctl` (every command that renders a stack) validate through
`parse_config`, so a bad config is refused the same way in both, before any resource is declared.
The policy pack does not read the config: it judges what the program declares, which only a valid
config can produce. docs/reference.md is generated from the fields below. The refusals' wording is
components/config_errors.py's; the AWS facts (regions, partitions) are components/aws_facts.py's,
the shape of an ARN policies/contracts/arns.py's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components import config_keys as keys
from components.aws_facts import aws_regions, region_partition
from components.config_errors import NOT_SET, ConfigError, Contract, KeyRuleError, decode_json
from policies.contracts.arns import (
    ACCOUNT_ID,
    arn_fields,
    boundary_arn,
    is_cluster_arn,
    is_policy_arn,
    is_role_arn,
    is_secret_arn,
    parse_arn,
)
from policies.contracts.conventions import PULUMI_PROJECT
from policies.contracts.names import DATABASE, DEFAULT_PROJECT, NAME_MAX, is_valid_name

# NAME_PATTERN and NAME_MAX (environment and cluster assignment names) belong to the name
# grammar: import them from policies.contracts.names.
NAME_ALLOWED = (
    f"lowercase letters, digits and '-', starting with a letter, at most {NAME_MAX} "
    "characters, no trailing or doubled '-'"
)

# A project other than the default one is part of every physical name (names.py); the
# longest name, a log bucket `envstack-<n>-<project>-<env>-files-logs-<7>`, fits S3's 63
# characters when project and environment names together take at most this many.
PROJECT_NAME_BUDGET = 31

STACK_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# RDS: a DB subnet group name is at most 255 letters, digits, periods, underscores, spaces or hyphens.
SUBNET_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,254}$")
SECURITY_GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# Where the account id of these ARNs comes from: `aws sts get-caller-identity --query Account`.
ACCOUNT_HINT = "<account> from `aws sts get-caller-identity --query Account`"


class EnvType(StrEnum):
    """The four environment types of the product."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    CUSTOM = "custom"


def _check_name(value: str) -> str:
    if not is_valid_name(value):
        raise ValueError(NAME_ALLOWED)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Network(_Strict):
    """`envstack:network`: where a cluster this stack creates lives. Without it RDS uses the
    account's default VPC, which many organisation accounts do not have."""

    subnet_group: str | None = Field(
        default=None, alias="subnetGroup", description="DB subnet group of the created cluster; default VPC if unset."
    )
    security_group_ids: tuple[str, ...] = Field(
        default=(), alias="securityGroupIds", description="VPC security groups of the created cluster."
    )

    @field_validator("subnet_group")
    @classmethod
    def _subnet_group(cls, value: str | None) -> str | None:
        if value is not None and not SUBNET_GROUP.match(value):
            raise ValueError("a DB subnet group name: up to 255 letters, digits, '.', '_', ' ' or '-'")
        return value

    @field_validator("security_group_ids")
    @classmethod
    def _security_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not SECURITY_GROUP_ID.match(v)]
        if bad:
            raise ValueError(f"security group IDs such as sg-0123456789abcdef0 (not {bad[0]!r})")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Network:
        if self.subnet_group is None and not self.security_group_ids:
            raise ValueError("at least one of 'subnetGroup' or 'securityGroupIds'")
        return self


class ClusterAssignment(_Strict):
    """`envstack:cluster`: the Aurora PostgreSQL cluster that holds the environment's tables.

    Exactly one of three ways to reach it:
    - `create: true`: this stack creates and owns the cluster (staging and prod only);
    - `stack: org/project/stack`: attach to a cluster that another stack created, through
      a StackReference to its `clusterAttachment` output;
    - `arn` + `secretArn` + `endpoint`: attach to a cluster managed outside envstack.
    """

    name: str = Field(description="The assignment's name; the RDS cluster identifier when created here.")
    create: bool = Field(default=False, description="Create and own the cluster in this stack.")
    stack: str | None = Field(default=None, description="StackReference `org/project/stack` of the owning stack.")
    arn: str | None = Field(default=None, description="RDS cluster ARN, for a cluster managed outside envstack.")
    secret_arn: str | None = Field(
        default=None,
        alias="secretArn",
        description="ARN of the cluster's provisioner login secret (`envctl db provisioner`), never the master's.",
    )
    endpoint: str | None = Field(default=None, description="The cluster's writer endpoint host name.")
    port: int = Field(default=5432, ge=1, le=65535, description="The cluster's PostgreSQL port.")
    database: str = Field(default=DATABASE, description="The database that holds the environment schemas.")
    max_capacity: float | None = Field(
        default=None, alias="maxCapacity", ge=1, le=256, description="Serverless v2 ACU ceiling of a created cluster."
    )

    @model_validator(mode="before")
    @classmethod
    def _network_moved(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in ("subnetGroup", "securityGroupIds"):
                if key in data:
                    raise KeyRuleError(f"{keys.CLUSTER}.{key}", data[key], f"set it as {keys.NETWORK}.{key}")
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        if value is not None and not STACK_REF.match(value):
            raise ValueError("a fully qualified stack name 'org/project/stack'")
        return value

    @field_validator("arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not is_cluster_arn(value):
            raise ValueError("an RDS cluster ARN 'arn:aws:rds:<region>:<account>:cluster:<id>'")
        return value

    @field_validator("secret_arn")
    @classmethod
    def _secret_arn(cls, value: str | None) -> str | None:
        if value is not None and not is_secret_arn(value):
            raise ValueError("a Secrets Manager ARN 'arn:aws:secretsmanager:<region>:<account>:secret:<name>'")
        return value

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> ClusterAssignment:
        ways = [w for w, on in (("create", self.create), ("stack", self.stack), ("arn", self.arn)) if on]
        if len(ways) != 1:
            raise ValueError(f"exactly one of 'create: true', 'stack' or 'arn' (got {', '.join(ways) or 'none'})")
        if self.arn and not (self.secret_arn and self.endpoint):
            raise ValueError("'arn' needs 'secretArn' (the provisioner login's secret) and 'endpoint' beside it")
        if not self.create and self.max_capacity:
            raise ValueError("'maxCapacity' only with 'create: true'")
        return self

    @property
    def mode(self) -> str:
        """How the stack reaches the cluster: `create`, `stack` or `arn`."""
        return "create" if self.create else "stack" if self.stack else "arn"


class StackConfig(_Strict):
    """The validated config of one stack, which is one environment."""

    region: str = Field(alias=keys.REGION, description="The AWS region the environment lives in.")
    type: EnvType = Field(alias=keys.TYPE, description="dev, staging, prod or custom (previews).")
    name: str = Field(alias=keys.NAME, description="The environment's name; defaults to the stack name.")
    cluster: ClusterAssignment | None = Field(
        default=None,
        alias=keys.CLUSTER,
        description="The cluster assignment, an object (below); required for staging, prod and custom; not dev.",
    )
    network: Network | None = Field(
        default=None,
        alias=keys.NETWORK,
        description=(
            "Subnet group and security groups of the cluster this stack creates (dev, or create: true); "
            "without it RDS uses the default VPC, which many organisation accounts lack. Refused on stacks that attach."
        ),
    )
    confirm_deletion: str | None = Field(
        default=None,
        alias=keys.CONFIRM_DELETION,
        description=(
            "Step one of deleting a staging or prod environment: set to the environment's name "
            "(docs/runbooks.md). Any other value is refused."
        ),
    )
    api_key_version: int = Field(
        default=1,
        ge=1,
        alias=keys.API_KEY_VERSION,
        description=(
            "Bump to rotate the publishable API key. Alone, the old key stops resolving at once (a leaked key); "
            "with apiKeyRetiring the two overlap (docs/runbooks.md)."
        ),
    )
    api_key_retiring: int | None = Field(
        default=None,
        ge=1,
        alias=keys.API_KEY_RETIRING,
        description=(
            "During a key rotation: the previous apiKeyVersion (exactly one less), whose key keeps resolving "
            "until this is unset."
        ),
    )
    project: str = Field(
        default=DEFAULT_PROJECT,
        alias=keys.PROJECT,
        description=(
            "The platform project the environment belongs to; the environment name's rules. Outside the "
            "default, project and environment names take at most 31 characters together (docs/api-keys.md)."
        ),
    )
    db_password_version: int = Field(
        default=1, ge=1, alias=keys.DB_PASSWORD_VERSION, description="Bump to rotate the database role password."
    )
    db_connection_limit: int | None = Field(
        default=None,
        ge=1,
        le=500,
        alias=keys.DB_CONNECTION_LIMIT,
        description="Connection limit of the environment's database role; per-type default if unset.",
    )
    platform_principals: tuple[str, ...] = Field(
        default=(),
        alias=keys.PLATFORM_PRINCIPALS,
        description=(
            "IAM role ARNs trusted to assume the runtime role (the region's partition, never * and never an "
            "account root): the platform's API, and for dev a developer role (docs/access.md); required for every "
            "type, usually set once for the project in Pulumi.yaml."
        ),
    )
    permissions_boundary: str = Field(
        alias=keys.PERMISSIONS_BOUNDARY,
        description=(
            "ARN of the runtime roles' permissions boundary, the managed policy `envctl iam-policy boundary` "
            f"prints: {boundary_arn('<partition>', '<account>', '<project>')} (docs/iam.md); "
            "usually set once for the project in Pulumi.yaml."
        ),
    )
    deploy_role_arn: str | None = Field(
        default=None,
        alias=keys.DEPLOY_ROLE_ARN,
        description=(
            "ARN of the CI deploy role, named in the key policy of an environment's own KMS key; required where "
            "the type creates one (prod), usually set once for the project in Pulumi.yaml (docs/iam.md)."
        ),
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in aws_regions():
            raise ValueError("an AWS region code such as ap-northeast-2 or us-east-1")
        return value

    @field_validator("name", "project")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("platform_principals")
    @classmethod
    def _principals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if "*" in arn:
                raise ValueError(f"never a wildcard principal ({arn!r}): list the platform's IAM role ARNs")
            if not is_role_arn(arn):
                raise ValueError(f"IAM role ARNs 'arn:aws:iam::<account>:role/<name>' ({arn!r} is not one)")
        if len(set(value)) != len(value):
            raise ValueError("each IAM role ARN once")
        return value

    @field_validator("permissions_boundary")
    @classmethod
    def _boundary(cls, value: str) -> str:
        if not is_policy_arn(value):
            raise ValueError(f"an IAM managed policy ARN 'arn:aws:iam::<account>:policy/<name>', {ACCOUNT_HINT}")
        return value

    @field_validator("deploy_role_arn")
    @classmethod
    def _deploy_role(cls, value: str | None) -> str | None:
        if value is not None and not is_role_arn(value):
            raise ValueError(f"an IAM role ARN 'arn:aws:iam::<account>:role/<name>', {ACCOUNT_HINT}")
        return value

    @model_validator(mode="after")
    def _cluster_rules(self) -> StackConfig:
        if self.type is EnvType.DEV and self.cluster is not None:
            raise KeyRuleError(
                keys.CLUSTER,
                self.cluster.model_dump(by_alias=True, exclude_defaults=True),
                "no cluster on a dev environment: dev keeps its tables on a private cluster of its own",
            )
        if self.type is not EnvType.DEV and self.cluster is None:
            allowed = f"a cluster assignment, required for type {self.type.value}"
            raise KeyRuleError(keys.CLUSTER, NOT_SET, allowed)
        if self.cluster is not None:
            if self.cluster.create and self.type is EnvType.CUSTOM:
                raise KeyRuleError(
                    f"{keys.CLUSTER}.create",
                    True,
                    "a custom environment attaches to an existing cluster ('stack' or 'arn') and never creates one",
                )
            arn = parse_arn(self.cluster.arn or "")
            if arn and arn.region != self.region:
                raise KeyRuleError(
                    f"{keys.CLUSTER}.arn",
                    self.cluster.arn,
                    f"a cluster in the environment's region {self.region}",
                )
        if self.network is not None and not self.creates_cluster:
            raise KeyRuleError(
                keys.NETWORK,
                self.network.model_dump(by_alias=True, exclude_defaults=True),
                "only on a stack that creates its cluster (dev, or envstack:cluster.create: true); "
                "this stack attaches to one",
            )
        if self.api_key_retiring is not None and self.api_key_retiring != self.api_key_version - 1:
            raise KeyRuleError(
                keys.API_KEY_RETIRING,
                self.api_key_retiring,
                f"the version deployed before the bump, exactly envstack:apiKeyVersion - 1 "
                f"({self.api_key_version - 1}), or unset",
            )
        if self.project != DEFAULT_PROJECT and len(self.project) + len(self.name) > PROJECT_NAME_BUDGET:
            raise KeyRuleError(
                keys.PROJECT,
                self.project,
                f"a project name that, with the environment's name '{self.name}', takes at most "
                f"{PROJECT_NAME_BUDGET} characters (at most {PROJECT_NAME_BUDGET - len(self.name)} here)",
            )
        if self.confirm_deletion is not None and self.confirm_deletion != self.name:
            raise KeyRuleError(
                keys.CONFIRM_DELETION,
                self.confirm_deletion,
                f"exactly the environment's name '{self.name}', or unset",
            )
        return self

    @model_validator(mode="after")
    def _access_rules(self) -> StackConfig:
        from components.settings import settings_for  # settings reads this module's StackConfig

        partition = region_partition(self.region)
        if not self.platform_principals:
            raise KeyRuleError(
                keys.PLATFORM_PRINCIPALS,
                NOT_SET,
                "the IAM role ARNs that may assume the runtime role, required for every type "
                "(no runtime role trusts an account root); set them once for the project in Pulumi.yaml",
            )
        if self.deploy_role_arn is None and settings_for(self).customer_managed_key:
            raise KeyRuleError(
                keys.DEPLOY_ROLE_ARN,
                NOT_SET,
                f"the CI deploy role's ARN, required where a key is created (a {self.type.value} stack): "
                "its key policy names it; set it once for the project in Pulumi.yaml",
            )
        for key, arns in (
            (keys.PLATFORM_PRINCIPALS, self.platform_principals),
            (keys.PERMISSIONS_BOUNDARY, (self.permissions_boundary,)),
            (keys.DEPLOY_ROLE_ARN, (self.deploy_role_arn,) if self.deploy_role_arn else ()),
        ):
            foreign = [a for a in arns if arn_fields(a).partition != partition]
            if foreign:
                raise KeyRuleError(key, foreign[0], f"ARNs of partition {partition}, the partition of {self.region}")
        account = arn_fields(self.permissions_boundary).account
        if not ACCOUNT_ID.match(account) or self.permissions_boundary != boundary_arn(partition, account, self.project):
            raise KeyRuleError(
                keys.PERMISSIONS_BOUNDARY,
                self.permissions_boundary,
                f"the boundary policy of project {self.project}, {boundary_arn(partition, '<account>', self.project)} "
                f"({ACCOUNT_HINT}; `envctl iam-policy boundary` prints it)",
            )
        return self

    @property
    def creates_cluster(self) -> bool:
        """True for dev (its private cluster) and for a stack whose assignment says `create: true`."""
        return self.cluster is None or self.cluster.create

    @property
    def deletion_confirmed(self) -> bool:
        """True once the user set `envstack:confirmDeletion` to this environment's name."""
        return self.confirm_deletion == self.name


# Keys whose values are objects (Pulumi hands them to the program as JSON text), with what
# each object is called and its model, for the message that refuses an unknown key in it.
_OBJECT_FIELDS: dict[str, tuple[str, type[BaseModel]]] = {
    keys.CLUSTER: ("cluster assignment", ClusterAssignment),
    keys.NETWORK: ("network", Network),
}
OBJECT_KEYS = set(_OBJECT_FIELDS)
# Keys whose values are lists; Pulumi hands them to the program as JSON text too.
LIST_KEYS = {keys.PLATFORM_PRINCIPALS}
# The envstack keys, in the order docs/reference.md lists them (generated from this model).
KNOWN_KEYS = tuple(field.alias for field in StackConfig.model_fields.values() if field.alias not in (None, keys.REGION))
_CONTRACT = Contract(StackConfig, _OBJECT_FIELDS, KNOWN_KEYS)


def parse_config(raw: Mapping[str, Any], stack: str) -> StackConfig:
    """Validate a stack's raw config (Pulumi's `namespace:key` -> value) into a StackConfig.

    Keys outside the `envstack:` namespace, other than `aws:region`, belong to providers and
    are ignored. Raises ConfigError naming every offending key.
    """
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if key == keys.REGION or key.startswith(f"{PULUMI_PROJECT}:"):
            structured = key in OBJECT_KEYS | LIST_KEYS
            data[key] = decode_json(key, value, is_list=key in LIST_KEYS) if structured else value
    defaulted_name = keys.NAME not in data
    data.setdefault(keys.NAME, stack)
    try:
        return StackConfig.model_validate(data)
    except ValidationError as err:
        types = [t.value for t in EnvType]
        raise ConfigError(_CONTRACT.problems(err, types, stack=stack, defaulted_name=defaulted_name)) from None
