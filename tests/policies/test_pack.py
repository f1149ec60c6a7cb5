"""The policy pack: every rule passes on compliant input and reports each violation it can,
AWSGuard-style (start from the compliant prod plan, change one property, assert the violation);
the same rules through CrossGuard's own types, with unknown preview values; and envctl check."""

from __future__ import annotations

import copy
import json
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envctl.cli import app
from policies import pack, rules
from policies.contracts import conventions
from tests.support.crossguard import policy_args, run_pack
from tests.support.policies import (
    Mutation,
    _drop,
    _fixed_final_snapshot,
    _option,
    _remove_key,
    _runtime,
    _set,
    findings,
    res,
)
from tests.support.program import CONFIRMED_PROD, ROOT, committed_plan, render_raw, runner


def test_every_rule_passes_on_the_compliant_prod_plan(prod_plan: dict[str, Any]) -> None:
    assert findings(prod_plan) == []
    assert len(rules.RULES) >= 25 and len({r.name for r in rules.RULES}) == len(rules.RULES)


def _unprotect(type_: str, suffix: str) -> Mutation:
    return lambda plan: res(plan, type_, suffix).update(protect=False)


def _provider(plan: dict[str, Any]) -> None:
    res(plan, conventions.BUCKET, "-files")["provider"] = None


def _provider_tags(plan: dict[str, Any]) -> None:
    del res(plan, conventions.AWS_PROVIDER)["inputs"]["defaultTags"]["tags"]["envstack:stack"]


def _wildcard_key_policy(plan: dict[str, Any]) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}
    res(plan, conventions.KMS_KEY)["inputs"]["policy"] = json.dumps(policy)


def _pin_minor_version(plan: dict[str, Any]) -> None:
    """The engine version as main pinned it, with no ignore_changes."""
    res(plan, conventions.CLUSTER)["inputs"]["engineVersion"] = "16.6"
    res(plan, conventions.CLUSTER)["ignoreChanges"] = []


def _statement(sid: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda doc: next(st for st in doc["Statement"] if st["Sid"] == sid)


FILES, USERS, DATA_API = _statement("FilesBucket"), _statement("Users"), _statement("TablesDataApi")
OTHER_POOL = "arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/ap-northeast-2_OtherPool"
OTHER_CLUSTER = "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod"


def _attach_managed_policy(plan: dict[str, Any]) -> None:
    role = res(plan, conventions.ROLE, "runtime")
    plan["resources"].append(
        {
            "name": "extra-attachment",
            "type": conventions.ROLE_POLICY_ATTACHMENT,
            "parent": None,
            "provider": role["provider"],
            "inputs": {"role": f"{role['name']}-id", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            "protect": False,
            "retainOnDelete": False,
            "dependsOn": [role["name"]],
            "propertyDependencies": {"role": [role["name"]]},  # as the renderer records it
        }
    )


RUNTIME_CASES: list[tuple[str, Mutation, str]] = [
    (
        "runtime-role-own-resources",
        _runtime(lambda d: FILES(d).update(Resource=["arn:aws:s3:::envstack-staging-files-0000000"])),
        "grants access to arn:aws:s3:::envstack-staging-files-0000000, which is not one of this environment's resources",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: USERS(d).update(Resource=[OTHER_POOL])),
        f"grants access to {OTHER_POOL}, which is not one of this environment's resources",
    ),
    ("runtime-role-own-resources", _runtime(lambda d: USERS(d).update(Resource="*")), "grants a wildcard resource '*'"),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: FILES(d).update(Resource=["arn:aws:s3:::envstack-*"])),
        "grants a wildcard resource 'arn:aws:s3:::envstack-*'",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: _statement("FilesObjects")(d).update(Resource=["arn:aws:s3:::someone-else/*"])),
        "grants access to arn:aws:s3:::someone-else/*, the objects of a bucket that is not this environment's",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: DATA_API(d)["Action"].append("rds:DeleteDBCluster")),
        "grants rds:DeleteDBCluster on the shared cluster arn:aws:rds:ap-northeast-2:123456789012:cluster:prod-main: only rds-data: actions may name it",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: DATA_API(d).update(Resource=[OTHER_CLUSTER])),
        "grants rds-data:BatchExecuteStatement, rds-data:BeginTransaction, rds-data:CommitTransaction, rds-data:ExecuteStatement, rds-data:RollbackTransaction on arn:aws:rds:ap-northeast-2:123456789012:cluster:shared-nonprod, which is not the environment's cluster",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: USERS(d).update(Action="cognito-idp:*")),
        "grants a wildcard action 'cognito-idp:*'",
    ),
    ("runtime-role-own-resources", _runtime(lambda d: USERS(d).update(Action="*")), "grants a wildcard action '*'"),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: USERS(d)["Action"].append("iam:PassRole")),
        "grants iam:PassRole: a runtime role never manages identities",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: USERS(d)["Action"].append("sts:AssumeRole")),
        "grants sts:AssumeRole: a runtime role never manages identities",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: USERS(d).update(NotResource=USERS(d).pop("Resource"))),
        "grants with NotResource, which reaches everything not listed",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: d["Statement"][0].update(Principal="*"), "assumeRolePolicy", conventions.ROLE),
        "the trust policy allows a wildcard principal",
    ),
    (
        "runtime-role-own-resources",
        _runtime(lambda d: d["Statement"][0].update(Principal={"AWS": ["*"]}), "assumeRolePolicy", conventions.ROLE),
        "the trust policy allows a wildcard principal",
    ),
    (
        "runtime-role-own-resources",
        _attach_managed_policy,
        "attaches a managed policy to the runtime role: only its own inline policy may grant",
    ),
    (
        "runtime-role-own-resources",
        _set(conventions.ROLE, "runtime", "managedPolicyArns", value=["arn:aws:iam::aws:policy/AdministratorAccess"]),
        "grants through managed or inline policies on the role, outside its checked role policy",
    ),
    (
        "runtime-role-own-resources",
        _set(conventions.ROLE_POLICY, "runtime-policy", "policy", value="{oops"),
        "the role policy is not a JSON policy document",
    ),
]

