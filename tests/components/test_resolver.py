"""The resolver under load, on a fake clock and a counting SSM stub.

The stub behaves like boto3's SSM client where the resolver touches it: `get_parameter`
returns `{"Parameter": {"Value": ...}}`, a missing name raises the client's
`exceptions.ParameterNotFound` (a botocore ClientError), throttling is botocore's real
ClientError with code ThrottlingException. Its documents are the real ones
(components/records.py); the end-to-end checks on moto's SSM are in tests/components/test_records.py.
"""

from __future__ import annotations

import random
import secrets
import threading
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError

from components.records import (
    KEY_HASHES,
    KEY_PREFIX,
    RECORD_FIELDS,
    index_document,
    key_hash,
    key_index_name,
    record_document,
)
from components.resolver import (
    COUNTERS,
    Resolver,
    ResolverBusyError,
    TokenBucket,
    UnknownKeyError,
    client_config,
)
from policies.contracts.names import record_name
from tests.support.program import REGION

PROJECT = "envstack"


class ParameterNotFoundError(ClientError):  # type: ignore[misc]  # botocore is untyped
    pass


class Exceptions:
    ParameterNotFound = ParameterNotFoundError


def throttling() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameter")


class CountingSsm:
    """Parameter Store's GetParameter over a dict, counting calls; `fail` makes every call raise
    it, `gate` (an Event) holds every call until it is set."""

    exceptions = Exceptions

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.calls: list[str] = []
        self.fail: Exception | None = None
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def get_parameter(self, Name: str) -> dict[str, Any]:  # noqa: N803 (boto3's spelling)
        with self._lock:
            self.calls.append(Name)
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail is not None:
            raise self.fail
        if Name not in self.values:
            raise ParameterNotFoundError({"Error": {"Code": "ParameterNotFound"}}, "GetParameter")
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}

    def add(self, env: str, *keys: str) -> None:
        """What an environment's stack writes: its record listing `keys`, and one entry each."""
        fields = {f: "x" for f in RECORD_FIELDS} | {"name": env, KEY_HASHES: [key_hash(k) for k in keys]}
        self.values[record_name(PROJECT, env)] = record_document(fields)
        for version, key in enumerate(keys, start=1):
            self.values[key_index_name(PROJECT, key_hash(key))] = index_document(PROJECT, env, version)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 43 URL-safe characters, as envstack's


@pytest.fixture
def ssm() -> CountingSsm:
    return CountingSsm()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def resolver(ssm: CountingSsm, clock: FakeClock, **options: Any) -> Resolver:
    return Resolver(ssm, PROJECT, clock=clock, **{"jitter": 0.0, **options})


# --- single-flight --------------------------------------------------------------------------


def run_together(count: int, action: Any) -> tuple[list[Any], list[threading.Thread]]:
    """Start `count` threads that each call `action` at once; returns their results (filled
    in once they finish) and the threads."""
    results: list[Any] = [None] * count
    started = threading.Barrier(count + 1)

    def work(i: int) -> None:
        started.wait(10)
        try:
            results[i] = action()
        except Exception as err:  # the test looks at what each thread got
            results[i] = err

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    started.wait(10)
    return results, threads


def join_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(10)
        assert not t.is_alive()


