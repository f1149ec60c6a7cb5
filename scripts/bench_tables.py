"""Benchmark of concurrent table-store creates (scripts/bench-tables): N environments'
create plans started at the same moment against one PostgreSQL database, each on its own
connection, as N pull-request previews on one shared cluster. Reports environments per second
(N / wall time) and the p50/p95 latency of one create. A benchmark, not a test: nothing here
asserts a time.

Without --dsn it starts a throw-away local PostgreSQL 16 server (the test suite's,
devtools/postgres.py; as root it runs as the unprivileged `envstack-pg` user). Every
environment it creates is torn down at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from components.executors import PsycopgExecutor
from components.sql import Layout, Statement, create_plan, teardown_plan
from policies.contracts import names


def run(dsn: str, database: str, count: int) -> dict[str, float]:
    layouts = [Layout(env=f"bench-{i:04d}", database=database, connection_limit=5) for i in range(count)]
    plans = [create_plan(layout, f"bench-password-{i}") for i, layout in enumerate(layouts)]
    start = threading.Barrier(count + 1)

    def create(plan: list[Statement]) -> float:
        executor = PsycopgExecutor(dsn)
        start.wait(timeout=60)
        began = time.perf_counter()
        executor.apply(plan)  # connects, runs the plan in one transaction, commits
        return time.perf_counter() - began

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [pool.submit(create, plan) for plan in plans]
            start.wait(timeout=60)
            began = time.perf_counter()
            latencies = sorted(f.result() for f in futures)
            wall = time.perf_counter() - began
    finally:
        for layout in layouts:
            PsycopgExecutor(dsn).apply(teardown_plan(layout))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"count": count, "wall_s": wall, "per_s": count / wall, "p50_ms": cuts[49] * 1e3, "p95_ms": cuts[94] * 1e3}


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-tables", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=20, help="concurrent creates (default 20; 2..500)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of N creates; each is reported (default 3)")
    parser.add_argument("--dsn", help="an administrator's DSN of an existing server (default: start a local one)")
    parser.add_argument(
        "--database", default=names.DATABASE, help=f"the database the DSN names (default {names.DATABASE})"
    )
    args = parser.parse_args()
    if not 2 <= args.count <= 500:
        parser.error(f"--count: got {args.count}; allowed: 2 to 500")
    if not 1 <= args.rounds <= 100:
        parser.error(f"--rounds: got {args.rounds}; allowed: 1 to 100")

    if args.dsn:
        report(args.dsn, args.database, args.count, args.rounds)
        return 0
    from devtools.postgres import ServerUnavailableError, running_server

    try:
        with running_server(f"-c max_connections={args.count + 20}") as server:
            report(server.admin_dsn, names.DATABASE, args.count, args.rounds)
    except ServerUnavailableError as err:
        print(f"bench-tables: {err}", file=sys.stderr)
        return 1
    return 0


def report(dsn: str, database: str, count: int, rounds: int) -> None:
    print(f"{count} concurrent creates, {os.cpu_count()} CPUs, {rounds} rounds")
    for _ in range(rounds):
        r = run(dsn, database, count)
        print(
            f"  {r['per_s']:7.1f} environments/s  wall {r['wall_s'] * 1e3:6.0f} ms  "
            f"p50 {r['p50_ms']:6.0f} ms  p95 {r['p95_ms']:6.0f} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
