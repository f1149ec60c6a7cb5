"""The S3 rules (policies/rules_s3.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.contracts import conventions
from policies.model import UNKNOWN
from tests.support.policies import (
    FILES_POLICY,
    LIFECYCLE,
    NO_EXPIRY,
    NO_SSE,
    NO_TLS,
    PAB,
    SSE_DEFAULT,
    SSE_FILES,
    Case,
    M,
    Mutation,
    _add_sse_rule,
    _drop,
    _remove_key,
    _set,
    _tls_policy,
    _twin,
    edge_findings,
    res,
)

CASES: list[Case] = [
    # s3-public-access-block: every bucket, the log bucket too; each flag that is off or absent is named.
    (
        "prod",
        "s3-public-access-block",
        [_drop(conventions.PUBLIC_ACCESS_BLOCK, "logs-public-access-block")],
        [(M, "envstack-prod-files-logs", "no public access block")],
    ),
    (
        "prod",
        "s3-public-access-block",
        [_set(*PAB, "blockPublicPolicy", value=False), _remove_key(*PAB, "restrictPublicBuckets")],
        [(M, "envstack-prod-files", "public access block leaves blockPublicPolicy, restrictPublicBuckets off")],
    ),
    # s3-ownership-enforced: the log bucket too.
    (
        "prod",
        "s3-ownership-enforced",
        [_drop(conventions.OWNERSHIP, "logs-ownership")],
        [(M, "envstack-prod-files-logs", "object ownership is not BucketOwnerEnforced")],
    ),
    # s3-kms-encryption: SSE-KMS for files; SSE-S3 for the access-log bucket (log delivery needs it).
    (
        "prod",
        "s3-kms-encryption",
        [_set(conventions.SSE, "logs-encryption", *SSE_DEFAULT, "sseAlgorithm", value="aws:kms")],
        [(M, "envstack-prod-files-logs", "default encryption is aws:kms, expected AES256")],
    ),
    (
        "prod",
        "s3-kms-encryption",
        [_add_sse_rule("AES256")],
        [(M, "envstack-prod-files", "default encryption is AES256, expected aws:kms")],
    ),
    ("prod", "s3-kms-encryption", [_set(*SSE_FILES, "rules", value=[])], [(M, "envstack-prod-files", NO_SSE)]),
    # a logging configuration whose target is not a recorded link names no log bucket (and crashes nothing).
    (
        "prod",
        "s3-kms-encryption",
        [lambda plan: res(plan, conventions.LOGGING)["propertyDependencies"].pop("targetBucket")],
        [(M, "envstack-prod-files-logs", "default encryption is AES256, expected aws:kms")],
    ),
    # s3-deny-insecure-transport: a Deny on aws:SecureTransport false, in any policy of the bucket.
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", "false")], []),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", False, as_object=True)], []),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", "false", single=True)], []),
    # a statement that is not an object is skipped, not the end of the search.
    (
        "prod",
        "s3-deny-insecure-transport",
        [
            _set(
                *FILES_POLICY,
                "policy",
                value={
                    "Statement": [
                        "not a statement",
                        {"Effect": "Deny", "Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                    ]
                },
            )
        ],
        [],
    ),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Allow", "false")], [(M, "envstack-prod-files", NO_TLS)]),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", "true")], [(M, "envstack-prod-files", NO_TLS)]),
    (
        "prod",
        "s3-deny-insecure-transport",
        [_set(*FILES_POLICY, "policy", value="{oops")],
        [(M, "envstack-prod-files", NO_TLS)],
    ),
    (
        "prod",
        "s3-deny-insecure-transport",
        [_set(*FILES_POLICY, "policy", value="[]")],
        [(M, "envstack-prod-files", NO_TLS)],
    ),
    (
        "prod",
        "s3-deny-insecure-transport",
        [_set(*FILES_POLICY, "policy", value={"Statement": [{"Effect": "Deny"}]})],
        [(M, "envstack-prod-files", NO_TLS)],
    ),
    (
        "prod",
        "s3-deny-insecure-transport",
        [_drop(conventions.BUCKET_POLICY, "logs-policy")],
        [(M, "envstack-prod-files-logs", NO_TLS)],
    ),
    # a bucket whose policy is unknown is skipped, not the end of the check of the others.
    (
        "prod",
        "s3-deny-insecure-transport",
        [_set(*FILES_POLICY, "policy", value=UNKNOWN), _drop(conventions.BUCKET_POLICY, "logs-policy")],
        [(M, "envstack-prod-files-logs", NO_TLS)],
    ),
    # s3-versioning: files buckets only (not the log bucket); noncurrent versions expire by an enabled rule.
    # a files bucket without versioning does not end the check of the others.
    (
        "prod",
        "s3-versioning",
        [
            _set(*LIFECYCLE, "rules", 0, "status", value="Disabled"),
            _twin(conventions.BUCKET, "-files", "envstack-prod-more-files-twin"),
        ],
        [(M, "envstack-prod-more-files-twin", "versioning is not enabled"), (M, "envstack-prod-files", NO_EXPIRY)],
    ),
    (
        "prod",
        "s3-versioning",
        [_set(*LIFECYCLE, "rules", 0, "status", value="Disabled")],
        [(M, "envstack-prod-files", NO_EXPIRY)],
    ),
    (
        "prod",
        "s3-versioning",
        [_remove_key(*LIFECYCLE, "rules", 0, "noncurrentVersionExpiration")],
        [(M, "envstack-prod-files", NO_EXPIRY)],
    ),
    ("prod", "s3-versioning", [_set(*LIFECYCLE, "rules", value=None)], [(M, "envstack-prod-files", NO_EXPIRY)]),
    (
        "prod",
        "s3-versioning",
        [_drop(conventions.VERSIONING)],
        [(M, "envstack-prod-files", "versioning is not enabled")],
    ),
    # s3-no-force-destroy: absent is off.
    ("prod", "s3-no-force-destroy", [_remove_key(conventions.BUCKET, "-files", "forceDestroy")], []),
    # Each rule has a passing and a failing case here (tests/policies/test_rules.py checks it).
    ("prod", "s3-public-access-block", [_set(*PAB, "blockPublicPolicy", value=UNKNOWN)], []),
    (
        "prod",
        "s3-ownership-enforced",
        [_set(conventions.OWNERSHIP, "files-ownership", "rule", "objectOwnership", value=UNKNOWN)],
        [],
    ),
    ("prod", "s3-kms-encryption", [_add_sse_rule("aws:kms")], []),
    (
        "prod",
        "s3-versioning",
        [_set(conventions.VERSIONING, "", "versioningConfiguration", "status", value=UNKNOWN)],
        [],
    ),
    # s3-access-logging: the access-log bucket itself need not log; without the logging
    # configuration nothing marks it as the log bucket, so both buckets are judged.
    ("prod", "s3-access-logging", [], []),
    (
        "prod",
        "s3-access-logging",
        [_drop(conventions.LOGGING)],
        [
            (M, "envstack-prod-files", "server access logging is off"),
            (M, "envstack-prod-files-logs", "server access logging is off"),
        ],
    ),
    (
        "prod",
        "s3-no-force-destroy",
        [_set(conventions.BUCKET, "-files", "forceDestroy", value=True)],
        [(M, "envstack-prod-files", "force_destroy is on: destroy would delete every file")],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
