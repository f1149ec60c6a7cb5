"""What a job that runs a pull request's code holds: no cloud credentials and no state secrets,
or only those of its own `pr-<n>` stack, in the GitHub environment that the preview role trusts
(envctl/iam_trust.py); or a dedicated environment with required reviewers (REVIEWED, empty
today: the cloud previews of dev, staging and prod were removed).

What this can and cannot catch: a pull request runs the workflow files of its own branch, so a
branch can rewrite any workflow and this test with it. It catches regressions made in good
faith. The controls that hold against a hostile branch are GitHub's and AWS's settings (the
environments' deployment branch policies and required reviewers, secrets kept out of the
repository level, each role's OIDC trust), listed in docs/previews.md; none of them can be read
from here. Required reviewers in particular are a setting of the environment, invisible in a
workflow file: the test sees only the `environment:` key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from envctl import iam, iam_trust
from tests.support.checks import each
from tests.support.program import ROOT

WORKFLOWS = {p.stem: p for p in sorted((ROOT / ".github" / "workflows").glob("*.yml"))}
BRANCH_EVENTS = {"pull_request", "pull_request_target", "workflow_run"}
# Environments with required reviewers that may run branch code against a long-lived stack:
# add one only with those reviewers set in GitHub, and trusted by no deploy role.
REVIEWED: frozenset[str] = frozenset()
PR_STACK = re.compile(r"envstack/pr-\$\{\{ github\.event\.pull_request\.number \}\}$")
STACK_NAME = re.compile(r"envstack/(?:\$\{\{[^}]*\}\}|[^\s\"'$])+")
SECRET = re.compile(r"secrets\.(?!GITHUB_TOKEN\b)(\w+)")


def load_text(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def triggers(doc: dict[Any, Any]) -> set[str]:
    on: Any = doc["on"] if "on" in doc else doc[True]  # YAML 1.1 reads a bare `on` as True
    return {on} if isinstance(on, str) else set(on)


def callers(workflows: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """The events that start each workflow, a reusable one inheriting its callers' events."""
    events = {name: triggers(doc) - {"workflow_call"} for name, doc in workflows.items()}
    for name, doc in workflows.items():
        for job in doc["jobs"].values():
            called = str(job.get("uses", ""))
            if called.startswith("./.github/workflows/"):
                events[Path(called).stem] |= events[name]
    return events


def runs_branch_code(job: dict[str, Any], events: set[str]) -> bool:
    """A job of a workflow a pull request starts, that checks out the code or calls a local
    workflow. Under pull_request_target checkout takes the base unless told to take the head."""
    if not events & BRANCH_EVENTS:
        return False
    if str(job.get("uses", "")).startswith("./"):
        return True
    for step in job.get("steps", []):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            ref = str(step.get("with", {}).get("ref", ""))
            if events != {"pull_request_target"} or "head" in ref:
                return True
    return False


