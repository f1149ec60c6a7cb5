"""The stack config contract: what is accepted, and that every bad config is refused by key."""

from __future__ import annotations

import datetime
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.aws_facts import aws_regions
from components.config import KNOWN_KEYS, EnvType, StackConfig
from components.config import parse_config as parse_merged
from components.config_errors import ConfigError
from policies.contracts.names import NAME_MAX, cluster_identifier, kms_alias, logical, parse_stem, pg_identifier, stem
from tests.support.program import PROJECT_DEFAULTS, ROOT, UNSET, over_defaults

REGION = "ap-northeast-2"
ATTACH = {"name": "shared-nonprod", "stack": "acme/envstack/staging"}
ARN = "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod"
SECRET = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-abc"
ROLE = "arn:aws:iam::123456789012:role/platform-api"


def parse_config(raw: dict[str, Any], stack: str) -> StackConfig:
    """The contract as the program sees it: Pulumi.yaml's project defaults beneath the stack's
    own keys, as the Pulumi CLI merges them (tests/conftest.py over_defaults)."""
    return parse_merged(over_defaults(raw), stack)


NETWORK = {"envstack:network": {"subnetGroup": "private-db", "securityGroupIds": ["sg-0123456789abcdef0"]}}


def refused(raw: dict[str, Any], stack: str = "dev") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, stack)
    return info.value


def test_minimal_dev_config_is_accepted_and_name_defaults_to_stack() -> None:
    cfg = parse_config({"aws:region": REGION, "envstack:type": "dev"}, "dev")
    assert (cfg.name, cfg.type, cfg.cluster, cfg.region) == ("dev", EnvType.DEV, None, REGION)


def test_cluster_object_arrives_from_pulumi_as_json_text() -> None:
    cfg = parse_config(
        {"aws:region": REGION, "envstack:type": "custom", "envstack:cluster": '{"name": "x", "stack": "o/p/s"}'},
        "pr-1",
    )
    assert cfg.cluster is not None and cfg.cluster.mode == "stack"


@pytest.mark.parametrize(
    ("type_", "cluster"),
    [("dev", None), ("staging", {"name": "shared-nonprod", "create": True}), ("prod", {"name": "p", "create": True})],
)
def test_network_is_accepted_wherever_the_stack_creates_its_cluster(type_: str, cluster: Any) -> None:
    raw: dict[str, Any] = {"aws:region": REGION, "envstack:type": type_, **NETWORK}
    if cluster:
        raw["envstack:cluster"] = cluster
        raw["envstack:platformPrincipals"] = [ROLE]
    cfg = parse_config(raw, type_)
    assert cfg.creates_cluster and cfg.network is not None
    assert (cfg.network.subnet_group, cfg.network.security_group_ids) == ("private-db", ("sg-0123456789abcdef0",))
    # Pulumi hands objects to the program as JSON text.
    raw["envstack:network"] = '{"subnetGroup": "private-db"}'
    assert parse_config(raw, type_).network.subnet_group == "private-db"  # type: ignore[union-attr]


def test_provider_keys_other_than_region_are_ignored() -> None:
    cfg = parse_config({"aws:region": REGION, "aws:profile": "me", "envstack:type": "dev"}, "dev")
    assert cfg.region == REGION


