"""The suite's fixtures: the real PostgreSQL server, the committed stacks rendered once, and the
`postgres` marker. What the tests share besides fixtures is in tests/support/."""

from __future__ import annotations

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


class _SearchPaths(list[str]):
    """A loader's search paths, each at most once: every boto3 session appends boto3's own data
    directory to its loader's, and a loader shared by every session would gather one per session."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@pytest.fixture(scope="session", autouse=True)
def botocore_data_read_once() -> Iterator[None]:
    """Every boto3 session of the suite shares one loader of botocore's data files (the service
    models and endpoints), which caches what it has parsed. moto starts each test on a fresh
    default session, which would read and parse them again, a tenth of a second for each client
    (docs/verification.md, "The suite's wall time"). A session given AWS_DATA_PATH (no test
    does) gets a loader of its own, as botocore makes it."""
    shared = botocore.loaders.Loader(extra_search_paths=_SearchPaths())

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return shared if search_path_string is None else botocore.loaders.create_loader(search_path_string)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", create_loader)
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
