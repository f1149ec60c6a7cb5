"""The policy rules at their edges: each threshold on both sides, each environment type's
standard, absent properties (AWS's defaults) and values unknown during preview. Each case
starts from a committed stack's plan, changes it, and asserts every finding of one rule:
resource, level and whole message (users read the message to know what to fix)."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest

from components import conventions
from envctl.review import load_plan
from policies import rules
from policies.model import UNKNOWN
from tests.test_policies import Mutation, _drop, _remove_key, _set, res

M, A = "mandatory", "advisory"


@functools.cache
def _committed(stack: str) -> dict[str, Any]:
    plan: dict[str, Any] = load_plan(stack)
    return plan


def _type(env_type: str | None) -> Mutation:
    """The environment type the provider's default tags name; None: no type tag at all."""

    def mutate(plan: dict[str, Any]) -> None:
        tags = res(plan, conventions.AWS_PROVIDER)["inputs"]["defaultTags"]["tags"]
        if env_type is None:
            del tags[conventions.TAG_TYPE]
        else:
            tags[conventions.TAG_TYPE] = env_type

    return mutate


Case = tuple[str, str, list[Mutation], list[tuple[str, str, str]]]

SECRET = (conventions.SECRET, "-api-key")
POOL = (conventions.USER_POOL, "")
CLUSTER = (conventions.CLUSTER, "")
INSTANCE = (conventions.INSTANCE, "")

KEY = conventions.KMS_KEY
SSE_FILES = (conventions.SSE, "files-encryption")
SSE_DEFAULT = ("rules", 0, "applyServerSideEncryptionByDefault")
WILDCARD_KEY = "the key policy allows a wildcard principal"
AWS_MANAGED = "encrypted with the AWS-managed key, not the environment's own key"

