"""The envstack policy rules: one function per control, over a neutral model of a stack.

The same functions run in two places:
- in Pulumi CrossGuard (`pulumi preview --policy-pack policies`), through `from_policy_args`;
- offline in `envctl check`, through `from_plan` on the plan JSON of `envctl plan`.

Standard library only: this module is loaded by the policy pack's own virtualenv (with
components/names.py, the name grammar, which is standard library only too).

Enforcement by environment type (read from the explicit provider's default tags):
- UNIVERSAL controls (on in dev and in prod, per the reference table): mandatory for prod and
  staging, advisory for dev and custom;
- PROD controls (prod's hardened standard): mandatory for prod, advisory elsewhere;
- INVARIANT rules (isolation between environments): mandatory for every type;
- LIFECYCLE rules (what makes a later replace, upgrade or second destroy fail): mandatory for
  every type.
A stack whose type cannot be read is held to prod's standard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from components import conventions, names  # standard library only, like this module
from components.conventions import (
    AWS_PROVIDER,
    BUCKET,
    BUCKET_POLICY,
    CLUSTER,
    INSTANCE,
    KMS_ALIAS,
    KMS_KEY,
    LIFECYCLE_CONFIGURATION,
    LOGGING,
    OWNERSHIP,
    PLAN_SCHEMA_VERSION,
    PUBLIC_ACCESS_BLOCK,
    RANDOM_ID,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SCHEMA_ROLE,
    SECRET,
    SECRET_PLACEHOLDER,
    SECRET_VERSION,
    SSE,
    STATEFUL,
    USER_POOL,
    VERSIONING,
)


class _Unknown:
    """A value that is not known during preview."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
UNIVERSAL, PROD, INVARIANT, LIFECYCLE = "universal", "prod", "invariant", "lifecycle"
MANDATORY, ADVISORY = "mandatory", "advisory"

# The tag keys and resource type tokens are components/conventions.py's (standard library only).
ENV_TAG, TYPE_TAG, PROJECT_TAG, STACK_TAG, PURPOSE_TAG = (
    conventions.TAG_ENVIRONMENT,
    conventions.TAG_TYPE,
    conventions.TAG_PROJECT,
    conventions.TAG_STACK,
    conventions.TAG_PURPOSE,
)
RUNTIME_ROLE = "runtime-role"  # the envstack:purpose tag of an environment's runtime role
# Resources whose physical name envstack sets itself (never auto-named), and the property
# that holds it. A fixed name cannot exist twice, so a replacement must delete first.
FIXED_NAMES = {CLUSTER: "clusterIdentifier", INSTANCE: "identifier", KMS_ALIAS: "name"}
# Resources that generate a value once and keep it in state.
GENERATORS = (RANDOM_ID, "random:index/randomString:RandomString", "random:index/randomPet:RandomPet")


def known(value: Any) -> bool:
    return value is not UNKNOWN and value != SECRET_PLACEHOLDER


# --- the model -----------------------------------------------------------------------------


@dataclass
class Res:
    type: str
    name: str
    props: dict[str, Any]
    protect: bool = False
    provider: str | None = None  # the provider resource's name; None: the default provider
    provider_tags: dict[str, Any] | None = None  # that provider's default tags
    urn: str = ""
    links: dict[str, list[str]] = field(default_factory=dict)  # property -> names of resources it refers to
    delete_before_replace: bool | None = None  # None: not set
    ignore_changes: list[str] = field(default_factory=list)
    retain_on_delete: bool | None = None  # None: not visible (CrossGuard is not told it)
    arn: Any = None  # the resource's ARN; UNKNOWN until AWS assigns it

    def get(self, *path: str | int) -> Any:
        """A nested property; None when absent, UNKNOWN when not known during preview."""
        value: Any = self.props
        for key in path:
            if value is UNKNOWN:
                return UNKNOWN
            if isinstance(value, Mapping) and isinstance(key, str):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
                value = value[key]
            else:
                return None
        return value


