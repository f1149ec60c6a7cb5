"""Access: the environment's runtime role, the one principal that belongs to the environment.

The platform's API assumes this role for a request that targets the environment. Its inline
policy names this environment's own resources and nothing else, so a bug in the API cannot
read another environment's files, users or keys. docs/access.md explains every action.

- Permissions: the statements of `permissions_document`, built from the environment's own
  ARNs. No wildcard resource (the S3 object ARN `<bucket>/*` is the bucket's own objects), no
  `iam:`, `sts:` or `*` action. The cluster ARN appears only with `rds-data:` actions: the
  cluster is shared, and table isolation comes from the credentials secret, which logs in as
  the environment's own PostgreSQL role.
- Trust: `envstack:platformPrincipals`, named IAM roles, for every type. Never `*` and never an
  account root (`arn:<partition>:iam::<account>:root`, which would let any identity of the
  account that its own policies allow assume the role; Checkov CKV_AWS_61).
- Maximum session: one hour. Permissions boundary: `envstack:permissionsBoundary`, mandatory,
  the policy `envctl iam-policy boundary` prints (envctl/iam_boundary.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import EnvstackComponent
from components.provider import child
from policies.contracts import names
from policies.contracts.arns import is_account_root
from policies.contracts.conventions import ACCESS, TAG_PURPOSE

MAX_SESSION_SECONDS = 3600
PURPOSE = "runtime-role"

# Every action the runtime role is granted, per statement, with the reason. The statements'
# Sids are the keys; docs/access.md lists the same actions (a test keeps the two in step).
FILES_BUCKET = {
    "s3:ListBucket": "list the environment's files (ListObjectsV2, with prefixes)",
    "s3:ListBucketMultipartUploads": "find unfinished multipart uploads, to resume or abort them",
}
FILES_OBJECTS = {
    "s3:GetObject": "read a file (GetObject, HeadObject)",
    "s3:PutObject": "write a file; also authorises CreateMultipartUpload, UploadPart and CompleteMultipartUpload",
    "s3:DeleteObject": "delete a file (in a versioned bucket: a delete marker; old versions stay until expiry)",
    "s3:AbortMultipartUpload": "abandon a multipart upload",
    "s3:ListMultipartUploadParts": "list the parts of an upload in progress",
}
USERS = {
    "cognito-idp:AdminCreateUser": "create an end user (invitation or imported account)",
    "cognito-idp:AdminGetUser": "read an end user's attributes and status",
    "cognito-idp:AdminUpdateUserAttributes": "change an end user's profile attributes",
    "cognito-idp:AdminDeleteUser": "delete an end user",
    "cognito-idp:AdminDisableUser": "block an end user from signing in",
    "cognito-idp:AdminEnableUser": "unblock an end user",
    "cognito-idp:AdminResetUserPassword": "force a password reset (the user gets a code)",
    "cognito-idp:AdminSetUserPassword": "set a temporary or permanent password from the console",
    "cognito-idp:AdminUserGlobalSignOut": "revoke every token of a user (sign out everywhere)",
    "cognito-idp:ListUsers": "list and search the environment's users",
    "cognito-idp:AdminListGroupsForUser": "show a user's groups",
    "cognito-idp:AdminAddUserToGroup": "put a user in a group (roles within the app)",
    "cognito-idp:AdminRemoveUserFromGroup": "take a user out of a group",
    "cognito-idp:ListGroups": "list the pool's groups",
}
API_KEY = {
    "secretsmanager:GetSecretValue": "read the environment's publishable key, to check X-API-Key",
    "secretsmanager:DescribeSecret": "read the key secret's tags and rotation state",
}
TABLES_CREDENTIALS = {
    "secretsmanager:GetSecretValue": "read the environment's database credentials (its PostgreSQL role)",
}
TABLES_DATA_API = {
    "rds-data:ExecuteStatement": "run one SQL statement through the Data API",
    "rds-data:BatchExecuteStatement": "run one statement over a batch of parameter sets",
    "rds-data:BeginTransaction": "start a transaction",
    "rds-data:CommitTransaction": "commit it",
    "rds-data:RollbackTransaction": "roll it back",
}
PROD_KEY = {
    "kms:Decrypt": "read files and secrets encrypted with prod's own key, only through S3 or Secrets Manager",
    "kms:GenerateDataKey": "write files encrypted with prod's own key (SSE-KMS), only through S3",
}
STATEMENTS: dict[str, dict[str, str]] = {
    "FilesBucket": FILES_BUCKET,
    "FilesObjects": FILES_OBJECTS,
    "Users": USERS,
    "ApiKey": API_KEY,
    "TablesCredentials": TABLES_CREDENTIALS,
    "TablesDataApi": TABLES_DATA_API,
    "ProdKey": PROD_KEY,
}


@dataclass(frozen=True)
class Targets:
    """The environment's own resources, by ARN: everything the runtime role may reach."""

    region: str
    bucket_arn: str
    user_pool_arn: str
    api_key_secret_arn: str
    database_secret_arn: str
    cluster_arn: str
    kms_key_arn: str | None = None  # prod only: the customer-managed key


