"""The test server's support (devtools/postgres.py): PostgreSQL 16 from the pgserver wheel, run
by an unprivileged user when the suite is root, even from a virtualenv that user cannot enter."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import postgres


@pytest.fixture
def as_root() -> None:
    """Only root hands the server to another user. CI runs the suite as root (.ci/run, and
    ci.yml through sudo), so there a non-root run fails rather than skipping this path."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the suite as root: only root hands the server to another user", pytrace=False)
        pytest.skip("only root hands the server to another user")


def test_the_wheel_ships_postgresql_16_binaries() -> None:
    bin_dir = postgres.wheel_root() / "pgserver" / "pginstall" / "bin"
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(f"postgres (PostgreSQL) {postgres.MAJOR}.")
    assert all((bin_dir / b).is_file() for b in ("initdb", "pg_ctl", "postgres"))


@pytest.mark.usefixtures("as_root")
def test_a_wheel_the_server_user_cannot_enter_is_run_from_a_readable_copy(tmp_path: Path) -> None:
    user = postgres.server_user()
    assert user.pw_uid != 0
    hidden = tmp_path / "private"  # a 0700 directory, like /root or a private checkout
    for part in ("pgserver/pginstall", "pgserver.libs"):
        shutil.copytree(postgres.wheel_root() / part, hidden / part, symlinks=True)
    hidden.chmod(0o700)
    prefix = ["runuser", "-u", postgres.SERVER_USER, "--"]
    assert not postgres._runs_as(prefix, hidden / "pgserver" / "pginstall" / "bin" / "postgres")
    runnable = postgres._runnable_install(hidden, prefix)
    try:
        assert runnable != hidden
        assert postgres._runs_as(prefix, runnable / "pgserver" / "pginstall" / "bin" / "initdb")
        assert postgres._runnable_install(hidden, prefix) == runnable  # made once, then reused
    finally:
        shutil.rmtree(runnable)
