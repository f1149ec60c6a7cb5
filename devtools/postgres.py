"""A real PostgreSQL 16 server for the database tests and scripts/bench-tables, started on demand.

The server binaries come from the `pgserver` wheel (pinned in requirements-dev.txt: PostgreSQL
16.2, the major Aurora runs in production; Debian's package here is 15). Only the binaries are
used, under `pgserver/pginstall/`, never pgserver's Python API.

PostgreSQL refuses to run as root, and CI runs as root: as root the server runs as the system
user SERVER_USER, created (`useradd --system`) when it does not exist. That user must be able
to execute the binaries; a virtualenv under a directory it cannot enter (/root, a 0700
checkout) is copied once to a world-readable cache (`_runnable_install`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from policies.contracts.names import DATABASE

ADMIN = "postgres"
SERVER_USER = "envstack-pg"  # the unprivileged system user that runs the server as root
MAJOR = 16  # the major version the suite runs, as production does (components/cluster.py)


class ServerUnavailableError(RuntimeError):
    """The server binaries, the server's user or the server's start are missing."""


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


def wheel_root() -> Path:
    """site-packages: it holds `pgserver/pginstall` and `pgserver.libs` (the bundled libpq, which
    initdb finds through its RPATH `$ORIGIN/../../../pgserver.libs`)."""
    spec = importlib.util.find_spec("pgserver")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailableError("the 'pgserver' wheel is not installed (scripts/setup installs it)")
    root = Path(next(iter(spec.submodule_search_locations))).parent
    if not (root / "pgserver" / "pginstall" / "bin" / "initdb").is_file():
        raise ServerUnavailableError(f"no PostgreSQL binaries under {root / 'pgserver' / 'pginstall' / 'bin'}")
    return root


def server_user() -> pwd.struct_passwd:
    """SERVER_USER, created as a system user without a login shell when missing (as root only)."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_USER)
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:  # a concurrent start created it
        raise ServerUnavailableError(f"cannot create the system user {SERVER_USER!r}: {result.stderr.strip()}")
    return pwd.getpwnam(SERVER_USER)


def _runs_as(prefix: list[str], binary: Path) -> bool:
    result = subprocess.run([*prefix, str(binary), "--version"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and f"PostgreSQL) {MAJOR}." in result.stdout


def _runnable_install(root: Path, prefix: list[str]) -> Path:
    """A copy of the wheel's install that `prefix` (the server user) can run: the wheel itself
    when it can, else a root-owned, world-readable copy in the temporary directory, made once
    per wheel location (copied aside, then renamed into place, so a half copy is never used)."""
    if _runs_as(prefix, root / "pgserver" / "pginstall" / "bin" / "postgres"):
        return root
    cache = Path(tempfile.gettempdir()) / f"envstack-pgserver-{hashlib.sha256(bytes(root)).hexdigest()[:12]}"
    if not (cache.is_dir() and cache.stat().st_uid == os.geteuid() and not cache.is_symlink()):
        staging = Path(tempfile.mkdtemp(prefix="envstack-pgserver-copy-"))
        for part in ("pgserver/pginstall", "pgserver.libs"):
            shutil.copytree(root / part, staging / part, symlinks=True)
        for path in (staging, *staging.rglob("*")):
            if not path.is_symlink():
                mode = path.stat().st_mode | 0o044  # readable by all; executable where the owner may
                path.chmod(mode | 0o011 if mode & 0o100 else mode)
        try:
            staging.rename(cache)
        except OSError:  # another process put its copy there first
            shutil.rmtree(staging, ignore_errors=True)
    if not _runs_as(prefix, cache / "pgserver" / "pginstall" / "bin" / "postgres"):
        raise ServerUnavailableError(f"the user {SERVER_USER!r} cannot run the server binaries copied to {cache}")
    return cache


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(options: str = "") -> Iterator[Server]:
    """A fresh server with database DATABASE, stopped and removed on exit; `options` are more
    server options (`-c name=value ...`). Raises ServerUnavailableError when it cannot start."""
    root = wheel_root()
    prefix: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="envstack-pg-"))
    if os.geteuid() == 0:
        user = server_user()
        os.chown(workdir, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", SERVER_USER, "--"]
        root = _runnable_install(root, prefix)
    bin_dir = root / "pgserver" / "pginstall" / "bin"
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
