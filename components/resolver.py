"""From an X-API-Key header to its environment's record: the platform API's lookup.

    resolver = Resolver(boto3.client("ssm", region_name="ap-northeast-2"), project="acme")
    record = resolver.resolve(request.headers["X-API-Key"])   # dict, or raises

A cold lookup costs two GetParameter calls (the key's index entry, then the record); both
answers are cached for `ttl` seconds, and an unknown key for `negative_ttl` seconds, so the
account's Parameter Store throughput (40 transactions per second by default, shared by
GetParameter, GetParameters and GetParametersByPath) is spent only on keys not seen lately.
A malformed key is refused before any AWS call. Needs boto3's SSM client, not Pulumi.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from components.records import KEY_ALLOWED, key_hash, key_index_name, records_path, well_formed

DEFAULT_TTL = 300.0  # seconds; see docs/api-keys.md for how it follows from SSM's limits
DEFAULT_NEGATIVE_TTL = 30.0
DEFAULT_MAX_ENTRIES = 10_000


class MalformedKeyError(ValueError):
    """Not a key envstack could have generated; no AWS call was made."""


class UnknownKeyError(LookupError):
    """A well-formed key that no environment of the project has (or no longer has)."""


class Resolver:
    """Resolves keys against one project's index, caching answers for a TTL.

    `clock` returns seconds (monotonic by default); tests pass a fake one. The cache holds
    at most `max_entries` answers, dropping the least recently used, so a flood of random
    keys cannot grow it without bound.
    """

    def __init__(
        self,
        ssm: Any,
        project: str,
        *,
        ttl: float = DEFAULT_TTL,
        negative_ttl: float = DEFAULT_NEGATIVE_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ssm, self.project, self.ttl, self.negative_ttl = ssm, project, ttl, negative_ttl
        self.max_entries, self.clock = max_entries, clock
        self._cache: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._lock = threading.Lock()  # API servers resolve from many threads; AWS calls run outside it

    def resolve(self, key: str) -> dict[str, Any]:
        """The environment record of `key`. Raises MalformedKeyError or UnknownKeyError;
        AWS errors other than a missing parameter (throttling, access) propagate."""
        if not well_formed(key):
            raise MalformedKeyError(f"not an envstack API key: expected {KEY_ALLOWED}")
        digest = key_hash(key)  # the cache, like the index, never holds the key itself
        now = self.clock()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(digest)
        if hit is not None and hit[0] > now:
            record = hit[1]
        else:
            record = self._lookup(digest)
            with self._lock:
                self._cache[digest] = (now + (self.ttl if record is not None else self.negative_ttl), record)
                self._cache.move_to_end(digest)
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        if record is None:
            raise UnknownKeyError(f"no environment of project '{self.project}' has this API key")
        return dict(record)

    def _get(self, name: str) -> str | None:
        try:
            return str(self.ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except self.ssm.exceptions.ParameterNotFound:
            return None

    def _lookup(self, digest: str) -> dict[str, Any] | None:
        entry = self._get(key_index_name(self.project, digest))
        if entry is None:
            return None
        index = json.loads(entry)
        if index.get("project") != self.project or not str(index.get("record")).startswith(
            records_path(self.project) + "/"
        ):
            return None
        text = self._get(index["record"])
        if text is None:  # the environment is being deleted: its record went first
            return None
        record: dict[str, Any] = json.loads(text)
        return record


def resolve(ssm: Any, key: str, project: str) -> dict[str, Any]:
    """One uncached lookup (the CLI's); a long-running API keeps a `Resolver` instead."""
    return Resolver(ssm, project, ttl=0, negative_ttl=0).resolve(key)
