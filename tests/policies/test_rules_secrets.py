"""The Secrets Manager rules (policies/rules_secrets.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.model import UNKNOWN
from tests.support.policies import (
    SECRET,
    A,
    Case,
    M,
    Mutation,
    _remove_key,
    _set,
    edge_findings,
)

CASES: list[Case] = [
    # secret-recovery-window: 30 days (AWS's default when absent) is the floor.
    ("prod", "secret-recovery-window", [_set(*SECRET, "recoveryWindowInDays", value=30)], []),
    ("prod", "secret-recovery-window", [_remove_key(*SECRET, "recoveryWindowInDays")], []),
    (
        "prod",
        "secret-recovery-window",
        [_set(*SECRET, "recoveryWindowInDays", value=29)],
        [(M, "envstack-prod-api-key", "recovery window is 29 days, below 30")],
    ),
    ("prod", "secret-recovery-window", [_set(*SECRET, "recoveryWindowInDays", value=UNKNOWN)], []),
    (
        "dev",
        "secret-recovery-window",
        [],
        [
            (A, "envstack-dev-api-key", "recovery window is 0 days, below 30"),
            (A, "envstack-dev-tables-credentials", "recovery window is 0 days, below 30"),
        ],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