SSE_DEFAULT = ("rules", 0, "applyServerSideEncryptionByDefault")
CASES: list[tuple[str, Mutation, str]] = [
    (
        "s3-public-access-block",
        _drop(conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block"),
        "no public access block",
    ),
    (
        "s3-public-access-block",
        _set(conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block", "blockPublicAcls", value=False),
        "public access block leaves blockPublicAcls off",
    ),
    (
        "s3-ownership-enforced",
        _set(conventions.OWNERSHIP, "files-ownership", "rule", "objectOwnership", value="ObjectWriter"),
        "object ownership is not BucketOwnerEnforced",
    ),
    (
        "s3-ownership-enforced",
        _drop(conventions.OWNERSHIP, "files-ownership"),
        "object ownership is not BucketOwnerEnforced",
    ),
    ("s3-kms-encryption", _drop(conventions.SSE, "files-encryption"), "no default encryption configuration"),
    (
        "s3-kms-encryption",
        _set(conventions.SSE, "files-encryption", *SSE_DEFAULT, "sseAlgorithm", value="AES256"),
        "default encryption is AES256, expected aws:kms",
    ),
    (
        "s3-deny-insecure-transport",
        _set(conventions.BUCKET_POLICY, "files-policy", "policy", value=json.dumps({"Statement": []})),
        "no bucket policy denies requests without TLS (aws:SecureTransport = false)",
    ),
    (
        "s3-versioning",
        _set(conventions.VERSIONING, "", "versioningConfiguration", "status", value="Suspended"),
        "versioning is not enabled",
    ),
    ("s3-versioning", _drop(conventions.LIFECYCLE_CONFIGURATION), "no lifecycle rule expires noncurrent versions"),
    ("s3-access-logging", _drop(conventions.LOGGING), "server access logging is off"),
    (
        "s3-no-force-destroy",
        _set(conventions.BUCKET, "-files", "forceDestroy", value=True),
        "force_destroy is on: destroy would delete every file",
    ),
    (
        "customer-managed-keys",
        _remove_key(conventions.SSE, "files-encryption", *SSE_DEFAULT, "kmsMasterKeyId"),
        "encrypted with the AWS-managed key, not the environment's own key",
    ),
    (
        "customer-managed-keys",
        _set(conventions.SSE, "files-encryption", "rules", 0, "bucketKeyEnabled", value=False),
        "the S3 bucket key is off",
    ),
    (
        "customer-managed-keys",
        _remove_key(conventions.SECRET, "-api-key", "kmsKeyId"),
        "encrypted with the AWS-managed key, not the environment's own key",
    ),
    (
        "customer-managed-keys",
        _remove_key(conventions.CLUSTER, "", "kmsKeyId"),
        "encrypted with the AWS-managed key, not the environment's own key",
    ),
    ("kms-key-rotation", _set(conventions.KMS_KEY, "", "enableKeyRotation", value=False), "key rotation is off"),
    ("kms-key-rotation", _wildcard_key_policy, "the key policy allows a wildcard principal"),
    (
        "aurora-storage-encrypted",
        _set(conventions.CLUSTER, "", "storageEncrypted", value=False),
        "storage is not encrypted",
    ),
    (
        "aurora-iam-auth",
        _set(conventions.CLUSTER, "", "iamDatabaseAuthenticationEnabled", value=False),
        "IAM database authentication is off",
    ),
    (
        "aurora-copy-tags-to-snapshot",
        _set(conventions.CLUSTER, "", "copyTagsToSnapshot", value=False),
        "tags are not copied to snapshots",
    ),
    (
        "aurora-deletion-protection",
        _set(conventions.CLUSTER, "", "deletionProtection", value=False),
        "deletion protection is off on a shared cluster",
    ),
    (
        "aurora-backup-retention",
        _set(conventions.CLUSTER, "", "backupRetentionPeriod", value=7),
        "backups are kept 7 day(s), below 14",
    ),
    ("aurora-not-public", _set(conventions.INSTANCE, "", "publiclyAccessible", value=True), "publicly accessible"),
    (
        "aurora-auto-minor-version-upgrade",
        _set(conventions.INSTANCE, "", "autoMinorVersionUpgrade", value=False),
        "automatic minor version upgrades are off",
    ),
    (
        "aurora-performance-insights",
        _set(conventions.INSTANCE, "", "performanceInsightsEnabled", value=False),
        "Performance Insights is off",
    ),
    (
        "aurora-performance-insights",
        _remove_key(conventions.INSTANCE, "", "performanceInsightsKmsKeyId"),
        "Performance Insights is not encrypted with the environment's own key",
    ),
    (
        "aurora-log-export",
        _set(conventions.CLUSTER, "", "enabledCloudwatchLogsExports", value=[]),
        "the postgresql log is not exported",
    ),
    (
        "cognito-mfa",
        _set(conventions.USER_POOL, "", "mfaConfiguration", value="OPTIONAL"),
        "MFA is OPTIONAL; allowed: ON",
    ),
    (
        "cognito-threat-protection",
        _remove_key(conventions.USER_POOL, "", "userPoolAddOns"),
        "threat protection is not ENFORCED",
    ),
    (
        "cognito-password-policy",
        _set(conventions.USER_POOL, "", "passwordPolicy", "minimumLength", value=8),
        "minimum password length 8, below 12",
    ),
    (
        "cognito-password-policy",
        _set(conventions.USER_POOL, "", "passwordPolicy", "requireSymbols", value=False),
        "the password policy does not require requireSymbols",
    ),
    (
        "cognito-deletion-protection",
        _set(conventions.USER_POOL, "", "deletionProtection", value="INACTIVE"),
        "deletion protection is INACTIVE",
    ),
    (
        "secret-recovery-window",
        _set(conventions.SECRET, "-api-key", "recoveryWindowInDays", value=7),
        "recovery window is 7 days, below 30",
    ),
    ("prod-stateful-protected", _unprotect(conventions.BUCKET, "-files"), "stateful resource without protect"),
    ("prod-stateful-protected", _unprotect(conventions.SCHEMA_ROLE, ""), "stateful resource without protect"),
    ("explicit-regional-provider", _provider, "uses the default provider, not the explicit regional one"),
    ("explicit-regional-provider", _provider_tags, "its provider does not tag envstack:stack"),
    (
        "no-cross-environment-names",
        _set(conventions.SECRET, "-api-key", "description", value="copy of envstack-dev-files"),
        "refers to another environment's resource: 'envstack-dev-files'",
    ),
    (
        "no-cross-environment-names",
        _set(conventions.SCHEMA_ROLE, "", "schema", value="env_staging"),
        "refers to another environment's resource: 'env_staging'",
    ),
    (
        "api-key-is-publishable",
        _set(
            conventions.SECRET_VERSION, "api-key-version", "secretString", value=json.dumps({"apiKey": "sk_live_123"})
        ),
        "the API key secret does not hold a pk_ publishable key",
    ),
    ("api-key-is-publishable", _drop(conventions.SECRET_VERSION, "api-key-version"), "the API key secret has no value"),
    (
        "api-key-is-publishable",
        _remove_key(conventions.SECRET, "-api-key", "tags"),
        "no secret is tagged envstack:purpose=api-key",
    ),
    (
        "unique-final-snapshot",
        _fixed_final_snapshot,
        "fixed final snapshot identifier 'prod-main-final': a second destroy fails once it exists",
    ),
    (
        "unique-final-snapshot",
        _remove_key(conventions.CLUSTER, "", "finalSnapshotIdentifier"),
        "takes a final snapshot but names none: destroy fails",
    ),
    (
        "no-pinned-minor-engine-version",
        _pin_minor_version,
        "engine version 16.6 pins a minor that AWS upgrades: the next update fails",
    ),
    (
        "fixed-name-delete-before-replace",
        _option(conventions.CLUSTER, "", deleteBeforeReplace=False),
        "fixed clusterIdentifier 'prod-main' without delete_before_replace: a replacement fails with AlreadyExists",
    ),
    (
        "fixed-name-delete-before-replace",
        _option(conventions.INSTANCE, "", deleteBeforeReplace=False),
        "fixed identifier 'prod-main-writer' without delete_before_replace: a replacement fails with AlreadyExists",
    ),
    (
        "fixed-name-delete-before-replace",
        _option(conventions.KMS_ALIAS, "", deleteBeforeReplace=False),
        "fixed name 'alias/envstack-prod' without delete_before_replace: a replacement fails with AlreadyExists",
    ),
    (
        "kms-key-outlives-its-data",
        _option(conventions.KMS_KEY, "", retainOnDelete=False),
        "not retained on delete, yet envstack-prod-api-key, envstack-prod-provisioner-credentials, envstack-prod-tables-credentials, prod-main outlive destroy encrypted with it",
    ),
    *RUNTIME_CASES,
]


@pytest.mark.parametrize(("rule", "mutate", "message"), CASES, ids=[f"{c[0]}:{c[2][:30]}" for c in CASES])
def test_each_violation_is_reported_on_a_one_property_change(
    prod_plan: dict[str, Any], rule: str, mutate: Mutation, message: str
) -> None:
    plan = copy.deepcopy(prod_plan)
    mutate(plan)
    hits = [f for f in findings(plan) if f.rule == rule]
    assert hits, f"{rule} reported nothing"
    assert message in [f.message for f in hits]  # the whole message: users read it to know what to fix
    assert all(f.level == "mandatory" for f in hits)  # prod


def test_every_rule_has_a_failing_case() -> None:
    assert {r.name for r in rules.RULES} - {c[0] for c in CASES} == {"no-cluster-in-custom"}  # tested below


def test_a_custom_environment_creating_a_cluster_is_refused_everywhere(prod_plan: dict[str, Any]) -> None:
    preview = render_raw(
        {"envstack:type": "custom", "envstack:cluster": {"name": "shared-nonprod", "stack": "acme/envstack/staging"}},
        stack="pr-5",
    ).to_json()
    assert not [f for f in findings(preview) if f.level == "mandatory"]
    preview["resources"].append(copy.deepcopy(res(prod_plan, conventions.CLUSTER)))
    hits = [f for f in findings(preview) if f.rule == "no-cluster-in-custom"]
    assert hits and hits[0].level == "mandatory"


@pytest.mark.parametrize(
    ("kind", "env_type", "level"),
    [
        (rules.UNIVERSAL, "prod", "mandatory"),
        (rules.UNIVERSAL, "staging", "mandatory"),
        (rules.UNIVERSAL, "dev", "advisory"),
        (rules.UNIVERSAL, "custom", "advisory"),
        (rules.PROD, "prod", "mandatory"),
        (rules.PROD, "staging", "advisory"),
        (rules.PROD, "dev", "advisory"),
        (rules.INVARIANT, "custom", "mandatory"),
        (rules.INVARIANT, "dev", "mandatory"),
        (rules.PROD, None, "mandatory"),
    ],
)
def test_enforcement_by_environment_type(kind: str, env_type: str | None, level: str) -> None:
    rule = rules.Rule("x", kind, "", "", lambda s: iter(()))
    assert rule.level(env_type) == level


def test_the_type_comes_from_the_provider_default_tags(prod_plan: dict[str, Any]) -> None:
    model = rules.from_plan(prod_plan)
    assert (model.env, model.env_type) == ("prod", "prod")
    dev_like = copy.deepcopy(prod_plan)
    res(dev_like, conventions.AWS_PROVIDER)["inputs"]["defaultTags"]["tags"]["envstack:type"] = "dev"
    res(dev_like, conventions.BUCKET, "-files")["inputs"]["forceDestroy"] = True
    assert {f.level for f in findings(dev_like) if f.rule == "s3-no-force-destroy"} == {"advisory"}


def test_confirmed_deletion_lifts_only_the_deletion_guards() -> None:
    confirmed = render_raw(CONFIRMED_PROD, stack="prod").to_json()
    assert findings(confirmed) == []
    model = rules.from_plan(confirmed)
    assert model.deletion_confirmed
    guards = {r.name for r in rules.RULES if r.deletion_guard}
    assert guards == {
        "s3-no-force-destroy",
        "aurora-deletion-protection",
        "cognito-deletion-protection",
        "prod-stateful-protected",
    }


# --- envctl check of a plan of another version --------------------------------------------------


def test_check_refuses_a_plan_of_another_schema_version_in_one_line(prod_plan: dict[str, Any], tmp_path: Path) -> None:
    old = {k: v for k, v in prod_plan.items() if k != "schemaVersion"}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    out = runner.invoke(app, ["check", "--plan", str(path)])
    assert out.exit_code == 2  # bad input, never a traceback (1) nor "violation found"
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"envctl: {path}: the plan has no schemaVersion; this envctl reads schemaVersion 2 only: "
        "re-render it with this envctl (`envctl plan STACK --format json`)"
    ]


# --- through CrossGuard's own types ----------------------------------------------------------


def test_the_pack_registers_each_rule_at_both_levels() -> None:
    names = [p.name for p in pack.policies()]
    assert len(names) == 2 * len(rules.RULES) == len(set(names))
    assert "s3-public-access-block" in names and "s3-public-access-block-advisory" in names


def test_the_pack_passes_the_compliant_prod_stack_and_names_the_rules_it_fails(prod_plan: dict[str, Any]) -> None:
    assert run_pack(policy_args(prod_plan)) == {}
    tampered = copy.deepcopy(prod_plan)
    _set(conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block", "blockPublicPolicy", value=False)(tampered)
    _unprotect(conventions.USER_POOL, "")(tampered)
    reported = run_pack(policy_args(tampered))
    assert set(reported) == {"s3-public-access-block", "prod-stateful-protected"}
    dev = committed_plan("dev")
    advisory = run_pack(policy_args(dev))
    assert advisory and all(name.endswith("-advisory") for name in advisory)


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (_option(conventions.CLUSTER, "", deleteBeforeReplace=False), "fixed-name-delete-before-replace"),
        (_pin_minor_version, "no-pinned-minor-engine-version"),
        (_fixed_final_snapshot, "unique-final-snapshot"),
    ],
)
def test_the_lifecycle_rules_see_what_crossguard_is_told(
    prod_plan: dict[str, Any], mutate: Mutation, rule: str
) -> None:
    plan = copy.deepcopy(prod_plan)
    mutate(plan)
    assert rule in run_pack(policy_args(plan))