def test_concurrent_cold_lookups_of_one_key_make_one_pair_of_calls(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    ssm.gate = threading.Event()
    r = resolver(ssm, clock)
    results, threads = run_together(100, lambda: r.resolve(key)["name"])
    threading.Event().wait(0.3)  # every thread is inside resolve(): without single-flight, 100 calls wait here
    assert len(ssm.calls) == 1
    ssm.gate.set()
    join_all(threads)
    assert results == ["dev"] * 100
    assert len(ssm.calls) == 2  # the index entry, then the record
    assert (r.counters()["found"], r.counters()["hits"]) == (1, 99)


def test_concurrent_lookups_share_a_refusal_too(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    ssm.gate, ssm.fail = threading.Event(), throttling()
    r = resolver(ssm, clock)
    results, threads = run_together(20, lambda: r.resolve(key))
    threading.Event().wait(0.3)
    ssm.gate.set()
    join_all(threads)
    assert len(ssm.calls) == 1
    assert all(isinstance(x, ResolverBusyError) for x in results)
    assert r.counters()["refusals"] == 20 and r._flights == {}


def test_concurrent_lookups_of_an_unknown_key_share_its_answer(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.gate = threading.Event()
    r = resolver(ssm, clock)
    results, threads = run_together(20, lambda: r.resolve(key))
    threading.Event().wait(0.3)
    ssm.gate.set()
    join_all(threads)
    assert len(ssm.calls) == 1 and all(isinstance(x, UnknownKeyError) for x in results)
    assert (r.counters()["misses"], r.counters()["hits"]) == (20, 0)


def test_concurrent_refreshes_of_an_expired_key_make_one_pair_of_calls(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, ttl=60)
    r.resolve(key)
    clock.now += 60
    ssm.gate = threading.Event()
    results, threads = run_together(50, lambda: r.resolve(key)["name"])
    threading.Event().wait(0.3)
    ssm.gate.set()
    join_all(threads)
    assert results == ["dev"] * 50 and len(ssm.calls) == 4


# --- separate caches ------------------------------------------------------------------------


def test_a_flood_of_unknown_keys_never_evicts_a_found_one(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, max_entries=10, max_unknown=100, budget=1e6, burst=1e6)
    r.resolve(key)
    for _ in range(5_000):
        with pytest.raises(UnknownKeyError):
            r.resolve(new_key())
    assert len(r._unknown) == 100  # bounded
    calls = len(ssm.calls)
    assert r.resolve(key)["name"] == "dev"
    assert len(ssm.calls) == calls  # still cached: no call
    assert r.counters()["hits"] == 1 and r.counters()["misses"] == 5_000


def test_the_found_cache_is_bounded_least_recently_used_first(ssm: CountingSsm, clock: FakeClock) -> None:
    keys = [new_key() for _ in range(4)]
    for i, key in enumerate(keys):
        ssm.add(f"env-{chr(97 + i)}", key)
    r = resolver(ssm, clock, max_entries=3)
    for key in keys[:3]:
        r.resolve(key)
    r.resolve(keys[0])  # used again: keys[1] is now the least recently used
    r.resolve(keys[3])
    assert set(r._found) == {key_hash(keys[i]) for i in (0, 2, 3)}


def test_an_unknown_answer_is_cached_for_the_negative_ttl(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    r = resolver(ssm, clock, negative_ttl=30)
    for _ in range(3):
        with pytest.raises(UnknownKeyError):
            r.resolve(key)
    assert len(ssm.calls) == 1
    ssm.add("dev", key)
    clock.now += 29.9
    with pytest.raises(UnknownKeyError):
        r.resolve(key)
    clock.now += 0.1
    assert r.resolve(key)["name"] == "dev"


def test_a_key_deleted_while_found_becomes_unknown_on_refresh(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, ttl=60)
    r.resolve(key)
    ssm.values.clear()
    clock.now += 60
    with pytest.raises(UnknownKeyError):
        r.resolve(key)  # not a failure: no stale answer for a key that is gone
    assert key_hash(key) not in r._found and r.counters()["stale"] == 0


# --- the budget -----------------------------------------------------------------------------


def budgeted(ssm: CountingSsm, clock: FakeClock, **options: Any) -> Resolver:
    """10 tokens, 1 a second, the last 2 for refreshes. A lookup takes 2 tokens and gives 1
    back when it needed one call (an unknown key)."""
    return resolver(ssm, clock, budget=1, burst=10, refresh_reserve=0.2, **options)


def unknown_lookups(r: Resolver, count: int) -> None:
    for _ in range(count):
        with pytest.raises(UnknownKeyError):
            r.resolve(new_key())


def test_above_the_budget_a_cold_lookup_makes_no_call_and_says_when_to_retry(
    ssm: CountingSsm, clock: FakeClock
) -> None:
    known = new_key()
    ssm.add("dev", known)
    r = budgeted(ssm, clock)
    r.resolve(known)  # 10 -> 8 tokens
    unknown_lookups(r, 5)  # 8 -> 3: each unknown key costs one call
    calls = len(ssm.calls)
    assert calls == 2 + 5
    with pytest.raises(ResolverBusyError) as err:
        r.resolve(new_key())  # 3 - 2 is under the reserve of 2
    assert not isinstance(err.value, LookupError)  # never UnknownKeyError: a valid key must not look revoked
    assert err.value.retry_after == pytest.approx(1.0)  # one more token, at 1 a second
    assert str(err.value) == "API key lookups are over budget; retry in 1.00 s"
    assert len(ssm.calls) == calls  # no AWS call
    assert r.resolve(known)["name"] == "dev"  # a cached key is unaffected
    assert len(ssm.calls) == calls
    clock.now += 0.5
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())
    clock.now += 0.5  # as soon as the budget allows
    unknown_lookups(r, 1)
    assert len(ssm.calls) == calls + 1
    assert (r.counters()["refusals"], r.counters()["misses"], r.counters()["hits"]) == (2, 6, 1)


def test_the_budget_refills_at_its_rate_up_to_its_burst(ssm: CountingSsm, clock: FakeClock) -> None:
    r = budgeted(ssm, clock)
    clock.now += 1_000  # idle: the bucket stays at its burst of 10, not 1,010
    unknown_lookups(r, 7)  # 10 -> 3
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())
    clock.now += 3  # 3 + 3 = 6 tokens: three more cold lookups of unknown keys
    unknown_lookups(r, 3)
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())


def test_a_refresh_may_use_the_reserve_that_cold_lookups_may_not(ssm: CountingSsm, clock: FakeClock) -> None:
    known = new_key()
    ssm.add("dev", known)
    r = budgeted(ssm, clock, ttl=60)
    r.resolve(known)
    clock.now += 60  # expired; the bucket is full again
    unknown_lookups(r, 7)  # 10 -> 3
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())  # cold: refused at 3 tokens
    calls = len(ssm.calls)
    assert r.resolve(known)["name"] == "dev"  # the refresh takes 2 of the 3
    assert len(ssm.calls) == calls + 2 and r.counters()["found"] == 2 and r.counters()["stale"] == 0


