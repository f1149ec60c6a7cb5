"""Files: the environment's own S3 bucket, with every S3 control of the reference table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import EnvstackComponent
from components.provider import child
from policies.contracts import names
from policies.contracts.conventions import FILES


@dataclass(frozen=True)
class FilesArgs:
    """What the type decides for its files (components/settings.py, one field each)."""

    force_destroy: bool
    versioning: bool
    noncurrent_version_days: int | None
    access_logging: bool
    access_log_days: int | None
    kms_key_arn: pulumi.Input[str] | None = None  # None: the AWS-managed aws/s3 key


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket-policy statement that refuses any request not made over TLS (CKV_AWS_379)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _expiring(
    name: str, bucket: pulumi.Input[str], rule_id: str, opts: pulumi.ResourceOptions, **expiry: Any
) -> aws.s3.BucketLifecycleConfiguration:
    """A lifecycle configuration of one enabled rule over the whole bucket: `expiry` (its
    expiration arguments) and, as every rule here, the abort of multipart uploads left incomplete
    for 7 days (CKV_AWS_300)."""
    return aws.s3.BucketLifecycleConfiguration(
        name,
        aws.s3.BucketLifecycleConfigurationArgs(
            bucket=bucket,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule_id,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                    **expiry,
                )
            ],
        ),
        opts=opts,
    )


@dataclass(frozen=True)
class _SecureBucket:
    bucket: aws.s3.Bucket
    ownership: aws.s3.BucketOwnershipControls
    policy: aws.s3.BucketPolicy


class Files(EnvstackComponent):
    """The environment's file storage.

    Always: all four public-access-block flags, BucketOwnerEnforced ownership (ACLs off),
    SSE-KMS default encryption with the bucket key on, and a TLS-only bucket policy. By type:
    versioning with noncurrent-version expiry, access logging to a log bucket of its own,
    a customer-managed key, and whether `pulumi destroy` deletes the files (force_destroy).
    """

    TYPE = FILES

    bucket: aws.s3.Bucket
    log_bucket: aws.s3.Bucket | None

    def __init__(self, name: str, args: FilesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        s = args
        self.bucket = self._secure_bucket(name, s, sse_algorithm="aws:kms", kms_key_arn=args.kms_key_arn).bucket
        self.log_bucket = None
        logs = None
        if s.access_logging:
            # S3 delivers server access logs only to buckets encrypted with SSE-S3, and with ACLs
            # off it needs a policy grant to the logging service instead of the log-delivery ACL.
            logs = self._secure_bucket(
                names.log_bucket(name), s, sse_algorithm="AES256", kms_key_arn=None, log_source_arn=self.bucket.arn
            )
            self.log_bucket = logs.bucket
            # Access logs are append-only and unversioned: they expire after the type's retention
            # (CKV2_AWS_61), so that the log bucket does not grow forever.
            _expiring(
                f"{names.log_bucket(name)}-lifecycle",
                logs.bucket.id,
                "expire-access-logs",
                child(self),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=s.access_log_days or 365),
            )
        if s.versioning:
            versioning = aws.s3.BucketVersioning(
                f"{name}-versioning",
                aws.s3.BucketVersioningInitArgs(
                    bucket=self.bucket.id,
                    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                ),
                opts=child(self),
            )
            _expiring(
                f"{name}-lifecycle",
                self.bucket.id,
                "expire-noncurrent-versions",
                child(self, depends_on=[versioning]),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=s.noncurrent_version_days or 30,
                ),
            )
        if logs is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                aws.s3.BucketLoggingInitArgs(
                    bucket=self.bucket.id, target_bucket=logs.bucket.id, target_prefix="access/"
                ),
                # PutBucketLogging checks that the target grants logging.s3.amazonaws.com (its
                # bucket policy) and owns its objects (BucketOwnerEnforced): both must exist first.
                opts=child(self, depends_on=[logs.policy, logs.ownership]),
            )
        self.register_outputs(
            {
                "bucketName": self.bucket.bucket,
                "bucketArn": self.bucket.arn,
                "logBucketName": self.log_bucket.bucket if self.log_bucket else None,
            }
        )

    def _secure_bucket(
        self,
        name: str,
        s: FilesArgs,
        *,
        sse_algorithm: str,
        kms_key_arn: pulumi.Input[str] | None,
        log_source_arn: pulumi.Output[str] | None = None,
    ) -> _SecureBucket:
        bucket = aws.s3.Bucket(
            name,
            aws.s3.BucketArgs(force_destroy=s.force_destroy),
            opts=child(self),
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            aws.s3.BucketPublicAccessBlockArgs(
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            opts=child(self),
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            ),
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm=sse_algorithm,
                            kms_master_key_id=kms_key_arn,
                        ),
                        bucket_key_enabled=sse_algorithm == "aws:kms",
                    )
                ],
            ),
            opts=child(self),
        )

        def policy(bucket_arn: str, source_arn: str | None) -> str:
            statements = [deny_insecure_transport(bucket_arn)]
            if source_arn is not None:
                statements.append(
                    {
                        "Sid": "AllowServerAccessLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"{bucket_arn}/*",
                        "Condition": {"ArnLike": {"aws:SourceArn": source_arn}},
                    }
                )
            return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)

        # A log bucket admits log delivery from its environment's files bucket and nothing else.
        document = pulumi.Output.all(bucket.arn, log_source_arn).apply(lambda a: policy(a[0], a[1]))
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(bucket=bucket.id, policy=document),
            opts=child(self, depends_on=[block]),
        )
        return _SecureBucket(bucket=bucket, ownership=ownership, policy=bucket_policy)
