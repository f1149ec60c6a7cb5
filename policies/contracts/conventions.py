"""Conventions that the program, envctl, the policy pack and the tests all share, in one place.

This module owns:
- the Pulumi project's name (`PULUMI_PROJECT`, Pulumi.yaml's `name`);
- the resource type tokens the program declares (Pulumi's `package:module:Type` strings), and
  the component types of envstack's own ComponentResources;
- which of those types hold data (`STATEFUL`): protected and guarded by type, listed in the
  data-loss manifest, checked by the policy pack;
- the tag keys that every AWS resource carries (values: components/tags.py);
- the placeholder shown instead of a secret value (`SECRET_PLACEHOLDER`);
- the plan JSON's schema version (`PLAN_SCHEMA_VERSION`), which envctl writes, and the one rule
  for reading it (`plan_version_refusal`) that envctl's plan reader and the policy pack's offline
  adapter both apply;
- the environment card's fields (`CARD_FIELDS`), in the product's order, and its cloud provider.

Standard library only, and importing nothing of this project: the policy pack imports it in
its own virtualenv, which holds only pulumi and pulumi-policy (policies/requirements.txt).
The name grammar (how environment names become resource names) is policies/contracts/names.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# --- the Pulumi project ------------------------------------------------------------------------------
# Pulumi.yaml's `name`, and so the namespace of the stack config keys (`envstack:type`, ...). Not the
# physical-name prefix (names.PREFIX) nor the default platform project (names.DEFAULT_PROJECT),
# which happen to be spelled alike: each is its own fact, and may change without the others.
PULUMI_PROJECT = "envstack"

# --- AWS resource types ----------------------------------------------------------------------
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE_CONFIGURATION = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
USER_POOL = "aws:cognito/userPool:UserPool"
USER_POOL_CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 (a type token, not a password)
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # noqa: S105
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
AWS_PROVIDER = "pulumi:providers:aws"
AWS_PACKAGE = "aws"  # the package part of every pulumi-aws type token above (not of its provider's)

# --- resources computed locally or by the Pulumi engine -----------------------------------------
SCHEMA_ROLE = "pulumi-python:dynamic/envstack:SchemaRole"  # the table store's dynamic resource
PROVISIONER_ROLE = "pulumi-python:dynamic/envstack:ProvisionerRole"  # a shared cluster's provisioner login
_DYNAMIC = re.compile(r"pulumi-python:dynamic/(?P<module>[\w-]+):(?P<name>\w+)")


def dynamic_parts(token: str) -> dict[str, str]:
    """The `module` and `name` that a `pulumi.dynamic.Resource` subclass declares (as class
    keywords) to get the type `token` (`pulumi-python:dynamic/<module>:<name>`)."""
    match = _DYNAMIC.fullmatch(token)
    if match is None:
        raise ValueError(f"{token!r} is not a dynamic resource's type: pulumi-python:dynamic/<module>:<name>")
    return match.groupdict()


RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"  # noqa: S105
RANDOM_ID = "random:index/randomId:RandomId"
# Not declared by the program today; the policy pack accepts them as generated name suffixes.
RANDOM_STRING = "random:index/randomString:RandomString"
RANDOM_PET = "random:index/randomPet:RandomPet"
STATIC_TIME = "time:index/static:Static"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
STACK = "pulumi:pulumi:Stack"
# The one provider function the program invokes (components/encryption.py), faked offline.
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
INVOKES = (CALLER_IDENTITY,)  # function tokens: called, never declared, so no resource type of their own

# --- envstack's own components -----------------------------------------------------------------
ENVIRONMENT = "envstack:index:Environment"
FILES = "envstack:index:Files"
USERS = "envstack:index:Users"
API_KEY = "envstack:index:ApiKey"
TABLE_STORE = "envstack:index:TableStore"
CLUSTER_COMPONENT = "envstack:index:Cluster"
ENCRYPTION_KEY = "envstack:index:EncryptionKey"
ACCESS = "envstack:index:Access"
REGISTRATION = "envstack:index:Registration"
PROVISIONER = "envstack:index:Provisioner"

# The types that hold an environment's data: what `protect`, the deletion guards, the
# data-loss manifest and the policy pack's protection rule are about.
STATEFUL = (BUCKET, USER_POOL, SECRET, CLUSTER, KMS_KEY, SCHEMA_ROLE)

# --- tags ------------------------------------------------------------------------------------------
TAG_ENVIRONMENT = "envstack:environment"
TAG_TYPE = "envstack:type"
TAG_PROJECT = "envstack:project"  # the platform project (envstack:project), "envstack" by default
TAG_STACK = "envstack:stack"
TAG_PURPOSE = "envstack:purpose"  # per resource: what the resource holds, e.g. "api-key"

# --- what review output shows ----------------------------------------------------------------------
SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 (shown instead of every secret value)

# --- the plan JSON (`envctl plan STACK --format json`) ----------------------------------------------
# Version 2 records each resource's dependsOn and propertyDependencies (by resource name). It is
# the only version read: a plan of any other, or without one (written before versions), is refused
# by plan_version_refusal, which both readers apply (envctl/plan.py, policies/plan_adapter.py).
PLAN_SCHEMA_VERSION = 2


def plan_version_refusal(plan: Mapping[str, Any]) -> str | None:
    """Why a plan JSON's schemaVersion cannot be read, in one line; None when it can."""
    version = plan.get("schemaVersion")
    if type(version) is int and version == PLAN_SCHEMA_VERSION:
        return None
    found = "has no schemaVersion" if version is None else f"has schemaVersion {json.dumps(version, default=str)[:40]}"
    return (
        f"the plan {found}; this envctl reads schemaVersion {PLAN_SCHEMA_VERSION} only: "
        "re-render it with this envctl (`envctl plan STACK --format json`)"
    )


