"""components/aws_facts.py: the regions and partitions read from botocore's endpoint data."""

from __future__ import annotations

import pytest

from components.aws_facts import aws_regions, region_partition


@pytest.mark.parametrize(
    ("region", "partition"),
    [("ap-northeast-2", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_a_region_belongs_to_the_partition_botocore_files_it_under(region: str, partition: str) -> None:
    assert region in aws_regions()
    assert region_partition(region) == partition


def test_the_regions_are_botocores_and_hold_no_made_up_code() -> None:
    regions = aws_regions()
    assert {"us-east-1", "ap-northeast-2", "cn-northwest-1", "us-gov-east-1"} <= regions
    assert "ap-northeast-9" not in regions and "" not in regions