@pytest.mark.parametrize(
    "adjust",
    [
        _option(conventions.CLUSTER, "", ignoreChanges=["engineVersion"]),
        lambda plan: [
            i["inputs"].update(autoMinorVersionUpgrade=False)
            for i in plan["resources"]
            if i["type"] == conventions.INSTANCE
        ],
    ],
    ids=["ignored", "no-auto-upgrade"],
)
def test_a_pinned_minor_passes_when_ignored_or_never_upgraded(prod_plan: dict[str, Any], adjust: Mutation) -> None:
    plan = copy.deepcopy(prod_plan)
    _pin_minor_version(plan)
    adjust(plan)
    assert not [f for f in findings(plan) if f.rule == "no-pinned-minor-engine-version"]


def test_a_cluster_without_a_final_snapshot_needs_no_unique_name() -> None:
    dev = committed_plan("dev")
    cluster = res(dev, conventions.CLUSTER)
    assert cluster["inputs"]["skipFinalSnapshot"] is True
    assert not [f for f in findings(dev) if f.rule == "unique-final-snapshot"]


def test_unknown_preview_values_do_not_crash_the_rules(prod_plan: dict[str, Any]) -> None:
    for plan in (prod_plan, committed_plan("dev"), committed_plan("staging")):
        reported = run_pack(policy_args(plan, unknown=True))
        # Nothing known is wrong, so nothing mandatory fires (the provider tags stay known).
        assert not {k for k in reported if not k.endswith("-advisory")}, reported


