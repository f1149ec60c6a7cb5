"""AWS facts the config contract checks against: regions, partitions, and the shape of an ARN.

Regions and partitions come from botocore's endpoint data, the maintained list, so this
project carries no hand-written copy that goes stale. `parse_arn` is the one ARN parser of
the project: the config's ARN rules, the Data API executor and `envctl iam` read ARNs
through it, whatever the partition (`aws`, `aws-cn`, `aws-us-gov`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policies.contracts.names import BOUNDARY_PATH, boundary_policy_name

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
ACCOUNT_ID = re.compile(r"\d{12}")


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


def boundary_arn(partition: str, account: str, project: str) -> str:
    """The ARN `envstack:permissionsBoundary` must hold: the boundary policy of `project`."""
    return f"arn:{partition}:iam::{account}:policy{BOUNDARY_PATH}{boundary_policy_name(project)}"


@cache
def _endpoints() -> Any:
    """botocore's endpoint data, read once."""
    from botocore.loaders import Loader

    return Loader().load_data("endpoints")


def aws_regions() -> frozenset[str]:
    """Every region code botocore knows, across all AWS partitions."""
    return frozenset(region for partition in _endpoints()["partitions"] for region in partition["regions"])


def region_partition(region: str) -> str:
    """The AWS partition (`aws`, `aws-cn`, `aws-us-gov`, ...) that botocore files `region` under."""
    # only called with a validated region, one that botocore files under a partition
    partition: str = next(p["partition"] for p in _endpoints()["partitions"] if region in p["regions"])
    return partition
