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
    with pytest.raises(ValueError, match=r"^unknown executor kind 'ssh'; allowed: data-api, dsn$"):
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
    with stubber, pytest.raises(ExecutionError, match=f"^the cluster {CLUSTER} was still resuming after 10s$"):
        executor.apply([Statement("SELECT 1")])


def test_integer_parameters_are_long_values_and_sent_in_name_order(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    statement = Statement("SELECT :z, :a", params={"z": "text", "a": 7})
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    stubber.add_response(
        "execute_statement",
        {},
        {
            **TARGET,
            "sql": statement.sql,
            "transactionId": "tx-1",
            "parameters": [{"name": "a", "value": {"longValue": 7}}, {"name": "z", "value": {"stringValue": "text"}}],
        },
    )
    stubber.add_response(
        "commit_transaction", {}, {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"}
    )
    with stubber:
        executor.apply([statement])
    stubber.assert_no_pending_responses()


def test_an_empty_plan_is_an_empty_transaction(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    stubber.add_response(
        "commit_transaction", {}, {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"}
    )
    with stubber:
        executor.apply([])
    stubber.assert_no_pending_responses()


def test_an_error_is_its_first_line_and_the_statements_first_line(stubbed) -> None:  # type: ignore[no-untyped-def]
    executor, stubber = stubbed
    stubber.add_response("begin_transaction", {"transactionId": "tx-1"}, TARGET)
    stubber.add_client_error("execute_statement", "BadRequestException", "ERROR: boom\nDETAIL: more")
    stubber.add_response(
        "rollback_transaction", {}, {"resourceArn": CLUSTER, "secretArn": SECRET, "transactionId": "tx-1"}
    )
    with stubber, pytest.raises(ExecutionError) as info:
        executor.apply([Statement("SELECT 1\nFROM nowhere")])
    stubber.assert_no_pending_responses()
    assert str(info.value) == (
        "An error occurred (BadRequestException) when calling the ExecuteStatement operation: ERROR: boom"
        " (while running: SELECT 1)"
    )


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    from components.executors import _describe

    assert _describe("SELECT 1", TimeoutError("  ")) == "TimeoutError (while running: SELECT 1)"


def test_the_client_is_the_rds_data_api_in_the_clusters_region() -> None:
    client = DataApiExecutor(CLUSTER, SECRET, "envstack").client()  # no request is made
    assert client.meta.service_model.service_name == "rds-data"
    assert client.meta.region_name == "ap-northeast-2"


def test_the_whole_resume_wait_is_waited_before_giving_up(stubbed, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, stubber = stubbed
    sleeps: list[float] = []
    monkeypatch.setattr("components.executors.time.sleep", sleeps.append)
    default = DataApiExecutor(CLUSTER, SECRET, "envstack")
    monkeypatch.setattr(DataApiExecutor, "client", lambda self: stubber.client)
    for _ in range(25):
        stubber.add_client_error("begin_transaction", "DatabaseResumingException", "resuming")
    with stubber, pytest.raises(ExecutionError) as info:
        default.apply([Statement("SELECT 1")])
    stubber.assert_no_pending_responses()
    assert sleeps == [5.0] * 24  # two minutes: Aurora resumes from zero capacity well within that
    assert str(info.value) == f"the cluster {CLUSTER} was still resuming after 120s"


def test_the_first_wait_counts_from_zero(stubbed, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, stubber = stubbed
    sleeps: list[float] = []
    monkeypatch.setattr("components.executors.time.sleep", sleeps.append)
    executor = DataApiExecutor(CLUSTER, SECRET, "envstack", resume_wait=3, retry_every=1)
    for _ in range(4):
        stubber.add_client_error("begin_transaction", "DatabaseResumingException", "resuming")
    with stubber, pytest.raises(ExecutionError, match=r"still resuming after 3s$"):
        executor.apply([Statement("SELECT 1")])
    stubber.assert_no_pending_responses()
    assert sleeps == [1, 1, 1]


def test_executors_are_built_from_their_stored_description() -> None:
    from components.executors import PsycopgExecutor

    spec = {"kind": "data-api", "clusterArn": CLUSTER, "secretArn": SECRET, "database": "envstack"}
    assert executor_from(spec) == DataApiExecutor(CLUSTER, SECRET, "envstack")
    assert executor_from({"kind": "dsn", "dsn": "host=h"}) == PsycopgExecutor("host=h")
    with pytest.raises(ValueError, match=r"^unknown executor kind None; allowed: data-api, dsn$"):
        executor_from({})