def test_the_pack_entrypoint_starts_under_the_real_sdk() -> None:
    """`pulumi preview --policy-pack policies` runs policies/__main__.py, which serves the pack
    over gRPC and prints its port; a broken rule name or import would fail before that."""
    proc = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the policy pack printed nothing within 60 s"
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait()


# --- envctl check --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_check_passes_every_mandatory_rule_on_the_committed_stacks(stack: str) -> None:
    out = runner.invoke(app, ["check", stack, "--format", "json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["stack"] == stack and result["type"] == stack
    assert not [f for f in result["findings"] if f["level"] == "mandatory"]


def test_check_plan_fails_a_tampered_prod_plan_with_the_rule_names(prod_plan: dict[str, Any], tmp_path: Path) -> None:
    tampered = copy.deepcopy(prod_plan)
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        res(tampered, conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block")["inputs"][flag] = False
    for r in tampered["resources"]:
        r["protect"] = False
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(tampered))
    out = runner.invoke(app, ["check", "--plan", str(path), "--format", "json"])
    assert out.exit_code == 1
    rules_hit = {f["rule"] for f in json.loads(out.stdout)["findings"] if f["level"] == "mandatory"}
    assert rules_hit == {"s3-public-access-block", "prod-stateful-protected"}
    text = runner.invoke(app, ["check", "--plan", str(path)])
    assert text.exit_code == 1 and "s3-public-access-block" in text.stdout and "MANDATORY" in text.stdout


def test_check_plan_always_reads_a_file_whatever_its_name(
    prod_plan: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("saved-plan").write_text(json.dumps(prod_plan))  # no .json, no `/`: still a file, never a stack
    out = runner.invoke(app, ["check", "--plan", "saved-plan", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stack"] == "prod"


def test_check_usage_errors() -> None:
    assert runner.invoke(app, ["check"]).exit_code == 2
    assert runner.invoke(app, ["check", "dev", "--plan", "x.json"]).exit_code == 2
    out = runner.invoke(app, ["check", "nope"])
    assert out.exit_code == 2 and "unknown stack 'nope'" in out.stderr


def test_the_policies_doc_lists_every_rule_with_its_levels() -> None:
    table = runner.invoke(app, ["rules", "--format", "markdown"]).stdout
    assert len(table.splitlines()) == len(rules.RULES) + 2
    assert table in (ROOT / "docs" / "policies.md").read_text(), (
        "docs/policies.md rules table is stale: paste `envctl rules -f markdown`"
    )


def test_lifecycle_rules_are_of_the_lifecycle_kind_not_a_type_token() -> None:
    lifecycle = {r.name for r in rules.RULES if r.kind == rules.LIFECYCLE}
    assert rules.LIFECYCLE == "lifecycle"
    assert lifecycle == {
        "unique-final-snapshot",
        "no-pinned-minor-engine-version",
        "fixed-name-delete-before-replace",
        "kms-key-outlives-its-data",
    }
