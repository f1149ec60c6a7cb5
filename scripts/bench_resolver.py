"""Benchmark of the API-key resolver under a platform's traffic (scripts/bench-resolver).

The real `components.resolver.Resolver`, in threads, against a stand-in for Parameter Store
that behaves as the account's quota does: one token bucket of 40 GetParameter calls a second
(at most 40 saved up) shared by every process, botocore's real ClientError
`ThrottlingException` beyond it, and 3 to 8 ms of latency per call.

Time is simulated, and explicitly so: every thread parks on a virtual clock (SimClock) between
requests and during each SSM call, and the clock jumps to the next wake-up once all threads are
parked. So ten simulated minutes take seconds, the figures do not depend on this machine's
load, and latencies count only what the resolver waits for (SSM calls, another thread's
lookup), not Python's own CPU time. A benchmark, not a test: nothing here asserts a figure.

Scenarios (one process is one Resolver with the defaults; its threads share it):
- steady: one process, 4 threads, 200 requests a second spread over 1,000 active keys, after a
  warm-up that resolves every key once within the process's budget (not measured);
- flood: the same, plus random well-formed keys at ten times the account's quota (400 a
  second), for longer than the TTL;
- cold start: 10 processes start at once, each with one thread and 20 requests a second over
  the same 400 keys (10 x 400 is about what the default quota holds at the default TTL, see
  docs/api-keys.md); reports how long a key waits from its first request to its first answer.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from components.records import (
    KEY_HASHES,
    KEY_PREFIX,
    RECORD_FIELDS,
    index_document,
    key_hash,
    key_index_name,
    record_document,
)
from components.resolver import Resolver, ResolverBusyError, UnknownKeyError
from policies.contracts.names import record_name

PROJECT = "bench"
SSM_RATE = 40.0  # Parameter Store's default GetParameter* throughput, per account and region
LATENCY = (0.003, 0.008)  # seconds, uniform
TICK = 0.1  # each client issues the requests due in one tick, then parks until the next
SETTLE = 0.005  # real seconds the clock waits for a busy thread before moving on


class SimClock:
    """Virtual seconds. Threads park with `sleep_until`; `run` moves time to the earliest
    wake-up once every thread is parked (or after SETTLE real seconds, for a thread that waits
    on another's lookup, which parks on nothing the clock can see)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._cv = threading.Condition()
        self._wakeups: list[tuple[float, int, threading.Event]] = []
        self._seq = itertools.count()
        self._live = self._parked = 0
        self._driving = False

    def __call__(self) -> float:
        return self.now

    def sleep_until(self, t: float) -> None:
        if not self._driving:  # one thread, outside run(): time is simply moved on
            self.now = max(self.now, t)
            return
        event = threading.Event()
        with self._cv:
            heapq.heappush(self._wakeups, (t, next(self._seq), event))
            self._parked += 1
            self._cv.notify()
        event.wait()

    def sleep(self, seconds: float) -> None:
        self.sleep_until(self.now + seconds)

    def run(self, workers: list[Callable[[], None]]) -> None:
        def live(work: Callable[[], None]) -> None:
            try:
                work()
            finally:
                with self._cv:
                    self._live -= 1
                    self._cv.notify()

        threads = [threading.Thread(target=live, args=(w,), daemon=True) for w in workers]
        self._live, self._driving = len(threads), True
        for t in threads:
            t.start()
        with self._cv:
            while self._live:
                self._cv.wait_for(lambda: self._parked >= self._live, timeout=SETTLE)
                if not self._wakeups:
                    continue
                self.now = max(self.now, self._wakeups[0][0])
                while self._wakeups and self._wakeups[0][0] <= self.now:
                    heapq.heappop(self._wakeups)[2].set()
                    self._parked -= 1
        for t in threads:
            t.join()
        self._driving = False


class ParameterNotFoundError(ClientError):  # type: ignore[misc]  # botocore is untyped
    pass


class StandInSsm:
    """GetParameter with Parameter Store's account-wide throughput and latency."""

    class exceptions:  # noqa: N801 (boto3's spelling)
        ParameterNotFound = ParameterNotFoundError

    def __init__(self, clock: SimClock, values: dict[str, str], rng: random.Random) -> None:
        self.clock, self.values, self.rng = clock, values, rng
        self.tokens, self.stamp = SSM_RATE, 0.0
        self.accepted: list[float] = []  # the time of each call Parameter Store served
        self.throttled = 0
        self._lock = threading.Lock()

    def get_parameter(self, Name: str) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            now = self.clock()
            self.tokens = min(SSM_RATE, self.tokens + (now - self.stamp) * SSM_RATE)
            self.stamp = now
            if self.tokens < 1:
                self.throttled += 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameter"
                )
            self.tokens -= 1
            self.accepted.append(now)
            latency = self.rng.uniform(*LATENCY)
        self.clock.sleep(latency)
        if Name not in self.values:
            raise ParameterNotFoundError({"Error": {"Code": "ParameterNotFound", "Message": Name}}, "GetParameter")
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 43 URL-safe characters, as envstack's keys