# --- the environment card ---------------------------------------------------------------------------
CARD_FIELDS = ("name", "type", "cloudProvider", "region", "cluster", "createdAt")
CLOUD_PROVIDER = "aws"

# --- the stack outputs ----------------------------------------------------------------------------
# Every output the program may export, with what it means: the card first (CARD_FIELDS), then
# the stores. docs/reference.md is generated from this, and a test holds the program to it.
OUTPUTS: dict[str, str] = {
    "name": "The environment's name.",
    "type": "`dev`, `staging`, `prod` or `custom`.",
    "cloudProvider": "`aws`.",
    "region": "The region, e.g. `ap-northeast-2`.",
    "cluster": "The cluster assignment's name; empty for dev.",
    "createdAt": "RFC 3339 time the environment was created; a `time.Static`, never changed by updates.",
    "bucketName": "The files bucket's name.",
    "bucketArn": "The files bucket's ARN.",
    "userPoolId": "The end-user pool's id.",
    "userPoolArn": "The end-user pool's ARN.",
    "userPoolClientId": "The pool's public app client.",
    "apiKeySecretArn": "The secret holding the API key document.",
    "apiKey": "The publishable key itself, a **secret** output: `pulumi stack output apiKey --show-secrets`.",
    "kmsKeyArn": "prod only: the environment's customer-managed KMS key.",
    "clusterAttachment": (
        "Only on a stack that owns a shared cluster: `{name, arn, secretArn, provisionerSecretArn, endpoint, "
        "port, database}` for StackReferences; attached stacks use `provisionerSecretArn` (the provisioner "
        "login, docs/tables.md), never `secretArn` (the master's)."
    ),
    "databaseSchema": "The environment's PostgreSQL schema (and role), e.g. `env_dev`.",
    "databaseSecretArn": "The secret holding the environment role's credentials.",
    "databaseCluster": "The cluster that holds the schema: the assignment, or dev's private `envstack-dev`.",
    "runtimeRoleArn": (
        "The environment's runtime IAM role: the platform's API assumes it for requests to this "
        "environment; it reaches only this environment's resources (docs/access.md)."
    ),
    "environmentRecord": "The SSM parameter of the environment's record, `/envstack/<project>/environments/<name>`.",
}