def credentials(doc: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """What the job holds: an OIDC token (id-token: write), AWS credentials, secrets (GITHUB_TOKEN aside)."""
    held = []
    permissions = job.get("permissions", doc.get("permissions"))
    if isinstance(permissions, dict) and permissions.get("id-token") == "write":
        held.append("id-token: write")
    if permissions in ("write-all",) or job.get("secrets") == "inherit":
        held.append("every permission or secret")
    text = yaml.safe_dump({"env": doc.get("env"), "job": job})
    held += [f"secrets.{name}" for name in SECRET.findall(text)]
    held += ["AWS credentials" for step in job.get("steps", []) if "role-to-assume" in step.get("with", {})]
    return held


def violations(workflows: dict[str, dict[str, Any]]) -> list[str]:
    """Each job that runs branch code with credentials and reaches beyond its own pr-<n>."""
    found = []
    events = callers(workflows)
    for name, doc in workflows.items():
        for job_name, job in doc["jobs"].items():
            where = f"{name}.{job_name}"
            held = credentials(doc, job)
            if not runs_branch_code(job, events[name]) or not held:
                continue
            environment = job.get("environment")
            if environment in REVIEWED:
                continue
            if environment != iam_trust.PR_ENVIRONMENT:
                found.append(f"{where}: runs branch code with {', '.join(held)} outside {iam_trust.PR_ENVIRONMENT}")
            if "strategy" in job:
                found.append(f"{where}: a matrix of stacks")
            text = yaml.safe_dump({"env": doc.get("env"), "job": job}, width=1000)
            found += [f"{where}: targets {s}" for s in STACK_NAME.findall(text) if not PR_STACK.match(s)]
            found += [f"{where}: {word}" for word in ("PASSPHRASE", "ENVSTACK_CLUSTER_STACK") if word in text]
    return found


def committed() -> dict[str, dict[str, Any]]:
    return {name: load_text(path.read_text()) for name, path in WORKFLOWS.items()}


def test_no_job_that_runs_branch_code_reaches_beyond_its_own_preview() -> None:
    assert violations(committed()) == []


def test_the_check_sees_the_jobs_that_run_branch_code_with_credentials() -> None:
    """Not vacuous: the pull-request environment's two jobs are examined, and they hold credentials."""
    workflows = committed()
    events = callers(workflows)
    seen = [
        f"{name}.{job_name}"
        for name, doc in workflows.items()
        for job_name, job in doc["jobs"].items()
        if runs_branch_code(job, events[name]) and credentials(doc, job)
    ]
    assert each(seen, "job with branch code and credentials", at_least=2) == [
        "pr-environment.deploy",
        "pr-environment.destroy",
    ]
    # deploy-stack is reusable: it inherits deploy.yml's push, never a pull request's event.
    assert events["deploy-stack"] == {"push", "workflow_dispatch"}


# The preview job this repository had: the branch's program for dev, staging and prod
# with the state passphrase and a cloud role. Each variant must be caught.
OLD_PREVIEW = """
on:
  pull_request:
permissions: {}
jobs:
  preview:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      id-token: write
    strategy:
      matrix:
        stack: [dev, staging, prod]
    env:
      PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}
      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502
        with:
          role-to-assume: ${{ vars.AWS_PREVIEW_ROLE_ARN }}
      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d
        with:
          stack-name: org/envstack/${{ matrix.stack }}
"""


OLD_FOUND = [
    "pr-review.preview: runs branch code with id-token: write, secrets.PULUMI_ACCESS_TOKEN, "
    "secrets.PULUMI_CONFIG_PASSPHRASE, AWS credentials outside pr-preview",
    "pr-review.preview: a matrix of stacks",
    "pr-review.preview: targets envstack/${{ matrix.stack }}",
    "pr-review.preview: PASSPHRASE",
]


def test_the_old_preview_job_is_caught() -> None:
    found = violations({"pr-review": load_text(OLD_PREVIEW)})
    assert found == OLD_FOUND


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # the pull-request environment, but staging's stack
        (
            lambda t: (
                t.replace(
                    "    strategy:\n      matrix:\n        stack: [dev, staging, prod]\n",
                    "    environment: pr-preview\n",
                )
                .replace("${{ matrix.stack }}", "staging")
                .replace("      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n", "")
            ),
            ["pr-review.preview: targets envstack/staging"],
        ),
        # its own pr-<n>, but outside the pull-request environment (repository-level secrets)
        (
            lambda t: (
                t.replace("    strategy:\n      matrix:\n        stack: [dev, staging, prod]\n", "")
                .replace("${{ matrix.stack }}", "pr-${{ github.event.pull_request.number }}")
                .replace("      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n", "")
            ),
            [
                "pr-review.preview: runs branch code with id-token: write, secrets.PULUMI_ACCESS_TOKEN, "
                "AWS credentials outside pr-preview"
            ],
        ),
        # a deploy environment: GitHub's branch policy should refuse it, and so does this test
        (
            lambda t: (
                t.replace(
                    "    strategy:\n      matrix:\n        stack: [dev, staging, prod]\n", "    environment: prod\n"
                )
                .replace("${{ matrix.stack }}", "prod")
                .replace("      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n", "")
            ),
            [
                "pr-review.preview: runs branch code with id-token: write, secrets.PULUMI_ACCESS_TOKEN, "
                "AWS credentials outside pr-preview",
                "pr-review.preview: targets envstack/prod",
            ],
        ),
        # pull_request_target checking out the head
        (
            lambda t: t.replace("  pull_request:\n", "  pull_request_target:\n").replace(
                "checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n",
                "checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
                "        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n",
            ),
            OLD_FOUND,
        ),
    ],
)
def test_each_regression_is_caught(change: Any, expected: list[str]) -> None:
    assert violations({"pr-review": load_text(change(OLD_PREVIEW))}) == expected


