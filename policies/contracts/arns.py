"""The one ARN parser of envstack, for every partition (`aws`, `aws-cn`, `aws-us-gov`, ...): the
config's ARN rules (components/config.py), the Data API executor, the resolver, `envctl iam`,
`envctl env create` and the policy pack read ARNs through it.

Standard library only, like the rest of policies/contracts/: the pack imports it in its own
virtualenv. Which partition a region is in is botocore's fact (components/aws_facts.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.contracts.names import (
    BOUNDARY_PATH,
    DEFAULT_PROJECT,
    IAM_PATH,
    UnmappableNameError,
    boundary_policy_name,
    logical,
)

# arn:<partition>:<service>:<region>:<account>:<resource>; region and account are empty where
# the service is global (IAM, S3), and the resource may hold ':' (`cluster:<id>`).
_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws|):"
    r"(?P<resource>.+)"
)
# The resource part of each kind of ARN the config accepts: path segments and names as the service allows.
_IAM_NAME = r"(?:/[\w+=,.@-]+)*/[\w+=,.@-]+"
_CLUSTER = re.compile(r"cluster:[a-z][a-z0-9-]*")
_SECRET = re.compile(r"secret:[\w/+=.@!-]+")
_ROLE = re.compile(rf"role{_IAM_NAME}")
_POLICY = re.compile(rf"policy{_IAM_NAME}")
_ROOT = re.compile("root")
ACCOUNT_ID = re.compile(r"\d{12}")
# Pulumi's auto-naming: the logical name, `-`, and seven random lowercase letters or digits.
_AUTONAME_SUFFIX = r"-[a-z0-9]{7}"


@dataclass(frozen=True)
class Arn:
    """An ARN's six fields."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_id(self) -> str:
        """The resource after its type: the id of `cluster:<id>`, the path and name of `role/<path>/<name>`."""
        return re.split(r"[:/]", self.resource, maxsplit=1)[-1]

    def is_a(self, service: str, resource: re.Pattern[str], *, regional: bool, aws_managed: bool = False) -> bool:
        """Whether this is an ARN of `service` whose resource matches `resource`, in a region or
        global (no region) as the service is, in an account (or, if `aws_managed`, AWS's own)."""
        return (
            self.service == service
            and bool(self.region) is regional
            and (ACCOUNT_ID.fullmatch(self.account) is not None or (aws_managed and self.account == "aws"))
            and resource.fullmatch(self.resource) is not None
        )


def parse_arn(text: str) -> Arn | None:
    """`text`'s fields, or None if it is not an ARN."""
    match = _ARN.fullmatch(text)
    return Arn(**match.groupdict()) if match else None


def arn_fields(text: str) -> Arn:
    """`text`'s fields, for an ARN already validated or produced by AWS; ValueError otherwise."""
    arn = parse_arn(text)
    if arn is None:
        raise ValueError(f"not an ARN: {text!r}")
    return arn


def is_cluster_arn(text: str) -> bool:
    """An RDS cluster ARN `arn:<partition>:rds:<region>:<account>:cluster:<id>`."""
    arn = parse_arn(text)
    return arn is not None and arn.is_a("rds", _CLUSTER, regional=True)


def is_secret_arn(text: str) -> bool:
    """A Secrets Manager ARN `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`."""
    arn = parse_arn(text)
    return arn is not None and arn.is_a("secretsmanager", _SECRET, regional=True)


def is_role_arn(text: str) -> bool:
    """An IAM role ARN `arn:<partition>:iam::<account>:role/<path>/<name>`."""
    arn = parse_arn(text)
    return arn is not None and arn.is_a("iam", _ROLE, regional=False)


def is_policy_arn(text: str) -> bool:
    """An IAM managed policy ARN, the account's or AWS's: `arn:<partition>:iam::<account>|aws:policy/<name>`."""
    arn = parse_arn(text)
    return arn is not None and arn.is_a("iam", _POLICY, regional=False, aws_managed=True)


def is_account_root(text: str) -> bool:
    """An account's root principal `arn:<partition>:iam::<account>:root`: every identity of that
    account whose own policies allow what is granted to it."""
    arn = parse_arn(text)
    return arn is not None and arn.is_a("iam", _ROOT, regional=False)


def is_runtime_role_arn(text: str, env: str, project: str = DEFAULT_PROJECT) -> bool:
    """Whether `text` names environment `env`'s runtime role (components/access.py): the role
    `<IAM_PATH><logical(env, "runtime")>-<7>` in any partition and account. No CI role can create
    a role under another environment's name, so a record naming another's role is a forgery."""
    try:
        own = re.compile(re.escape(f"role{IAM_PATH}{logical(env, 'runtime', project)}") + _AUTONAME_SUFFIX)
    except UnmappableNameError:
        return False
    arn = parse_arn(text)
    return arn is not None and arn.is_a("iam", own, regional=False)


def boundary_arn(partition: str, account: str, project: str) -> str:
    """The ARN `envstack:permissionsBoundary` must hold: the boundary policy of `project`."""
    return f"arn:{partition}:iam::{account}:policy{BOUNDARY_PATH}{boundary_policy_name(project)}"
