"""Assertion helpers that keep a test from passing on nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def each(items: Iterable[T], what: str, *, at_least: int = 1) -> list[T]:
    """The items as a list, after asserting that there are at least `at_least` of them.

    Use it wherever a loop or a filter feeds assertions: `for b in each(buckets, "bucket")`
    fails when the filter finds nothing, instead of checking nothing and passing."""
    found = list(items)
    assert len(found) >= at_least, f"expected at least {at_least} {what}, found {len(found)}"
    return found
