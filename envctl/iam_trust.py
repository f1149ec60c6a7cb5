"""`envctl iam-policy ROLE --trust`: who may assume each CI role, as an IAM trust policy for
GitHub's OIDC provider.

GitHub puts one subject (`sub`) in a job's OIDC token, chosen by the job, in this order
(GitHub's OpenID Connect reference, "Example subject claims"):
- `repo:<repository>:environment:<name>` when the job names a GitHub environment;
- else `repo:<repository>:pull_request` for a `pull_request` event;
- else `repo:<repository>:ref:<ref>` (a branch or tag).
`<repository>` is `owner/repo`, or `owner@<owner id>/repo@<repo id>` for repositories that emit
immutable subject claims (github/docs#45221; Microsoft Learn, "Migrate GitHub Actions federated
credentials to immutable subjects"): pass the repository in the form its tokens carry.

Each role therefore trusts GitHub environments only, by exact name (StringEquals, no wildcard):
- deploy: the environments of the committed stacks (`dev`, `staging`, `prod`), which
  deploy-stack.yml names after the stack;
- preview: the environment `pr-preview` of the pull-request jobs (pr-environment.yml) and the
  sweep (sweep.yml);
- drift: the environment `drift` of the scheduled refresh (drift.yml).

A token's subject says which environment a job named, not which branch ran it: any job may name
any environment, and GitHub refuses to run it only where the environment's deployment branch
policy says so. So which subjects a pull request's own code can obtain is a GitHub setting,
recorded here (Subject.branch_code) so that tests can hold the roles those subjects reach to
pull-request environments. docs/previews.md lists the settings; nothing here can check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.aws_facts import region_partition
from components.config import parse_config
from components.config_errors import ConfigError
from envctl import pr
from envctl.errors import UsageError
from envctl.iam import ROLES, VERSION
from envctl.stackfiles import committed_stacks, read_stack_config

ISSUER = "token.actions.githubusercontent.com"
# What aws-actions/configure-aws-credentials asks GitHub for by default; the provider's client
# ID list and every trust policy must name the same value, in every partition.
AUDIENCE = "sts.amazonaws.com"
PR_ENVIRONMENT = "pr-preview"  # pull-request jobs and the sweep: open to every branch
DRIFT_ENVIRONMENT = "drift"  # the scheduled refresh: restricted to main

# GitHub's rules: an owner is alphanumerics and single hyphens (at most 39 characters), a
# repository name alphanumerics, `.`, `_` and `-`; immutable ids are positive integers.
REPOSITORY = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?P<owner_id>@[1-9][0-9]*)?"
    r"/[A-Za-z0-9._-]{1,100}(?P<repo_id>@[1-9][0-9]*)?$"
)
REPOSITORY_ALLOWED = "OWNER/REPO, or OWNER@OWNER_ID/REPO@REPO_ID for immutable subject claims"
ACCOUNT = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class Subject:
    """One `sub` a role accepts, after `repo:<repository>:`."""

    claim: str
    # Whether a pull request's own code can get a token with this subject: true for an
    # environment that every branch may use, false for one restricted to main.
    branch_code: bool


def subjects(role: str) -> tuple[Subject, ...]:
    """The subjects `role` trusts."""
    if role not in ROLES:
        raise UsageError(f"unknown role '{role}'; allowed: {', '.join(ROLES)}")
    if role == "deploy":
        # A generated Pulumi.pr-<n>.yaml left in the checkout is a preview, never a deployment.
        stacks = [stack for stack in committed_stacks() if not pr.PR_STACK.match(stack)]
        return tuple(Subject(f"environment:{stack}", False) for stack in stacks)
    if role == "preview":
        return (Subject(f"environment:{PR_ENVIRONMENT}", True),)
    return (Subject(f"environment:{DRIFT_ENVIRONMENT}", False),)


def branch_code_roles() -> list[str]:
    """The roles that a pull request's own code can assume."""
    return [role for role in ROLES if any(s.branch_code for s in subjects(role))]


def partition() -> str:
    """The one partition of the committed stacks' regions: an account's roles live in one."""
    try:
        found = {region_partition(parse_config(read_stack_config(s)[0], s).region) for s in committed_stacks()}
    except ConfigError as err:
        raise UsageError(str(err)) from None
    if len(found) != 1:
        raise UsageError(f"the committed stacks span partitions {', '.join(sorted(found))}; allowed: one")
    return found.pop()


def check_repository(repository: str | None) -> str:
    if not repository:
        raise UsageError(f"--repository is required with --trust; allowed: {REPOSITORY_ALLOWED}")
    match = REPOSITORY.match(repository)
    if match is None or bool(match["owner_id"]) != bool(match["repo_id"]):
        raise UsageError(f"--repository: '{repository}' is not a GitHub repository; allowed: {REPOSITORY_ALLOWED}")
    return repository


def check_account(account: str | None) -> str:
    if not account or not ACCOUNT.match(account):
        shown = f"'{account}'" if account else "missing"
        raise UsageError(f"--account: {shown}; allowed: the 12-digit AWS account id that holds the OIDC provider")
    return account


def trust_policy(role: str, repository: str | None, account: str | None) -> dict[str, Any]:
    """The trust policy of `role`: GitHub's OIDC provider in `account`, this audience, and
    exactly the subjects of `subjects(role)` for `repository`."""
    claims = [f"repo:{check_repository(repository)}:{s.claim}" for s in subjects(role)]
    provider = f"arn:{partition()}:iam::{check_account(account)}:oidc-provider/{ISSUER}"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:aud": AUDIENCE,
                        f"{ISSUER}:sub": claims,
                    }
                },
            }
        ],
    }
