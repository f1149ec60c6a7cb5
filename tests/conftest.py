"""The suite's fixtures: the real PostgreSQL server, the committed stacks rendered once, and the
`postgres` marker. What the tests share besides fixtures is in tests/support/."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest

from devtools.postgres import Server, ServerUnavailableError, running_server
from envctl.plan import Rendering
from tests.support.program import STACKS, committed


@pytest.fixture(scope="session")
def pg() -> Iterator[Server]:
    """The real PostgreSQL 16 server of the database tests (devtools/postgres.py), one per
    session. With CI=true a server that cannot start is a failure, never a skip."""
    try:
        with running_server() as server:
            yield server
    except ServerUnavailableError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and {err}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {err}")


@pytest.fixture(scope="session", autouse=True)
def botocore_data_read_once() -> Iterator[None]:
    """Every boto3 session of the suite shares one loader of botocore's data files (the service
    models and endpoints, read-only JSON). moto starts each test on a fresh default session, which
    would read and parse them again, a tenth of a second for each client (docs/verification.md,
    "The suite's wall time")."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.cache(botocore.loaders.create_loader))
        yield


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendering]:
    """Every committed stack, rendered once per test session (tests/support/program.py's `committed`)."""
    return {stack: committed(stack) for stack in STACKS}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the real PostgreSQL server (the `pg` fixture, directly or through
    another fixture) carries the declared `postgres` marker: `-m postgres` runs exactly them,
    `-m "not postgres"` everything else."""
    for item in items:
        if "pg" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
