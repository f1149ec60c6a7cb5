"""From an X-API-Key header to its environment's record: the platform API's lookup.

    ssm = boto3.client("ssm", region_name="ap-northeast-2", config=client_config())
    resolver = Resolver(ssm, project="acme")
    record = resolver.resolve(request.headers["X-API-Key"])   # dict, or raises

A cold lookup costs at most two GetParameter calls: the key's index entry, then the record it
names. The record vouches for the key: the entry is believed only if it names this project
and an environment E, its `record` is E's record, that record's `name` is E and it lists the
key's SHA-256 (components/records.py). A missing entry is a miss; an entry that fails a check
is a forgery, answered as a miss and counted. A record without hashes (version 1) is refused.

Built to sit on a platform's hot path; the account's Parameter Store throughput (40
GetParameter* calls per second by default, shared by the whole account and region) is what
it protects. docs/api-keys.md has the design, the sizing and the benchmark:

- single-flight: concurrent lookups of one key make one pair of calls, the others wait for it;
- found and unknown answers live in separate bounded caches (cachetools' TLRUCache), so a
  flood of unknown keys never evicts a found one; TTLs are jittered downwards;
- cold lookups draw on a per-process token bucket; above it no call is made and
  ResolverBusyError (with `retry_after`) is raised: never UnknownKeyError, a valid key must
  not look revoked. Refreshing an expired found key may use a reserved share of the bucket
  that cold lookups may not, so known keys keep priority over a flood of unseen ones;
- stale-while-error: when a refresh is throttled, cannot reach AWS or is refused by the
  budget, the found answer is served for up to `stale_grace` seconds past its TTL;
- `counters()` for the platform's metrics.

A malformed key is refused before any AWS call. Needs boto3's SSM client, not Pulumi.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cachetools import TLRUCache

from components.records import KEY_ALLOWED, KEY_HASHES, key_hash, key_hashes, key_index_name, well_formed
from policies.contracts.arns import is_runtime_role_arn
from policies.contracts.names import is_valid_name, record_name

DEFAULT_TTL = 300.0  # seconds; see docs/api-keys.md for how it follows from SSM's limits
DEFAULT_NEGATIVE_TTL = 30.0
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_JITTER = 0.2  # a TTL is drawn from [ttl * (1 - jitter), ttl]: never longer than asked
DEFAULT_STALE_GRACE = 600.0
DEFAULT_RETRY_INTERVAL = 5.0
DEFAULT_BUDGET = 8.0  # GetParameter calls per second, per process
DEFAULT_BURST = 40.0
DEFAULT_REFRESH_RESERVE = 0.25
CALLS_PER_LOOKUP = 2  # the index entry, then the record
THROTTLING = "ThrottlingException"  # Parameter Store's code for "over the account's throughput"

# Every counter `counters()` reports. Each resolve() counts exactly one answer: hits (found,
# without a call of its own: cached, or looked up by a concurrent request), found (by its own
# lookup), stale, misses (unknown), refusals (ResolverBusyError) or errors (an AWS error
# raised). The rest count events: cold_calls (GetParameter calls made), forgeries,
# outdated_records (version 1, without hashes) and throttled (throttling or network errors).
COUNTERS = (
    "hits",
    "found",
    "stale",
    "misses",
    "refusals",
    "errors",
    "cold_calls",
    "forgeries",
    "outdated_records",
    "throttled",
)


class MalformedKeyError(ValueError):
    """Not a key envstack could have generated; no AWS call was made."""


class UnknownKeyError(LookupError):
    """A well-formed key that no environment of the project has (or no longer has)."""


class ResolverBusyError(RuntimeError):
    """The key could not be looked up now: the process's budget for cold lookups is spent, or
    Parameter Store throttled the lookup. Not an answer about the key: reply 503 or 429 with
    `Retry-After`, never 401. `retry_after` is in seconds."""

    def __init__(self, retry_after: float, reason: str) -> None:
        super().__init__(f"API key lookups are {reason}; retry in {retry_after:.2f} s")
        self.retry_after = retry_after


def client_config() -> Config:
    """The botocore Config the resolver expects: no SDK retries, short timeouts. boto3's own
    retries (3 attempts in standard mode, 5 in legacy) would multiply every throttled call
    against the quota that throttled it; the resolver answers throttling itself."""
    return Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=2)


class TokenBucket:
    """`rate` tokens a second, up to `burst`; the last `reserve` tokens go only to `priority`
    takers. Not thread-safe: the resolver holds its lock."""

    def __init__(self, rate: float, burst: float, reserve: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.reserve, self.clock = rate, burst, reserve, clock
        self.tokens, self.stamp = burst, clock()

    def take(self, n: float, priority: bool) -> float:
        """Take `n` tokens: 0.0 if taken, else the seconds until they could be."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        floor = 0.0 if priority else self.reserve
        if self.tokens - n >= floor:
            self.tokens -= n
            return 0.0
        return (floor + n - self.tokens) / self.rate

    def give(self, n: float) -> None:
        """Return unused tokens (a lookup that needed one call, not two)."""
        self.tokens = min(self.burst, self.tokens + n)

    def drain(self) -> None:
        """Spend everything: AWS throttled us, so back off for a whole refill."""
        self.tokens = min(self.tokens, 0.0)


