"""The TableStore dynamic provider, called directly against the real server, and the
TableStore component in the rendered program."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from components.pulumi_runtime import is_unknown
from components.tables import (
    DeletionRefusedError,
    TableStoreProvider,
    credentials_document,
    password_hash,
)
from devtools.postgres import Server
from envctl.plan import Rendering
from policies.contracts import conventions
from policies.contracts.names import DATABASE
from tests.support.program import ROOT, STACKS, only


def props(pg: Server, env: str, **over: Any) -> dict[str, Any]:
    ident = "env_" + env.replace("-", "_")
    base = {
        "env": env,
        "envType": "custom",
        "schema": ident,
        "role": ident,
        "database": DATABASE,
        "connectionLimit": 5,
        "password": "first-password",
        "deleteNeedsConfirmation": False,
        "deletionConfirmed": False,
        "executor": {"kind": "dsn", "dsn": pg.admin_dsn},
    }
    return {**base, **over}


def can_login(pg: Server, p: dict[str, Any]) -> bool:
    try:
        with psycopg.connect(pg.dsn(p["role"], p["password"])):
            return True
    except psycopg.OperationalError:
        return False


def test_create_diff_update_delete_against_a_real_server(pg: Server) -> None:
    provider = TableStoreProvider()
    # Names other than the environment's default identifier: the stack's project chooses them.
    p = props(pg, "dyn-one", schema="env_dyn_one_tables", role="env_dyn_one_role")
    created = provider.create(p)
    assert created.id == f"{DATABASE}/env_dyn_one_tables"
    assert created.outs is not None and "password" not in created.outs
    assert created.outs["passwordHash"] == password_hash("first-password")
    assert can_login(pg, p)
    olds = created.outs

    assert provider.diff(created.id, olds, p).changes is False

    rotated = {**p, "password": "second-password", "connectionLimit": 7}
    diff = provider.diff(created.id, olds, rotated)
    assert diff.changes is True and diff.replaces == []  # in place
    with psycopg.connect(pg.dsn(p["role"], "first-password"), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
        assert conn.execute("SELECT current_schema()").fetchone() == ("env_dyn_one_tables",)
    updated = provider.update(created.id, olds, rotated)
    assert updated.outs is not None and updated.outs["connectionLimit"] == 7
    assert not can_login(pg, p) and can_login(pg, rotated)
    with psycopg.connect(pg.dsn(p["role"], "second-password"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)  # the table survived

    renamed = props(pg, "dyn-two", schema="env_dyn_one_tables", role="env_dyn_one_role")
    diff = provider.diff(created.id, updated.outs, renamed)
    assert diff.replaces == ["env"]

    provider.delete(created.id, updated.outs)
    assert not can_login(pg, rotated)
    with psycopg.connect(pg.admin_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'env_dyn_one%'").fetchone() == (0,)


def test_delete_of_an_unconfirmed_prod_environment_is_refused_and_keeps_the_data(pg: Server) -> None:
    provider = TableStoreProvider()
    p = props(pg, "dyn-prod", envType="prod", deleteNeedsConfirmation=True)
    created = provider.create(p)
    with pytest.raises(DeletionRefusedError, match="set envstack:confirmDeletion to 'dyn-prod'"):
        provider.delete(created.id, created.outs or {})
    assert can_login(pg, p)
    confirmed = {**p, "deletionConfirmed": True}
    diff = provider.diff(created.id, created.outs or {}, confirmed)
    assert diff.changes is True and diff.replaces == []  # step one is an in-place update
    outs = provider.update(created.id, created.outs or {}, confirmed).outs or {}
    provider.delete(created.id, outs)  # step two
    assert not can_login(pg, p)


def test_moving_to_another_cluster_is_a_replacement() -> None:
    provider = TableStoreProvider()
    old: dict[str, Any] = {
        "env": "a",
        "schema": "env_a",
        "role": "env_a",
        "database": "d",
        "passwordHash": password_hash("x"),
        "executor": {"kind": "data-api", "clusterArn": "arn:1", "secretArn": "s", "database": "d"},
    }
    new = {**old, "password": "x", "executor": {**old["executor"], "clusterArn": "arn:2"}}
    assert provider.diff("id", old, new).replaces == ["clusterArn"]


# --- previews: the engine's unknown values, through the SDK's own dynamic provider host --------

EXECUTOR = {"kind": "data-api", "clusterArn": "arn:1", "secretArn": "s", "database": "envstack"}
STATE = {
    "env": "pr-7",
    "envType": "custom",
    "schema": "env_pr_7",
    "role": "env_pr_7",
    "database": "envstack",
    "connectionLimit": 10,
    "deleteNeedsConfirmation": False,
    "deletionConfirmed": False,
    "executor": EXECUTOR,
    "passwordHash": password_hash("pw"),
}
INPUTS = {**{k: v for k, v in STATE.items() if k != "passwordHash"}, "password": "pw"}


def test_delete_of_an_unconfirmed_environment_says_how_to_confirm() -> None:
    unconfirmed = {**STATE, "envType": "staging", "deleteNeedsConfirmation": True}
    with pytest.raises(DeletionRefusedError) as info:
        TableStoreProvider().delete("envstack/env_pr_7", unconfirmed)  # refused before any connection
    assert str(info.value) == (
        "refusing to drop the tables of staging environment 'pr-7' (schema env_pr_7): "
        "set envstack:confirmDeletion to 'pr-7' and run `pulumi up` first"
    )


@pytest.mark.parametrize("key", ["env", "schema", "role", "database"])
def test_a_new_name_or_database_is_a_replacement(key: str) -> None:
    diff = TableStoreProvider().diff("id", STATE, {**INPUTS, key: "other"})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [key], False)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("connectionLimit", 11),
        ("deletionConfirmed", True),
        ("deleteNeedsConfirmation", True),
        ("envType", "staging"),
        ("executor", {**EXECUTOR, "secretArn": "s2"}),
        ("password", "rotated"),
    ],
)
def test_other_changes_are_applied_in_place(key: str, value: Any) -> None:
    diff = TableStoreProvider().diff("id", STATE, {**INPUTS, key: value})
    assert (diff.changes, diff.replaces) == (True, [])


def test_unchanged_inputs_are_no_change() -> None:
    diff = TableStoreProvider().diff("id", STATE, INPUTS)
    assert (diff.changes, diff.replaces) == (False, [])


def test_outputs_keep_a_hash_of_the_password_never_the_password() -> None:
    outs = TableStoreProvider()._outs(INPUTS)
    assert outs == {**STATE, "passwordHash": password_hash("pw")}
    assert password_hash("pw") == "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"


@pytest.mark.parametrize(
    ("news", "replaces"),
    [
        ({"executor": {**EXECUTOR, "clusterArn": Unknown()}}, ["clusterArn"]),
        ({"executor": Unknown()}, ["clusterArn"]),
        ({"env": Unknown(), "schema": Unknown()}, ["env", "schema"]),
        ({"executor": {**EXECUTOR, "secretArn": Unknown()}}, []),
        ({"password": Unknown()}, []),
        ({"connectionLimit": Unknown()}, []),
    ],
)
def test_an_unknown_value_is_a_change_and_a_replacement_when_it_decides_one(
    news: dict[str, Any], replaces: list[str]
) -> None:
    """As the provider host hands values over in a preview (the host itself: the tests below)."""
    diff = TableStoreProvider().diff("id", STATE, {**INPUTS, **news})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, replaces, False)


@pytest.mark.parametrize(
    "unknown", [{"executor": Unknown()}, {"executor": {**EXECUTOR, "kind": Unknown()}}, {"password": Unknown()}]
)
def test_check_passes_unknown_values_through(unknown: dict[str, Any]) -> None:
    news = {**INPUTS, **unknown}
    result = TableStoreProvider().check(STATE, news)
    assert (result.inputs, result.failures) == (news, [])


@pytest.mark.parametrize("executor", [EXECUTOR, {"kind": "dsn", "dsn": "host=h"}])
def test_check_accepts_valid_inputs_of_either_executor_kind(executor: dict[str, str]) -> None:
    news = {**INPUTS, "executor": executor}
    result = TableStoreProvider().check(STATE, news)
    assert (result.inputs, result.failures) == (news, [])


def test_check_refuses_each_bad_input_with_one_clear_line() -> None:
    bad = {**INPUTS, "connectionLimit": 10_001, "password": 7, "executor": {**EXECUTOR, "kind": "ssh"}}
    failures = [(f.property, f.reason) for f in TableStoreProvider().check(STATE, bad).failures]
    assert failures == [
        ("env", "invalid table store layout: connection limit 10001 is outside 1..10000"),
        ("password", "the role's password must be a string, not int"),
        ("executor", "unknown executor kind 'ssh'; allowed: data-api, dsn"),
    ]


def test_check_validates_the_layout_when_only_names_are_unknown() -> None:
    unknown = {k: Unknown() for k in ("schema", "role", "database")}
    failures = TableStoreProvider().check(STATE, {**INPUTS, **unknown, "connectionLimit": 0}).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("env", "invalid table store layout: connection limit 0 is outside 1..10000")
    ]


@pytest.mark.parametrize(("unknown", "bad"), [("env", {"connectionLimit": 0}), ("connectionLimit", {"env": "Bad"})])
def test_check_leaves_the_layout_alone_while_its_name_or_limit_is_unknown(unknown: str, bad: dict[str, Any]) -> None:
    result = TableStoreProvider().check(STATE, {**INPUTS, **bad, unknown: Unknown()})
    assert result.failures == []


PROVIDER_KEY = "__provider"  # where the SDK keeps the serialised provider in the properties


@pytest.fixture(scope="module")
def host() -> Iterator[Any]:
    """The SDK's own dynamic provider host (`python -m pulumi.dynamic`), in a process of its
    own and reached over gRPC, as the engine runs it; it imports `components` from the
    project directory, as Pulumi's host does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.dynamic"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        process.kill()
        process.wait()


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update({**props, PROVIDER_KEY: serialize_provider(TableStoreProvider())})
    return out


def host_diff(host: Any, news: dict[str, Any], olds: dict[str, Any] = STATE) -> Any:
    """A Diff as the engine sends it: the properties a protobuf Struct, in which an unknown
    value is the SDK's sentinel, and the provider serialised into them as `pulumi up` does."""
    return host.Diff(proto.DiffRequest(id="envstack/env_pr_7", olds=struct(olds), news=struct(news)), timeout=30)


def host_check(host: Any, news: dict[str, Any]) -> Any:
    return host.Check(proto.CheckRequest(urn="urn:x", olds=struct(STATE), news=struct(news)), timeout=30)


def test_unknown_is_the_sdks_sentinel_as_its_provider_host_hands_it_over() -> None:
    assert rpc.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the wire value
    handed = rpc.deserialize_properties(struct({"a": {"b": [rpc.UNKNOWN]}}), True)  # as the host does
    assert isinstance(handed["a"]["b"][0], Unknown)
    assert is_unknown(handed["a"]) and is_unknown(rpc.UNKNOWN) and not is_unknown({"a": ["x", 1]})


def test_unchanged_inputs_are_no_change_through_the_host(host: Any) -> None:
    response = host_diff(host, INPUTS)
    assert response.changes == proto.DiffResponse.DIFF_NONE and list(response.replaces) == []


