"""A real PostgreSQL server for the isolation tests, started by the test suite itself.

It uses the server binaries of Debian's `postgresql` package (scripts/test and .ci/run
install it). PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user. With CI=true a missing server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DATABASE = "envstack"
ADMIN = "postgres"


@dataclass(frozen=True)
class Server:
    socket_dir: str
    port: int

    @property
    def admin_dsn(self) -> str:
        return f"host={self.socket_dir} port={self.port} user={ADMIN} dbname={DATABASE}"

    def dsn(self, user: str, password: str, dbname: str = DATABASE) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return Path(self.socket_dir) / "log"

    @property
    def admin_url(self) -> str:
        """The admin DSN as a URL (for the CLI), over the socket."""
        return f"postgresql://{ADMIN}@/{DATABASE}?host={self.socket_dir}&port={self.port}"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerUnavailableError(RuntimeError):
    """The server binaries, the postgres user or the server's start are missing."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI and {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@contextlib.contextmanager
def running_server(options: str = "") -> Iterator[Server]:
    """A fresh server with database DATABASE, stopped and removed on exit (also used by
    scripts/bench-tables); `options` are more server options (`-c name=value ...`). Raises
    ServerUnavailableError when it cannot start."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise ServerUnavailableError("no server binaries under /usr/lib/postgresql (install Debian's 'postgresql')")
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="envstack-pg-"))
    if as_root:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailableError(
                "running as root, and there is no 'postgres' system user to run the server as"
            ) from None
        os.chown(workdir, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()

    def run(*args: str) -> None:
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServerUnavailableError(
                f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}"
            )

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            ADMIN,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(workdir / "log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off {options}",
            "start",
        )
        server = Server(socket_dir=str(workdir), port=port)
        import psycopg

        with psycopg.connect(f"host={workdir} port={port} user={ADMIN} dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg() -> Iterator[Server]:
    try:
        with running_server() as server:
            yield server
    except ServerUnavailableError as err:
        _unavailable(str(err))
