"""The S3 rules: public access, ownership, encryption, TLS, versioning, logging, force-destroy.

This module owns the rules on the files bucket and its access-log bucket, and two facts the
KMS rules share: which buckets receive access logs (`log_buckets`) and a bucket's default
encryption rules (`sse_rules`). Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.contracts.conventions import (
    BUCKET,
    BUCKET_POLICY,
    LIFECYCLE_CONFIGURATION,
    LOGGING,
    OWNERSHIP,
    PUBLIC_ACCESS_BLOCK,
    SSE,
    VERSIONING,
)
from policies.model import PROD, UNIVERSAL, Res, Rule, Stack, collector, dig, holds, items, known, policy_document

RULES: list[Rule] = []
rule = collector(RULES)


def log_buckets(s: Stack) -> set[str]:
    """The buckets that receive server access logs (a logging configuration's target)."""
    return {name for r in s.of(LOGGING) for name in r.links.get("targetBucket", [])}


def files_buckets(s: Stack) -> list[Res]:
    """The buckets that hold files: every bucket but the access-log targets."""
    logs = log_buckets(s)
    return [b for b in s.of(BUCKET) if b.name not in logs]


def sse_rules(s: Stack, bucket: Res) -> list[Any]:
    """The default-encryption rules of every encryption configuration of `bucket` (an unknown
    list of rules is one UNKNOWN rule)."""
    return [rule_ for c in s.linked(SSE, "bucket", bucket) for rule_ in items(c.get("rules"))]


@rule(
    "s3-public-access-block",
    UNIVERSAL,
    "CKV_AWS_53/54/55/56, CKV2_AWS_6; AVD-AWS-0086/0087/0091/0093/0094",
    "Every bucket has a public access block with all four flags on.",
)
def _s3_public_access_block(s: Stack) -> Iterator[tuple[Res, str]]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in s.of(BUCKET):
        blocks = s.linked(PUBLIC_ACCESS_BLOCK, "bucket", bucket)
        if not blocks:
            yield bucket, "no public access block"
        for block in blocks:
            off = [f for f in flags if not holds(block.get(f), True)]
            if off:
                yield bucket, f"public access block leaves {', '.join(off)} off"


@rule(
    "s3-ownership-enforced",
    UNIVERSAL,
    "(no scanner ID; ACLs disabled)",
    "Every bucket has object ownership BucketOwnerEnforced, so ACLs are off.",
)
def _s3_ownership(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in s.of(BUCKET):
        rules = [c.get("rule", "objectOwnership") for c in s.linked(OWNERSHIP, "bucket", bucket)]
        if not rules or not all(holds(v, "BucketOwnerEnforced") for v in rules):
            yield bucket, "object ownership is not BucketOwnerEnforced"


@rule(
    "s3-kms-encryption",
    UNIVERSAL,
    "CKV_AWS_19, CKV_AWS_145; AVD-AWS-0088",
    "Every bucket encrypts by default with SSE-KMS (access-log buckets: SSE-S3, which S3 log delivery needs).",
)
def _s3_kms(s: Stack) -> Iterator[tuple[Res, str]]:
    logs = log_buckets(s)
    for bucket in s.of(BUCKET):
        expected = "AES256" if bucket.name in logs else "aws:kms"
        algorithms = [dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in sse_rules(s, bucket)]
        wrong = [a for a in algorithms if not holds(a, expected)]
        if not algorithms:
            yield bucket, "no default encryption configuration"
        elif wrong:
            yield bucket, f"default encryption is {wrong[0]}, expected {expected}"


@rule(
    "s3-deny-insecure-transport",
    UNIVERSAL,
    "CKV_AWS_379; AWS Config s3-bucket-ssl-requests-only",
    "Every bucket's policy denies any request where aws:SecureTransport is false.",
)
def _s3_tls(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in s.of(BUCKET):
        documents = [p.get("policy") for p in s.linked(BUCKET_POLICY, "bucket", bucket)]
        if any(not known(d) for d in documents):
            continue
        if not any(_denies_insecure_transport(d) for d in documents):
            yield bucket, "no bucket policy denies requests without TLS (aws:SecureTransport = false)"


def _denies_insecure_transport(document: Any) -> bool:
    doc = policy_document(document)
    for st in doc["Statement"] if isinstance(doc, Mapping) else []:
        if not isinstance(st, Mapping):
            continue
        condition = (st.get("Condition") or {}).get("Bool") or {}
        if st.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


@rule(
    "s3-versioning",
    PROD,
    "CKV_AWS_21, CKV2_AWS_61; AVD-AWS-0090",
    "Every files bucket is versioned, and noncurrent versions expire.",
)
def _s3_versioning(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in files_buckets(s):
        statuses = [v.get("versioningConfiguration", "status") for v in s.linked(VERSIONING, "bucket", bucket)]
        if not statuses or not all(holds(st, "Enabled") for st in statuses):
            yield bucket, "versioning is not enabled"
            continue
        expiring = [
            r
            for lc in s.linked(LIFECYCLE_CONFIGURATION, "bucket", bucket)
            for r in items(lc.get("rules"))
            if dig(r, "noncurrentVersionExpiration") and holds(dig(r, "status"), "Enabled")
        ]
        if not expiring:
            yield bucket, "no lifecycle rule expires noncurrent versions"


@rule(
    "s3-access-logging",
    PROD,
    "CKV_AWS_18; AVD-AWS-0089; AG s3-bucket-logging-enabled",
    "Every files bucket logs server access to a log bucket.",
)
def _s3_logging(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in files_buckets(s):
        if not s.linked(LOGGING, "bucket", bucket):
            yield bucket, "server access logging is off"


@rule(
    "s3-no-force-destroy",
    PROD,
    "(own rule)",
    "No bucket is force-destroyed: `pulumi destroy` must not delete files (lifted by envstack:confirmDeletion).",
    deletion_guard=True,
)
def _s3_force_destroy(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in s.of(BUCKET):
        if not holds(bucket.get("forceDestroy") or False, False):
            yield bucket, "force_destroy is on: destroy would delete every file"
