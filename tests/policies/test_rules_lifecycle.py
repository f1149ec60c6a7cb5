"""The lifecycle rules (policies/rules_lifecycle.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.contracts import conventions
from policies.model import UNKNOWN
from tests.support.policies import (
    CLUSTER,
    FIXED_SNAPSHOT,
    INSTANCE,
    KEY,
    KEY_OUTLIVED,
    SECRET,
    Case,
    M,
    Mutation,
    _drop,
    _fixed_final_snapshot,
    _generated_by,
    _option,
    _remove_key,
    _set,
    _twin,
    _twin_input,
    edge_findings,
)

CASES: list[Case] = [
    # unique-final-snapshot: only clusters that take a final snapshot (absent skipFinalSnapshot takes one).
    ("prod", "unique-final-snapshot", [_remove_key(*CLUSTER, "skipFinalSnapshot")], []),
    (
        "prod",
        "unique-final-snapshot",
        [_remove_key(*CLUSTER, "skipFinalSnapshot"), _remove_key(*CLUSTER, "finalSnapshotIdentifier")],
        [(M, "prod-main", "takes a final snapshot but names none: destroy fails")],
    ),
    (
        "prod",
        "unique-final-snapshot",
        [_set(*CLUSTER, "skipFinalSnapshot", value=True), _remove_key(*CLUSTER, "finalSnapshotIdentifier")],
        [],
    ),
    (
        "prod",
        "unique-final-snapshot",
        [_set(*CLUSTER, "skipFinalSnapshot", value=UNKNOWN), _remove_key(*CLUSTER, "finalSnapshotIdentifier")],
        [],
    ),
    ("prod", "unique-final-snapshot", [_generated_by(conventions.RANDOM_STRING)], []),
    ("prod", "unique-final-snapshot", [_generated_by(conventions.RANDOM_PET)], []),
    (
        "prod",
        "unique-final-snapshot",
        [_generated_by(conventions.RANDOM_PASSWORD)],
        [
            (
                M,
                "prod-main",
                "fixed final snapshot identifier 'prod-main-final-70391430': a second destroy fails once it exists",
            )
        ],
    ),
    # no-pinned-minor-engine-version: a major only is not pinned; ignore_changes or no auto-upgrade lifts it.
    ("prod", "no-pinned-minor-engine-version", [_option(*CLUSTER, ignoreChanges=[])], []),
    (
        "prod",
        "no-pinned-minor-engine-version",
        [_set(*CLUSTER, "engineVersion", value="16.6.1"), _option(*CLUSTER, ignoreChanges=["tags"])],
        [(M, "prod-main", "engine version 16.6.1 pins a minor that AWS upgrades: the next update fails")],
    ),
    (
        "prod",
        "no-pinned-minor-engine-version",
        [
            _set(*CLUSTER, "engineVersion", value="16.6"),
            _option(*CLUSTER, ignoreChanges=[]),
            _remove_key(*INSTANCE, "autoMinorVersionUpgrade"),
        ],
        [(M, "prod-main", "engine version 16.6 pins a minor that AWS upgrades: the next update fails")],
    ),
    (
        "prod",
        "no-pinned-minor-engine-version",
        [_set(*CLUSTER, "engineVersion", value="v16.6"), _option(*CLUSTER, ignoreChanges=[])],
        [],
    ),
    (
        "prod",
        "no-pinned-minor-engine-version",
        [_set(*CLUSTER, "engineVersion", value=16.6), _option(*CLUSTER, ignoreChanges=[])],
        [],
    ),
    (
        "prod",
        "no-pinned-minor-engine-version",
        [
            _set(*CLUSTER, "engineVersion", value="16.6"),
            _option(*CLUSTER, ignoreChanges=[]),
            _drop(conventions.INSTANCE),
        ],
        [],
    ),
    # fixed-name-delete-before-replace: unset is not set; an unknown name is still fixed; no name, no rule.
    (
        "prod",
        "fixed-name-delete-before-replace",
        [_option(*INSTANCE, deleteBeforeReplace=None), _set(*INSTANCE, "identifier", value=UNKNOWN)],
        [
            (
                M,
                "prod-main-writer",
                "fixed identifier (unknown) without delete_before_replace: a replacement fails with AlreadyExists",
            )
        ],
    ),
    (
        "prod",
        "fixed-name-delete-before-replace",
        [_option(*INSTANCE, deleteBeforeReplace=None), _remove_key(*INSTANCE, "identifier")],
        [],
    ),
    # kms-key-outlives-its-data: what outlives destroy is a final snapshot or a secret in a recovery window.
    ("prod", "kms-key-outlives-its-data", [_option(KEY, "", retainOnDelete=None)], []),
    (
        "prod",
        "kms-key-outlives-its-data",
        [
            _option(KEY, "", retainOnDelete=False),
            _set(*CLUSTER, "skipFinalSnapshot", value=True),
            _set(*SECRET, "recoveryWindowInDays", value=0),
            _remove_key(conventions.SECRET, "-tables-credentials", "recoveryWindowInDays"),
            _set(conventions.SECRET, "-provisioner-credentials", "recoveryWindowInDays", value=0),
        ],
        [
            (
                M,
                "envstack-prod-key",
                "not retained on delete, yet envstack-prod-tables-credentials outlive destroy encrypted with it",
            )
        ],
    ),
    (
        "prod",
        "kms-key-outlives-its-data",
        [
            _option(KEY, "", retainOnDelete=False),
            _remove_key(*CLUSTER, "skipFinalSnapshot"),
            _set(*SECRET, "recoveryWindowInDays", value=0),
            _set(conventions.SECRET, "-tables-credentials", "recoveryWindowInDays", value=UNKNOWN),
            _set(conventions.SECRET, "-provisioner-credentials", "recoveryWindowInDays", value=0),
        ],
        [(M, "envstack-prod-key", "not retained on delete, yet prod-main outlive destroy encrypted with it")],
    ),
    (
        "prod",
        "kms-key-outlives-its-data",
        [
            _option(KEY, "", retainOnDelete=False),
            _set(*CLUSTER, "skipFinalSnapshot", value=UNKNOWN),
            _set(*SECRET, "recoveryWindowInDays", value=0),
            _set(conventions.SECRET, "-tables-credentials", "recoveryWindowInDays", value=0),
            _set(conventions.SECRET, "-provisioner-credentials", "recoveryWindowInDays", value=0),
        ],
        [],
    ),
    # lifecycle rules judge every cluster and key, not only the first: a passing one listed first
    # does not hide a failing one after it.
    (
        "prod",
        "unique-final-snapshot",
        [_fixed_final_snapshot, _twin_input(*CLUSTER, "other-main", "skipFinalSnapshot", True)],
        [(M, "prod-main", FIXED_SNAPSHOT)],
    ),
    (
        "prod",
        "unique-final-snapshot",
        [_fixed_final_snapshot, _twin_input(*CLUSTER, "other-main", "finalSnapshotIdentifier", UNKNOWN)],
        [(M, "prod-main", FIXED_SNAPSHOT)],
    ),
    # an identifier unknown during preview is not judged, even with nothing generated behind it.
    (
        "prod",
        "unique-final-snapshot",
        [_fixed_final_snapshot, _set(*CLUSTER, "finalSnapshotIdentifier", value=UNKNOWN)],
        [],
    ),
    (
        "prod",
        "kms-key-outlives-its-data",
        [_option(KEY, "", retainOnDelete=False), _twin(KEY, "", "envstack-prod-other-key", retainOnDelete=True)],
        [(M, "envstack-prod-key", KEY_OUTLIVED)],
    ),
    # a recovery window of one day is still a window: the secret outlives destroy.
    (
        "prod",
        "kms-key-outlives-its-data",
        [
            _option(KEY, "", retainOnDelete=False),
            _set(*CLUSTER, "skipFinalSnapshot", value=True),
            _set(*SECRET, "recoveryWindowInDays", value=1),
            _set(conventions.SECRET, "-tables-credentials", "recoveryWindowInDays", value=0),
            _set(conventions.SECRET, "-provisioner-credentials", "recoveryWindowInDays", value=0),
        ],
        [
            (
                M,
                "envstack-prod-key",
                "not retained on delete, yet envstack-prod-api-key outlive destroy encrypted with it",
            )
        ],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
