"""The stack config contract: every key a user sets with `pulumi config set`.

This module is the one place that knows the config keys, their types, their defaults and
the rules between them. The program (`load_stack_config`) and `envctl` (every command that
renders a stack) validate through `parse_config`, so a bad config is refused the same way in
both, before any resource is declared. The policy pack does not read the config: it judges
what the program declares, which only a valid config can produce. docs/reference.md is
generated from the fields below.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.conventions import PULUMI_PROJECT
from components.names import BOUNDARY_PATH, DATABASE, DEFAULT_PROJECT, NAME_MAX, boundary_policy_name, is_valid_name

# NAME_PATTERN and NAME_MAX (environment and cluster assignment names) belong to the name
# grammar: import them from components.names.
NAME_ALLOWED = (
    f"lowercase letters, digits and '-', starting with a letter, at most {NAME_MAX} "
    "characters, no trailing or doubled '-'"
)

# A project other than the default one is part of every physical name (naming.py); the
# longest name, a log bucket `envstack-<n>-<project>-<env>-files-logs-<7>`, fits S3's 63
# characters when project and environment names together take at most this many.
PROJECT_NAME_BUDGET = 31

CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:rds:(?P<region>[a-z0-9-]+):\d{12}:cluster:(?P<id>[a-z][a-z0-9-]*)$")
SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:[\w/+=.@!-]+$")
STACK_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# RDS: a DB subnet group name is at most 255 letters, digits, periods, underscores, spaces or hyphens.
SUBNET_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,254}$")
SECURITY_GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# IAM ARNs of the access boundary (components/access.py): path segments and names as IAM allows.
_IAM_NAME = r"(?:/[\w+=,.@-]+)*/[\w+=,.@-]+"
IAM_ROLE_ARN = re.compile(rf"^arn:(?P<partition>aws[a-z-]*):iam::\d{{12}}:role{_IAM_NAME}$")
IAM_POLICY_ARN = re.compile(rf"^arn:(?P<partition>aws[a-z-]*):iam::(?:\d{{12}}|aws):policy{_IAM_NAME}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
# Where the account id of these ARNs comes from: `aws sts get-caller-identity --query Account`.
ACCOUNT_HINT = "<account> from `aws sts get-caller-identity --query Account`"


_NOT_SET = object()  # marks a key that is not set, as opposed to one set to null


class EnvType(StrEnum):
    """The four environment types of the product."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    CUSTOM = "custom"


@cache
def _endpoints() -> Any:
    """botocore's endpoint data, read once."""
    from botocore.loaders import Loader

    return Loader().load_data("endpoints")


def aws_regions() -> frozenset[str]:
    """Every region code botocore knows, across all AWS partitions.

    botocore's endpoint data is the maintained list of regions; reading it keeps this
    project from carrying a hand-written copy that goes stale.
    """
    return frozenset(region for partition in _endpoints()["partitions"] for region in partition["regions"])