@dataclass
class Stack:
    resources: list[Res]
    env: str | None
    env_type: str | None
    deletion_confirmed: bool
    project: str | None = None  # the platform project, from the envstack:project tag

    def of(self, type_: str) -> list[Res]:
        return [r for r in self.resources if r.type == type_]

    def linked(self, type_: str, prop: str, target: Res) -> list[Res]:
        """Resources of `type_` whose `prop` refers to `target`."""
        return [r for r in self.of(type_) if target.name in r.links.get(prop, [])]

    def log_buckets(self) -> set[str]:
        return {name for r in self.of(LOGGING) for name in r.links.get("targetBucket", [])}


def _tags_of(provider_props: Mapping[str, Any]) -> dict[str, Any] | None:
    tags = provider_props.get("defaultTags")
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except json.JSONDecodeError:
            return None
    if isinstance(tags, Mapping) and isinstance(tags.get("tags"), Mapping):
        return dict(tags["tags"])
    return None


def _finish(resources: list[Res]) -> Stack:
    providers = [r for r in resources if r.type == AWS_PROVIDER]
    tags = next((t for t in (_tags_of(p.props) for p in providers) if t), {}) or {}
    confirmed = any(r.get("deletionConfirmed") is True for r in resources if r.type == SCHEMA_ROLE)
    env_type = tags.get(TYPE_TAG)
    env = tags.get(ENV_TAG)
    project = tags.get(PROJECT_TAG)
    return Stack(
        resources=resources,
        project=project if isinstance(project, str) else None,
        env=env if isinstance(env, str) else None,
        env_type=env_type if isinstance(env_type, str) else None,
        deletion_confirmed=confirmed,
    )


def _check_schema(plan: Mapping[str, Any]) -> None:
    version = plan.get("schemaVersion")
    if version != PLAN_SCHEMA_VERSION:
        raise ValueError(
            f"plan schemaVersion {version!r}: this envctl reads schemaVersion {PLAN_SCHEMA_VERSION} only; "
            "re-render the plan with this envctl (`envctl plan STACK --format json`)"
        )


def from_plan(plan: Mapping[str, Any]) -> Stack:
    """The model of a plan JSON (`envctl plan STACK --format json`, schemaVersion 2). References
    between resources are the property dependencies the program registered, by resource name."""
    _check_schema(plan)
    raw = list(plan.get("resources", []))
    provider_props = {r["name"]: r.get("inputs", {}) for r in raw if str(r["type"]).startswith("pulumi:providers:")}
    resources = []
    for r in raw:
        inputs = dict(r.get("inputs") or {})
        links = {key: sorted(set(sources)) for key, sources in (r.get("propertyDependencies") or {}).items()}
        provider = r.get("provider")
        resources.append(
            Res(
                type=r["type"],
                name=r["name"],
                props=inputs,
                protect=bool(r.get("protect")),
                provider=provider,
                provider_tags=_tags_of(provider_props.get(provider, {})) if provider else None,
                urn=r["name"],
                links=links,
                delete_before_replace=r.get("deleteBeforeReplace"),
                ignore_changes=list(r.get("ignoreChanges") or []),
                retain_on_delete=r.get("retainOnDelete"),
                arn=r.get("arn"),
            )
        )
    return _finish(resources)


def _plain(value: Any) -> Any:
    """CrossGuard's props, with its unknown-value sentinels turned into UNKNOWN."""
    from pulumi_policy import proxy

    if isinstance(value, Mapping):
        target = value["__target"] if isinstance(value, proxy._DictProxy) else value
        return {k: _plain(v) for k, v in target.items()}
    if isinstance(value, list | tuple | proxy._ListProxy):
        target = value["__target"] if isinstance(value, proxy._ListProxy) else value
        return [_plain(v) for v in target]
    if proxy._is_unknown(value):
        return UNKNOWN
    return value


def from_policy_args(args: Any) -> Stack:
    """The model of CrossGuard's StackValidationArgs; references come from property dependencies."""
    resources = []
    for r in args.resources:
        provider = r.provider
        default = provider is None or provider.name.startswith("default")
        props = _plain(r.props)
        resources.append(
            Res(
                type=r.resource_type,
                name=r.name,
                props=props,
                protect=bool(r.opts.protect),
                provider=None if default else provider.name,
                provider_tags=None if default else _tags_of(_plain(provider.props)),
                urn=r.urn,
                links={k: [d.name for d in deps] for k, deps in (r.property_dependencies or {}).items()},
                # CrossGuard is told protect, delete_before_replace and ignore_changes, not retain_on_delete.
                delete_before_replace=r.opts.delete_before_replace,
                ignore_changes=list(r.opts.ignore_changes or []),
                arn=UNKNOWN if props.get("arn") is None else props["arn"],
            )
        )
    return _finish(resources)