@pytest.mark.parametrize(
    ("raw", "key", "got", "allowed"),
    [
        ({"aws:region": REGION}, "envstack:type", "not set", "one of dev, staging, prod, custom"),
        ({"aws:region": REGION, "envstack:type": "qa"}, "envstack:type", '"qa"', "one of dev, staging, prod, custom"),
        ({"envstack:type": "dev"}, "aws:region", "not set", "must be set"),
        ({"aws:region": "mars-north-1", "envstack:type": "dev"}, "aws:region", '"mars-north-1"', "AWS region code"),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:cluster": ATTACH},
            "envstack:cluster",
            "shared-nonprod",
            "no cluster on a dev environment",
        ),
        (
            {"aws:region": REGION, "envstack:type": "staging"},
            "envstack:cluster",
            "not set",
            "required for type staging",
        ),
        ({"aws:region": REGION, "envstack:type": "prod"}, "envstack:cluster", "not set", "required for type prod"),
        ({"aws:region": REGION, "envstack:type": "custom"}, "envstack:cluster", "not set", "required for type custom"),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:name": "Dev_1"},
            "envstack:name",
            '"Dev_1"',
            "lowercase letters",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:name": "a" * 33},
            "envstack:name",
            "a" * 33,
            "at most 32",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:name": "1dev"},
            "envstack:name",
            '"1dev"',
            "starting with a letter",
        ),
        (
            {"aws:region": REGION, "envstack:type": "custom", "envstack:cluster": {"name": "x", "create": True}},
            "envstack:cluster.create",
            "true",
            "never creates one",
        ),
        (
            {"aws:region": REGION, "envstack:type": "staging", "envstack:cluster": {"name": "x"}},
            "envstack:cluster",
            '"name": "x"',
            "exactly one of",
        ),
        (
            {
                "aws:region": REGION,
                "envstack:type": "staging",
                "envstack:cluster": {
                    "name": "x",
                    "arn": ARN.replace(REGION, "us-east-1"),
                    "secretArn": SECRET,
                    "endpoint": "h",
                },
            },
            "envstack:cluster.arn",
            "us-east-1",
            "region ap-northeast-2",
        ),
        (
            {"aws:region": REGION, "envstack:type": "staging", "envstack:cluster": {"name": "x", "arn": ARN}},
            "envstack:cluster",
            ARN,
            "needs 'secretArn'",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:clster": "x"},
            "envstack:clster",
            '"x"',
            "no such key",
        ),
        (
            {"aws:region": REGION, "envstack:type": "prod", "envstack:cluster": {**ATTACH, "creat": True}},
            "envstack:cluster.creat",
            "true",
            "no such key",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:confirmDeletion": "prod"},
            "envstack:confirmDeletion",
            '"prod"',
            "exactly the environment's name 'dev'",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:apiKeyVersion": "0"},
            "envstack:apiKeyVersion",
            '"0"',
            "a whole number >= 1 (Bump to rotate the publishable API key.",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:project": "Acme_1"},
            "envstack:project",
            '"Acme_1"',
            "lowercase letters",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:name": "a" * 20, "envstack:project": "b" * 12},
            "envstack:project",
            "b" * 12,
            "at most 11 here",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:apiKeyRetiring": 1},
            "envstack:apiKeyRetiring",
            "1",
            "exactly envstack:apiKeyVersion - 1 (0), or unset",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:apiKeyVersion": 3, "envstack:apiKeyRetiring": 1},
            "envstack:apiKeyRetiring",
            "1",
            "exactly envstack:apiKeyVersion - 1 (2)",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:cluster": "{not json"},
            "envstack:cluster",
            "{not json",
            "an object",
        ),
        # envstack:network: only where the stack creates its cluster, and well formed.
        (
            {"aws:region": REGION, "envstack:type": "custom", "envstack:cluster": ATTACH, **NETWORK},
            "envstack:network",
            '"subnetGroup": "private-db"',
            "only on a stack that creates its cluster",
        ),
        (
            {"aws:region": REGION, "envstack:type": "staging", "envstack:cluster": ATTACH, **NETWORK},
            "envstack:network",
            '"subnetGroup": "private-db"',
            "only on a stack that creates its cluster",
        ),
        (
            {
                "aws:region": REGION,
                "envstack:type": "prod",
                "envstack:cluster": {"name": "x", "arn": ARN, "secretArn": SECRET, "endpoint": "h"},
                **NETWORK,
            },
            "envstack:network",
            '"subnetGroup": "private-db"',
            "this stack attaches to one",
        ),
        (
            {
                "aws:region": REGION,
                "envstack:type": "staging",
                "envstack:cluster": {"name": "x", "create": True, "subnetGroup": "g"},
            },
            "envstack:cluster.subnetGroup",
            '"g"',
            "set it as envstack:network.subnetGroup",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:network": {"subnetGrp": "g"}},
            "envstack:network.subnetGrp",
            '"g"',
            "no such key (did you mean subnetGroup?); the network's keys are subnetGroup, securityGroupIds",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:network": {}},
            "envstack:network",
            "{}",
            "at least one of 'subnetGroup' or 'securityGroupIds'",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:network": {"securityGroupIds": ["sg-1"]}},
            "envstack:network.securityGroupIds",
            "sg-1",
            "security group IDs such as sg-0123456789abcdef0",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:network": {"subnetGroup": "a/b"}},
            "envstack:network.subnetGroup",
            '"a/b"',
            "a DB subnet group name",
        ),
        (
            {"aws:region": REGION, "envstack:type": "dev", "envstack:network": "{not json"},
            "envstack:network",
            "{not json",
            "an object",
        ),
    ],
)
def test_bad_config_is_refused_naming_key_value_and_what_is_allowed(
    raw: dict[str, Any], key: str, got: str, allowed: str
) -> None:
    err = refused(raw)
    assert err.keys == [key]
    message = str(err)
    line = next(line for line in message.splitlines() if line.strip().startswith(f"{key}:"))
    assert got in line, line
    assert allowed in line, line


def test_project_defaults_to_the_pulumi_project_and_rotation_overlap_is_accepted() -> None:
    cfg = parse_config({"aws:region": REGION, "envstack:type": "dev"}, "dev")
    assert (cfg.project, cfg.api_key_version, cfg.api_key_retiring) == ("envstack", 1, None)
    raw = {"aws:region": REGION, "envstack:type": "dev", "envstack:project": "acme", "envstack:apiKeyVersion": 2}
    cfg = parse_config({**raw, "envstack:apiKeyRetiring": 1}, "dev")
    assert (cfg.project, cfg.api_key_version, cfg.api_key_retiring) == ("acme", 2, 1)
    # The default project may be named explicitly, and is then exempt from the length budget.
    long_name = "a" * 32
    assert parse_config({**raw, "envstack:project": "envstack", "envstack:name": long_name}, "x").name == long_name


def test_name_defaulted_from_a_bad_stack_name_says_so() -> None:
    err = refused({"aws:region": REGION, "envstack:type": "custom", "envstack:cluster": ATTACH}, stack="PR_7")
    assert err.keys == ["envstack:name"]
    assert "defaulted to the stack name 'PR_7'" in str(err)


