"""Files (components/files.py) built alone under mocks: the bucket private, encrypted and TLS-only, versioning and access logs by type."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.environment import files_args
from components.files import Files
from policies.contracts import conventions
from tests.support.checks import each
from tests.support.program import CUSTOM, DEV, KMS, PROD, STAGING, TEST_PROVIDER, assert_all_aws_on, build, only


@pytest.mark.parametrize("settings", [DEV, STAGING, PROD, CUSTOM], ids=["dev", "staging", "prod", "custom"])
def test_files_bucket_is_private_encrypted_and_tls_only(settings) -> None:  # type: ignore[no-untyped-def]
    res = build(lambda o: Files("f", files_args(settings, kms_key_arn=KMS if settings is PROD else None), o), settings)
    assert_all_aws_on(res, TEST_PROVIDER)
    bucket = next(r for r in res if r.type == conventions.BUCKET and r.name == "f")
    assert bucket.parent == "f" and bucket.inputs["forceDestroy"] is settings.force_destroy
    assert bucket.protect is settings.protect
    buckets = each((r for r in res if r.type == conventions.BUCKET), "bucket")
    blocks = each((r for r in res if r.type == conventions.PUBLIC_ACCESS_BLOCK), "block")
    for block in blocks:
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True, flag
    owners = each((r for r in res if r.type == conventions.OWNERSHIP), "owner")
    for own in owners:
        assert own.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = next(
        r for r in res if r.type.endswith("BucketServerSideEncryptionConfiguration") and r.name == "f-encryption"
    )
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["bucketKeyEnabled"] is True
    assert rule["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId") == (KMS if settings is PROD else None)
    policies = each((r for r in res if r.type == conventions.BUCKET_POLICY), "bucket policy")
    for pol in policies:
        statements = json.loads(pol.inputs["policy"])["Statement"]
        deny = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert all(
            s["Effect"] == "Deny" or s["Principal"] == {"Service": "logging.s3.amazonaws.com"} for s in statements
        )
    # Every bucket the component makes gets each guard, on that bucket.
    assert {b.name for b in buckets} == ({"f", "f-logs"} if settings.access_logging else {"f"})
    for guards in (blocks, owners, policies):
        assert sorted(g.property_dependencies["bucket"] for g in guards) == sorted([b.name] for b in buckets)


def test_files_versioning_only_where_the_type_says() -> None:
    for settings, expected in ((DEV, False), (CUSTOM, False), (STAGING, True), (PROD, True)):
        res = build(lambda o, s=settings: Files("f", files_args(s), o))  # type: ignore[misc]
        versioning = [r for r in res if r.type == conventions.VERSIONING]
        assert bool(versioning) is expected
        if expected:
            assert versioning[0].inputs["versioningConfiguration"]["status"] == "Enabled"
            lifecycle = next(r for r in res if r.name == "f-lifecycle")
            assert lifecycle.inputs["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"] >= 30
            assert lifecycle.inputs["rules"][0]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_the_log_bucket_expires_its_access_logs() -> None:
    """CKV2_AWS_61 on prod's log bucket: access logs expire after the type's retention."""
    res = build(lambda o: Files("f", files_args(PROD, kms_key_arn=KMS), o))
    lifecycle = next(r for r in res if r.name == "f-logs-lifecycle")
    assert lifecycle.type == conventions.LIFECYCLE_CONFIGURATION
    # The log bucket, not the files bucket: the dependency the program declared (the id is the mock's).
    assert lifecycle.property_dependencies["bucket"] == ["f-logs"]
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"]["days"] == PROD.access_log_days == 365
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
    assert not any(r.name == "f-logs-lifecycle" for r in build(lambda o: Files("f", files_args(STAGING), o)))


@pytest.mark.parametrize(
    ("log_days", "noncurrent_days", "expires", "noncurrent_expires"),
    [(90, 45, 90, 45), (None, None, 365, 30)],
    ids=["given", "unset"],
)
def test_the_retentions_are_the_args_or_else_a_year_of_logs_and_thirty_days_of_versions(
    log_days: int | None, noncurrent_days: int | None, expires: int, noncurrent_expires: int
) -> None:
    args = dataclasses.replace(
        files_args(PROD, kms_key_arn=KMS), access_log_days=log_days, noncurrent_version_days=noncurrent_days
    )
    res = build(lambda o: Files("f", args, o))
    (logs,) = next(r for r in res if r.name == "f-logs-lifecycle").inputs["rules"]
    (versions,) = next(r for r in res if r.name == "f-lifecycle").inputs["rules"]
    assert logs["expiration"] == {"days": expires}
    assert versions["noncurrentVersionExpiration"] == {"noncurrentDays": noncurrent_expires}


def test_prod_files_log_access_to_an_sse_s3_log_bucket() -> None:
    res = build(lambda o: Files("f", files_args(PROD, kms_key_arn=KMS), o))
    logging = only(res, conventions.LOGGING)
    assert logging.inputs["targetPrefix"] == "access/"
    log_sse = next(r for r in res if r.name == "f-logs-encryption")
    assert log_sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    log_policy = json.loads(next(r for r in res if r.name == "f-logs-policy").inputs["policy"])
    allow = next(s for s in log_policy["Statement"] if s["Effect"] == "Allow")
    files = next(r for r in res if r.type == conventions.BUCKET and r.name == "f")
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == files.arn  # only this environment's bucket


def test_access_logging_waits_for_the_log_buckets_grant_and_ownership() -> None:
    """docs/lifecycle.md, "Access logging waits for its grant": PutBucketLogging checks the log bucket's policy grant to
    logging.s3.amazonaws.com, so the engine must create that policy (and the ownership
    controls) before the logging configuration. Checked on what the engine is told."""
    res = build(lambda o: Files("f", files_args(PROD, kms_key_arn=KMS), o))
    logging = only(res, conventions.LOGGING)
    policy = next(r for r in res if r.name == "f-logs-policy")
    assert "logging.s3.amazonaws.com" in policy.inputs["policy"]
    assert {"f-logs-policy", "f-logs-ownership"} <= set(logging.depends_on), logging.depends_on