# --- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One violation, at the level its rule has for the stack's environment type."""

    rule: str
    resource: str
    level: str
    message: str
    urn: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # UNIVERSAL, PROD, INVARIANT or LIFECYCLE
    ids: str  # the matching Checkov / Trivy / AWSGuard rule IDs
    description: str
    check: Callable[[Stack], Iterator[tuple[Res, str]]]
    deletion_guard: bool = False  # lifted once the environment's deletion is confirmed

    def level(self, env_type: str | None) -> str:
        if self.kind in (INVARIANT, LIFECYCLE) or env_type in (None, "prod"):
            return MANDATORY
        if env_type == "staging" and self.kind == UNIVERSAL:
            return MANDATORY
        return ADVISORY

    def run(self, stack: Stack) -> list[Finding]:
        if self.deletion_guard and stack.deletion_confirmed:
            return []
        level = self.level(stack.env_type)
        return [Finding(self.name, r.name, level, message, r.urn) for r, message in self.check(stack)]


RULES: list[Rule] = []


def rule(
    name: str, kind: str, ids: str, description: str, *, deletion_guard: bool = False
) -> Callable[[Callable[[Stack], Iterator[tuple[Res, str]]]], Callable[[Stack], Iterator[tuple[Res, str]]]]:
    def register(check: Callable[[Stack], Iterator[tuple[Res, str]]]) -> Callable[[Stack], Iterator[tuple[Res, str]]]:
        RULES.append(Rule(name, kind, ids, description, check, deletion_guard))
        return check

    return register


def _is(value: Any, expected: Any) -> bool:
    """False only when the value is known and differs: unknown values never fail a rule."""
    return not known(value) or value == expected


# S3 --------------------------------------------------------------------------------------


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
            off = [f for f in flags if not _is(block.get(f), True)]
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
        if not rules or not all(_is(v, "BucketOwnerEnforced") for v in rules):
            yield bucket, "object ownership is not BucketOwnerEnforced"


def _sse_rules(s: Stack, bucket: Res) -> list[Any]:
    return [rule_ for c in s.linked(SSE, "bucket", bucket) for rule_ in (c.get("rules") or [])]