PAB = (conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block")
FILES_POLICY = (conventions.BUCKET_POLICY, "files-policy")
LIFECYCLE = (conventions.LIFECYCLE_CONFIGURATION, "")
NO_SSE = "no default encryption configuration"
NO_TLS = "no bucket policy denies requests without TLS (aws:SecureTransport = false)"
NO_EXPIRY = "no lifecycle rule expires noncurrent versions"


def _add_sse_rule(algorithm: str) -> Mutation:
    def mutate(plan: dict[str, Any]) -> None:
        rules_ = res(plan, *SSE_FILES)["inputs"]["rules"]
        rules_.append({"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}, "bucketKeyEnabled": True})

    return mutate


def _tls_policy(effect: str, secure: Any, single: bool = False, as_object: bool = False) -> Mutation:
    statement = {
        "Effect": effect,
        "Principal": "*",
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": secure}},
    }
    document = {"Statement": statement if single else [{"Effect": "Allow", "Principal": "*"}, statement]}
    return _set(*FILES_POLICY, "policy", value=document if as_object else json.dumps(document))


def _key_policy(principal: Any, effect: str = "Allow", statements: int = 1, as_object: bool = False) -> Mutation:
    statement = {"Effect": effect, "Principal": principal, "Action": "kms:*", "Resource": "*"}
    document = {"Statement": [statement] * statements}
    return _set(KEY, "", "policy", value=document if as_object else json.dumps(document))


CASES: list[Case] = [
    # secret-recovery-window: 30 days (AWS's default when absent) is the floor.
    ("prod", "secret-recovery-window", [_set(*SECRET, "recoveryWindowInDays", value=30)], []),
    ("prod", "secret-recovery-window", [_remove_key(*SECRET, "recoveryWindowInDays")], []),
    (
        "prod",
        "secret-recovery-window",
        [_set(*SECRET, "recoveryWindowInDays", value=29)],
        [(M, "envstack-prod-api-key", "recovery window is 29 days, below 30")],
    ),
    ("prod", "secret-recovery-window", [_set(*SECRET, "recoveryWindowInDays", value=UNKNOWN)], []),
    (
        "dev",
        "secret-recovery-window",
        [],
        [
            (A, "envstack-dev-api-key", "recovery window is 0 days, below 30"),
            (A, "envstack-dev-tables-credentials", "recovery window is 0 days, below 30"),
        ],
    ),
    # cognito-mfa: ON in prod (and when the type is unknown); OPTIONAL allowed elsewhere; absent is OFF.
    (
        "prod",
        "cognito-mfa",
        [_remove_key(*POOL, "mfaConfiguration")],
        [(M, "envstack-prod-users", "MFA is OFF; allowed: ON")],
    ),
    ("prod", "cognito-mfa", [_set(*POOL, "mfaConfiguration", value=UNKNOWN)], []),
    ("staging", "cognito-mfa", [], []),
    (
        "staging",
        "cognito-mfa",
        [_set(*POOL, "mfaConfiguration", value="OFF")],
        [(M, "envstack-staging-users", "MFA is OFF; allowed: ON or OPTIONAL")],
    ),
    (
        "staging",
        "cognito-mfa",
        [_type(None)],
        [(M, "envstack-staging-users", "MFA is OPTIONAL; allowed: ON")],
    ),
    # cognito-threat-protection: ENFORCED only; absent is OFF.
    (
        "prod",
        "cognito-threat-protection",
        [_set(*POOL, "userPoolAddOns", "advancedSecurityMode", value="AUDIT")],
        [(M, "envstack-prod-users", "threat protection is not ENFORCED")],
    ),
    ("prod", "cognito-threat-protection", [_set(*POOL, "userPoolAddOns", "advancedSecurityMode", value=UNKNOWN)], []),
    ("staging", "cognito-threat-protection", [], [(A, "envstack-staging-users", "threat protection is not ENFORCED")]),
    # cognito-password-policy: 12 characters of every class in prod, 8 characters elsewhere; absent is 8.
    ("prod", "cognito-password-policy", [_set(*POOL, "passwordPolicy", "minimumLength", value=12)], []),
    (
        "prod",
        "cognito-password-policy",
        [_set(*POOL, "passwordPolicy", "minimumLength", value=11)],
        [(M, "envstack-prod-users", "minimum password length 11, below 12")],
    ),
    (
        "prod",
        "cognito-password-policy",
        [_remove_key(*POOL, "passwordPolicy", "minimumLength")],
        [(M, "envstack-prod-users", "minimum password length 8, below 12")],
    ),
    ("prod", "cognito-password-policy", [_set(*POOL, "passwordPolicy", "minimumLength", value=UNKNOWN)], []),
    (
        "prod",
        "cognito-password-policy",
        [
            _set(*POOL, "passwordPolicy", "requireLowercase", value=False),
            _remove_key(*POOL, "passwordPolicy", "requireNumbers"),
            _set(*POOL, "passwordPolicy", "requireUppercase", value=UNKNOWN),
        ],
        [(M, "envstack-prod-users", "the password policy does not require requireLowercase, requireNumbers")],
    ),
    ("dev", "cognito-password-policy", [], []),  # 8 characters, no symbols: enough outside prod
    ("dev", "cognito-password-policy", [_remove_key(*POOL, "passwordPolicy", "minimumLength")], []),
    (
        "dev",
        "cognito-password-policy",
        [_set(*POOL, "passwordPolicy", "minimumLength", value=7)],
        [(A, "envstack-dev-users", "minimum password length 7, below 8")],
    ),
    (
        "dev",
        "cognito-password-policy",
        [_type(None)],
        [
            (M, "envstack-dev-users", "minimum password length 8, below 12"),
            (M, "envstack-dev-users", "the password policy does not require requireUppercase, requireSymbols"),
        ],
    ),
    # cognito-deletion-protection: ACTIVE only; absent is INACTIVE.
    (
        "prod",
        "cognito-deletion-protection",
        [_remove_key(*POOL, "deletionProtection")],
        [(M, "envstack-prod-users", "deletion protection is INACTIVE")],
    ),
    ("prod", "cognito-deletion-protection", [_set(*POOL, "deletionProtection", value=UNKNOWN)], []),
    # aurora-backup-retention: 14 days in prod (and when the type is unknown), 1 day elsewhere; absent is 1.
    ("prod", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=14)], []),
    (
        "prod",
        "aurora-backup-retention",
        [_set(*CLUSTER, "backupRetentionPeriod", value=13)],
        [(M, "prod-main", "backups are kept 13 day(s), below 14")],
    ),
    (
        "prod",
        "aurora-backup-retention",
        [_remove_key(*CLUSTER, "backupRetentionPeriod")],
        [(M, "prod-main", "backups are kept 1 day(s), below 14")],
    ),
    ("prod", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=UNKNOWN)], []),
    ("staging", "aurora-backup-retention", [_set(*CLUSTER, "backupRetentionPeriod", value=1)], []),
    ("staging", "aurora-backup-retention", [_remove_key(*CLUSTER, "backupRetentionPeriod")], []),
    (
        "staging",
        "aurora-backup-retention",
        [_set(*CLUSTER, "backupRetentionPeriod", value=0)],
        [(M, "shared-nonprod", "backups are kept 0 day(s), below 1")],
    ),
    (
        "staging",
        "aurora-backup-retention",
        [_type(None)],
        [(M, "shared-nonprod", "backups are kept 7 day(s), below 14")],
    ),
    # aurora-deletion-protection: every shared cluster; dev's private cluster is not shared.
    ("dev", "aurora-deletion-protection", [], []),
    (
        "staging",
        "aurora-deletion-protection",
        [_remove_key(*CLUSTER, "deletionProtection")],
        [(M, "shared-nonprod", "deletion protection is off on a shared cluster")],
    ),
    ("prod", "aurora-deletion-protection", [_set(*CLUSTER, "deletionProtection", value=UNKNOWN)], []),
    # aurora-not-public: absent is private; the cluster is checked as well as the instance.
    ("prod", "aurora-not-public", [_remove_key(*INSTANCE, "publiclyAccessible")], []),
    (
        "prod",
        "aurora-not-public",
        [_set(*CLUSTER, "publiclyAccessible", value=True)],
        [(M, "prod-main", "publicly accessible")],
    ),
    ("prod", "aurora-not-public", [_set(*INSTANCE, "publiclyAccessible", value=UNKNOWN)], []),
    # aurora-auto-minor-version-upgrade: absent is on (AWS's default).
    ("prod", "aurora-auto-minor-version-upgrade", [_remove_key(*INSTANCE, "autoMinorVersionUpgrade")], []),
    ("prod", "aurora-auto-minor-version-upgrade", [_set(*INSTANCE, "autoMinorVersionUpgrade", value=UNKNOWN)], []),
    # aurora-performance-insights: absent is off; its key is checked only when it is on.
    (
        "prod",
        "aurora-performance-insights",
        [_remove_key(*INSTANCE, "performanceInsightsEnabled"), _remove_key(*INSTANCE, "performanceInsightsKmsKeyId")],
        [(M, "prod-main-writer", "Performance Insights is off")],
    ),
    ("prod", "aurora-performance-insights", [_set(*INSTANCE, "performanceInsightsEnabled", value=UNKNOWN)], []),
    ("dev", "aurora-performance-insights", [], [(A, "envstack-dev-cluster-writer", "Performance Insights is off")]),
    # aurora-log-export: absent is not exported; an unknown entry might be postgresql.
    (
        "prod",
        "aurora-log-export",
        [_remove_key(*CLUSTER, "enabledCloudwatchLogsExports")],
        [(M, "prod-main", "the postgresql log is not exported")],
    ),
    (
        "prod",
        "aurora-log-export",
        [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade"])],
        [(M, "prod-main", "the postgresql log is not exported")],
    ),
    (
        "prod",
        "aurora-log-export",
        [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade", "postgresql"])],
        [],
    ),
    ("prod", "aurora-log-export", [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=["upgrade", UNKNOWN])], []),
    ("prod", "aurora-log-export", [_set(*CLUSTER, "enabledCloudwatchLogsExports", value=UNKNOWN)], []),
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
    # s3-deny-insecure-transport: a Deny on aws:SecureTransport false, in any policy of the bucket.
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", "false")], []),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", False, as_object=True)], []),
    ("prod", "s3-deny-insecure-transport", [_tls_policy("Deny", "false", single=True)], []),
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
    # s3-versioning: files buckets only (not the log bucket); noncurrent versions expire by an enabled rule.
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
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    plan = copy.deepcopy(_committed(stack))
    for edit in edits:
        edit(plan)
    found = [(f.level, f.resource, f.message) for f in rules.evaluate(rules.from_plan(plan)) if f.rule == rule]
    assert found == expected


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into a property value: each key of an object, each item of a list, recursively."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    return [p for key, child in children for p in [(*prefix, key), *_paths(child, (*prefix, key))]]


