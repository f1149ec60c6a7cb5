"""AWS facts the config contract checks against: the regions, and the partition of each.

They come from botocore's endpoint data, the maintained list, so this project carries no
hand-written copy that goes stale. The shape of an ARN, in every partition, is
policies/contracts/arns.py's (standard library only, so that the policy pack reads ARNs too).
"""

from __future__ import annotations

from functools import cache
from typing import Any


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
