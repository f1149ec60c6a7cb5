"""The KMS rules: customer-managed keys for files, secrets and database storage; key rotation
and key policies. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from policies.contracts.conventions import CLUSTER, KMS_KEY, SECRET
from policies.model import PROD, UNIVERSAL, Res, Rule, Stack, collector, dig, holds, policy_document
from policies.rules_s3 import files_buckets, sse_rules

RULES: list[Rule] = []
rule = collector(RULES)


@rule(
    "customer-managed-keys",
    PROD,
    "CKV_AWS_145, CKV_AWS_149, CKV_AWS_327; AVD-AWS-0132, AVD-AWS-0098",
    "Files, secrets and database storage use the environment's own KMS key (S3 with the bucket key on).",
)
def _cmk(s: Stack) -> Iterator[tuple[Res, str]]:
    for bucket in files_buckets(s):
        for r in sse_rules(s, bucket):
            if not dig(r, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"):
                yield bucket, "encrypted with the AWS-managed key, not the environment's own key"
            elif not holds(dig(r, "bucketKeyEnabled"), True):
                yield bucket, "the S3 bucket key is off"
    for res in s.of(SECRET) + s.of(CLUSTER):
        if not res.get("kmsKeyId"):
            yield res, "encrypted with the AWS-managed key, not the environment's own key"


@rule(
    "kms-key-rotation",
    UNIVERSAL,
    "CKV_AWS_7, CKV_AWS_33; AG cmk-backing-key-rotation-enabled",
    "Every KMS key rotates, and no key policy allows a wildcard principal.",
)
def _kms(s: Stack) -> Iterator[tuple[Res, str]]:
    for key in s.of(KMS_KEY):
        if not holds(key.get("enableKeyRotation"), True):
            yield key, "key rotation is off"
        doc = policy_document(key.get("policy"))
        # No policy (AWS's default key policy), a malformed one (AWS refuses it) or one not known yet:
        # nothing to judge.
        for st in doc["Statement"] if isinstance(doc, Mapping) else []:
            if not isinstance(st, Mapping) or st.get("Effect") != "Allow":
                continue
            principal = st.get("Principal")
            if principal == "*" or (isinstance(principal, Mapping) and "*" in str(principal.get("AWS"))):
                yield key, "the key policy allows a wildcard principal"