def test_every_envstack_key_is_documented_in_the_reference() -> None:

    reference = (ROOT / "docs" / "reference.md").read_text()
    for key in KNOWN_KEYS:
        assert f"| `{key}` |" in reference, key


# --- property test: nothing invalid gets through, and every refusal names its key ----------

NAME_CHARS = string.ascii_lowercase + string.digits + "-_A"
names = st.text(NAME_CHARS, min_size=0, max_size=40)
types = st.sampled_from([t.value for t in EnvType] + ["", "qa", "Prod", "DEV"])
regions = st.sampled_from([REGION, "us-east-1", "eu-west-1", "mars-1", "", "AP-NORTHEAST-2", "ap-northeast-9"])
clusters = st.one_of(
    st.none(),
    st.just(ATTACH),
    st.just({"name": "prod-main", "create": True}),
    st.just({"name": "x", "arn": ARN, "secretArn": SECRET, "endpoint": "x.example"}),
    st.just({"name": "x"}),
    st.just({"name": "Bad Name", "create": True}),
)
networks = st.one_of(
    st.none(),
    st.just({"subnetGroup": "private-db"}),
    st.just({"securityGroupIds": ["sg-0123456789abcdef0", "sg-01234567"]}),
    st.just({"subnetGroup": "private-db", "securityGroupIds": ["sg-0123456789abcdef0"]}),
    st.just({}),
    st.just({"subnetGroup": "bad/name"}),
    st.just({"securityGroupIds": ["sg-XYZ"]}),
    st.just({"subnetGroup": "private-db", "vpc": "vpc-1"}),
)
principal_lists = st.one_of(
    st.none(),
    st.just([ROLE]),
    st.just(["*"]),
    st.just(["arn:aws:iam::123456789012:user/someone"]),
    st.just(["arn:aws-cn:iam::123456789012:role/platform-api"]),
)


def _valid(raw: dict[str, Any], stack: str) -> bool:  # noqa: PLR0912 (one flat rule per branch)
    """An independent statement of the contract, written from the reference's table (docs/reference.md)."""
    import re

    name = raw.get("envstack:name", stack)
    if not (re.fullmatch(r"[a-z][a-z0-9-]*", name) and len(name) <= 32 and "--" not in name and name[-1] != "-"):
        return False
    project = raw.get("envstack:project", "envstack")
    if not (re.fullmatch(r"[a-z][a-z0-9-]*", project) and len(project) <= 32 and "--" not in project):
        return False
    if project[-1] == "-" or (project != "envstack" and len(project) + len(name) > 31):
        return False
    retiring = raw.get("envstack:apiKeyRetiring")
    if retiring is not None and retiring != raw.get("envstack:apiKeyVersion", 1) - 1:
        return False
    if raw.get("aws:region") not in aws_regions():
        return False
    type_ = raw.get("envstack:type")
    if type_ not in {"dev", "staging", "prod", "custom"}:
        return False
    cluster = raw.get("envstack:cluster")
    if (type_ == "dev") != (cluster is None):
        return False
    # Pulumi.yaml's project defaults name the principals, the boundary and the deploy role.
    principals = raw.get("envstack:platformPrincipals", PROJECT_DEFAULTS["envstack:platformPrincipals"])
    if not principals:
        return False
    role = r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+"
    if any("*" in p or not re.fullmatch(role, p) for p in principals):
        return False
    if any(p.split(":")[1] != ("aws-cn" if raw["aws:region"].startswith("cn-") else "aws") for p in principals):
        return False
    if cluster is not None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", cluster["name"]):
            return False
        ways = sum(bool(cluster.get(k)) for k in ("create", "stack", "arn"))
        if ways != 1 or (cluster.get("create") and type_ == "custom"):
            return False
        if cluster.get("arn") and cluster["arn"].split(":")[3] != raw["aws:region"]:
            return False
    network = raw.get("envstack:network")
    if network is not None:
        creates = cluster is None or cluster.get("create")
        if not creates or not network or set(network) - {"subnetGroup", "securityGroupIds"}:
            return False
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,254}", network.get("subnetGroup", "ok")):
            return False
        if not all(re.fullmatch(r"sg-[0-9a-f]{8}|sg-[0-9a-f]{17}", g) for g in network.get("securityGroupIds", [])):
            return False
    return True


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.one_of(st.none(), names),
    type_=types,
    region=regions,
    cluster=clusters,
    network=networks,
    stack=names,
    principals=principal_lists,
    project=st.one_of(st.none(), st.just("envstack"), names),
    versions=st.tuples(st.integers(1, 4), st.one_of(st.none(), st.integers(1, 4))),
)
def test_property_invalid_configs_are_refused_with_their_key(
    *,
    name: str | None,
    type_: str,
    region: str,
    cluster: dict[str, Any] | None,
    network: Any,
    stack: str,
    principals: list[str] | None,
    project: str | None,
    versions: tuple[int, int | None],
) -> None:
    raw: dict[str, Any] = {"aws:region": region, "envstack:type": type_, "envstack:apiKeyVersion": versions[0]}
    if principals is not None:
        raw["envstack:platformPrincipals"] = principals
    if versions[1] is not None:
        raw["envstack:apiKeyRetiring"] = versions[1]
    if project is not None:
        raw["envstack:project"] = project
    if name is not None:
        raw["envstack:name"] = name
    if cluster is not None:
        raw["envstack:cluster"] = cluster
    if network is not None:
        raw["envstack:network"] = network
    if _valid(raw, stack):
        cfg = parse_config(raw, stack)
        assert isinstance(cfg, StackConfig)
        # Every accepted (project, environment) maps to names within AWS's and PostgreSQL's limits.
        for role in ("files", "created-at", "registry"):
            assert len(logical(cfg.name, role, cfg.project)) + len("-logs") + 8 <= 63
        assert len(pg_identifier(cfg.name, cfg.project)) <= 63
        return
    with pytest.raises(ConfigError) as info:
        parse_config(raw, stack)
    assert info.value.keys, "a refusal must name at least one key"
    for key in info.value.keys:
        assert key.split(".")[0] in {"aws:region", *KNOWN_KEYS}, key
        assert key in str(info.value)