def test_a_refresh_refused_by_the_budget_serves_the_stale_answer(ssm: CountingSsm, clock: FakeClock) -> None:
    first, second = new_key(), new_key()
    ssm.add("dev", first)
    ssm.add("staging", second)
    r = budgeted(ssm, clock, ttl=60, stale_grace=100, retry_interval=5)
    r.resolve(first)
    r.resolve(second)
    clock.now += 60
    unknown_lookups(r, 7)  # 10 -> 3
    r.resolve(first)  # refreshed: 3 -> 1
    calls = len(ssm.calls)
    assert r.resolve(second)["name"] == "staging"  # 1 token is not a lookup: stale, no call
    assert len(ssm.calls) == calls and r.counters()["stale"] == 1
    clock.now += 1  # 2 tokens, but the stale answer waits retry_interval before trying again
    assert r.resolve(second)["name"] == "staging"
    assert len(ssm.calls) == calls and r.counters()["stale"] == 2
    clock.now += 4
    assert r.resolve(second)["name"] == "staging"
    assert len(ssm.calls) == calls + 2 and r.counters()["found"] == 4


def test_the_bucket_says_how_long_until_the_tokens_are_there() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4, burst=8, reserve=2, clock=clock)
    assert bucket.take(6, priority=False) == 0.0  # 8 - 6 = 2: the reserve is left
    assert bucket.take(1, priority=False) == pytest.approx(0.25)  # needs 3: one more token, at 4 a second
    assert bucket.take(2, priority=True) == 0.0
    assert bucket.take(1, priority=True) == pytest.approx(0.25)
    bucket.give(100)
    assert bucket.tokens == 8
    bucket.drain()
    assert bucket.tokens == 0
    clock.now += 0.5
    assert bucket.take(2, priority=True) == 0.0


# --- stale-while-error ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [throttling(), EndpointConnectionError(endpoint_url="https://ssm.ap-northeast-2.amazonaws.com")],
    ids=["throttling", "network"],
)
def test_a_failed_refresh_serves_the_found_answer_for_a_bounded_grace(
    ssm: CountingSsm, clock: FakeClock, failure: Exception
) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, ttl=60, stale_grace=100, retry_interval=5)
    r.resolve(key)
    clock.now += 60
    ssm.fail = failure
    assert r.resolve(key)["name"] == "dev"  # stale, after one failed call
    assert len(ssm.calls) == 3
    clock.now += 4.5
    assert r.resolve(key)["name"] == "dev"  # within retry_interval: no new call
    assert len(ssm.calls) == 3
    clock.now += 0.5
    assert r.resolve(key)["name"] == "dev"  # tried again, failed again, stale again
    assert len(ssm.calls) == 4
    assert (r.counters()["stale"], r.counters()["throttled"]) == (3, 2)
    clock.now = 1000 + 60 + 100  # the grace is over: the answer is gone, a lookup is cold
    cold = ResolverBusyError if isinstance(failure, ClientError) else EndpointConnectionError
    with pytest.raises(cold):
        r.resolve(key)
    ssm.fail = None
    clock.now += 100
    assert r.resolve(key)["name"] == "dev"


