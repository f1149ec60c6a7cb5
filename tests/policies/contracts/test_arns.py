"""policies/contracts/arns.py: the one ARN parser, in every partition. Each ARN below is the shape
AWS documents for its service (IAM, RDS, Secrets Manager: "Amazon Resource Names" in the AWS
General Reference)."""

from __future__ import annotations

import re

import pytest

from policies.contracts.arns import (
    Arn,
    arn_fields,
    boundary_arn,
    is_account_root,
    is_cluster_arn,
    is_policy_arn,
    is_role_arn,
    is_secret_arn,
    parse_arn,
)
from tests.support.program import ROOT

PARTITIONS = ["aws", "aws-cn", "aws-us-gov"]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_an_arn_reads_as_its_six_fields_in_every_partition(partition: str) -> None:
    arn = parse_arn(f"arn:{partition}:rds:eu-west-1:123456789012:cluster:prod-main")
    assert arn == Arn(partition, "rds", "eu-west-1", "123456789012", "cluster:prod-main")
    assert arn.resource_id == "prod-main"
    role = arn_fields(f"arn:{partition}:iam::123456789012:role/envstack/envstack-dev-runtime-abc")
    assert (role.region, role.resource_id) == ("", "envstack/envstack-dev-runtime-abc")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "arn:aws:rds:eu-west-1:123456789012",  # no resource
        "arn:gcp:rds:eu-west-1:123456789012:cluster:x",  # not an AWS partition
        "arn:aws:rds:eu-west-1:1234:cluster:x",  # an account is twelve digits
        "xarn:aws:rds:eu-west-1:123456789012:cluster:x",
        "arn:aws:RDS:eu-west-1:123456789012:cluster:x",  # services are lower case
    ],
)
def test_what_is_not_an_arn_is_none_and_arn_fields_says_so(text: str) -> None:
    assert parse_arn(text) is None
    with pytest.raises(ValueError, match=r"^not an ARN: ") as err:
        arn_fields(text)
    assert str(err.value) == f"not an ARN: {text!r}"


@pytest.mark.parametrize("partition", PARTITIONS)
def test_each_kind_of_arn_is_recognised_by_its_service_resource_and_scope(partition: str) -> None:
    cluster = f"arn:{partition}:rds:eu-west-1:123456789012:cluster:prod-main"
    secret = f"arn:{partition}:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1a2b-AbCdEf"
    role = f"arn:{partition}:iam::123456789012:role/ci/envstack-deploy"
    policy = f"arn:{partition}:iam::123456789012:policy/envstack/runtime-boundary-envstack"
    aws_policy = f"arn:{partition}:iam::aws:policy/ReadOnlyAccess"
    kinds = {is_cluster_arn: cluster, is_secret_arn: secret, is_role_arn: role, is_policy_arn: policy}
    for check, arn in kinds.items():
        assert check(arn), (check.__name__, arn)
        assert [other.__name__ for other in kinds if other is not check and other(arn)] == []
    assert is_policy_arn(aws_policy) and not is_role_arn(f"arn:{partition}:iam::aws:role/x")
    # The scope: a cluster is regional, a role is global, and each needs the service's resource type.
    assert not is_cluster_arn(f"arn:{partition}:rds::123456789012:cluster:prod-main")
    assert not is_role_arn(f"arn:{partition}:iam:eu-west-1:123456789012:role/x")
    assert not is_cluster_arn(f"arn:{partition}:rds:eu-west-1:123456789012:db:prod-main")
    assert not is_secret_arn(f"arn:{partition}:secretsmanager:eu-west-1:123456789012:secret:")
    assert not is_role_arn(f"arn:{partition}:iam::123456789012:role/")


def test_the_boundary_arn_is_the_projects_policy_under_the_envstack_path() -> None:
    assert boundary_arn("aws-cn", "123456789012", "shop") == (
        "arn:aws-cn:iam::123456789012:policy/envstack/runtime-boundary-shop"
    )
    assert is_policy_arn(boundary_arn("aws", "123456789012", "envstack"))


@pytest.mark.parametrize("partition", PARTITIONS)
def test_an_account_root_is_the_iam_root_of_an_account_in_every_partition(partition: str) -> None:
    assert is_account_root(f"arn:{partition}:iam::123456789012:root")
    assert not is_account_root(f"arn:{partition}:iam::123456789012:user/root")
    assert not is_account_root(f"arn:{partition}:iam::aws:root")
    assert not is_account_root(f"arn:{partition}:sts::123456789012:root")
    assert not is_account_root("123456789012:root")


# Where an ARN is read: through arns.py, never by splitting or suffix-matching its text.
_BY_HAND = re.compile(r"""arn(?:\.\w+)*\.(?:rpartition|rsplit|split|partition)\(":"|endswith\(":root"\)|arn:aws\[""")


def test_no_module_reads_an_arn_by_hand() -> None:
    packages = ("components", "envctl", "policies", "devtools", "scripts")
    modules = [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]
    by_hand = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in modules
        if path != ROOT / "policies" / "contracts" / "arns.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _BY_HAND.search(line)
    ]
    assert by_hand == []
