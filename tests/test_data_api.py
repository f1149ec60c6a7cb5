"""The RDS Data API executor's requests, checked with botocore's Stubber (no AWS)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from components.executors import DataApiExecutor, ExecutionError, executor_from
from components.sql import Layout, Statement, create_plan, teardown_plan

CLUSTER = "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod"
SECRET = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!cluster-1"
TARGET = {"resourceArn": CLUSTER, "secretArn": SECRET, "database": "envstack"}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> tuple[DataApiExecutor, Stubber]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("rds-data", region_name="ap-northeast-2")
    stubber = Stubber(client)
    executor = DataApiExecutor(CLUSTER, SECRET, "envstack")
    monkeypatch.setattr(DataApiExecutor, "client", lambda self: client)
    return executor, stubber


def expect_statement(stubber: Stubber, statement: Statement) -> None:
    params: dict[str, Any] = {**TARGET, "sql": statement.sql, "transactionId": "tx-1"}
    if statement.params:
        params["parameters"] = [{"name": k, "value": {"stringValue": v}} for k, v in statement.params.items()]
    stubber.add_response("execute_statement", {"numberOfRecordsUpdated": 0}, params)


def test_plan_runs_in_one_transaction_against_the_cluster_and_master_secret(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    plan = create_plan(Layout(env="pr-7", database="envstack", connection_limit=10), "pw")
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    for statement in plan:
        expect_statement(stubber, statement)
    stubber.add_response(
        "commit_transaction",
        {"transactionStatus": "Transaction Committed"},
        {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"},
    )
    with stubber:
        executor.apply(plan)
    stubber.assert_no_pending_responses()
    assert executor.region == "ap-northeast-2"


def test_named_parameters_are_sent_as_data_api_parameters(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    plan = teardown_plan(Layout(env="pr-7", database="envstack", connection_limit=10))
    assert any(s.params == {"role": "env_pr_7"} for s in plan)
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    for statement in plan:
        expect_statement(stubber, statement)
    stubber.add_response(
        "commit_transaction", {}, {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"}
    )
    with stubber:
        executor.apply(plan)
    stubber.assert_no_pending_responses()


def test_a_failing_statement_rolls_back_and_hides_the_password(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    plan = create_plan(Layout(env="pr-7", database="envstack", connection_limit=10), "SuperSecretPw")
    failing = next(i for i, s in enumerate(plan) if s.secret)
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    for statement in plan[:failing]:
        expect_statement(stubber, statement)
    stubber.add_client_error("execute_statement", "BadRequestException", "ERROR: role exists SuperSecretPw-free")
    stubber.add_response(
        "rollback_transaction",
        {"transactionStatus": "Rollback Complete"},
        {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": ANY},
    )
    with stubber, pytest.raises(ExecutionError) as info:
        executor.apply(plan)
    stubber.assert_no_pending_responses()
    assert "statement carrying the role's password" in str(info.value)
    assert "PASSWORD 'SuperSecretPw'" not in str(info.value)


def test_no_client_is_created_at_import_or_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda *a, **k: calls.append("client"))
    executor_from({"kind": "data-api", "clusterArn": CLUSTER, "secretArn": SECRET, "database": "envstack"})
    assert calls == []


def test_unknown_executor_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: data-api, dsn"):
        executor_from({"kind": "ssh"})


def test_a_paused_cluster_is_waited_for(stubbed, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    sleeps: list[float] = []
    monkeypatch.setattr("components.executors.time.sleep", sleeps.append)
    plan = [Statement("SELECT 1")]
    stubber.add_client_error("begin_transaction", "DatabaseResumingException", "resuming")
    stubber.add_client_error("begin_transaction", "DatabaseResumingException", "resuming")
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    expect_statement(stubber, plan[0])
    stubber.add_response(
        "commit_transaction", {}, {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"}
    )
    with stubber:
        executor.apply(plan)
    stubber.assert_no_pending_responses()
    assert sleeps == [5.0, 5.0]


def test_a_cluster_that_never_resumes_is_one_clear_error(stubbed, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, stubber = stubbed
    executor = DataApiExecutor(CLUSTER, SECRET, "envstack", resume_wait=10, retry_every=5)
    monkeypatch.setattr("components.executors.time.sleep", lambda _s: None)
    monkeypatch.setattr(DataApiExecutor, "client", lambda self: stubber.client)
    for _ in range(3):
        stubber.add_client_error("begin_transaction", "DatabaseResumingException", "resuming")
    with stubber, pytest.raises(ExecutionError, match="still resuming after 10s"):
        executor.apply([Statement("SELECT 1")])