@rule(
    "s3-kms-encryption",
    UNIVERSAL,
    "CKV_AWS_19, CKV_AWS_145; AVD-AWS-0088",
    "Every bucket encrypts by default with SSE-KMS (access-log buckets: SSE-S3, which S3 log delivery needs).",
)
def _s3_kms(s: Stack) -> Iterator[tuple[Res, str]]:
    logs = s.log_buckets()
    for bucket in s.of(BUCKET):
        expected = "AES256" if bucket.name in logs else "aws:kms"
        algorithms = [
            (r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for r in _sse_rules(s, bucket)
            if known(r)
        ]
        if not algorithms:
            yield bucket, "no default encryption configuration"
        elif not all(_is(a, expected) for a in algorithms):
            yield bucket, f"default encryption is {algorithms[0]}, expected {expected}"


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
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except json.JSONDecodeError:
        return False
    statements = doc.get("Statement", []) if isinstance(doc, Mapping) else []
    for st in statements if isinstance(statements, list) else [statements]:
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
    logs = s.log_buckets()
    for bucket in (b for b in s.of(BUCKET) if b.name not in logs):
        statuses = [v.get("versioningConfiguration", "status") for v in s.linked(VERSIONING, "bucket", bucket)]
        if not statuses or not all(_is(st, "Enabled") for st in statuses):
            yield bucket, "versioning is not enabled"
            continue
        expiring = [
            r
            for lc in s.linked(LIFECYCLE_CONFIGURATION, "bucket", bucket)
            for r in (lc.get("rules") or [])
            if not known(r) or (r.get("noncurrentVersionExpiration") and _is(r.get("status"), "Enabled"))
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
    logs = s.log_buckets()
    for bucket in (b for b in s.of(BUCKET) if b.name not in logs):
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
        if not _is(bucket.get("forceDestroy") or False, False):
            yield bucket, "force_destroy is on: destroy would delete every file"


# Keys --------------------------------------------------------------------------------------


@rule(
    "customer-managed-keys",
    PROD,
    "CKV_AWS_145, CKV_AWS_149, CKV_AWS_327; AVD-AWS-0132, AVD-AWS-0098",
    "Files, secrets and database storage use the environment's own KMS key (S3 with the bucket key on).",
)
def _cmk(s: Stack) -> Iterator[tuple[Res, str]]:
    logs = s.log_buckets()
    for bucket in (b for b in s.of(BUCKET) if b.name not in logs):
        for r in _sse_rules(s, bucket):
            if not known(r):
                continue
            if not (r.get("applyServerSideEncryptionByDefault") or {}).get("kmsMasterKeyId"):
                yield bucket, "encrypted with the AWS-managed key, not the environment's own key"
            elif not _is(r.get("bucketKeyEnabled"), True):
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
        if not _is(key.get("enableKeyRotation"), True):
            yield key, "key rotation is off"
        policy = key.get("policy")
        if known(policy) and policy:
            doc = json.loads(policy) if isinstance(policy, str) else policy
            for st in doc.get("Statement", []):
                principal = st.get("Principal")
                if st.get("Effect") == "Allow" and (
                    principal == "*" or (isinstance(principal, Mapping) and "*" in str(principal.get("AWS")))
                ):
                    yield key, "the key policy allows a wildcard principal"


# Aurora ------------------------------------------------------------------------------------


def _cluster_bool(name: str, *, prop: str, ids: str, description: str, message: str) -> None:
    def check(s: Stack) -> Iterator[tuple[Res, str]]:
        for cluster in s.of(CLUSTER):
            if not _is(cluster.get(prop), True):
                yield cluster, message

    rule(name, UNIVERSAL, ids, description)(check)


_cluster_bool(
    "aurora-storage-encrypted",
    prop="storageEncrypted",
    ids="CKV_AWS_96; AVD-AWS-0079",
    description="Every Aurora cluster encrypts its storage.",
    message="storage is not encrypted",
)
_cluster_bool(
    "aurora-iam-auth",
    prop="iamDatabaseAuthenticationEnabled",
    ids="CKV_AWS_162; AVD-AWS-0176",
    description="Every Aurora cluster has IAM database authentication on.",
    message="IAM database authentication is off",
)
_cluster_bool(
    "aurora-copy-tags-to-snapshot",
    prop="copyTagsToSnapshot",
    ids="CKV_AWS_313",
    description="Every Aurora cluster copies its tags to snapshots.",
    message="tags are not copied to snapshots",
)


@rule(
    "aurora-deletion-protection",
    UNIVERSAL,
    "CKV_AWS_139; AVD-AWS-0343",
    "Every shared Aurora cluster has deletion protection (dev's private cluster is not shared).",
    deletion_guard=True,
)
def _aurora_deletion(s: Stack) -> Iterator[tuple[Res, str]]:
    if s.env_type == "dev":
        return
    for cluster in s.of(CLUSTER):
        if not _is(cluster.get("deletionProtection"), True):
            yield cluster, "deletion protection is off on a shared cluster"


@rule(
    "aurora-backup-retention",
    UNIVERSAL,
    "CKV_AWS_133; AVD-AWS-0077",
    "Every Aurora cluster keeps backups: at least 14 days in prod, at least 1 day elsewhere.",
)
def _aurora_backups(s: Stack) -> Iterator[tuple[Res, str]]:
    minimum = 14 if s.env_type in (None, "prod") else 1
    for cluster in s.of(CLUSTER):
        days = cluster.get("backupRetentionPeriod")
        days = 1 if days is None else days
        if known(days) and int(days) < minimum:
            yield cluster, f"backups are kept {days} day(s), below {minimum}"


@rule(
    "aurora-not-public", UNIVERSAL, "CKV_AWS_17; AVD-AWS-0180", "No Aurora cluster or instance is publicly accessible."
)
def _aurora_public(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.of(CLUSTER) + s.of(INSTANCE):
        if not _is(res.get("publiclyAccessible") or False, False):
            yield res, "publicly accessible"


@rule(
    "aurora-auto-minor-version-upgrade",
    UNIVERSAL,
    "CKV_AWS_226",
    "Every Aurora instance takes minor version upgrades automatically.",
)
def _aurora_minor(s: Stack) -> Iterator[tuple[Res, str]]:
    for instance in s.of(INSTANCE):
        if instance.get("autoMinorVersionUpgrade") is False:
            yield instance, "automatic minor version upgrades are off"


@rule(
    "aurora-performance-insights",
    PROD,
    "CKV_AWS_353, CKV_AWS_354",
    "Every Aurora instance has Performance Insights on, encrypted with the environment's own key.",
)
def _aurora_pi(s: Stack) -> Iterator[tuple[Res, str]]:
    for instance in s.of(INSTANCE):
        if not _is(instance.get("performanceInsightsEnabled"), True):
            yield instance, "Performance Insights is off"
        elif not instance.get("performanceInsightsKmsKeyId"):
            yield instance, "Performance Insights is not encrypted with the environment's own key"


@rule("aurora-log-export", PROD, "CKV_AWS_324", "Every Aurora cluster exports its postgresql log to CloudWatch.")
def _aurora_logs(s: Stack) -> Iterator[tuple[Res, str]]:
    for cluster in s.of(CLUSTER):
        exports = cluster.get("enabledCloudwatchLogsExports")
        if known(exports) and all(known(e) for e in exports or []) and "postgresql" not in (exports or []):
            yield cluster, "the postgresql log is not exported"


# Cognito -----------------------------------------------------------------------------------


@rule(
    "cognito-mfa",
    UNIVERSAL,
    "KICS cognito_userpool_without_mfa",
    "Every user pool offers MFA: ON in prod, at least OPTIONAL elsewhere.",
)
def _cognito_mfa(s: Stack) -> Iterator[tuple[Res, str]]:
    allowed = ("ON",) if s.env_type in (None, "prod") else ("ON", "OPTIONAL")
    for pool in s.of(USER_POOL):
        mfa = pool.get("mfaConfiguration") or "OFF"
        if known(mfa) and mfa not in allowed:
            yield pool, f"MFA is {mfa}; allowed: {' or '.join(allowed)}"


@rule(
    "cognito-threat-protection",
    PROD,
    "Security Hub Cognito.1",
    "Every user pool runs threat protection in ENFORCED mode (the PLUS tier).",
)
def _cognito_threat(s: Stack) -> Iterator[tuple[Res, str]]:
    for pool in s.of(USER_POOL):
        if not _is(pool.get("userPoolAddOns", "advancedSecurityMode") or "OFF", "ENFORCED"):
            yield pool, "threat protection is not ENFORCED"


@rule(
    "cognito-password-policy",
    UNIVERSAL,
    "(own rule)",
    "Passwords: at least 12 characters of every class in prod; at least 8 characters elsewhere.",
)
def _cognito_password(s: Stack) -> Iterator[tuple[Res, str]]:
    prod = s.env_type in (None, "prod")
    minimum = 12 if prod else 8
    classes = ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols")
    for pool in s.of(USER_POOL):
        length = pool.get("passwordPolicy", "minimumLength")
        length = 8 if length is None else length
        if known(length) and int(length) < minimum:
            yield pool, f"minimum password length {length}, below {minimum}"
        missing = [c for c in classes if not _is(pool.get("passwordPolicy", c), True)]
        if prod and missing:
            yield pool, f"the password policy does not require {', '.join(missing)}"


@rule(
    "cognito-deletion-protection",
    PROD,
    "AWS Config cognito-user-pool-deletion-protection-enabled",
    "Every user pool has deletion protection ACTIVE (lifted by envstack:confirmDeletion).",
    deletion_guard=True,
)
def _cognito_deletion(s: Stack) -> Iterator[tuple[Res, str]]:
    for pool in s.of(USER_POOL):
        if not _is(pool.get("deletionProtection") or "INACTIVE", "ACTIVE"):
            yield pool, "deletion protection is INACTIVE"


# Secrets and Pulumi -----------------------------------------------------------------------


@rule("secret-recovery-window", PROD, "(own rule)", "Every secret can be recovered for 30 days after deletion.")
def _secret_window(s: Stack) -> Iterator[tuple[Res, str]]:
    for secret in s.of(SECRET):
        days = secret.get("recoveryWindowInDays")
        days = 30 if days is None else days
        if known(days) and int(days) < 30:
            yield secret, f"recovery window is {days} days, below 30"


@rule(
    "prod-stateful-protected",
    PROD,
    "(own rule)",
    "Every stateful resource (bucket, pool, secret, cluster, key, schema) has Pulumi `protect` "
    "(lifted by envstack:confirmDeletion).",
    deletion_guard=True,
)
def _protected(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.resources:
        if res.type in STATEFUL and not res.protect:
            yield res, "stateful resource without protect"


# Project rules ----------------------------------------------------------------------------


@rule(
    "explicit-regional-provider",
    UNIVERSAL,
    "(own rule)",
    "Every AWS resource uses the explicit regional provider, whose default tags name the environment, "
    "its type, the project and the stack.",
)
def _provider(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.resources:
        if not res.type.startswith("aws:"):
            continue
        if res.provider is None:
            yield res, "uses the default provider, not the explicit regional one"
            continue
        missing = [t for t in (ENV_TAG, TYPE_TAG, PROJECT_TAG, STACK_TAG) if not (res.provider_tags or {}).get(t)]
        if missing:
            yield res, f"its provider does not tag {', '.join(missing)}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@rule(
    "no-cross-environment-names",
    INVARIANT,
    "(own rule)",
    "No resource of one environment names another environment's bucket, pool, secret or schema.",
)
def _cross_env(s: Stack) -> Iterator[tuple[Res, str]]:
    """Names are read with the program's own grammar (components/names.py). A token is this
    environment's when it is `envstack-<env>`, lies under `envstack-<env>-`, or is its schema;
    the identifiers of clusters this stack creates are its own too. Limit, by construction of
    the names: a reference to another environment's name that is literally also a name of this
    one (`envstack-new-users` in environment new-users: environment new's user pool) goes
    unreported."""
    if not s.env:
        return
    owners = [names.stem(s.env, s.project or names.DEFAULT_PROJECT)] + [
        ident
        for ident in (c.get("clusterIdentifier") for c in s.of(CLUSTER))
        if isinstance(ident, str) and known(ident)
    ]
    for res in s.resources:
        for text in _strings(res.props):
            for token in names.tokens(text):
                if names.names_a_store(token) and not names.owned_by(token, owners):
                    yield res, f"refers to another environment's resource: {token.text!r}"


@rule(
    "api-key-is-publishable",
    UNIVERSAL,
    "(own rule)",
    "The API key secret holds a publishable key: `pk_` and at least 32 characters.",
)
def _api_key(s: Stack) -> Iterator[tuple[Res, str]]:
    def purpose(secret: Res) -> Any:
        tags = secret.get("tags")
        return tags.get(PURPOSE_TAG) if isinstance(tags, Mapping) else tags

    purposes = [purpose(r) for r in s.of(SECRET)]
    api_secrets = [r for r, p in zip(s.of(SECRET), purposes, strict=True) if p == "api-key"]
    if s.of(SECRET_VERSION) and not api_secrets and s.env and all(known(p) for p in purposes):
        yield s.of(SECRET_VERSION)[0], "no secret is tagged envstack:purpose=api-key"
    for secret in api_secrets:
        versions = s.linked(SECRET_VERSION, "secretId", secret)
        if not versions:
            yield secret, "the API key secret has no value"
        for version in versions:
            text = version.get("secretString")
            if not known(text):
                continue  # secret or unknown during preview: nothing to check here
            try:
                key = json.loads(text).get("apiKey", "")
            except (json.JSONDecodeError, AttributeError):
                key = ""
            if not (isinstance(key, str) and key.startswith("pk_") and len(key) >= 35):
                yield version, "the API key secret does not hold a pk_ publishable key"


@rule(
    "no-cluster-in-custom",
    INVARIANT,
    "(own rule)",
    "A custom (preview) environment never creates an Aurora cluster: it attaches to one.",
)
def _no_cluster(s: Stack) -> Iterator[tuple[Res, str]]:
    if s.env_type == "custom":
        for cluster in s.of(CLUSTER) + s.of(INSTANCE):
            yield cluster, "a custom environment creates a cluster"


# Lifecycle -----------------------------------------------------------------------------------


@rule(
    "unique-final-snapshot",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-cluster#129)",
    "Every Aurora cluster that takes a final snapshot names it with a generated suffix kept in state, "
    "so a second destroy after re-creating it cannot collide.",
)
def _unique_final_snapshot(s: Stack) -> Iterator[tuple[Res, str]]:
    generated = {r.name for r in s.resources if r.type in GENERATORS}
    for cluster in s.of(CLUSTER):
        skip = cluster.get("skipFinalSnapshot")
        if skip is True or not known(skip):
            continue
        identifier = cluster.get("finalSnapshotIdentifier")
        if not known(identifier):
            continue
        if not identifier:
            yield cluster, "takes a final snapshot but names none: destroy fails"
        elif not generated & set(cluster.links.get("finalSnapshotIdentifier", [])):
            yield cluster, f"fixed final snapshot identifier {identifier!r}: a second destroy fails once it exists"


_MINOR = re.compile(r"^\d+\.\d+")


@rule(
    "no-pinned-minor-engine-version",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-aurora#228)",
    "No Aurora cluster pins a minor engine version while its instances take automatic minor upgrades, "
    "unless engineVersion is in ignore_changes.",
)
def _pinned_minor(s: Stack) -> Iterator[tuple[Res, str]]:
    auto_upgrade = any(i.get("autoMinorVersionUpgrade") is not False for i in s.of(INSTANCE))
    for cluster in s.of(CLUSTER):
        version = cluster.get("engineVersion")
        pinned = isinstance(version, str) and _MINOR.match(version)
        if auto_upgrade and pinned and "engineVersion" not in cluster.ignore_changes:
            yield cluster, f"engine version {version} pins a minor that AWS upgrades: the next update fails"


@rule(
    "fixed-name-delete-before-replace",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-aurora#408)",
    "Every RDS cluster, RDS instance and KMS alias with a fixed name is delete_before_replace.",
)
def _fixed_names(s: Stack) -> Iterator[tuple[Res, str]]:
    for type_, prop in FIXED_NAMES.items():
        for res in s.of(type_):
            name = res.get(prop)
            if name and res.delete_before_replace is not True:
                shown = repr(name) if known(name) else "(unknown)"
                yield res, f"fixed {prop} {shown} without delete_before_replace: a replacement fails with AlreadyExists"


@rule(
    "kms-key-outlives-its-data",
    LIFECYCLE,
    "(own rule)",
    "Every KMS key that encrypts a final snapshot or a secret in a recovery window is retained on delete "
    "(checked offline: CrossGuard is not told retain_on_delete).",
)
def _key_outlives_data(s: Stack) -> Iterator[tuple[Res, str]]:
    for key in s.of(KMS_KEY):
        if key.retain_on_delete is not False:
            continue  # retained, or not visible (CrossGuard)
        kept = [c.name for c in s.linked(CLUSTER, "kmsKeyId", key) if c.get("skipFinalSnapshot") in (False, None)]
        for secret in s.linked(SECRET, "kmsKeyId", key):
            days = secret.get("recoveryWindowInDays")
            if known(days) and int(30 if days is None else days) > 0:
                kept.append(secret.name)
        if kept:
            yield key, f"not retained on delete, yet {', '.join(sorted(kept))} outlive destroy encrypted with it"


# Access ------------------------------------------------------------------------------------


def _document(value: Any) -> Any:
    """A policy document from a string or object; UNKNOWN when not known; None when malformed."""
    if not known(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, Mapping):
        return None
    statements = value.get("Statement", [])
    return {"Statement": statements if isinstance(statements, list) else [statements]}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _runtime_roles(s: Stack) -> list[Res]:
    roles = []
    for role in s.of(ROLE):
        tags = role.get("tags")
        if not known(tags) or (isinstance(tags, Mapping) and tags.get(PURPOSE_TAG) == RUNTIME_ROLE):
            roles.append(role)
    return roles


def _wildcard_principal(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return any(known(p) and "*" in str(p) for v in principal.values() for p in _listed(v))
    return known(principal) and "*" in str(principal)


def _own_arns(s: Stack) -> tuple[set[str], set[str], set[str], bool]:
    """This stack's own ARNs (bucket, pool, secret, key), its buckets, its clusters' ARNs, and
    whether any of them is not known yet."""
    own: set[str] = set()
    buckets: set[str] = set()
    clusters: set[str] = set()
    unknown = False
    for res in s.of(BUCKET) + s.of(USER_POOL) + s.of(SECRET) + s.of(KMS_KEY) + s.of(CLUSTER):
        if not known(res.arn) or not isinstance(res.arn, str):
            unknown = True
            continue
        (clusters if res.type == CLUSTER else own).add(res.arn)
        if res.type == BUCKET:
            buckets.add(res.arn)
    for store in s.of(SCHEMA_ROLE):
        arn = store.get("executor", "clusterArn")
        if isinstance(arn, str) and known(arn):
            clusters.add(arn)
        elif arn is not None:
            unknown = True
    return own, buckets, clusters, unknown


def _statement_problems(st: Any, s_own: tuple[set[str], set[str], set[str], bool]) -> Iterator[str]:
    if not isinstance(st, Mapping) or st.get("Effect") != "Allow":
        return
    for element in ("NotAction", "NotResource"):
        if element in st:
            yield f"grants with {element}, which reaches everything not listed"
    actions = [a for a in _listed(st.get("Action", [])) if known(a) and isinstance(a, str)]
    for action in actions:
        if "*" in action or "?" in action:
            yield f"grants a wildcard action {action!r}"
        elif action.lower().startswith(("iam:", "sts:")):
            yield f"grants {action}: a runtime role never manages identities"
    yield from _resource_problems(st, actions, s_own)


def _resource_problems(
    st: Mapping[str, Any], actions: list[str], s_own: tuple[set[str], set[str], set[str], bool]
) -> Iterator[str]:
    own, buckets, clusters, unknown = s_own
    for resource in _listed(st.get("Resource", [])):
        if not known(resource) or not isinstance(resource, str):
            continue
        if resource in clusters:
            other = [a for a in actions if not a.lower().startswith("rds-data:")]
            if other:
                yield f"grants {', '.join(other)} on the shared cluster {resource}: only rds-data: actions may name it"
            continue
        data_api = [a for a in actions if a.lower().startswith("rds-data:")]
        if data_api:
            yield f"grants {', '.join(data_api)} on {resource}, which is not the environment's cluster"
        objects_of = resource[:-2] if resource.endswith("/*") else None
        if objects_of is not None and "*" not in objects_of and "?" not in objects_of:
            # A bucket's objects: allowed for the environment's own bucket only.
            if objects_of not in buckets and not unknown:
                yield f"grants access to {resource}, the objects of a bucket that is not this environment's"
            continue
        if "*" in resource or "?" in resource:
            yield f"grants a wildcard resource {resource!r}"
        elif resource not in own and not unknown:
            yield f"grants access to {resource}, which is not one of this environment's resources"


@rule(
    "runtime-role-own-resources",
    INVARIANT,
    "(own rule)",
    "The runtime role reaches only its own environment's resources (the shared cluster only for rds-data:), "
    "with no wildcard resource or action, no iam:/sts: action and no `*` principal in its trust.",
)
def _runtime_role(s: Stack) -> Iterator[tuple[Res, str]]:
    own = _own_arns(s)
    for role in _runtime_roles(s):
        trust = _document(role.get("assumeRolePolicy"))
        if trust is None:
            yield role, "the trust policy is not a JSON policy document"
        elif known(trust) and any(_wildcard_principal(st) for st in trust["Statement"] if isinstance(st, Mapping)):
            yield role, "the trust policy allows a wildcard principal"
        if role.get("managedPolicyArns") or role.get("inlinePolicies"):
            yield role, "grants through managed or inline policies on the role, outside its checked role policy"
        for attachment in s.linked(ROLE_POLICY_ATTACHMENT, "role", role):
            yield attachment, "attaches a managed policy to the runtime role: only its own inline policy may grant"
        for policy in s.linked(ROLE_POLICY, "role", role):
            document = _document(policy.get("policy"))
            if document is None:
                yield policy, "the role policy is not a JSON policy document"
                continue
            if not known(document):
                continue  # unknown during preview: nothing to check yet
            for st in document["Statement"]:
                for problem in _statement_problems(st, own):
                    yield policy, problem


# --- running them --------------------------------------------------------------------------


def evaluate(stack: Stack) -> list[Finding]:
    """Every rule on one stack, each violation at the rule's level for the stack's type."""
    return [finding for r in RULES for finding in r.run(stack)]
