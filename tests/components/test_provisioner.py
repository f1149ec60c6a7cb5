"""The Provisioner component and its provider's diff, without a server (the SQL is proven on
PostgreSQL 16 in tests/integration/test_provisioner_login.py)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from components.cluster import ClusterAttachment
from components.config import EnvType
from components.provisioner import Provisioner, ProvisionerArgs, ProvisionerProvider
from components.settings import SETTINGS
from components.tables import password_hash
from policies.contracts import conventions
from policies.contracts.names import PG_PROVISIONER, provisioner_secret_name
from tests.support.program import build

EXECUTOR = {"kind": "data-api", "clusterArn": "arn:aws:rds:r:1:cluster:c", "secretArn": "master", "database": "db"}
INPUTS = {"database": "db", "password": "pw-1", "executor": EXECUTOR}
STATE = {"database": "db", "passwordHash": password_hash("pw-1"), "executor": EXECUTOR}


def diff(news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
    return ProvisionerProvider().diff(f"db/{PG_PROVISIONER}", STATE, {**INPUTS, **news})


def test_unchanged_inputs_are_no_change() -> None:
    result = diff({})
    assert not result.changes and result.replaces == []


@pytest.mark.parametrize(
    ("news", "replaces"),
    [
        ({"executor": {**EXECUTOR, "clusterArn": "arn:aws:rds:r:1:cluster:other"}}, ["clusterArn"]),
        ({"executor": rpc.UNKNOWN}, ["clusterArn"]),  # the whole executor unknown while the cluster is created
        ({"database": "other"}, ["database"]),
        ({"executor": {**EXECUTOR, "secretArn": "rotated-master"}}, []),  # the master secret: in place
        ({"password": "pw-2"}, []),
        ({"password": Unknown()}, []),  # a password being regenerated, during a preview
    ],
)
def test_what_changes_and_what_replaces(news: dict[str, Any], replaces: list[str]) -> None:
    result = diff(news)
    assert result.changes and result.replaces == replaces


def test_the_component_declares_the_login_and_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """What every plan shows only as `[secret]`: the secret's text is the provisioner's login on
    the owned cluster, written with the password the provisioner's plan sets, which stays secret."""
    seen: dict[str, list[Any]] = {"secret_string": [], "password": [], "name": []}
    secret_outputs: list[Any] = []
    providers: list[Any] = []

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == conventions.PROVISIONER_ROLE:
            secret_outputs.append(args.opts.additional_secret_outputs)
            pulumi.Output.from_input(args.props["__provider"]).apply(providers.append)
        for key, found in seen.items():
            if isinstance(args.props, dict) and key in args.props:
                pulumi.Output.from_input(args.props[key]).apply(found.append)

    cluster = ClusterAttachment(
        name="shared-nonprod", arn="arn:aws:rds:r:1:cluster:shared-nonprod", secret_arn="master",
        endpoint="c.example", port=6543, database="db",
    )  # fmt: skip
    args = ProvisionerArgs(cluster=cluster, secret_recovery_days=SETTINGS[EnvType.STAGING].secret_recovery_days)
    build(
        lambda o: Provisioner(
            "p", args, pulumi.ResourceOptions.merge(o, pulumi.ResourceOptions(transformations=[capture]))
        )
    )
    [text], [password], [name] = seen["secret_string"], seen["password"], seen["name"]
    assert secret_outputs == [["password"]]
    assert providers == [serialize_provider(ProvisionerProvider())]  # what the host runs
    assert name == provisioner_secret_name("shared-nonprod")
    assert isinstance(password, str) and len(password) == 40
    assert json.loads(text) == {
        "engine": "postgres",
        "host": "c.example",
        "port": 6543,
        "dbname": "db",
        "username": PG_PROVISIONER,
        "password": password,
    }