def region_partition(region: str) -> str:
    """The AWS partition (`aws`, `aws-cn`, `aws-us-gov`, ...) that botocore files `region` under."""
    # only called with a validated region, one that botocore files under a partition
    partition: str = next(p["partition"] for p in _endpoints()["partitions"] if region in p["regions"])
    return partition


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
        return _check_subnet_group(value)

    @field_validator("security_group_ids")
    @classmethod
    def _security_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_security_groups(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Network:
        return _check_network_not_empty(self)


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
        return _check_network_moved(data)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        return _check_stack_ref(value)

    @field_validator("arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        return _check_cluster_arn(value)

    @field_validator("secret_arn")
    @classmethod
    def _secret_arn(cls, value: str | None) -> str | None:
        return _check_secret_arn(value)

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> ClusterAssignment:
        return _check_one_way_to_reach(self)

    @property
    def mode(self) -> str:
        """How the stack reaches the cluster: `create`, `stack` or `arn`."""
        return _cluster_mode(self)


class StackConfig(_Strict):
    """The validated config of one stack, which is one environment."""

    region: str = Field(alias="aws:region", description="The AWS region the environment lives in.")
    type: EnvType = Field(alias="envstack:type", description="dev, staging, prod or custom (previews).")
    name: str = Field(alias="envstack:name", description="The environment's name; defaults to the stack name.")
    cluster: ClusterAssignment | None = Field(
        default=None,
        alias="envstack:cluster",
        description="The cluster assignment, an object (below); required for staging, prod and custom; not dev.",
    )
    network: Network | None = Field(
        default=None,
        alias="envstack:network",
        description=(
            "Subnet group and security groups of the cluster this stack creates (dev, or create: true); "
            "without it RDS uses the default VPC, which many organisation accounts lack. Refused on stacks that attach."
        ),
    )
    confirm_deletion: str | None = Field(
        default=None,
        alias="envstack:confirmDeletion",
        description=(
            "Step one of deleting a staging or prod environment: set to the environment's name "
            "(docs/runbooks.md). Any other value is refused."
        ),
    )
    api_key_version: int = Field(
        default=1,
        ge=1,
        alias="envstack:apiKeyVersion",
        description=(
            "Bump to rotate the publishable API key. Alone, the old key stops resolving at once (a leaked key); "
            "with apiKeyRetiring the two overlap (docs/runbooks.md)."
        ),
    )
    api_key_retiring: int | None = Field(
        default=None,
        ge=1,
        alias="envstack:apiKeyRetiring",
        description=(
            "During a key rotation: the previous apiKeyVersion (exactly one less), whose key keeps resolving "
            "until this is unset."
        ),
    )
    project: str = Field(
        default=DEFAULT_PROJECT,
        alias="envstack:project",
        description=(
            "The platform project the environment belongs to; the environment name's rules. Outside the "
            "default, project and environment names take at most 31 characters together (docs/api-keys.md)."
        ),
    )
    db_password_version: int = Field(
        default=1, ge=1, alias="envstack:dbPasswordVersion", description="Bump to rotate the database role password."
    )
    db_connection_limit: int | None = Field(
        default=None,
        ge=1,
        le=500,
        alias="envstack:dbConnectionLimit",
        description="Connection limit of the environment's database role; per-type default if unset.",
    )
    platform_principals: tuple[str, ...] = Field(
        default=(),
        alias="envstack:platformPrincipals",
        description=(
            "IAM role ARNs trusted to assume the runtime role (the region's partition, never * and never an "
            "account root): the platform's API, and for dev a developer role (docs/access.md); required for every "
            "type, usually set once for the project in Pulumi.yaml."
        ),
    )
    permissions_boundary: str = Field(
        alias="envstack:permissionsBoundary",
        description=(
            "ARN of the runtime roles' permissions boundary, the managed policy `envctl iam-policy boundary` "
            "prints: arn:<partition>:iam::<account>:policy/envstack/runtime-boundary-<project> (docs/iam.md); "
            "usually set once for the project in Pulumi.yaml."
        ),
    )
    deploy_role_arn: str | None = Field(
        default=None,
        alias="envstack:deployRoleArn",
        description=(
            "ARN of the CI deploy role, named in the key policy of an environment's own KMS key; required where "
            "the type creates one (prod), usually set once for the project in Pulumi.yaml (docs/iam.md)."
        ),
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @field_validator("name", "project")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("platform_principals")
    @classmethod
    def _principals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_principals(value)

    @field_validator("permissions_boundary")
    @classmethod
    def _boundary(cls, value: str) -> str:
        return _check_boundary(value)

    @field_validator("deploy_role_arn")
    @classmethod
    def _deploy_role(cls, value: str | None) -> str | None:
        return _check_deploy_role(value)

    @model_validator(mode="after")
    def _cluster_rules(self) -> StackConfig:
        return _check_cluster_rules(self)

    @model_validator(mode="after")
    def _access_rules(self) -> StackConfig:
        return _check_access_rules(self)

    @property
    def creates_cluster(self) -> bool:
        """True for dev (its private cluster) and for a stack whose assignment says `create: true`."""
        return _creates_cluster(self)

    @property
    def deletion_confirmed(self) -> bool:
        """True once the user set `envstack:confirmDeletion` to this environment's name."""
        return _deletion_confirmed(self)


# The rules behind the validators above, as plain functions: mutmut 3 does not mutate decorated
# functions, so the contract's logic lives here and each validator is one call.


def _check_subnet_group(value: str | None) -> str | None:
    if value is not None and not SUBNET_GROUP.match(value):
        raise ValueError("a DB subnet group name: up to 255 letters, digits, '.', '_', ' ' or '-'")
    return value


def _check_security_groups(value: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in value if not SECURITY_GROUP_ID.match(v)]
    if bad:
        raise ValueError(f"security group IDs such as sg-0123456789abcdef0 (not {bad[0]!r})")
    return value


def _check_network_not_empty(network: Network) -> Network:
    if network.subnet_group is None and not network.security_group_ids:
        raise ValueError("at least one of 'subnetGroup' or 'securityGroupIds'")
    return network


def _check_network_moved(data: Any) -> Any:
    if isinstance(data, Mapping):
        for key in ("subnetGroup", "securityGroupIds"):
            if key in data:
                raise _KeyError(f"envstack:cluster.{key}", data[key], f"set it as envstack:network.{key}")
    return data


def _check_stack_ref(value: str | None) -> str | None:
    if value is not None and not STACK_REF.match(value):
        raise ValueError("a fully qualified stack name 'org/project/stack'")
    return value


def _check_cluster_arn(value: str | None) -> str | None:
    if value is not None and not CLUSTER_ARN.match(value):
        raise ValueError("an RDS cluster ARN 'arn:aws:rds:<region>:<account>:cluster:<id>'")
    return value


def _check_secret_arn(value: str | None) -> str | None:
    if value is not None and not SECRET_ARN.match(value):
        raise ValueError("a Secrets Manager ARN 'arn:aws:secretsmanager:<region>:<account>:secret:<name>'")
    return value


def _check_one_way_to_reach(cluster: ClusterAssignment) -> ClusterAssignment:
    ways = [w for w, on in (("create", cluster.create), ("stack", cluster.stack), ("arn", cluster.arn)) if on]
    if len(ways) != 1:
        raise ValueError(f"exactly one of 'create: true', 'stack' or 'arn' (got {', '.join(ways) or 'none'})")
    if cluster.arn and not (cluster.secret_arn and cluster.endpoint):
        raise ValueError("'arn' needs 'secretArn' (the provisioner login's secret) and 'endpoint' beside it")
    if not cluster.create and cluster.max_capacity:
        raise ValueError("'maxCapacity' only with 'create: true'")
    return cluster


def _cluster_mode(cluster: ClusterAssignment) -> str:
    return "create" if cluster.create else "stack" if cluster.stack else "arn"


def _check_region(value: str) -> str:
    if value not in aws_regions():
        raise ValueError("an AWS region code such as ap-northeast-2 or us-east-1")
    return value


def _check_principals(value: tuple[str, ...]) -> tuple[str, ...]:
    for arn in value:
        if "*" in arn:
            raise ValueError(f"never a wildcard principal ({arn!r}): list the platform's IAM role ARNs")
        if not IAM_ROLE_ARN.match(arn):
            raise ValueError(f"IAM role ARNs 'arn:aws:iam::<account>:role/<name>' ({arn!r} is not one)")
    if len(set(value)) != len(value):
        raise ValueError("each IAM role ARN once")
    return value


def _check_boundary(value: str) -> str:
    if not IAM_POLICY_ARN.match(value):
        raise ValueError(f"an IAM managed policy ARN 'arn:aws:iam::<account>:policy/<name>', {ACCOUNT_HINT}")
    return value


def _check_deploy_role(value: str | None) -> str | None:
    if value is not None and not IAM_ROLE_ARN.match(value):
        raise ValueError(f"an IAM role ARN 'arn:aws:iam::<account>:role/<name>', {ACCOUNT_HINT}")
    return value


def boundary_arn(partition: str, account: str, project: str) -> str:
    """The ARN `envstack:permissionsBoundary` must hold: the boundary policy of `project`."""
    return f"arn:{partition}:iam::{account}:policy{BOUNDARY_PATH}{boundary_policy_name(project)}"


def _check_cluster_rules(config: StackConfig) -> StackConfig:
    if config.type is EnvType.DEV and config.cluster is not None:
        raise _KeyError(
            "envstack:cluster",
            config.cluster.model_dump(by_alias=True, exclude_defaults=True),
            "no cluster on a dev environment: dev keeps its tables on a private cluster of its own",
        )
    if config.type is not EnvType.DEV and config.cluster is None:
        raise _KeyError("envstack:cluster", _NOT_SET, f"a cluster assignment, required for type {config.type.value}")
    if config.cluster is not None:
        if config.cluster.create and config.type is EnvType.CUSTOM:
            raise _KeyError(
                "envstack:cluster.create",
                True,
                "a custom environment attaches to an existing cluster ('stack' or 'arn') and never creates one",
            )
        match = CLUSTER_ARN.match(config.cluster.arn or "")
        if match and match["region"] != config.region:
            raise _KeyError(
                "envstack:cluster.arn", config.cluster.arn, f"a cluster in the environment's region {config.region}"
            )
    if config.network is not None and not config.creates_cluster:
        raise _KeyError(
            "envstack:network",
            config.network.model_dump(by_alias=True, exclude_defaults=True),
            "only on a stack that creates its cluster (dev, or envstack:cluster.create: true); "
            "this stack attaches to one",
        )
    if config.api_key_retiring is not None and config.api_key_retiring != config.api_key_version - 1:
        raise _KeyError(
            "envstack:apiKeyRetiring",
            config.api_key_retiring,
            f"the version deployed before the bump, exactly envstack:apiKeyVersion - 1 "
            f"({config.api_key_version - 1}), or unset",
        )
    if config.project != DEFAULT_PROJECT and len(config.project) + len(config.name) > PROJECT_NAME_BUDGET:
        raise _KeyError(
            "envstack:project",
            config.project,
            f"a project name that, with the environment's name '{config.name}', takes at most "
            f"{PROJECT_NAME_BUDGET} characters (at most {PROJECT_NAME_BUDGET - len(config.name)} here)",
        )
    if config.confirm_deletion is not None and config.confirm_deletion != config.name:
        raise _KeyError(
            "envstack:confirmDeletion",
            config.confirm_deletion,
            f"exactly the environment's name '{config.name}', or unset",
        )
    return config


def _check_access_rules(config: StackConfig) -> StackConfig:
    from components.settings import settings_for  # settings reads this module's StackConfig

    partition = region_partition(config.region)
    if not config.platform_principals:
        raise _KeyError(
            "envstack:platformPrincipals",
            _NOT_SET,
            "the IAM role ARNs that may assume the runtime role, required for every type "
            "(no runtime role trusts an account root); set them once for the project in Pulumi.yaml",
        )
    if config.deploy_role_arn is None and settings_for(config).customer_managed_key:
        raise _KeyError(
            "envstack:deployRoleArn",
            _NOT_SET,
            f"the CI deploy role's ARN, required where a key is created (a {config.type.value} stack): "
            "its key policy names it; set it once for the project in Pulumi.yaml",
        )
    for key, arns in (
        ("envstack:platformPrincipals", config.platform_principals),
        ("envstack:permissionsBoundary", (config.permissions_boundary,)),
        ("envstack:deployRoleArn", (config.deploy_role_arn,) if config.deploy_role_arn else ()),
    ):
        foreign = [a for a in arns if a.split(":")[1] != partition]
        if foreign:
            raise _KeyError(key, foreign[0], f"ARNs of partition {partition}, the partition of {config.region}")
    account = config.permissions_boundary.split(":")[4]
    if not ACCOUNT_ID.match(account) or config.permissions_boundary != boundary_arn(partition, account, config.project):
        raise _KeyError(
            "envstack:permissionsBoundary",
            config.permissions_boundary,
            f"the boundary policy of project {config.project}, {boundary_arn(partition, '<account>', config.project)} "
            f"({ACCOUNT_HINT}; `envctl iam-policy boundary` prints it)",
        )
    return config


def _creates_cluster(config: StackConfig) -> bool:
    return config.cluster is None or config.cluster.create


def _deletion_confirmed(config: StackConfig) -> bool:
    return config.confirm_deletion == config.name


class _KeyError(ValueError):
    """A cross-key rule failed: carries the key at fault, since pydantic cannot know it."""

    def __init__(self, key: str, got: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.key, self.got, self.allowed = key, got, allowed


class ConfigError(Exception):
    """A stack config was refused. `problems` holds (key, got, allowed) per problem."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        lines = [f"{key}: got {got}; allowed: {allowed}" for key, got, allowed in problems]
        super().__init__("invalid stack config\n  " + "\n  ".join(lines))

    @property
    def keys(self) -> list[str]:
        return _problem_keys(self.problems)


def _problem_keys(problems: list[tuple[str, str, str]]) -> list[str]:
    return [key for key, _, _ in problems]


# Keys whose values are objects (Pulumi hands them to the program as JSON text), with what
# each object is called and its model, for the message that refuses an unknown key in it.
_OBJECT_FIELDS: dict[str, tuple[str, type[_Strict]]] = {
    "envstack:cluster": ("cluster assignment", ClusterAssignment),
    "envstack:network": ("network", Network),
}
OBJECT_KEYS = set(_OBJECT_FIELDS)
# Keys whose values are lists; Pulumi hands them to the program as JSON text too.
LIST_KEYS = {"envstack:platformPrincipals"}
# The envstack keys, in the order docs/reference.md lists them (generated from this model).
KNOWN_KEYS = tuple(
    field.alias for field in StackConfig.model_fields.values() if field.alias and field.alias.startswith("envstack:")
)


def _show(value: Any) -> str:
    if value is _NOT_SET:
        return "nothing (the key is not set)"
    return json.dumps(value, sort_keys=True, default=str)


# What each of pydantic's type errors means, in the contract's words (never pydantic's own).
_SHAPES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _field(loc: list[str]) -> Any:
    """The model field at `loc` (a top-level key, or a key of an object-valued key), or None."""
    model: type[_Strict] | None = StackConfig if len(loc) == 1 else _OBJECT_FIELDS.get(loc[0], (None, None))[1]
    if model is None or len(loc) > 2:  # a key, or a key inside an object; not an item of a list
        return None
    return next((f for n, f in model.model_fields.items() if (f.alias or n) == loc[-1]), None)


def _allowed_for(loc: list[str], error: Any) -> str:
    key, kind, message = loc[0], error["type"], error["msg"]
    if key == "envstack:type" and len(loc) == 1:
        return "one of " + ", ".join(t.value for t in EnvType)
    if kind == "missing":
        return f"must be set ({_field(loc).description})"
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return f"no such key{_did_you_mean(key, KNOWN_KEYS)}; the envstack keys are " + ", ".join(KNOWN_KEYS)
        what, model = _OBJECT_FIELDS[key]
        fields = [f.alias or n for n, f in model.model_fields.items()]
        return f"no such key{_did_you_mean(loc[-1], fields)}; the {what}'s keys are " + ", ".join(fields)
    ctx = error.get("ctx") or {}
    if kind in {"greater_than_equal", "less_than_equal"}:
        shape = f"a whole number {'>=' if 'ge' in ctx else '<='} {ctx.get('ge', ctx.get('le'))}"
    elif kind in _SHAPES:
        shape = _SHAPES[kind]
    else:
        return str(message).removeprefix("Value error, ")
    field = _field(loc)
    return f"{shape} ({field.description})" if field is not None and field.description else shape


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    """A close key, judged on the part after the namespace that every key shares (`envstack:foo`
    is not close to `envstack:type`), else nothing."""
    names = {key.rpartition(":")[2]: key for key in known}
    close = difflib.get_close_matches(word.rpartition(":")[2], list(names), n=1)
    return f" (did you mean {names[close[0]]}?)" if close else ""


def _object(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        shape = "a list" if key in LIST_KEYS else "an object"
        raise ConfigError([(key, _show(value), f"{shape}; set it with `pulumi config set --path`")]) from None


def parse_config(raw: Mapping[str, Any], stack: str) -> StackConfig:
    """Validate a stack's raw config (Pulumi's `namespace:key` -> value) into a StackConfig.

    Keys outside the `envstack:` namespace, other than `aws:region`, belong to providers and
    are ignored. Raises ConfigError naming every offending key.
    """
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "aws:region" or key.startswith(f"{PULUMI_PROJECT}:"):
            data[key] = _object(key, value) if key in OBJECT_KEYS | LIST_KEYS else value
    defaulted_name = "envstack:name" not in data
    data.setdefault("envstack:name", stack)
    try:
        return StackConfig.model_validate(data)
    except ValidationError as err:
        problems: list[tuple[str, str, str]] = []
        for e in err.errors():
            loc = [str(p) for p in e["loc"]]
            exc = (e.get("ctx") or {}).get("error")
            if isinstance(exc, _KeyError):
                problems.append((exc.key, _show(exc.got), exc.allowed))
                continue
            key = loc[0] + "".join(f".{p}" for p in loc[1:])
            got = e["input"] if e["type"] != "missing" else _NOT_SET
            allowed = _allowed_for(loc, e)
            if key == "envstack:name" and defaulted_name:
                allowed += f" (it defaulted to the stack name '{stack}'; set envstack:name)"
            problems.append((key, _show(got), allowed))
        raise ConfigError(problems) from None


def raw_pulumi_config() -> dict[str, Any]:
    """Every config value of the running Pulumi program, as `namespace:key` -> value.

    Pulumi's SDK exposes single keys (`pulumi.Config.get`) but not the whole bag; reading
    the bag is what lets unknown `envstack:` keys (typos) be refused instead of ignored.
    """
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_stack_config() -> StackConfig:
    """The running stack's validated config; a bad config ends the program with one clean message."""
    import pulumi

    try:
        return parse_config(raw_pulumi_config(), pulumi.get_stack())
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