# --- property test: two (project, environment) pairs never share a name ----------------------

# Names of the config's grammar, weighted toward hyphens and digits (where ambiguity would hide).
valid_names = st.from_regex(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,31}", fullmatch=True).filter(
    lambda n: len(n) <= NAME_MAX and "--" not in n
)
projects = st.one_of(st.just("envstack"), valid_names, st.sampled_from(["a", "a-b", "b-c", "a-1", "e"]))


def _names(project: str, env: str) -> tuple[str, ...]:
    return (
        stem(env, project),
        logical(env, "files", project),
        cluster_identifier(env, project),
        kms_alias(env, project),
        pg_identifier(env, project),
    )


@settings(max_examples=500, deadline=None)
@given(a=st.tuples(projects, valid_names), b=st.tuples(projects, valid_names))
def test_property_names_are_one_to_one_over_project_and_environment(a: tuple[str, str], b: tuple[str, str]) -> None:
    for pair in (a, b):
        if pair[0] != "envstack" and len(pair[0]) + len(pair[1]) > 31:
            return  # refused by the config (test above): never named
    assert parse_stem(stem(a[1], a[0])) == a  # an inverse exists: the mapping is one-to-one
    names_a, names_b = _names(*a), _names(*b)
    for x, y in zip(names_a, names_b, strict=True):
        assert (x == y) == (a == b), (a, b, x)
    for name in (names_a[1], names_a[2]):  # RDS identifiers and S3 names: no "--", no trailing "-"
        assert "--" not in name and not name.endswith("-") and len(name) <= 63


def test_the_default_project_keeps_todays_names() -> None:
    assert _names("envstack", "pr-42") == (
        "pr-42",
        "envstack-pr-42-files",
        "envstack-pr-42",
        "alias/envstack-pr-42",
        "env_pr_42",
    )
    # (project a, env b-c) and (project a-b, env c) would both be "a-b-c" with a plain separator.
    assert logical("b-c", "files", "a") == "envstack-1-a-b-c-files"
    assert logical("c", "files", "a-b") == "envstack-3-a-b-c-files"


# --- every message, exactly: a user reads it to know what to fix ----------------------------

