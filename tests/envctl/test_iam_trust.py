"""`envctl iam-policy ROLE --trust`: the subjects each CI role trusts, and that no role a pull
request's own code can assume reaches staging's or prod's secrets or prod's key.

The second part is evaluated by moto's IAM policy engine (moto.iam.access_control) on the
permission documents `envctl iam-policy ROLE` prints, with each rendered resource's ARN and its
stack's tags: evaluation only. Which subjects a branch can obtain is GitHub's setting (the
environments' deployment branch policies), recorded in iam_trust.Subject.branch_code; and
whether AWS accepts a token is AWS's: neither can be checked here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.iam.access_control import IAMPolicy, PermissionResult

from components.aws_facts import region_partition as partition
from envctl import iam, iam_trust
from envctl.cli import app
from envctl.errors import UsageError
from envctl.plan import Rendering
from policies.contracts import conventions, names
from tests.support.checks import each
from tests.support.program import ROOT, committed, runner

REPO = "acme/shop"
ACCOUNT = "123456789012"
SUB = "token.actions.githubusercontent.com:sub"


def trust(role: str, *extra: str) -> dict[str, Any]:
    out = runner.invoke(app, ["iam-policy", role, "--trust", "--repository", REPO, "--account", ACCOUNT, *extra])
    assert out.exit_code == 0, out.output
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def trusted_subjects(role: str) -> list[str]:
    (statement,) = trust(role)["Statement"]
    subjects: list[str] = statement["Condition"]["StringEquals"][SUB]
    return subjects


@pytest.mark.parametrize(
    ("role", "subjects"),
    [
        (
            "deploy",
            ["repo:acme/shop:environment:dev", "repo:acme/shop:environment:prod", "repo:acme/shop:environment:staging"],
        ),
        ("preview", ["repo:acme/shop:environment:pr-preview"]),
        ("drift", ["repo:acme/shop:environment:drift"]),
    ],
)
def test_each_role_trusts_exactly_its_github_environments(role: str, subjects: list[str]) -> None:
    assert trusted_subjects(role) == subjects


@pytest.mark.parametrize("role", iam.ROLES)
def test_the_trust_is_githubs_oidc_provider_with_exact_conditions(role: str) -> None:
    doc = trust(role)
    assert doc["Version"] == "2012-10-17"
    (statement,) = doc["Statement"]
    assert set(statement) == {"Sid", "Effect", "Principal", "Action", "Condition"}
    assert statement["Sid"] == "GitHubActions"
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    # StringEquals only: no wildcard subject, no StringLike that a branch could widen.
    assert set(statement["Condition"]) == {"StringEquals"}
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert all("*" not in s and "?" not in s for s in condition[SUB])


def test_no_two_roles_share_a_subject() -> None:
    """A job's token names one environment: it can assume one role, never deploy and preview."""
    every = [s for role in iam.ROLES for s in trusted_subjects(role)]
    assert len(each(every, "subject", at_least=5)) == len(set(every))


def test_no_role_trusts_a_pull_request_event_or_a_branch() -> None:
    """Only environments: a `pull_request` or `ref:` subject would hold for every job of that
    event or branch, whatever environment (and whatever secrets) it runs with."""
    for role in iam.ROLES:
        for subject in trusted_subjects(role):
            assert subject.startswith(f"repo:{REPO}:environment:"), subject


def test_only_the_preview_role_is_open_to_branch_code() -> None:
    assert iam_trust.branch_code_roles() == ["preview"]
    assert [s.claim for s in iam_trust.subjects("preview") if s.branch_code] == ["environment:pr-preview"]
    closed = [s.branch_code for role in ("deploy", "drift") for s in iam_trust.subjects(role)]
    assert all(flag is False for flag in each(closed, "subject of a main-only role", at_least=4))


def test_immutable_subject_claims_are_taken_as_given() -> None:
    out = runner.invoke(
        app, ["iam-policy", "drift", "--trust", "--repository", "acme@123/shop.api@456", "--account", ACCOUNT]
    )
    assert out.exit_code == 0, out.output
    (statement,) = json.loads(out.stdout)["Statement"]
    assert statement["Condition"]["StringEquals"][SUB] == ["repo:acme@123/shop.api@456:environment:drift"]