def _statement(sid: str, actions: dict[str, str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def permissions_document(t: Targets) -> dict[str, Any]:
    """The runtime role's inline policy: this environment's resources, by exact ARN."""
    statements = [
        _statement("FilesBucket", FILES_BUCKET, [t.bucket_arn]),
        _statement("FilesObjects", FILES_OBJECTS, [f"{t.bucket_arn}/*"]),
        _statement("Users", USERS, [t.user_pool_arn]),
        _statement("ApiKey", API_KEY, [t.api_key_secret_arn]),
        _statement("TablesCredentials", TABLES_CREDENTIALS, [t.database_secret_arn]),
        _statement("TablesDataApi", TABLES_DATA_API, [t.cluster_arn]),
    ]
    if t.kms_key_arn is not None:
        via = sorted(f"{service}.{t.region}.amazonaws.com" for service in ("s3", "secretsmanager"))
        statements.append(
            _statement("ProdKey", PROD_KEY, [t.kms_key_arn], Condition={"StringEquals": {"kms:ViaService": via}})
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trust_document(principals: Sequence[str]) -> dict[str, Any]:
    """Who may assume the runtime role: the listed IAM roles, never `*`, never an account root."""
    if not principals or any("*" in p or is_account_root(p) for p in principals):
        raise ValueError(f"a runtime role trusts named principals only, got {list(principals)!r}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PlatformApi",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(principals)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True)


@dataclass(frozen=True)
class AccessArgs:
    env: str
    region: str
    principals: tuple[str, ...]  # named IAM roles, never empty
    permissions_boundary: str
    bucket_arn: pulumi.Input[str]
    user_pool_arn: pulumi.Input[str]
    api_key_secret_arn: pulumi.Input[str]
    database_secret_arn: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None = None


class Access(EnvstackComponent):
    """One IAM role per environment, under the path `/envstack/`, auto-named (`envstack-<env>-
    runtime-<suffix>`, within IAM's 64 characters) so that a replacement never collides with
    the old name; tagged `envstack:purpose=runtime-role`, which is how the policy pack finds it."""

    TYPE = ACCESS

    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        trust = _to_json(trust_document(args.principals))
        self.role = aws.iam.Role(
            name,
            aws.iam.RoleArgs(
                path=names.IAM_PATH,
                description=f"Runtime role of {names.label(args.env)}: its own files, users, API key, tables",
                assume_role_policy=trust,
                max_session_duration=MAX_SESSION_SECONDS,
                permissions_boundary=args.permissions_boundary,
                tags={TAG_PURPOSE: PURPOSE},
            ),
            opts=child(self),
        )
        document = pulumi.Output.all(
            args.bucket_arn,
            args.user_pool_arn,
            args.api_key_secret_arn,
            args.database_secret_arn,
            args.cluster_arn,
            args.kms_key_arn,
        ).apply(lambda a: _to_json(permissions_document(Targets(args.region, *a))))
        self.policy = aws.iam.RolePolicy(
            names.role_policy(name),
            aws.iam.RolePolicyArgs(role=self.role.id, name=names.RUNTIME_POLICY_NAME, policy=document),
            opts=child(self),
        )
        self.register_outputs({"runtimeRoleArn": self.role.arn})