def test_what_is_no_branch_code_or_holds_nothing_passes() -> None:
    # pull_request_target without the head checks out the base: not the branch's code.
    base_only = OLD_PREVIEW.replace("  pull_request:\n", "  pull_request_target:\n")
    assert violations({"x": load_text(base_only)}) == []
    # A push to main runs reviewed code.
    assert violations({"x": load_text(OLD_PREVIEW.replace("  pull_request:\n", "  push:\n"))}) == []
    # Branch code with nothing to steal: the offline review.
    offline = (
        "on:\n  pull_request:\njobs:\n  offline:\n    permissions:\n      contents: read\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
    )
    assert violations({"x": load_text(offline)}) == []


def test_a_reusable_workflow_called_from_a_pull_request_inherits_its_event() -> None:
    caller = "on:\n  pull_request:\njobs:\n  call:\n    uses: ./.github/workflows/deploy-stack.yml\n"
    workflows = {**committed(), "caller": load_text(caller)}
    assert callers(workflows)["deploy-stack"] >= {"pull_request"}
    assert (
        "deploy-stack.up: runs branch code with id-token: write, secrets.PULUMI_ACCESS_TOKEN, "
        "secrets.PULUMI_CONFIG_PASSPHRASE, AWS credentials outside pr-preview" in violations(workflows)
    )


def test_the_pr_jobs_use_the_environment_the_preview_role_trusts() -> None:
    workflows = committed()
    trusted = {s.claim.removeprefix("environment:") for s in iam_trust.subjects("preview")}
    for name, job_name in (("pr-environment", "deploy"), ("pr-environment", "destroy"), ("sweep", "sweep")):
        job = workflows[name]["jobs"][job_name]
        assert job["environment"] in trusted, (name, job_name)
        (step,) = [s for s in job["steps"] if "role-to-assume" in s.get("with", {})]
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_PR_ROLE_ARN }}"


def test_deploy_and_drift_run_in_the_environments_their_roles_trust() -> None:
    workflows = committed()
    deploy_envs = {s.claim.removeprefix("environment:") for s in iam_trust.subjects("deploy")}
    assert set(workflows["deploy"]["jobs"]) == deploy_envs  # one job per environment, named after it
    assert workflows["deploy-stack"]["jobs"]["up"]["environment"] == "${{ inputs.stack }}"
    drift = workflows["drift"]["jobs"]["refresh"]
    assert [f"environment:{drift['environment']}"] == [s.claim for s in iam_trust.subjects("drift")]
    assert set(drift["strategy"]["matrix"]["stack"]) == deploy_envs
    assert set(iam.ROLES) == {"deploy", "preview", "drift"}  # every role has its workflow above


def test_no_workflow_previews_a_long_lived_stack_in_the_cloud() -> None:
    for name, doc in each(committed().items(), "workflow", at_least=7):
        text = yaml.safe_dump(doc, width=1000)  # the jobs, without the comments that explain this
        assert "command: preview" not in text and "pulumi preview" not in text, name
        assert "AWS_PREVIEW_ROLE_ARN" not in text, name
