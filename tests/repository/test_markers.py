"""The suite's own conventions: the `postgres` marker is on exactly the tests that use the server."""

from __future__ import annotations

import subprocess
import sys

from tests.support.program import ROOT

# Files with database tests and without, enough to see the marker applied and withheld.
FILES = (
    "tests/integration/test_concurrency.py",
    "tests/integration/test_isolation.py",
    "tests/envctl/test_db.py",
    "tests/components/test_config.py",
)


def _collected(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args, *FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in out.splitlines() if "::" in line}


def test_the_postgres_marker_selects_the_database_tests_and_nothing_else() -> None:
    marked = _collected("-m", "postgres")
    unmarked = _collected("-m", "not postgres")
    assert len(marked) >= 20 and unmarked and not marked & unmarked
    assert any("test_concurrency.py" in t for t in marked) and any("test_isolation.py" in t for t in marked)
    assert not any("test_config.py" in t for t in marked) and any("test_config.py" in t for t in unmarked)