def test_the_repository_and_account_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSTACK_GITHUB_REPOSITORY", "octo/repo")
    monkeypatch.setenv("ENVSTACK_AWS_ACCOUNT", "210987654321")
    out = runner.invoke(app, ["iam-policy", "preview", "--trust"])
    assert out.exit_code == 0, out.output
    (statement,) = json.loads(out.stdout)["Statement"]
    assert statement["Principal"]["Federated"].startswith("arn:aws:iam::210987654321:oidc-provider/")
    assert statement["Condition"]["StringEquals"][SUB] == ["repo:octo/repo:environment:pr-preview"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", ACCOUNT], "envctl: --repository is required with --trust; allowed: OWNER/REPO, or "),
        (["--repository", "acme", "--account", ACCOUNT], "envctl: --repository: 'acme' is not a GitHub repository"),
        (["--repository", "acme@1/shop", "--account", ACCOUNT], "'acme@1/shop' is not a GitHub repository"),
        (["--repository", "acme/shop@1", "--account", ACCOUNT], "'acme/shop@1' is not a GitHub repository"),
        (["--repository", "-acme/shop", "--account", ACCOUNT], "'-acme/shop' is not a GitHub repository"),
        (["--repository", "ac--me/shop", "--account", ACCOUNT], "'ac--me/shop' is not a GitHub repository"),
        (["--repository", "acme/sh*p", "--account", ACCOUNT], "'acme/sh*p' is not a GitHub repository"),
        (["--repository", "acme/shop:x", "--account", ACCOUNT], "'acme/shop:x' is not a GitHub repository"),
        (["--repository", REPO], "envctl: --account: missing; allowed: the 12-digit AWS account id"),
        (["--repository", REPO, "--account", "12345678901"], "envctl: --account: '12345678901'; allowed: the 12-digit"),
        (["--repository", REPO, "--account", "1234567890123"], "--account: '1234567890123'; allowed"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    out = runner.invoke(app, ["iam-policy", "deploy", "--trust", *args])
    assert out.exit_code == 2, out.output
    assert out.output.count("\n") == 1 and message in out.output, out.output


def test_owner_and_repository_names_at_githubs_limits_are_accepted() -> None:
    owner = "a" + "-b" * 19  # 39 characters
    assert iam_trust.check_repository(f"{owner}/{'r' * 100}") == f"{owner}/{'r' * 100}"
    for bad in (owner + "c/r", f"o/{'r' * 101}", "o-/r", "o/"):
        with pytest.raises(UsageError):
            iam_trust.check_repository(bad)


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown role 'admin'; allowed: deploy, preview, drift"):
        iam_trust.subjects("admin")
    out = runner.invoke(app, ["iam-policy", "admin", "--trust", "--repository", REPO, "--account", ACCOUNT])
    assert out.exit_code == 2 and "unknown role 'admin'" in out.output


def _stacks(tmp_path: Path, regions: dict[str, str]) -> None:
    """The committed project with each stack moved to `regions`: the project-wide defaults
    (Pulumi.yaml) in the partition of dev's region, and a stack in another partition with those
    ARN-valued keys of its own partition, as such a project would have to hold them."""
    project = (ROOT / "Pulumi.yaml").read_text()
    home = partition(regions["dev"])
    (tmp_path / "Pulumi.yaml").write_text(project.replace("arn:aws:", f"arn:{home}:"))
    defaults = yaml.safe_load(project)["config"]
    for stack, region in regions.items():
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text().replace("ap-northeast-2", region)
        text = text.replace("arn:aws:", f"arn:{partition(region)}:")
        if partition(region) != home:
            own = {key: value for key, value in defaults.items() if key not in yaml.safe_load(text)["config"]}
            text += yaml.safe_dump({"config": own}).replace("arn:aws:", f"arn:{partition(region)}:").split("\n", 1)[1]
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)


def test_arns_follow_the_stacks_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stacks(tmp_path, {"dev": "cn-north-1", "staging": "cn-north-1", "prod": "cn-northwest-1"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    (statement,) = trust("deploy")["Statement"]
    assert statement["Principal"]["Federated"] == (
        f"arn:aws-cn:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    )


def test_stacks_in_two_partitions_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stacks(tmp_path, {"dev": "us-gov-west-1", "staging": "ap-northeast-2", "prod": "ap-northeast-2"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    out = runner.invoke(app, ["iam-policy", "drift", "--trust", "--repository", REPO, "--account", ACCOUNT])
    assert out.exit_code == 2
    assert "the committed stacks span partitions aws, aws-us-gov; allowed: one" in out.output


def test_a_stack_config_the_program_refuses_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stacks(tmp_path, {"dev": "ap-northeast-2", "staging": "ap-northeast-2", "prod": "ap-northeast-2"})
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: ap-northeast-2\n  envstack:type: nope\n")
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    out = runner.invoke(app, ["iam-policy", "drift", "--trust", "--repository", REPO, "--account", ACCOUNT])
    assert out.exit_code == 2 and 'envstack:type: got "nope"' in out.output, out.output


def test_a_generated_preview_stack_file_is_never_a_deploy_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stacks(tmp_path, {"dev": "ap-northeast-2", "staging": "ap-northeast-2", "prod": "ap-northeast-2"})
    (tmp_path / "Pulumi.pr-7.yaml").write_text("config:\n  aws:region: ap-northeast-2\n  envstack:type: custom\n")
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    assert [s.claim for s in iam_trust.subjects("deploy")] == [
        "environment:dev",
        "environment:prod",
        "environment:staging",
    ]


# --- what a role open to branch code may reach, evaluated by moto on the printed documents ---


def permission_document(role: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [st for p in iam.policy(role) for st in p["Statement"]]})


def tags_of(rendering: Rendering) -> dict[str, str]:
    (provider,) = rendering.by_type(conventions.AWS_PROVIDER)
    return {f"aws:ResourceTag/{k}": v for k, v in provider.inputs["defaultTags"]["tags"].items()}


SECRET_READS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue")
KEY_USES = ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:CreateGrant", "kms:ReEncryptFrom")


def reached(doc: str, rendering: Rendering) -> list[str]:
    """Each (action, ARN) on the rendering's own secrets and keys that moto's engine allows."""
    policy = IAMPolicy(doc)
    found = []
    context = tags_of(rendering)
    secrets = [r.arn for r in rendering.by_type(conventions.SECRET) if r.arn]
    keys = [r.arn for r in rendering.by_type(conventions.KMS_KEY) if r.arn]
    for arn in each(secrets, f"secret of {rendering.config.name}"):
        for action in SECRET_READS:
            if policy.is_action_permitted(action, arn, None, context) == PermissionResult.PERMITTED:
                found.append(f"{action} on {arn}")
    for arn in keys:
        for action in KEY_USES:
            if policy.is_action_permitted(action, arn, None, context) == PermissionResult.PERMITTED:
                found.append(f"{action} on {arn}")
    return found


@pytest.fixture(scope="module")
def long_lived() -> dict[str, Rendering]:
    return {stack: committed(stack) for stack in ("staging", "prod")}


def test_no_role_open_to_branch_code_reaches_staging_or_prod_secrets_or_prods_key(
    long_lived: dict[str, Rendering],
) -> None:
    """Only the shared cluster's provisioner secret, staging's by design (docs/tables.md: the
    provisioner reaches no schema it did not create), and nothing else of staging's or prod's."""
    assert long_lived["prod"].by_type(conventions.KMS_KEY), "prod has its own key"
    provisioner = f":secret:{names.provisioner_secret_name('shared-nonprod')}-"
    for role in each(iam_trust.branch_code_roles(), "role open to branch code"):
        doc = permission_document(role)
        for stack, rendering in long_lived.items():
            found = reached(doc, rendering)
            assert [r for r in found if provisioner not in r] == [], (role, stack)
            expected = ["secretsmanager:GetSecretValue"] if stack == "staging" else []
            assert [r.split(" on ")[0] for r in found] == expected, (role, stack, found)


def test_the_evaluation_can_see_a_grant(long_lived: dict[str, Rendering]) -> None:
    """The same evaluation of the deploy document finds prod's secrets and key: the empty result
    above is the preview role's scoping, not a blind check. drift only describes secrets: it
    reads no value and decrypts nothing (docs/iam.md)."""
    prod = long_lived["prod"]
    deploy = reached(permission_document("deploy"), prod)
    assert any(r.startswith("secretsmanager:GetSecretValue on ") for r in deploy)
    assert any(r.startswith("kms:Decrypt on ") for r in deploy)
    drift = reached(permission_document("drift"), prod)
    assert drift and all(r.startswith("secretsmanager:DescribeSecret on ") for r in drift), drift