@dataclass(slots=True)
class _Found:
    record: dict[str, Any]
    fresh_until: float  # served as a hit before this
    stale_until: float  # kept (and served if a refresh fails) until this
    retry_at: float  # no refresh before this (moves on after a failed refresh)


class Resolver:
    """Resolves keys against one project's index, with the caches, budget and counters above.

    Parameters (all seconds are on `clock`):
    - `ssm`: boto3's SSM client, ideally built with `client_config()`.
    - `project`: the platform project whose index is read.
    - `ttl` / `negative_ttl`: how long a found / unknown answer is served from the cache; each
      entry's TTL is drawn from `[ttl * (1 - jitter), ttl]`, so `ttl` bounds how long a deleted
      key keeps resolving (plus `stale_grace`, only while AWS fails).
    - `max_entries` / `max_unknown`: the sizes of the found and unknown caches (LRU within each).
    - `jitter`: the share of a TTL drawn at random, 0 to 1, so expiries spread out.
    - `stale_grace`: how long past its TTL a found answer may be served while refreshes fail.
    - `retry_interval`: after a failed refresh, how long the stale answer is served before the
      next attempt.
    - `budget`, `burst`: the token bucket for GetParameter calls (calls per second, and how
      many may be saved up); a lookup takes two tokens and returns one if it needed one call.
    - `refresh_reserve`: the share of `burst` that only refreshes of found keys may use.
    - `clock` (monotonic by default) and `rng` (uniform in [0, 1)): tests pass fakes.
    """

    def __init__(
        self,
        ssm: Any,
        project: str,
        *,
        ttl: float = DEFAULT_TTL,
        negative_ttl: float = DEFAULT_NEGATIVE_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_unknown: int = DEFAULT_MAX_ENTRIES,
        jitter: float = DEFAULT_JITTER,
        stale_grace: float = DEFAULT_STALE_GRACE,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        budget: float = DEFAULT_BUDGET,
        burst: float = DEFAULT_BURST,
        refresh_reserve: float = DEFAULT_REFRESH_RESERVE,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 <= jitter <= 1 or not 0 <= refresh_reserve < 1:
            raise ValueError(f"jitter: got {jitter}, refresh_reserve: got {refresh_reserve}; allowed: 0 to 1")
        if budget <= 0 or burst * (1 - refresh_reserve) < CALLS_PER_LOOKUP:
            raise ValueError(
                f"budget: got {budget}, burst: got {burst}; allowed: budget > 0 and burst * (1 - refresh_reserve) "
                f">= {CALLS_PER_LOOKUP} (one cold lookup)"
            )
        self.ssm, self.project, self.ttl, self.negative_ttl = ssm, project, ttl, negative_ttl
        self.jitter, self.stale_grace, self.retry_interval = jitter, stale_grace, retry_interval
        self.clock, self.rng = clock, rng
        self._found: TLRUCache[str, _Found, float] = TLRUCache(max_entries, _found_until, timer=clock)
        self._unknown: TLRUCache[str, float, float] = TLRUCache(max_unknown, _unknown_until, timer=clock)
        self._bucket = TokenBucket(budget, burst, burst * refresh_reserve, clock)
        self._flights: dict[str, Future[dict[str, Any] | None]] = {}
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # API servers resolve from many threads; AWS calls run outside it

    def counters(self) -> dict[str, int]:
        """A snapshot of every counter in COUNTERS (monotonic totals since start)."""
        with self._lock:
            return {name: self._counts[name] for name in COUNTERS}

    def resolve(self, key: str) -> dict[str, Any]:
        """The environment record of `key`. Raises MalformedKeyError, UnknownKeyError or
        ResolverBusyError; AWS errors other than throttling (access denied, network errors on a
        cold lookup) propagate."""
        if not well_formed(key):
            raise MalformedKeyError(f"not an envstack API key: expected {KEY_ALLOWED}")
        digest = key_hash(key)  # the caches, like the index, never hold the key itself
        try:
            record = self._answer(digest)
        except ResolverBusyError:
            self._count("refusals")
            raise
        except Exception:
            self._count("errors")
            raise
        if record is None:
            self._count("misses")
            raise UnknownKeyError(f"no environment of project '{self.project}' has this API key")
        return dict(record)

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def _answer(self, digest: str) -> dict[str, Any] | None:
        """From the caches, a concurrent lookup, or a lookup of our own (counting the answer)."""
        with self._lock:
            now = self.clock()
            found = self._found.get(digest)
            if found is not None and now < found.fresh_until:
                self._counts["hits"] += 1
                return found.record
            if found is None and digest in self._unknown:
                return None
            if found is not None and now < found.retry_at:
                self._counts["stale"] += 1
                return found.record
            flight = self._flights.get(digest)
            if flight is None:
                self._flights[digest] = mine = Future[dict[str, Any] | None]()
        if flight is not None:  # another thread is looking it up: one pair of calls for all
            record = flight.result()
            self._count("hits", record is not None)
            return record
        try:
            record = self._lookup(digest, found, now)
        except BaseException as err:
            with self._lock:
                del self._flights[digest]
            mine.set_exception(err)
            raise
        with self._lock:
            del self._flights[digest]
        mine.set_result(record)
        return record

    def _lookup(self, digest: str, found: _Found | None, now: float) -> dict[str, Any] | None:
        """One lookup under the budget, and its answer cached; `found` is the expired answer
        being refreshed, if any. Only the thread that owns the key's flight runs this."""
        with self._lock:
            wait = self._bucket.take(CALLS_PER_LOOKUP, priority=found is not None)
        if wait:
            return self._stale_or_busy(found, now, wait, "over budget")
        try:
            record = self._fetch(digest)
        except (ClientError, BotoCoreError) as err:
            throttled = isinstance(err, BotoCoreError) or err.response.get("Error", {}).get("Code") == THROTTLING
            if not throttled:
                raise
            with self._lock:
                self._counts["throttled"] += 1
                self._bucket.drain()
                wait = self._bucket.take(CALLS_PER_LOOKUP, priority=found is not None)
            if found is None and isinstance(err, BotoCoreError):
                raise  # a cold lookup that could not reach AWS: not a budget question
            return self._stale_or_busy(found, now, wait, "throttled by Parameter Store")
        with self._lock:
            if record is None:
                self._found.pop(digest, None)
                self._unknown[digest] = now + self.negative_ttl * (1 - self.jitter * self.rng())
                return None
            self._counts["found"] += 1
            fresh = now + self.ttl * (1 - self.jitter * self.rng())
            self._found[digest] = _Found(record, fresh, fresh + self.stale_grace, fresh)
            return record

    def _stale_or_busy(self, found: _Found | None, now: float, wait: float, reason: str) -> dict[str, Any]:
        """A refresh that cannot happen now serves the stale answer (and waits before trying
        again); a cold lookup that cannot happen now is refused."""
        if found is None:
            raise ResolverBusyError(wait, reason)
        with self._lock:
            found.retry_at = now + max(self.retry_interval, wait)
            self._counts["stale"] += 1
        return found.record

    def _get(self, name: str) -> str | None:
        self._count("cold_calls")
        try:
            return str(self.ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except self.ssm.exceptions.ParameterNotFound:
            return None

    def _fetch(self, digest: str) -> dict[str, Any] | None:
        """The record that vouches for `digest`, or None: missing, forged or outdated."""
        entry = self._get(key_index_name(self.project, digest))
        if entry is None:
            self._give_back()
            return None
        env = self._claimed_environment(entry)
        if env is None:
            self._give_back()
            self._count("forgeries")
            return None
        return self._vouched(digest, env)

    def _vouched(self, digest: str, env: str) -> dict[str, Any] | None:
        """E's record, if it is E's and lists `digest`; None if it is gone, refuses or is outdated."""
        text = self._get(record_name(self.project, env))
        if text is None:  # the environment is being deleted: its record went first
            return None
        record = _json(text)
        if not isinstance(record, dict) or record.get("name") != env:
            self._count("forgeries")
            return None
        if KEY_HASHES not in record:
            self._count("outdated_records")  # deploy every stack before this resolver (docs/api-keys.md)
            return None
        try:
            listed = digest in key_hashes(record[KEY_HASHES])
        except ValueError:  # not a list of 1 or 2 distinct digests: vouches for nothing
            listed = False
        # The role the platform assumes for E must be E's own: a preview may write its own record,
        # and one naming prod's role would hand a preview key prod's data.
        role = record.get("runtimeRoleArn")
        if not listed or (role is not None and not is_runtime_role_arn(str(role), env, self.project)):
            self._count("forgeries")
            return None
        return record

    def _claimed_environment(self, entry: str) -> str | None:
        """The environment an index entry names, if the entry is well made for this project."""
        index = _json(entry)
        if not isinstance(index, dict) or index.get("project") != self.project:
            return None
        env = index.get("environment")
        if not isinstance(env, str) or not is_valid_name(env) or index.get("record") != record_name(self.project, env):
            return None
        return env

    def _give_back(self) -> None:
        with self._lock:
            self._bucket.give(CALLS_PER_LOOKUP - 1)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _found_until(_key: str, found: _Found, _now: float) -> float:
    return found.stale_until


def _unknown_until(_key: str, until: float, _now: float) -> float:
    return until


def resolve(ssm: Any, key: str, project: str) -> dict[str, Any]:
    """One lookup (the CLI's): the throw-away Resolver's cache dies with it. A long-running API
    keeps one `Resolver` instead."""
    return Resolver(ssm, project).resolve(key)
