"""The KMS rules (policies/rules_kms.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.model import UNKNOWN
from tests.support.policies import (
    AWS_MANAGED,
    KEY,
    SECRET,
    SSE_DEFAULT,
    SSE_FILES,
    WILDCARD_KEY,
    Case,
    M,
    Mutation,
    _key_policy,
    _remove_key,
    _set,
    edge_findings,
)

CASES: list[Case] = [
    # kms-key-rotation: rotation on (absent is off); no Allow statement with a wildcard principal.
    (
        "prod",
        "kms-key-rotation",
        [_remove_key(KEY, "", "enableKeyRotation")],
        [(M, "envstack-prod-key", "key rotation is off")],
    ),
    ("prod", "kms-key-rotation", [_key_policy({"AWS": "*"})], [(M, "envstack-prod-key", WILDCARD_KEY)]),
    (
        "prod",
        "kms-key-rotation",
        [_key_policy({"AWS": ["arn:aws:iam::123456789012:root", "*"]})],
        [(M, "envstack-prod-key", WILDCARD_KEY)],
    ),
    ("prod", "kms-key-rotation", [_key_policy({"AWS": "arn:aws:iam::123456789012:root"})], []),
    ("prod", "kms-key-rotation", [_key_policy("*", effect="Deny")], []),
    ("prod", "kms-key-rotation", [_key_policy("*", as_object=True)], [(M, "envstack-prod-key", WILDCARD_KEY)]),
    ("prod", "kms-key-rotation", [_key_policy("*", statements=2)], [(M, "envstack-prod-key", WILDCARD_KEY)] * 2),
    ("prod", "kms-key-rotation", [_set(KEY, "", "policy", value="")], []),
    ("prod", "kms-key-rotation", [_set(KEY, "", "policy", value=UNKNOWN)], []),
    ("prod", "kms-key-rotation", [_set(KEY, "", "policy", value="{}")], []),
    ("prod", "kms-key-rotation", [_set(KEY, "", "policy", value="{oops")], []),
    (
        "prod",
        "kms-key-rotation",
        [_set(KEY, "", "policy", value={"Statement": ["x", {"Effect": "Allow", "Principal": "*"}]})],
        [(M, "envstack-prod-key", WILDCARD_KEY)],
    ),
    (
        "prod",
        "kms-key-rotation",
        [_set(KEY, "", "policy", value={"Statement": {"Effect": "Allow", "Principal": "*"}})],
        [(M, "envstack-prod-key", WILDCARD_KEY)],
    ),
    # customer-managed-keys: S3 with the environment's key and the bucket key; secrets and clusters with a key.
    (
        "prod",
        "customer-managed-keys",
        [
            _remove_key(*SSE_FILES, *SSE_DEFAULT, "kmsMasterKeyId"),
            _set(*SSE_FILES, "rules", 0, "bucketKeyEnabled", value=False),
        ],
        [(M, "envstack-prod-files", AWS_MANAGED)],
    ),
    (
        "prod",
        "customer-managed-keys",
        [_remove_key(*SSE_FILES, "rules", 0, "bucketKeyEnabled")],
        [(M, "envstack-prod-files", "the S3 bucket key is off")],
    ),
    (
        "prod",
        "customer-managed-keys",
        [_set(*SECRET, "kmsKeyId", value="")],
        [(M, "envstack-prod-api-key", AWS_MANAGED)],
    ),
    # Each rule has a passing and a failing case here (tests/policies/test_rules.py checks it).
    ("prod", "customer-managed-keys", [_set(*SECRET, "kmsKeyId", value=UNKNOWN)], []),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
