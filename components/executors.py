"""The two ways to run a SQL plan, each in one transaction.

- `DataApiExecutor`: the RDS Data API (boto3 `rds-data`) with the cluster ARN and the master
  secret ARN. The default for AWS: it needs no network path into the VPC, so it works from
  CI runners. Credentials come from the default AWS chain of the process running it.
- `PsycopgExecutor`: a direct psycopg 3 connection from a DSN, for self-hosted or local
  PostgreSQL.

Clients and connections are created inside calls, never at import time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from components.sql import Statement
from policies.contracts.arns import arn_fields

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class ExecutionError(RuntimeError):
    """A plan failed; nothing of it was committed. The message never holds the password."""


class Executor(Protocol):
    def apply(self, statements: Sequence[Statement]) -> None: ...

    def query(self, sql: str, params: dict[str, str]) -> list[tuple[Any, ...]]: ...


def _field(value: dict[str, Any]) -> Any:
    """One Data API field (`{"stringValue": ...}`, `{"longValue": ...}`, `{"isNull": true}`...)."""
    return None if value.get("isNull") else next(iter(value.values()))


def _describe(running: str, err: Exception) -> str:
    """One line: the error's first line and the first line of what was running."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"{first} (while running: {running.splitlines()[0]})"


@dataclass(frozen=True)
class DataApiExecutor:
    """Runs a plan through the RDS Data API. A cluster that paused when idle (minimum capacity
    0) answers DatabaseResumingException while it wakes up, so beginning the transaction is
    retried for up to `resume_wait` seconds."""

    cluster_arn: str
    secret_arn: str
    database: str
    resume_wait: float = 120.0
    retry_every: float = 5.0

    @property
    def region(self) -> str:
        return arn_fields(self.cluster_arn).region

    def client(self) -> Any:
        import boto3

        return boto3.client("rds-data", region_name=self.region)

    def apply(self, statements: Sequence[Statement]) -> None:
        client = self.client()
        target = {"resourceArn": self.cluster_arn, "secretArn": self.secret_arn, "database": self.database}
        tx = self._begin(client, target)
        for statement in statements:
            request: dict[str, Any] = {**target, "sql": statement.sql, "transactionId": tx}
            if statement.params:
                request["parameters"] = [
                    {"name": k, "value": {"longValue": v} if isinstance(v, int) else {"stringValue": v}}
                    for k, v in sorted(statement.params.items())
                ]
            try:
                client.execute_statement(**request)
            except Exception as err:
                client.rollback_transaction(resourceArn=self.cluster_arn, secretArn=self.secret_arn, transactionId=tx)
                raise ExecutionError(_describe(statement.shown(), err)) from None
        client.commit_transaction(resourceArn=self.cluster_arn, secretArn=self.secret_arn, transactionId=tx)

    def query(self, sql: str, params: dict[str, str]) -> list[tuple[Any, ...]]:
        """One read-only statement outside a transaction; `:name` parameters are strings."""
        response = self.client().execute_statement(
            resourceArn=self.cluster_arn,
            secretArn=self.secret_arn,
            database=self.database,
            sql=sql,
            parameters=[{"name": k, "value": {"stringValue": v}} for k, v in sorted(params.items())],
        )
        return [tuple(_field(f) for f in record) for record in response.get("records", [])]

    def _begin(self, client: Any, target: dict[str, str]) -> str:
        waited = 0.0
        while True:
            try:
                return str(client.begin_transaction(**target)["transactionId"])
            except client.exceptions.DatabaseResumingException:
                if waited >= self.resume_wait:
                    raise ExecutionError(
                        f"the cluster {self.cluster_arn} was still resuming after {self.resume_wait:g}s"
                    ) from None
                time.sleep(self.retry_every)
                waited += self.retry_every


@dataclass(frozen=True)
class PsycopgExecutor:
    dsn: str

    def connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.dsn, connect_timeout=10)
        except psycopg.OperationalError as err:
            raise ExecutionError(f"cannot connect to PostgreSQL: {str(err).strip().splitlines()[0]}") from None

    def apply(self, statements: Sequence[Statement]) -> None:
        import psycopg

        with self.connect() as conn:
            try:
                with conn.transaction():  # an ExecutionError raised inside rolls it back
                    for statement in statements:
                        # psycopg takes %(name)s placeholders; the plan writes :name.
                        sql = _PARAM.sub(r"%(\1)s", statement.sql) if statement.params else statement.sql
                        try:
                            conn.execute(sql.encode(), statement.params or None)
                        except psycopg.Error as err:
                            raise ExecutionError(_describe(statement.shown(), err)) from None
            except psycopg.Error as err:
                # Raised by the COMMIT psycopg runs itself, where deferred constraints are checked
                # (the BEGIN before it runs on the connection just opened).
                raise ExecutionError(_describe("COMMIT", err)) from None

    def query(self, sql: str, params: dict[str, str]) -> list[tuple[Any, ...]]:
        """One read-only statement; `:name` parameters as in `apply`."""
        import psycopg

        with self.connect() as conn:
            try:
                return [tuple(row) for row in conn.execute(_PARAM.sub(r"%(\1)s", sql).encode(), params).fetchall()]
            except psycopg.Error as err:
                raise ExecutionError(_describe(sql.strip(), err)) from None


def executor_from(spec: dict[str, Any]) -> Executor:
    """An executor from its serialisable description (how the dynamic provider stores it)."""
    if spec.get("kind") == "data-api":
        return DataApiExecutor(spec["clusterArn"], spec["secretArn"], spec["database"])
    if spec.get("kind") == "dsn":
        return PsycopgExecutor(spec["dsn"])
    raise ValueError(f"unknown executor kind {spec.get('kind')!r}; allowed: data-api, dsn")