def index(keys: list[str]) -> dict[str, str]:
    """One environment per key, as the stacks write them: its record (listing the key's hash)
    and the key's index entry."""
    values = {}
    for i, key in enumerate(keys):
        env = f"env-{i}"
        fields = {f: "x" for f in RECORD_FIELDS} | {"name": env, KEY_HASHES: [key_hash(key)]}
        values[record_name(PROJECT, env)] = record_document(fields)
        values[key_index_name(PROJECT, key_hash(key))] = index_document(PROJECT, env, 1)
    return values


@dataclass
class Tally:
    """What the clients saw for real keys, and what the flood got."""

    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    busy: int = 0
    flood: dict[str, int] = field(default_factory=lambda: {"refused": 0, "unknown": 0, "throttled": 0})
    first_ask: dict[tuple[int, str], float] = field(default_factory=dict)
    first_answer: dict[tuple[int, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(
    clock: SimClock,
    resolver: Resolver,
    keys: list[str],
    *,
    rate: float,
    until: float,
    tally: Tally,
    process: int,
    rng: random.Random,
) -> Callable[[], None]:
    """A thread of the platform's API: `rate` requests a second for random real keys."""

    def work() -> None:
        owed, last = 0.0, clock()
        while clock() < until:
            owed, last = owed + rate * (clock() - last), clock()  # by time elapsed: a slow batch loses nothing
            while owed >= 1:
                owed -= 1
                key = rng.choice(keys)
                began = clock()
                with tally.lock:
                    tally.first_ask.setdefault((process, key), began)
                try:
                    resolver.resolve(key)
                except ResolverBusyError:
                    with tally.lock:
                        tally.busy += 1
                    continue
                except (UnknownKeyError, ClientError):
                    with tally.lock:
                        tally.failed += 1
                    continue
                with tally.lock:
                    tally.latencies.append(clock() - began)
                    tally.first_answer.setdefault((process, key), clock())
            clock.sleep_until(last + TICK)

    return work


def flooder(clock: SimClock, resolver: Resolver, rate: float, until: float, tally: Tally) -> Callable[[], None]:
    """Random well-formed keys, none of them real, at `rate` a second."""

    def work() -> None:
        owed, last = 0.0, clock()
        while clock() < until:
            owed, last = owed + rate * (clock() - last), clock()  # by time elapsed: a slow batch loses nothing
            while owed >= 1:
                owed -= 1
                try:
                    resolver.resolve(new_key())
                except ResolverBusyError:
                    outcome = "refused"
                except UnknownKeyError:
                    outcome = "unknown"
                except ClientError:
                    outcome = "throttled"
                with tally.lock:
                    tally.flood[outcome] += 1
            clock.sleep_until(last + TICK)

    return work


def warm(clock: SimClock, resolver: Resolver, keys: list[str]) -> float:
    """Resolve every key once, one at a time, waiting out each refusal: what one process's
    first minutes look like. Returns the simulated seconds it took."""
    began = clock()
    for key in keys:
        while True:
            try:
                resolver.resolve(key)
                break
            except ResolverBusyError as err:
                clock.now += err.retry_after + 1e-6  # past float rounding at the boundary
    return clock() - began


def report(
    name: str,
    tally: Tally,
    ssm: StandInSsm,
    *,
    window: tuple[float, float],
    resolvers: list[Resolver],
    before: dict[str, int],
) -> dict[str, Any]:
    since, until = window
    served = len(tally.latencies)
    asked = served + tally.failed + tally.busy
    calls = [t for t in ssm.accepted if since <= t < until]
    per_second = [0] * max(1, int(until - since))
    for t in calls:
        per_second[min(len(per_second) - 1, int(t - since))] += 1
    cuts = statistics.quantiles(tally.latencies, n=100, method="inclusive") if served > 1 else [0.0] * 99
    counters = [r.counters() for r in resolvers]
    waits = [tally.first_answer[k] - t for k, t in tally.first_ask.items() if k in tally.first_answer]
    row = {
        "scenario": name,
        "simulated_s": round(until - since),
        "real_key_requests": asked,
        "success_pct": round(100 * served / asked, 3) if asked else 0.0,
        "p50_ms": round(cuts[49] * 1e3, 1),
        "p99_ms": round(cuts[98] * 1e3, 1),
        "ssm_calls_per_s": round(len(calls) / max(until - since, 1e-9), 1),
        "ssm_calls_max_1s": max(per_second),
        "throttled": ssm.throttled,
        "refusals": sum(c["refusals"] for c in counters) - before.get("refusals", 0),
        "stale": sum(c["stale"] for c in counters) - before.get("stale", 0),
        "flood": dict(tally.flood),
        "never_answered": len(tally.first_ask) - len(tally.first_answer),
    }
    if waits:
        row["first_answer_p50_s"] = round(statistics.median(waits), 1)
        row["first_answer_max_s"] = round(max(waits), 1)
        row["all_answered_at_s"] = round(max(tally.first_answer.values()) - since, 1)
    return row


def scenario(name: str, keys: list[str], seconds: float, seed: int, processes: int = 10) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 (a reproducible simulation, not a secret)
    clock = SimClock()
    ssm = StandInSsm(clock, index(keys), rng)
    tally = Tally()
    if name == "cold start":
        resolvers = [Resolver(ssm, PROJECT, clock=clock, rng=rng.random) for _ in range(processes)]
        workers = [
            client(clock, r, keys, rate=20, until=seconds, tally=tally, process=p, rng=random.Random(seed + p))  # noqa: S311
            for p, r in enumerate(resolvers)
        ]
        clock.run(workers)
        return report(name, tally, ssm, window=(0.0, seconds), resolvers=resolvers, before={})
    resolver = Resolver(ssm, PROJECT, clock=clock, rng=rng.random)
    warmed = warm(clock, resolver, keys)
    since, ssm.throttled, before = clock(), 0, resolver.counters()
    until = since + seconds
    workers = [
        client(clock, resolver, keys, rate=50, until=until, tally=tally, process=0, rng=random.Random(seed + t))  # noqa: S311
        for t in range(4)
    ]
    if name == "flood":
        workers.append(flooder(clock, resolver, 10 * SSM_RATE, until, tally))
    tally.first_ask.clear()
    clock.run(workers)
    row = report(name, tally, ssm, window=(since, until), resolvers=[resolver], before=before)
    for cold_only in ("first_answer_p50_s", "first_answer_max_s", "all_answered_at_s", "never_answered"):
        row.pop(cold_only, None)  # every key was warm: the waits say nothing here
    return row | {"warm_up_s": round(warmed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-resolver", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keys", type=int, default=1000, help="active keys, steady and flood (default 1000; 10..10000)"
    )
    parser.add_argument("--cold-keys", type=int, default=400, help="active keys, cold start (default 400; 10..10000)")
    parser.add_argument("--processes", type=int, default=10, help="processes in the cold start (default 10; 1..50)")
    parser.add_argument("--seconds", type=float, default=300, help="simulated seconds, steady and cold (default 300)")
    parser.add_argument("--flood-seconds", type=float, default=660, help="simulated seconds of flood (default 660)")
    parser.add_argument("--seed", type=int, default=17, help="the random seed (default 17)")
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario instead of a table")
    args = parser.parse_args(argv)
    for option, value, low, high in (
        ("--keys", args.keys, 10, 10_000),
        ("--cold-keys", args.cold_keys, 10, 10_000),
        ("--processes", args.processes, 1, 50),
        ("--seconds", args.seconds, 1, 3600),
        ("--flood-seconds", args.flood_seconds, 1, 3600),
    ):
        if not low <= value <= high:
            parser.error(f"{option}: got {value}; allowed: {low} to {high}")
    keys = [new_key() for _ in range(max(args.keys, args.cold_keys))]
    began = time.perf_counter()
    rows = [
        scenario("steady", keys[: args.keys], args.seconds, args.seed),
        scenario("flood", keys[: args.keys], args.flood_seconds, args.seed),
        scenario("cold start", keys[: args.cold_keys], args.seconds, args.seed, args.processes),
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row, sort_keys=True))
    else:
        print(
            "| scenario | simulated s | real keys answered | p50 / p99 | SSM calls/s (max in 1 s) "
            "| throttled | refusals | stale |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['scenario']} | {r['simulated_s']} | {r['success_pct']} % of {r['real_key_requests']:,} "
                f"| {r['p50_ms']} / {r['p99_ms']} ms | {r['ssm_calls_per_s']} ({r['ssm_calls_max_1s']}) "
                f"| {r['throttled']} | {r['refusals']:,} | {r['stale']} |"
            )
        for r in rows:
            extra = {
                k: r[k]
                for k in (
                    "flood",
                    "warm_up_s",
                    "first_answer_p50_s",
                    "first_answer_max_s",
                    "all_answered_at_s",
                    "never_answered",
                )
                if k in r
            }
            print(f"{r['scenario']}: {extra}")
    print(f"seed {args.seed}, {time.perf_counter() - began:.1f} s of wall time", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
