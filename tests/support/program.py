"""Offline renderings of the real program under Pulumi's mock runtime, and the constants the tests share."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
from typer.testing import CliRunner

from components.aws_facts import aws_regions, region_partition
from components.config import EnvType, parse_config
from components.protection import protection
from components.settings import SETTINGS, TypeSettings
from envctl.cli import app
from envctl.plan import Rendering, Resource
from envctl.render import render, render_config
from envctl.runtime import record
from envctl.stackfiles import committed_stacks, project_config
from policies.contracts.arns import boundary_arn

REGION = "ap-northeast-2"
ROOT = Path(__file__).resolve().parents[2]  # the repository
runner = CliRunner()  # envctl's commands, invoked in-process
STACKS = committed_stacks()
TEST_PROVIDER = "test-provider"
# Each type's settings row, and a customer-managed key for the components built alone.
DEV, STAGING, PROD, CUSTOM = (SETTINGS[t] for t in (EnvType.DEV, EnvType.STAGING, EnvType.PROD, EnvType.CUSTOM))
KMS = "arn:aws:kms:ap-northeast-2:123456789012:key/test"
STAGING_REF = "acme/envstack/staging"  # the stack a preview's cluster assignment reads


# An example platform API role, trusted by staging and prod runtime roles (required there).
PLATFORM_ROLE = "arn:aws:iam::123456789012:role/platform-api"

# Step one of deleting prod: the committed prod config plus the typed confirmation.
CONFIRMED_PROD = {
    "envstack:type": "prod",
    "envstack:platformPrincipals": [PLATFORM_ROLE],
    "envstack:cluster": {"name": "prod-main", "create": True},
    "envstack:confirmDeletion": "prod",
}


# The project-wide defaults of Pulumi.yaml (the boundary, the trusted principals, the deploy role),
# which the Pulumi CLI applies beneath every stack's own config.
PROJECT_DEFAULTS = project_config()


UNSET: Any = object()  # a project default a test takes away
EXAMPLE_ACCOUNT = "123456789012"  # the account of Pulumi.yaml's example ARNs


def over_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """A stack's config as the Pulumi CLI hands it to the program: Pulumi.yaml's project
    defaults beneath the stack's own keys (a key set to UNSET is removed). A stack of another
    project, or of another partition, that does not name a boundary gets that project's
    boundary in that partition, as its own Pulumi.yaml would name it."""
    merged = {**PROJECT_DEFAULTS, **raw}
    project, region = merged.get("envstack:project"), merged.get("aws:region")
    if "envstack:permissionsBoundary" not in raw and isinstance(project, str) and isinstance(region, str):
        partition = region_partition(region) if region in aws_regions() else "aws"
        merged["envstack:permissionsBoundary"] = boundary_arn(partition, EXAMPLE_ACCOUNT, project)
    return {k: v for k, v in merged.items() if v is not UNSET}


def cache_scope() -> str | None:
    """The scope in which a test may reuse a rendering: the mutant under test when mutmut runs the
    suite (scripts/mutation forks each mutant's run from a process that has rendered the
    unmutated program), "" otherwise; None in mutmut's stats pass, where it credits each function
    to the tests that call it, so each test must render for itself."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return None if mutant == "stats" else mutant


@functools.cache
def _committed(scope: str, stack: str) -> Rendering:
    return render(stack)


def committed(stack: str) -> Rendering:
    """A committed stack, rendered once per test process (and per mutant, see `cache_scope`): the
    tests that read it share it and must not change it (`committed_plan` gives a copy to edit)."""
    scope = cache_scope()
    return render(stack) if scope is None else _committed(scope, stack)


def committed_plan(stack: str) -> dict[str, Any]:
    """A committed stack's plan JSON, as `envctl plan --format json` writes it: a fresh copy on
    each call, free to edit."""
    plan: dict[str, Any] = json.loads(json.dumps(committed(stack).to_json()))
    return plan


def render_raw(raw: dict[str, Any], stack: str = "test") -> Rendering:
    """Render the program for an ad-hoc config (as `pulumi config` would hold it, over the
    project's defaults)."""
    raw = over_defaults({"aws:region": REGION, **raw})
    return render_config(stack, raw, [], parse_config(raw, stack))


def build(factory: Callable[[pulumi.ResourceOptions], object], settings: TypeSettings | None = None) -> list[Resource]:
    """Build one component in isolation, under an explicit provider, and return what it registered.
    With `settings`, under the protection an Environment of those settings applies to its children."""

    def program() -> None:
        provider = aws.Provider(TEST_PROVIDER, region=REGION)
        transformations = [protection(settings)] if settings is not None else []
        factory(pulumi.ResourceOptions(providers=[provider], transformations=transformations))

    resources, _ = record(program, stack="test", region=REGION)
    return resources


def only(resources: list[Resource], type_: str) -> Resource:
    found = [r for r in resources if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
    return found[0]


def assert_all_aws_on(resources: list[Resource], provider: str) -> None:
    """Every AWS resource uses `provider`, never the default provider."""
    aws_resources = [r for r in resources if r.type.startswith("aws:")]
    assert aws_resources
    for r in aws_resources:
        assert r.provider == provider, f"{r.type} {r.name} uses provider {r.provider!r}"


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """envctl's command line, in-process: exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr
