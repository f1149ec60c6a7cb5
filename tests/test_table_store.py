"""The TableStore dynamic provider, called directly against the real server, and the
TableStore component in the rendered program."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from components import conventions
from components.tables import DeletionRefusedError, TableStoreProvider, credentials_document, password_hash
from envctl.plan import Rendering
from tests.conftest import STACKS, only
from tests.postgres import DATABASE, Server


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
    p = props(pg, "dyn-one")
    created = provider.create(p)
    assert created.id == f"{DATABASE}/env_dyn_one"
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
    updated = provider.update(created.id, olds, rotated)
    assert updated.outs is not None and updated.outs["connectionLimit"] == 7
    assert not can_login(pg, p) and can_login(pg, rotated)
    with psycopg.connect(pg.dsn(p["role"], "second-password"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)  # the table survived

    renamed = props(pg, "dyn-two")
    diff = provider.diff(created.id, updated.outs, renamed)
    assert set(diff.replaces or []) == {"env", "schema", "role"}

    provider.delete(created.id, updated.outs)
    assert not can_login(pg, rotated)
    with psycopg.connect(pg.admin_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'env_dyn_one'").fetchone() == (0,)


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


def test_credentials_document_has_the_rds_shape_plus_schema() -> None:
    doc = json.loads(
        credentials_document(
            password="pw", host="h.example", port=5432, database="envstack", role="env_dev", schema="env_dev"
        )
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
    assert i["executor"]["clusterArn"].startswith("arn:aws:rds:")
    assert i["deleteNeedsConfirmation"] is (r.config.type.value in ("staging", "prod"))
    assert store.protect is (r.config.type.value == "prod")
    assert r.outputs["databaseSchema"] == i["schema"]
    assert r.outputs["databaseSecretArn"].startswith("arn:aws:secretsmanager:")
    assert r.outputs["databaseCluster"] == (r.config.cluster.name if r.config.cluster else f"envstack-{r.config.name}")
    creds = next(x for x in r.by_type(conventions.SECRET) if x.name.endswith("-credentials"))
    assert creds.inputs["tags"] == {"envstack:purpose": "database-credentials"}