def test_a_cluster_being_replaced_previews_as_a_replacement(host: Any) -> None:
    """The executor's cluster ARN is unknown while its cluster is created or replaced."""
    for executor in ({**EXECUTOR, "clusterArn": rpc.UNKNOWN}, rpc.UNKNOWN):  # per value, or the whole object
        response = host_diff(host, {**INPUTS, "executor": executor})
        assert response.changes == proto.DiffResponse.DIFF_SOME
        assert list(response.replaces) == ["clusterArn"]
        assert response.deleteBeforeReplace is False


def test_an_unknown_secret_arn_or_password_previews_as_an_in_place_change(host: Any) -> None:
    for news in ({**INPUTS, "executor": {**EXECUTOR, "secretArn": rpc.UNKNOWN}}, {**INPUTS, "password": rpc.UNKNOWN}):
        response = host_diff(host, news)
        assert response.changes == proto.DiffResponse.DIFF_SOME
        assert list(response.replaces) == []


def test_unknown_names_preview_as_a_replacement(host: Any) -> None:
    response = host_diff(host, {**INPUTS, "env": rpc.UNKNOWN, "schema": rpc.UNKNOWN})
    assert response.changes == proto.DiffResponse.DIFF_SOME
    assert sorted(response.replaces) == ["env", "schema"]


def test_check_passes_unknown_values_through_and_validates_known_ones(host: Any) -> None:
    news = {**INPUTS, "executor": rpc.UNKNOWN, "password": rpc.UNKNOWN, "connectionLimit": rpc.UNKNOWN}
    response = host_check(host, news)
    assert list(response.failures) == []
    assert {k: response.inputs[k] for k in ("executor", "password", "connectionLimit")} == {
        "executor": rpc.UNKNOWN,
        "password": rpc.UNKNOWN,
        "connectionLimit": rpc.UNKNOWN,
    }
    bad = {**INPUTS, "connectionLimit": 0, "password": "bell\x07", "executor": {**EXECUTOR, "kind": "ssh"}}
    response = host_check(host, bad)
    reasons = {f.property: f.reason for f in response.failures}
    assert set(reasons) == {"env", "password", "executor"}
    assert "connection limit 0 is outside 1..10000" in reasons["env"]
    assert "allowed: data-api, dsn" in reasons["executor"]


def test_credentials_document_has_the_rds_shape_plus_schema() -> None:
    text = credentials_document(  # Pulumi hands numbers over as floats: the port is written as an int
        password="pw",
        host="h.example",
        port=5432.0,  # type: ignore[arg-type]
        database="envstack",
        role="env_dev",
        schema="env_dev",
    )
    doc = json.loads(text)
    # The exact text, key order included: a different text is a new secret version on every stack.
    assert text == (
        '{"dbname": "envstack", "engine": "postgres", "host": "h.example", "password": "pw", "port": 5432, '
        '"schema": "env_dev", "username": "env_dev"}'
    )
    assert doc == {
        "engine": "postgres",
        "host": "h.example",
        "port": 5432,
        "dbname": "envstack",
        "username": "env_dev",
        "password": "pw",
        "schema": "env_dev",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_table_store_is_in_every_stack_graph(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    store = only(r.resources, conventions.SCHEMA_ROLE)
    i = store.inputs
    assert i["schema"] == i["role"] == "env_" + r.config.name.replace("-", "_")
    assert i["password"] == "[secret]"
    assert i["executor"]["kind"] == "data-api"
    assert i["executor"]["clusterArn"] == only(r.resources, conventions.CLUSTER).arn  # the stack's own cluster
    assert i["deleteNeedsConfirmation"] is (r.config.type.value in ("staging", "prod"))
    assert store.protect is (r.config.type.value == "prod")
    assert r.outputs["databaseSchema"] == i["schema"]
    assert r.outputs["databaseCluster"] == (r.config.cluster.name if r.config.cluster else f"envstack-{r.config.name}")
    creds = next(x for x in r.by_type(conventions.SECRET) if x.name.endswith("-tables-credentials"))
    assert r.outputs["databaseSecretArn"] == creds.arn
    assert creds.inputs["tags"] == {"envstack:purpose": "database-credentials"}


def test_the_credentials_secret_holds_the_stores_own_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SecretVersion's text, which every plan shows only as `[secret]`: the store's role,
    the password the SchemaRole sets, and the cluster's endpoint, port and database. The
    password stays secret in the SchemaRole's state, and the component's outputs name the
    schema and the secret."""
    import pulumi

    from components.cluster import ClusterAttachment
    from components.config import EnvType
    from components.settings import SETTINGS
    from components.tables import TableStore, TableStoreArgs
    from tests.support.program import build

    seen: dict[str, list[Any]] = {"secret_string": [], "password": []}

    secret_outputs: list[Any] = []
    providers: list[Any] = []
    registered: list[dict[str, Any]] = []

    def register_outputs(_self: TableStore, outputs: dict[str, Any]) -> None:
        resolved: dict[str, Any] = {}
        registered.append(resolved)

        def keep(key: str) -> Any:
            return lambda value: resolved.__setitem__(key, value)

        for key, output in outputs.items():
            pulumi.Output.from_input(output).apply(keep(key))

    monkeypatch.setattr(TableStore, "register_outputs", register_outputs)

    def capture(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == conventions.SCHEMA_ROLE:
            secret_outputs.append(args.opts.additional_secret_outputs)
            pulumi.Output.from_input(args.props[PROVIDER_KEY]).apply(providers.append)
        for key, found in seen.items():
            if isinstance(args.props, dict) and key in args.props:
                pulumi.Output.from_input(args.props[key]).apply(found.append)

    attachment = ClusterAttachment(
        name="c",
        arn="arn:aws:rds:ap-northeast-2:1:cluster:c",
        secret_arn="s",
        endpoint="c.example",
        port=6543,
        database="db",
    )
    custom = SETTINGS[EnvType.CUSTOM]
    args = TableStoreArgs(
        env="pr-7",
        env_type="custom",
        db_connection_limit=custom.db_connection_limit,
        delete_needs_confirmation=custom.delete_needs_confirmation,
        secret_recovery_days=custom.secret_recovery_days,
        attachment=attachment,
        password_version=1,
        deletion_confirmed=False,
    )
    resources = build(
        lambda o: TableStore(
            "t", args, pulumi.ResourceOptions.merge(o, pulumi.ResourceOptions(transformations=[capture]))
        )
    )
    [text], [password] = seen["secret_string"], seen["password"]
    assert secret_outputs == [["password"]]
    assert providers == [serialize_provider(TableStoreProvider())]  # what the host runs
    [outputs] = registered
    assert outputs["databaseSchema"] == "env_pr_7"
    assert outputs.pop("databaseSecretArn") == only(resources, conventions.SECRET).arn  # the credentials secret's
    assert sorted(outputs) == ["databaseSchema"]
    assert isinstance(password, str) and len(password) == 40
    assert json.loads(text) == {
        "engine": "postgres",
        "host": "c.example",
        "port": 6543,
        "dbname": "db",
        "username": "env_pr_7",
        "password": password,
        "schema": "env_pr_7",
    }