_DEV = {"aws:region": REGION, "envstack:type": "dev"}
_STAGING = {"aws:region": REGION, "envstack:type": "staging", "envstack:platformPrincipals": [ROLE]}
EXACT_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "type_missing": ({"aws:region": REGION}, "dev"),
    "region_missing": ({"envstack:type": "dev"}, "dev"),
    "region_bad": ({**_DEV, "aws:region": "mars-north-1"}, "dev"),
    "two_problems": ({"envstack:type": "qa", "aws:region": "mars-north-1"}, "dev"),
    "name_defaulted": ({**_DEV}, "PR_7"),
    "name_set_bad": ({**_DEV, "envstack:name": "PR_7"}, "dev"),
    "name_date": ({**_DEV, "envstack:name": datetime.date(2024, 1, 2)}, "dev"),
    "unknown_key": ({**_DEV, "envstack:clster": "x"}, "dev"),
    "unknown_cluster_key": (
        {**_STAGING, "envstack:cluster": {"stack": "a/b/c", "name": "x", "creat": True}},
        "staging",
    ),
    "cluster_name_missing": ({**_STAGING, "envstack:cluster": {"stack": "a/b/c"}}, "staging"),
    "dev_cluster": (
        {**_DEV, "envstack:cluster": {"stack": "a/b/c", "name": "x", "port": 5432, "secretArn": SECRET}},
        "dev",
    ),
    "staging_no_cluster": ({**_STAGING}, "staging"),
    "custom_create": (
        {"aws:region": REGION, "envstack:type": "custom", "envstack:cluster": {"name": "x", "create": True}},
        "custom",
    ),
    "no_way": ({**_STAGING, "envstack:cluster": {"name": "x"}}, "staging"),
    "three_ways": (
        {
            **_STAGING,
            "envstack:cluster": {
                "name": "x",
                "create": True,
                "stack": "a/b/c",
                "arn": ARN,
                "secretArn": SECRET,
                "endpoint": "h",
            },
        },
        "staging",
    ),
    "two_ways": ({**_STAGING, "envstack:cluster": {"name": "x", "create": True, "stack": "a/b/c"}}, "staging"),
    "arn_alone": ({**_STAGING, "envstack:cluster": {"name": "x", "arn": ARN, "secretArn": SECRET}}, "staging"),
    "arn_no_secret": ({**_STAGING, "envstack:cluster": {"name": "x", "arn": ARN, "endpoint": "h"}}, "staging"),
    "max_cap": ({**_STAGING, "envstack:cluster": {**ATTACH, "maxCapacity": 4}}, "staging"),
    "stack_bad": ({**_STAGING, "envstack:cluster": {"name": "x", "stack": "a/b"}}, "staging"),
    "arn_bad": (
        {**_STAGING, "envstack:cluster": {"name": "x", "arn": "arn:aws:rds:x", "secretArn": SECRET, "endpoint": "h"}},
        "staging",
    ),
    "secret_bad": (
        {**_STAGING, "envstack:cluster": {"name": "x", "arn": ARN, "secretArn": "s", "endpoint": "h"}},
        "staging",
    ),
    "arn_region": (
        {
            **_STAGING,
            "envstack:cluster": {
                "name": "x",
                "arn": ARN.replace(REGION, "us-east-1"),
                "secretArn": SECRET,
                "endpoint": "h",
            },
        },
        "staging",
    ),
    "network_attach": ({**_STAGING, "envstack:cluster": ATTACH, "envstack:network": {"subnetGroup": "g"}}, "staging"),
    "network_empty": ({**_DEV, "envstack:network": {}}, "dev"),
    "network_sg": ({**_DEV, "envstack:network": {"securityGroupIds": ["sg-0123456789abcdef0", "sg-1", "sg-2"]}}, "dev"),
    "network_sg_type": ({**_DEV, "envstack:network": {"securityGroupIds": [1]}}, "dev"),
    "network_subnet": ({**_DEV, "envstack:network": {"subnetGroup": "a/b"}}, "dev"),
    "network_moved_and_more": (
        {
            **_STAGING,
            "envstack:cluster": {"name": "x", "create": True, "securityGroupIds": ["sg-1"]},
            "envstack:network": {},
        },
        "staging",
    ),
    "network_unknown": ({**_DEV, "envstack:network": {"subnetGrp": "g"}}, "dev"),
    "network_notjson": ({**_DEV, "envstack:network": "{not json"}, "dev"),
    "principals_notjson": ({**_DEV, "envstack:platformPrincipals": "[not json"}, "dev"),
    "retiring": ({**_DEV, "envstack:apiKeyVersion": 3, "envstack:apiKeyRetiring": 1}, "dev"),
    "project": ({**_DEV, "envstack:name": "a" * 20, "envstack:project": "b" * 12}, "dev"),
    "confirm": ({**_DEV, "envstack:confirmDeletion": "prod"}, "dev"),
    "principals_missing": (
        {
            "aws:region": REGION,
            "envstack:type": "prod",
            "envstack:cluster": ATTACH,
            "envstack:platformPrincipals": UNSET,
        },
        "prod",
    ),
    "principal_wild": ({**_DEV, "envstack:platformPrincipals": ["arn:aws:iam::123456789012:role/*"]}, "dev"),
    "principal_bad": ({**_DEV, "envstack:platformPrincipals": [ROLE, "arn:aws:iam::123456789012:user/u"]}, "dev"),
    "principal_dup": ({**_DEV, "envstack:platformPrincipals": [ROLE, ROLE]}, "dev"),
    "principal_partition": (
        {
            **_DEV,
            "aws:region": "cn-north-1",
            "envstack:platformPrincipals": ["arn:aws-cn:iam::123456789012:role/a", ROLE],
            "envstack:deployRoleArn": UNSET,
        },
        "dev",
    ),
    "boundary_bad": ({**_DEV, "envstack:permissionsBoundary": "arn:aws:iam::123456789012:role/r"}, "dev"),
    "boundary_partition": (
        {
            **_DEV,
            "aws:region": "cn-north-1",
            "envstack:platformPrincipals": ["arn:aws-cn:iam::123456789012:role/a"],
            "envstack:permissionsBoundary": "arn:aws:iam::aws:policy/P",
            "envstack:deployRoleArn": UNSET,
        },
        "dev",
    ),
    "boundary_not_envstacks": (
        {**_DEV, "envstack:permissionsBoundary": "arn:aws:iam::123456789012:policy/org/boundary"},
        "dev",
    ),
    "boundary_missing": ({**_DEV, "envstack:permissionsBoundary": UNSET}, "dev"),
    "deploy_role_missing": (
        {"aws:region": REGION, "envstack:type": "prod", "envstack:cluster": ATTACH, "envstack:deployRoleArn": UNSET},
        "prod",
    ),
    "cluster_name_bad": ({**_STAGING, "envstack:cluster": {**ATTACH, "name": "Shared"}}, "staging"),
    "project_name_bad": ({**_DEV, "envstack:project": "-acme"}, "dev"),
    "deploy_role_bad": ({**_DEV, "envstack:deployRoleArn": "arn:aws:iam::123456789012:user/ci"}, "dev"),
    "deploy_role_partition": (
        {
            **_DEV,
            "aws:region": "cn-north-1",
            "envstack:platformPrincipals": ["arn:aws-cn:iam::123456789012:role/p"],
            "envstack:permissionsBoundary": "arn:aws-cn:iam::123456789012:policy/envstack/runtime-boundary-envstack",
            "envstack:deployRoleArn": ROLE,
        },
        "dev",
    ),
    "boundary_aws_managed": (
        {**_DEV, "envstack:permissionsBoundary": "arn:aws:iam::aws:policy/envstack/runtime-boundary-envstack"},
        "dev",
    ),
}
EXACT_MESSAGES = [
    (
        "type_missing",
        ["envstack:type: got nothing (the key is not set); allowed: one of dev, staging, prod, custom"],
    ),
    (
        "region_missing",
        [
            "aws:region: got nothing (the key is not set); allowed: must be set (The AWS region the environment lives in.)"
        ],
    ),
    (
        "region_bad",
        ['aws:region: got "mars-north-1"; allowed: an AWS region code such as ap-northeast-2 or us-east-1'],
    ),
    (
        "two_problems",
        [
            'aws:region: got "mars-north-1"; allowed: an AWS region code such as ap-northeast-2 or us-east-1',
            'envstack:type: got "qa"; allowed: one of dev, staging, prod, custom',
        ],
    ),
    (
        "name_defaulted",
        [
            "envstack:name: got \"PR_7\"; allowed: lowercase letters, digits and '-', starting with a letter, at most 32 characters, no trailing or doubled '-' (it defaulted to the stack name 'PR_7'; set envstack:name)"
        ],
    ),
    (
        "name_set_bad",
        [
            "envstack:name: got \"PR_7\"; allowed: lowercase letters, digits and '-', starting with a letter, at most 32 characters, no trailing or doubled '-'"
        ],
    ),
    (
        "name_date",
        ['envstack:name: got "2024-01-02"; allowed: a string (The environment\'s name; defaults to the stack name.)'],
    ),
    (
        "unknown_key",
        [
            'envstack:clster: got "x"; allowed: no such key (did you mean envstack:cluster?); the envstack keys are envstack:type, envstack:name, envstack:cluster, envstack:network, envstack:confirmDeletion, envstack:apiKeyVersion, envstack:apiKeyRetiring, envstack:project, envstack:dbPasswordVersion, envstack:dbConnectionLimit, envstack:platformPrincipals, envstack:permissionsBoundary, envstack:deployRoleArn'
        ],
    ),
    (
        "unknown_cluster_key",
        [
            "envstack:cluster.creat: got true; allowed: no such key (did you mean create?); the cluster assignment's keys are name, create, stack, arn, secretArn, endpoint, port, database, maxCapacity"
        ],
    ),
    (
        "cluster_name_missing",
        [
            "envstack:cluster.name: got nothing (the key is not set); allowed: must be set (The assignment's name; the RDS cluster identifier when created here.)"
        ],
    ),
    (
        "dev_cluster",
        [
            'envstack:cluster: got {"name": "x", "secretArn": "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-abc", "stack": "a/b/c"}; allowed: no cluster on a dev environment: dev keeps its tables on a private cluster of its own'
        ],
    ),
    (
        "staging_no_cluster",
        [
            "envstack:cluster: got nothing (the key is not set); allowed: a cluster assignment, required for type staging"
        ],
    ),
    (
        "custom_create",
        [
            "envstack:cluster.create: got true; allowed: a custom environment attaches to an existing cluster ('stack' or 'arn') and never creates one"
        ],
    ),
    (
        "no_way",
        [
            "envstack:cluster: got {\"name\": \"x\"}; allowed: exactly one of 'create: true', 'stack' or 'arn' (got none)"
        ],
    ),
    (
        "three_ways",
        [
            'envstack:cluster: got {"arn": "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod", "create": true, "endpoint": "h", "name": "x", "secretArn": "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-abc", "stack": "a/b/c"}; allowed: exactly one of \'create: true\', \'stack\' or \'arn\' (got create, stack, arn)'
        ],
    ),
    (
        "two_ways",
        [
            'envstack:cluster: got {"create": true, "name": "x", "stack": "a/b/c"}; allowed: exactly one of \'create: true\', \'stack\' or \'arn\' (got create, stack)'
        ],
    ),
    (
        "arn_alone",
        [
            'envstack:cluster: got {"arn": "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod", "name": "x", "secretArn": "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-abc"}; allowed: \'arn\' needs \'secretArn\' (the provisioner login\'s secret) and \'endpoint\' beside it'
        ],
    ),
    (
        "arn_no_secret",
        [
            'envstack:cluster: got {"arn": "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod", "endpoint": "h", "name": "x"}; allowed: \'arn\' needs \'secretArn\' (the provisioner login\'s secret) and \'endpoint\' beside it'
        ],
    ),
    (
        "max_cap",
        [
            'envstack:cluster: got {"maxCapacity": 4, "name": "shared-nonprod", "stack": "acme/envstack/staging"}; allowed: \'maxCapacity\' only with \'create: true\''
        ],
    ),
    (
        "stack_bad",
        ["envstack:cluster.stack: got \"a/b\"; allowed: a fully qualified stack name 'org/project/stack'"],
    ),
    (
        "arn_bad",
        [
            "envstack:cluster.arn: got \"arn:aws:rds:x\"; allowed: an RDS cluster ARN 'arn:aws:rds:<region>:<account>:cluster:<id>'"
        ],
    ),
    (
        "secret_bad",
        [
            "envstack:cluster.secretArn: got \"s\"; allowed: a Secrets Manager ARN 'arn:aws:secretsmanager:<region>:<account>:secret:<name>'"
        ],
    ),
    (
        "arn_region",
        [
            'envstack:cluster.arn: got "arn:aws:rds:us-east-1:123456789012:cluster:shared-nonprod"; allowed: a cluster in the environment\'s region ap-northeast-2'
        ],
    ),
    (
        "network_attach",
        [
            'envstack:network: got {"subnetGroup": "g"}; allowed: only on a stack that creates its cluster (dev, or envstack:cluster.create: true); this stack attaches to one'
        ],
    ),
    (
        "network_empty",
        ["envstack:network: got {}; allowed: at least one of 'subnetGroup' or 'securityGroupIds'"],
    ),
    (
        "network_sg",
        [
            'envstack:network.securityGroupIds: got ["sg-0123456789abcdef0", "sg-1", "sg-2"]; allowed: security group IDs such as sg-0123456789abcdef0 (not \'sg-1\')'
        ],
    ),
    ("network_sg_type", ["envstack:network.securityGroupIds.0: got 1; allowed: a string"]),
    (
        "network_subnet",
        [
            "envstack:network.subnetGroup: got \"a/b\"; allowed: a DB subnet group name: up to 255 letters, digits, '.', '_', ' ' or '-'"
        ],
    ),
    (
        "network_moved_and_more",
        [
            'envstack:cluster.securityGroupIds: got ["sg-1"]; allowed: set it as envstack:network.securityGroupIds',
            "envstack:network: got {}; allowed: at least one of 'subnetGroup' or 'securityGroupIds'",
        ],
    ),
    (
        "network_unknown",
        [
            'envstack:network.subnetGrp: got "g"; allowed: no such key (did you mean subnetGroup?); the network\'s keys are subnetGroup, securityGroupIds'
        ],
    ),
    (
        "network_notjson",
        ['envstack:network: got "{not json"; allowed: an object; set it with `pulumi config set --path`'],
    ),
    (
        "principals_notjson",
        ['envstack:platformPrincipals: got "[not json"; allowed: a list; set it with `pulumi config set --path`'],
    ),
    (
        "retiring",
        [
            "envstack:apiKeyRetiring: got 1; allowed: the version deployed before the bump, exactly envstack:apiKeyVersion - 1 (2), or unset"
        ],
    ),
    (
        "project",
        [
            "envstack:project: got \"bbbbbbbbbbbb\"; allowed: a project name that, with the environment's name 'aaaaaaaaaaaaaaaaaaaa', takes at most 31 characters (at most 11 here)"
        ],
    ),
    (
        "confirm",
        ["envstack:confirmDeletion: got \"prod\"; allowed: exactly the environment's name 'dev', or unset"],
    ),
    (
        "principals_missing",
        [
            "envstack:platformPrincipals: got nothing (the key is not set); allowed: the IAM role ARNs that may assume the runtime role, required for every type (no runtime role trusts an account root); set them once for the project in Pulumi.yaml"
        ],
    ),
    (
        "principal_wild",
        [
            "envstack:platformPrincipals: got [\"arn:aws:iam::123456789012:role/*\"]; allowed: never a wildcard principal ('arn:aws:iam::123456789012:role/*'): list the platform's IAM role ARNs"
        ],
    ),
    (
        "principal_bad",
        [
            "envstack:platformPrincipals: got [\"arn:aws:iam::123456789012:role/platform-api\", \"arn:aws:iam::123456789012:user/u\"]; allowed: IAM role ARNs 'arn:aws:iam::<account>:role/<name>' ('arn:aws:iam::123456789012:user/u' is not one)"
        ],
    ),
    (
        "principal_dup",
        [
            'envstack:platformPrincipals: got ["arn:aws:iam::123456789012:role/platform-api", "arn:aws:iam::123456789012:role/platform-api"]; allowed: each IAM role ARN once'
        ],
    ),
    (
        "principal_partition",
        [
            'envstack:platformPrincipals: got "arn:aws:iam::123456789012:role/platform-api"; allowed: ARNs of partition aws-cn, the partition of cn-north-1'
        ],
    ),
    (
        "boundary_bad",
        [
            "envstack:permissionsBoundary: got \"arn:aws:iam::123456789012:role/r\"; allowed: an IAM managed policy ARN 'arn:aws:iam::<account>:policy/<name>', <account> from `aws sts get-caller-identity --query Account`"
        ],
    ),
    (
        "boundary_partition",
        [
            'envstack:permissionsBoundary: got "arn:aws:iam::aws:policy/P"; allowed: ARNs of partition aws-cn, the partition of cn-north-1'
        ],
    ),
    (
        "boundary_not_envstacks",
        [
            'envstack:permissionsBoundary: got "arn:aws:iam::123456789012:policy/org/boundary"; allowed: the boundary policy of project envstack, arn:aws:iam::<account>:policy/envstack/runtime-boundary-envstack (<account> from `aws sts get-caller-identity --query Account`; `envctl iam-policy boundary` prints it)'
        ],
    ),
    (
        "boundary_missing",
        [
            "envstack:permissionsBoundary: got nothing (the key is not set); allowed: must be set (ARN of the runtime roles' permissions boundary, the managed policy `envctl iam-policy boundary` prints: arn:<partition>:iam::<account>:policy/envstack/runtime-boundary-<project> (docs/iam.md); usually set once for the project in Pulumi.yaml.)"
        ],
    ),
    (
        "deploy_role_missing",
        [
            "envstack:deployRoleArn: got nothing (the key is not set); allowed: the CI deploy role's ARN, required where a key is created (a prod stack): its key policy names it; set it once for the project in Pulumi.yaml"
        ],
    ),
    (
        "cluster_name_bad",
        [
            "envstack:cluster.name: got \"Shared\"; allowed: lowercase letters, digits and '-', starting with a letter, at most 32 characters, no trailing or doubled '-'",
        ],
    ),
    (
        "project_name_bad",
        [
            "envstack:project: got \"-acme\"; allowed: lowercase letters, digits and '-', starting with a letter, at most 32 characters, no trailing or doubled '-'",
        ],
    ),
    (
        "deploy_role_bad",
        [
            "envstack:deployRoleArn: got \"arn:aws:iam::123456789012:user/ci\"; allowed: an IAM role ARN 'arn:aws:iam::<account>:role/<name>', <account> from `aws sts get-caller-identity --query Account`",
        ],
    ),
    (
        "deploy_role_partition",
        [
            'envstack:deployRoleArn: got "arn:aws:iam::123456789012:role/platform-api"; allowed: ARNs of partition aws-cn, the partition of cn-north-1',
        ],
    ),
    (
        "boundary_aws_managed",
        [
            'envstack:permissionsBoundary: got "arn:aws:iam::aws:policy/envstack/runtime-boundary-envstack"; allowed: the boundary policy of project envstack, arn:aws:iam::<account>:policy/envstack/runtime-boundary-envstack (<account> from `aws sts get-caller-identity --query Account`; `envctl iam-policy boundary` prints it)',
        ],
    ),
]


