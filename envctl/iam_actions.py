"""What each resource type needs from IAM (TYPE_ACCESS): the actions that create, read, update,
delete and tag it, per kind of resource (a scope, see envctl/iam.py Scopes). Written from the
provider's Create/Read/Update/Delete functions and cross-checked against terraform-provider-aws
and the Pike project's mapping (envctl/data/iam-crosscheck.json, tests/envctl/test_iam_crosscheck.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.contracts import conventions


@dataclass(frozen=True)
class Access:
    """What one resource type needs on one kind of resource (`scope`, see Scopes.resources)."""

    scope: str
    read: tuple[str, ...] = ()  # refresh and preview
    write: tuple[str, ...] = ()  # create, update, delete, tag


_S3_BUCKET_READ = (
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketWebsite",
    "s3:GetBucketRequestPayment",
    "s3:GetAccelerateConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
    "s3:GetEncryptionConfiguration",
    # Since terraform-provider-aws 6.23 (pulumi-aws 7.13) bucket tags are read and written through
    # S3 Control first, falling back to the bucket tagging calls on AccessDenied
    # (hashicorp/terraform-provider-aws#45251, internal/service/s3/tags.go; pulumi/pulumi-aws#6317).
    "s3:ListTagsForResource",
)
_TAGGED = ("rds:AddTagsToResource", "rds:RemoveTagsFromResource")
_SSM_READ = ("ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource")
_SSM_WRITE = ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource")
_KMS_USE = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant")

# Pulumi type token -> what it needs. An entry for a type that no stack declares grants nothing
# (aws:iam/rolePolicyAttachment, for instance).
TYPE_ACCESS: dict[str, tuple[Access, ...]] = {
    conventions.BUCKET: (
        Access(
            "bucket",
            read=_S3_BUCKET_READ,
            write=(
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:PutBucketTagging",
                "s3:ListBucketVersions",
                "s3:TagResource",
                "s3:UntagResource",
            ),
        ),
        # force_destroy (dev, custom, confirmed deletion) empties the bucket first.
        Access("object", write=("s3:DeleteObject", "s3:DeleteObjectVersion")),
    ),
    conventions.BUCKET_POLICY: (
        Access("bucket", read=("s3:GetBucketPolicy",), write=("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")),
    ),
    conventions.PUBLIC_ACCESS_BLOCK: (
        Access("bucket", read=("s3:GetBucketPublicAccessBlock",), write=("s3:PutBucketPublicAccessBlock",)),
    ),
    conventions.OWNERSHIP: (
        Access("bucket", read=("s3:GetBucketOwnershipControls",), write=("s3:PutBucketOwnershipControls",)),
    ),
    conventions.SSE: (
        Access("bucket", read=("s3:GetEncryptionConfiguration",), write=("s3:PutEncryptionConfiguration",)),
    ),
    conventions.VERSIONING: (Access("bucket", read=("s3:GetBucketVersioning",), write=("s3:PutBucketVersioning",)),),
    conventions.LIFECYCLE_CONFIGURATION: (
        Access("bucket", read=("s3:GetLifecycleConfiguration",), write=("s3:PutLifecycleConfiguration",)),
    ),
    conventions.LOGGING: (Access("bucket", read=("s3:GetBucketLogging",), write=("s3:PutBucketLogging",)),),
    conventions.USER_POOL: (
        Access("tagged-create", write=("cognito-idp:CreateUserPool",)),
        Access(
            "user-pool",
            read=(
                "cognito-idp:DescribeUserPool",
                "cognito-idp:GetUserPoolMfaConfig",
                "cognito-idp:ListTagsForResource",
            ),
            write=(
                "cognito-idp:UpdateUserPool",
                "cognito-idp:DeleteUserPool",
                "cognito-idp:SetUserPoolMfaConfig",
                "cognito-idp:TagResource",
                "cognito-idp:UntagResource",
            ),
        ),
    ),
    conventions.USER_POOL_CLIENT: (
        Access(
            "user-pool",
            read=("cognito-idp:DescribeUserPoolClient",),
            write=(
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:UpdateUserPoolClient",
                "cognito-idp:DeleteUserPoolClient",
            ),
        ),
    ),
    conventions.SECRET: (
        Access(
            "secret",
            read=("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
            write=(
                "secretsmanager:CreateSecret",
                "secretsmanager:UpdateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
            ),
        ),
    ),
    # Reading a version's value (GetSecretValue, resourceSecretVersionRead) is a write-role action:
    # drift never reads secret values, so `pulumi refresh` there excludes the versions (docs/iam.md).
    conventions.SECRET_VERSION: (
        Access(
            "secret",
            read=("secretsmanager:DescribeSecret",),
            write=(
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ),
        ),
        # prod's secrets are encrypted with the environment's own key.
        Access("kms-key", write=("kms:Decrypt", "kms:GenerateDataKey")),
    ),
    conventions.KMS_KEY: (
        # Tagging a key while creating it needs kms:TagResource in a statement not restricted to
        # particular keys (KMS developer guide, "Controlling access to tags"); updating the tags
        # of an existing key is held to its tags (below).
        Access("tagged-create", write=("kms:CreateKey", "kms:TagResource")),
        Access(
            "kms-key",
            read=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
            write=(
                "kms:EnableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:UpdateKeyDescription",
                "kms:ScheduleKeyDeletion",
                "kms:TagResource",
                "kms:UntagResource",
            ),
        ),
    ),
    conventions.KMS_ALIAS: (
        Access("unscoped", read=("kms:ListAliases",)),  # no resource-level permissions
        Access("kms-alias", write=("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")),
        Access("kms-key", write=("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")),
    ),
    conventions.CLUSTER: (
        Access(
            "rds-cluster",
            read=("rds:DescribeDBClusters", "rds:ListTagsForResource"),
            write=(
                "rds:CreateDBCluster",
                "rds:ModifyDBCluster",
                "rds:DeleteDBCluster",
                "rds:EnableHttpEndpoint",
                "rds:CreateDBClusterSnapshot",
                *_TAGGED,
            ),
        ),
        # resourceClusterRead (internal/service/rds/cluster.go) looks up the cluster's global cluster
        # (findGlobalClusterByDBClusterARN) on every create and refresh; only NotFound is ignored.
        Access("rds-global-cluster", read=("rds:DescribeGlobalClusters",)),
        # The final snapshot: DeleteDBCluster and CreateDBClusterSnapshot authorise on it too.
        Access("rds-snapshot", write=("rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource")),
        # manage_master_user_password: RDS creates the master secret with the caller's rights.
        Access(
            "master-secret",
            read=("secretsmanager:DescribeSecret",),
            write=("secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret"),
        ),
        Access("kms-key", read=("kms:DescribeKey",), write=_KMS_USE),  # storage, master secret, PI
    ),
    conventions.INSTANCE: (
        Access(
            "rds-instance",
            read=("rds:DescribeDBInstances", "rds:ListTagsForResource"),
            write=("rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBInstance", *_TAGGED),
        ),
        # resourceClusterInstanceRead reads the instance's cluster too (Pike's mapping lists it).
        Access("rds-cluster", read=("rds:DescribeDBClusters",)),
    ),
    # The table store (TableStore's dynamic provider): the SQL plan through the Data API, with the
    # master secret of a cluster the stack owns (encrypted with prod's own key in prod), or the
    # provisioner secret of a cluster it attaches to (names.provisioner_secret_name). No read().
    conventions.SCHEMA_ROLE: (
        Access(
            "data-api",
            write=(
                "rds-data:BeginTransaction",
                "rds-data:ExecuteStatement",
                "rds-data:CommitTransaction",
                "rds-data:RollbackTransaction",
            ),
        ),
        Access("master-secret", write=("secretsmanager:GetSecretValue",)),
        Access("provisioner-secret", write=("secretsmanager:GetSecretValue",)),
        Access("kms-key", write=("kms:Decrypt",)),
    ),
    # terraform-provider-aws internal/service/iam/role.go: read = GetRole, ListRolePolicies and
    # GetRolePolicy (inline policies), ListAttachedRolePolicies, ListRoleTags; update =
    # UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRole (max session),
    # PutRolePermissionsBoundary, TagRole/UntagRole; delete = ListInstanceProfilesForRole
    # (deleteRoleInstanceProfiles), DeleteRolePolicy, DeleteRole. No iam:PassRole: nothing passes
    # it. Never iam:DeleteRolePermissionsBoundary: the boundary is mandatory, nothing removes it.
    # The calls that create a role or widen its permissions are held to the boundary
    # (iam-role-create, iam-role-bounded); its tags, which the boundary reads, to the role's
    # environments (iam-role-create, iam-role-tag).
    conventions.ROLE: (
        Access(
            "iam-role",
            read=(
                "iam:GetRole",
                "iam:ListRolePolicies",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRoleTags",
            ),
            write=(
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:ListInstanceProfilesForRole",
                "iam:DeleteRolePolicy",
                "iam:UntagRole",
            ),
        ),
        Access("iam-role-create", write=("iam:CreateRole",)),
        Access("iam-role-bounded", write=("iam:PutRolePermissionsBoundary",)),
        Access("iam-role-tag", write=("iam:TagRole",)),
    ),
    conventions.ROLE_POLICY: (
        Access("iam-role", read=("iam:GetRolePolicy",), write=("iam:DeleteRolePolicy",)),
        Access("iam-role-bounded", write=("iam:PutRolePolicy",)),
    ),
    conventions.ROLE_POLICY_ATTACHMENT: (
        Access("iam-role", read=("iam:ListAttachedRolePolicies",), write=("iam:DetachRolePolicy",)),
        Access("iam-role-bounded", write=("iam:AttachRolePolicy",)),
    ),
    conventions.SSM_PARAMETER: (
        Access("unscoped", read=("ssm:DescribeParameters",)),  # no resource-level permissions
        Access("ssm-record", read=_SSM_READ, write=_SSM_WRITE),
        # Key index entries: an existing one by its tags; a new one (PutParameter with Tags) and
        # any tag change only with the role's own environments' tags in the request.
        Access(
            "ssm-key-index",
            read=_SSM_READ,
            write=("ssm:PutParameter", "ssm:DeleteParameter", "ssm:RemoveTagsFromResource"),
        ),
        Access("ssm-key-index-create", write=("ssm:PutParameter",)),
        Access("ssm-key-index-tag", write=("ssm:AddTagsToResource",)),
    ),
}
# The provisioner login (components/provisioner.py): the same Data API calls with the master
# secret, made only by the stack that owns the cluster.
TYPE_ACCESS[conventions.PROVISIONER_ROLE] = TYPE_ACCESS[conventions.SCHEMA_ROLE]

# Custom resources that make no AWS call of their own.
NO_CLOUD_ACCESS = {
    conventions.AWS_PROVIDER: "the provider only checks its credentials (sts:GetCallerIdentity needs no permission)",
    conventions.STACK_REFERENCE: "reads the Pulumi backend, not AWS",
    conventions.RANDOM_PASSWORD: "generated locally",
    conventions.RANDOM_ID: "generated locally",
    conventions.RANDOM_STRING: "generated locally",
    conventions.STATIC_TIME: "computed locally",
}


# The scope of each type's own ARN (Resource.arn of a rendering): tests/envctl/test_iam.py evaluates
# the printed policy against every rendered ARN with these scopes' actions.
OWN_SCOPE = {
    conventions.BUCKET: "bucket",
    conventions.USER_POOL: "user-pool",
    conventions.SECRET: "secret",
    conventions.KMS_KEY: "kms-key",
    conventions.CLUSTER: "rds-cluster",
    conventions.ROLE: "iam-role",
    conventions.SSM_PARAMETER: "ssm-record",  # and ssm-key-index: see ssm_scope
}
# Actions that must be granted on "*" although they support a resource type: AWS authorises
# them on resources that do not exist yet (KMS: tags given to CreateKey).
ON_ALL_RESOURCES = ("kms:TagResource",)
# The calls that create a role or change its permissions: each is allowed only with the
# envstack boundary (`iam:PermissionsBoundary`), in statements of their own.
BOUNDED_ACTIONS = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary")
# Never granted to a CI role.
FORBIDDEN_ACTIONS = ("iam:DeleteRolePermissionsBoundary", "iam:PassRole", "iam:CreatePolicyVersion")
