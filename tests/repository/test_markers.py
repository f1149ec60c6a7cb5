"""The suite's own conventions: the `postgres` marker is on exactly the tests that use the server."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.program import ROOT

# Files with database tests and without, enough to see the marker applied and withheld.
FILES = (
    "tests/integration/test_concurrency.py",
    "tests/integration/test_isolation.py",
    "tests/envctl/test_db.py",
    "tests/envctl/test_cards.py",
)

# One collection in a fresh process, as `pytest -m postgres` would make it: each test's id, whether
# the marker selects it, and whether it uses the server's fixture.
COLLECT = """
import json, sys
import pytest

class Report:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        self.items = {i.nodeid: [i.get_closest_marker("postgres") is not None, "pg" in i.fixturenames] for i in items}

report = Report()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[report])
sys.stdout.flush()
print("\\n" + json.dumps(report.items))
sys.exit(code)
"""


def test_the_postgres_marker_selects_the_database_tests_and_nothing_else() -> None:
    out = subprocess.run(
        [sys.executable, "-c", COLLECT, *FILES], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    items: dict[str, list[bool]] = json.loads(out.splitlines()[-1])
    marked = {t for t, (postgres, _) in items.items() if postgres}
    assert all(postgres == uses_pg for postgres, uses_pg in items.values())
    assert len(marked) >= 20 and len(items) > len(marked)
    assert any("test_concurrency.py" in t for t in marked) and any("test_isolation.py" in t for t in marked)
    assert not any("test_cards.py" in t for t in marked) and any("test_cards.py" in t for t in items)