@pytest.mark.parametrize(("case", "lines"), EXACT_MESSAGES, ids=[c for c, _ in EXACT_MESSAGES])
def test_each_refusal_reads_exactly(case: str, lines: list[str]) -> None:
    raw, stack = EXACT_CASES[case]
    assert str(refused(raw, stack)) == "invalid stack config\n  " + "\n  ".join(lines)


def test_every_exact_case_is_refused_and_checked() -> None:
    assert [c for c, _ in EXACT_MESSAGES] == list(EXACT_CASES)


def test_the_edges_the_rules_accept() -> None:
    # project and environment names take exactly 31 characters together
    assert parse_config({**_DEV, "envstack:name": "a" * 20, "envstack:project": "b" * 11}, "x").project == "b" * 11
    # ARNs of the region's own partition, outside the commercial one
    boundary = "arn:aws-cn:iam::123456789012:policy/envstack/runtime-boundary-envstack"
    cn = {
        **_DEV,
        "aws:region": "cn-north-1",
        "envstack:platformPrincipals": ["arn:aws-cn:iam::123456789012:role/a"],
        "envstack:permissionsBoundary": boundary,
        "envstack:deployRoleArn": "arn:aws-cn:iam::123456789012:role/ci/deploy",
    }
    assert parse_config(cn, "dev").permissions_boundary == boundary
    # a non-string object value is taken as it is; a JSON list arrives as text
    listed = parse_config({**_DEV, "envstack:platformPrincipals": f'["{ROLE}"]'}, "dev")
    assert listed.platform_principals == (ROLE,)