def test_a_throttled_cold_lookup_is_refused_and_backs_the_process_off(ssm: CountingSsm, clock: FakeClock) -> None:
    r = resolver(ssm, clock, budget=4, burst=40, refresh_reserve=0.25)
    ssm.fail = throttling()
    with pytest.raises(ResolverBusyError) as err:
        r.resolve(new_key())
    assert err.value.retry_after == pytest.approx((10 + 2) / 4)  # the bucket is emptied: reserve + one lookup
    assert str(err.value) == "API key lookups are throttled by Parameter Store; retry in 3.00 s"
    ssm.fail = None
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())  # no call while backing off
    assert len(ssm.calls) == 1 and r.counters()["throttled"] == 1


def test_after_a_throttled_refresh_the_next_try_waits_for_a_refresh_token(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = budgeted(ssm, clock, ttl=60, retry_interval=0)
    r.resolve(key)
    clock.now += 60
    ssm.fail = throttling()
    assert r.resolve(key)["name"] == "dev"  # stale; the bucket is emptied
    calls = len(ssm.calls)
    clock.now += 1.5
    r.resolve(key)
    assert len(ssm.calls) == calls  # a refresh needs 2 tokens: 2 s at 1 a second
    clock.now += 0.5
    ssm.fail = None
    r.resolve(key)
    assert len(ssm.calls) == calls + 2  # not the 4 s a cold lookup would wait (reserve + 2)


def test_a_client_error_without_an_error_code_propagates(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, ttl=60)
    r.resolve(key)
    clock.now += 60
    ssm.fail = ClientError({}, "GetParameter")
    with pytest.raises(ClientError):
        r.resolve(key)


def test_other_aws_errors_propagate_and_are_counted(ssm: CountingSsm, clock: FakeClock) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = resolver(ssm, clock, ttl=60)
    r.resolve(key)
    clock.now += 60
    ssm.fail = ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetParameter")
    with pytest.raises(ClientError):
        r.resolve(key)  # not masked by a stale answer: the platform's role is misconfigured
    assert (r.counters()["errors"], r.counters()["stale"], r.counters()["throttled"]) == (1, 0, 0)
    assert r._flights == {}
    ssm.fail = None
    assert r.resolve(key)["name"] == "dev"  # the failed flight left nothing behind


# --- jitter ---------------------------------------------------------------------------------


def test_ttls_are_jittered_within_their_bounds(ssm: CountingSsm, clock: FakeClock) -> None:
    keys = [new_key() for _ in range(200)]
    for i, key in enumerate(keys):
        ssm.add(f"env-{i}", key)
    rng = random.Random(7).random  # noqa: S311 (a reproducible draw, not a secret)
    r = Resolver(ssm, PROJECT, ttl=300, negative_ttl=30, budget=1e6, burst=1e6, clock=clock, rng=rng)
    for key in keys:
        r.resolve(key)
    unknown = [new_key() for _ in range(200)]
    unknown_lookups_of(r, unknown)
    found = [r._found[key_hash(k)].fresh_until - clock.now for k in keys]
    missing = [r._unknown[key_hash(k)] - clock.now for k in unknown]
    assert all(240 <= t <= 300 for t in found) and all(24 <= t <= 30 for t in missing)  # the default jitter, 0.2
    assert max(found) - min(found) > 50 and max(missing) - min(missing) > 5  # spread, not a wave


def unknown_lookups_of(r: Resolver, keys: list[str]) -> None:
    for key in keys:
        with pytest.raises(UnknownKeyError):
            r.resolve(key)


@pytest.mark.parametrize(("draw", "expires"), [(0.0, 300.0), (0.5, 270.0), (1.0, 240.0)])
def test_a_ttl_is_never_longer_than_asked(ssm: CountingSsm, clock: FakeClock, draw: float, expires: float) -> None:
    key = new_key()
    ssm.add("dev", key)
    r = Resolver(ssm, PROJECT, ttl=300, negative_ttl=30, jitter=0.2, clock=clock, rng=lambda: draw)
    r.resolve(key)
    clock.now += expires - 0.5
    r.resolve(key)
    assert len(ssm.calls) == 2
    clock.now += 0.5
    r.resolve(key)
    assert len(ssm.calls) == 4
    gone = new_key()
    unknown_lookups_of(r, [gone])
    assert r._unknown[key_hash(gone)] - clock.now == pytest.approx(expires / 10)


# --- counters -------------------------------------------------------------------------------


def test_the_counters_count_each_answer_and_event(ssm: CountingSsm, clock: FakeClock) -> None:
    key, outdated, forged = new_key(), new_key(), new_key()
    ssm.add("dev", key)
    ssm.add("old", outdated)
    ssm.values[record_name(PROJECT, "old")] = ssm.values[record_name(PROJECT, "old")].replace(KEY_HASHES, "was")
    ssm.values[key_index_name(PROJECT, key_hash(forged))] = index_document(PROJECT, "dev", 1)
    r = budgeted(ssm, clock, ttl=60)
    assert r.counters() == dict.fromkeys(COUNTERS, 0)
    r.resolve(key)  # found: 2 calls, 10 -> 8 tokens
    r.resolve(key)  # hit
    r.resolve(key)  # hit
    unknown_lookups_of(r, [forged, outdated, new_key()])  # 2 + 2 + 1 calls: 8 -> 3
    with pytest.raises(ResolverBusyError):
        r.resolve(new_key())
    clock.now += 60
    ssm.fail = throttling()
    r.resolve(key)  # 1 call, stale
    ssm.fail = ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetParameter")
    clock.now += 60
    with pytest.raises(ClientError):
        r.resolve(key)  # 1 call
    assert r.counters() == {
        "hits": 2,
        "found": 1,
        "stale": 1,
        "misses": 3,
        "refusals": 1,
        "errors": 1,
        "cold_calls": 2 + 2 + 2 + 1 + 1 + 1,
        "forgeries": 1,
        "outdated_records": 1,
        "throttled": 1,
    }


# --- parameters and the SDK's retries --------------------------------------------------------

ALLOWED_SHARES = "allowed: 0 to 1"
ALLOWED_BUDGET = "allowed: budget > 0 and burst * (1 - refresh_reserve) >= 2 (one cold lookup)"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jitter": 1.5}, f"jitter: got 1.5, refresh_reserve: got 0.25; {ALLOWED_SHARES}"),
        ({"jitter": -0.1}, f"jitter: got -0.1, refresh_reserve: got 0.25; {ALLOWED_SHARES}"),
        ({"refresh_reserve": 1.0}, f"jitter: got 0.2, refresh_reserve: got 1.0; {ALLOWED_SHARES}"),
        ({"refresh_reserve": -0.5}, f"jitter: got 0.2, refresh_reserve: got -0.5; {ALLOWED_SHARES}"),
        ({"budget": 0}, f"budget: got 0, burst: got 40.0; {ALLOWED_BUDGET}"),
        ({"burst": 2.5}, f"budget: got 8.0, burst: got 2.5; {ALLOWED_BUDGET}"),
    ],
)
def test_bad_parameters_are_refused_with_what_is_allowed(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as err:
        Resolver(CountingSsm(), PROJECT, **options)  # type: ignore[arg-type]
    assert str(err.value) == message


@pytest.mark.parametrize(
    "options", [{"jitter": 0.0}, {"jitter": 1.0}, {"refresh_reserve": 0.0}, {"burst": 2.0, "refresh_reserve": 0.0}]
)
def test_the_edges_of_the_parameters_are_allowed(ssm: CountingSsm, clock: FakeClock, options: dict[str, float]) -> None:
    key = new_key()
    ssm.add("dev", key)
    assert Resolver(ssm, PROJECT, clock=clock, **options).resolve(key)["name"] == "dev"  # type: ignore[arg-type]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def attempts_of_a_throttled_call(config: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many HTTP requests boto3 sends for one GetParameter that Parameter Store throttles."""
    sent: list[int] = []

    def throttled(request: Any, **_: Any) -> AWSResponse:
        sent.append(1)
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))

    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)  # the backoff between attempts
    for var in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    client = boto3.session.Session().client(
        "ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x", config=config
    )
    client.meta.events.register("before-send.ssm.GetParameter", throttled)
    with pytest.raises(ClientError) as err:
        client.get_parameter(Name="/envstack/envstack/api-keys/0")
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    return len(sent)


def test_boto3s_retries_multiply_a_throttled_call_and_client_config_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.config import Config

    assert attempts_of_a_throttled_call(None, monkeypatch) == 3  # this botocore's default: standard mode
    assert attempts_of_a_throttled_call(Config(retries={"mode": "legacy"}), monkeypatch) == 5
    assert attempts_of_a_throttled_call(client_config(), monkeypatch) == 1
    # Short timeouts, as docs/api-keys.md says: a hung call holds a key's flight, and its waiters.
    assert (client_config().connect_timeout, client_config().read_timeout) == (2, 2)


# --- the benchmark runs ---------------------------------------------------------------------


def test_the_benchmark_runs_and_reports_the_three_scenarios() -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.support.program import ROOT

    small = ["--keys", "20", "--cold-keys", "10", "--processes", "2", "--seconds", "20", "--flood-seconds", "20"]
    done = subprocess.run(
        [sys.executable, "scripts/bench_resolver.py", *small, "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {r["scenario"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(rows) == {"steady", "flood", "cold start"}
    assert rows["steady"]["success_pct"] == rows["flood"]["success_pct"] == 100.0
    assert rows["flood"]["flood"]["refused"] > 0 and rows["flood"]["ssm_calls_per_s"] <= 8.0
    assert rows["cold start"]["all_answered_at_s"] > 0
    bad = subprocess.run(
        [sys.executable, "scripts/bench_resolver.py", "--processes", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "--processes: got 0; allowed: 1 to 50" in bad.stderr


def test_envctl_resolve_reports_throttling_as_an_aws_refusal(ssm: CountingSsm) -> None:
    from envctl.live import AwsError, resolve_key

    ssm.fail = throttling()
    with pytest.raises(AwsError) as err:
        resolve_key(ssm, new_key(), PROJECT)
    # resolve_key's throw-away Resolver runs on the real clock: the wait is the drained bucket's 1.50 s
    # less the moments between draining and asking, which a loaded machine can make 10 ms.
    prefix = "AWS refused: ThrottlingException: API key lookups are throttled by Parameter Store; retry in "
    text = str(err.value)
    assert text.startswith(prefix) and text.endswith(" s"), text
    assert 1.4 <= float(text.removeprefix(prefix).removesuffix(" s")) <= 1.5, text


# --- the record's document (components/records.py) -----------------------------------------


def test_the_record_document_refuses_what_the_resolver_could_not_trust() -> None:
    import json

    fields: dict[str, Any] = {f: "x" for f in RECORD_FIELDS} | {KEY_HASHES: [key_hash(new_key())]}
    doc = json.loads(record_document(fields | {"runtimeRoleArn": None}))
    assert doc["recordVersion"] == 2 and "runtimeRoleArn" not in doc
    cases = {
        "missing": ({k: v for k, v in fields.items() if k != "stack"}, "missing ['stack'], unknown []"),
        "unknown": (fields | {"extra": "x"}, "missing [], unknown ['extra']"),
        "both": (
            {k: v for k, v in fields.items() if k != "stack"} | {"extra": "x"},
            "missing ['stack'], unknown ['extra']",
        ),
        "no hashes": (
            fields | {KEY_HASHES: []},
            "apiKeyHashes must list 1 to 2 distinct SHA-256 hex digests, got []",
        ),
        "not a digest": (
            fields | {KEY_HASHES: ["A" * 64]},
            f"apiKeyHashes must list 1 to 2 distinct SHA-256 hex digests, got {['A' * 64]!r}",
        ),
    }
    for what, (bad, message) in cases.items():
        with pytest.raises(ValueError) as err:
            record_document(bad)
        assert str(err.value) == f"environment record: {message}", what
    full = fields | {"bucketName": "b" * (4096 - len(record_document(fields)) + 1)}
    assert len(record_document(full)) == 4096  # exactly what a Standard parameter holds
    with pytest.raises(ValueError) as err:
        record_document(full | {"bucketName": full["bucketName"] + "b"})
    assert str(err.value) == "environment record is 4097 characters; Standard parameters hold 4096"