def _unknown_at(props: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(props)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = UNKNOWN
    return changed


@pytest.mark.parametrize("stack", ["prod", "staging", "dev"])
def test_no_rule_fails_or_crashes_on_any_one_unknown_value(stack: str) -> None:
    """CrossGuard previews show values computed from other resources as unknown, whole objects
    and lists included: making any one property (at any depth) or any ARN unknown never crashes
    a rule nor adds a finding (it may lift one)."""
    model = rules.from_plan(_committed(stack))
    before = rules.evaluate(model)
    checked = 0
    for resource in model.resources:
        if resource.type.startswith("pulumi:"):
            continue
        props, arn = resource.props, resource.arn
        for path in _paths(props):
            resource.props = _unknown_at(props, path)
            assert [f for f in rules.evaluate(model) if f not in before] == [], (resource.name, path)
            checked += 1
        resource.props = props
        if arn is not None:
            resource.arn = UNKNOWN
            assert [f for f in rules.evaluate(model) if f not in before] == [], (resource.name, "arn")
            resource.arn = arn
    assert checked > 100  # every property of the stack, not a handful


UNPROTECTED = "stateful resource without protect"
ADVISORIES = {
    "staging": [
        ("s3-access-logging", "envstack-staging-files", "server access logging is off"),
        ("customer-managed-keys", "envstack-staging-files", AWS_MANAGED),
        ("customer-managed-keys", "envstack-staging-api-key", AWS_MANAGED),
        ("customer-managed-keys", "envstack-staging-tables-credentials", AWS_MANAGED),
        ("customer-managed-keys", "shared-nonprod", AWS_MANAGED),
        ("aurora-performance-insights", "shared-nonprod-writer", "Performance Insights is off"),
        ("cognito-threat-protection", "envstack-staging-users", "threat protection is not ENFORCED"),
        ("secret-recovery-window", "envstack-staging-api-key", "recovery window is 7 days, below 30"),
        ("secret-recovery-window", "envstack-staging-tables-credentials", "recovery window is 7 days, below 30"),
        ("prod-stateful-protected", "envstack-staging-api-key", UNPROTECTED),
        ("prod-stateful-protected", "envstack-staging-files", UNPROTECTED),
        ("prod-stateful-protected", "envstack-staging-tables", UNPROTECTED),
        ("prod-stateful-protected", "envstack-staging-tables-credentials", UNPROTECTED),
        ("prod-stateful-protected", "envstack-staging-users", UNPROTECTED),
    ],
    "dev": [
        ("s3-versioning", "envstack-dev-files", "versioning is not enabled"),
        ("s3-access-logging", "envstack-dev-files", "server access logging is off"),
        ("s3-no-force-destroy", "envstack-dev-files", "force_destroy is on: destroy would delete every file"),
        ("customer-managed-keys", "envstack-dev-files", AWS_MANAGED),
        ("customer-managed-keys", "envstack-dev-api-key", AWS_MANAGED),
        ("customer-managed-keys", "envstack-dev-tables-credentials", AWS_MANAGED),
        ("customer-managed-keys", "envstack-dev-cluster", AWS_MANAGED),
        ("aurora-performance-insights", "envstack-dev-cluster-writer", "Performance Insights is off"),
        ("aurora-log-export", "envstack-dev-cluster", "the postgresql log is not exported"),
        ("cognito-threat-protection", "envstack-dev-users", "threat protection is not ENFORCED"),
        ("cognito-deletion-protection", "envstack-dev-users", "deletion protection is INACTIVE"),
        ("secret-recovery-window", "envstack-dev-api-key", "recovery window is 0 days, below 30"),
        ("secret-recovery-window", "envstack-dev-tables-credentials", "recovery window is 0 days, below 30"),
        ("prod-stateful-protected", "envstack-dev-api-key", UNPROTECTED),
        ("prod-stateful-protected", "envstack-dev-cluster", UNPROTECTED),
        ("prod-stateful-protected", "envstack-dev-files", UNPROTECTED),
        ("prod-stateful-protected", "envstack-dev-tables", UNPROTECTED),
        ("prod-stateful-protected", "envstack-dev-tables-credentials", UNPROTECTED),
        ("prod-stateful-protected", "envstack-dev-users", UNPROTECTED),
    ],
}


@pytest.mark.parametrize("stack", sorted(ADVISORIES))
def test_the_committed_lighter_stacks_get_exactly_the_advice_their_type_allows(stack: str) -> None:
    """dev and staging relax prod's standard on purpose: each relaxation is advice, in rule order,
    and nothing else is reported."""
    found = rules.evaluate(rules.from_plan(_committed(stack)))
    assert [(f.rule, f.resource, f.message) for f in found] == ADVISORIES[stack]
    assert {f.level for f in found} == {A}