@pytest.mark.parametrize(
    ("cluster", "mode", "creates"),
    [
        ({"name": "x", "create": True}, "create", True),
        (ATTACH, "stack", False),
        ({"name": "x", "arn": ARN, "secretArn": SECRET, "endpoint": "h"}, "arn", False),
    ],
)
def test_the_cluster_mode_and_whether_the_stack_creates_it(cluster: dict[str, Any], mode: str, creates: bool) -> None:
    cfg = parse_config({**_STAGING, "envstack:cluster": cluster}, "staging")
    assert cfg.cluster is not None
    assert (cfg.cluster.mode, cfg.creates_cluster) == (mode, creates)


def test_dev_creates_its_cluster_and_deletion_is_confirmed_by_the_name_alone() -> None:
    assert parse_config(_DEV, "dev").creates_cluster is True
    assert parse_config(_DEV, "dev").deletion_confirmed is False
    assert parse_config({**_DEV, "envstack:confirmDeletion": "dev"}, "dev").deletion_confirmed is True


def test_a_cross_key_rule_says_what_is_allowed_even_when_the_model_is_validated_directly() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        StackConfig.model_validate(over_defaults({**_DEV, "envstack:name": "dev", "envstack:confirmDeletion": "prod"}))
    assert "Value error, exactly the environment's name 'dev', or unset" in str(err.value)
