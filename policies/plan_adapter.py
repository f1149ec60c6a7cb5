"""The offline adapter: a plan JSON (`envctl plan STACK --format json`) becomes the rules' model.

This module owns how the plan JSON's fields map onto `Res` (policies/model.py). It reads the plan
versions that policies/contracts/conventions.plan_version_refusal admits, as envctl's plan reader does:
schemaVersion 2, whose resources record their `propertyDependencies` by resource name. Those are
the only links between resources: nothing is inferred from property values. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.contracts.conventions import plan_version_refusal
from policies.model import Res, Stack, provider_tags, stack_of


class PlanVersionError(ValueError):
    """A plan JSON of another schemaVersion: one line, saying how to get a readable one."""


def check_schema(plan: Mapping[str, Any]) -> None:
    """Refuse a plan of another schemaVersion (older plans record no property dependencies), by
    the rule envctl's plan reader applies too."""
    refusal = plan_version_refusal(plan)
    if refusal:
        raise PlanVersionError(refusal)


def _res(raw: Mapping[str, Any], providers: Mapping[str, Mapping[str, Any]]) -> Res:
    provider = raw.get("provider")
    return Res(
        type=raw["type"],
        name=raw["name"],
        props=dict(raw.get("inputs") or {}),
        protect=bool(raw.get("protect")),
        provider=provider,
        provider_tags=provider_tags(providers.get(provider or "", {})),  # None for the default provider
        urn=raw["name"],
        links={key: sorted(set(names)) for key, names in (raw.get("propertyDependencies") or {}).items()},
        delete_before_replace=raw.get("deleteBeforeReplace"),
        ignore_changes=list(raw.get("ignoreChanges") or []),
        retain_on_delete=raw.get("retainOnDelete"),
        arn=raw.get("arn"),
    )


def from_plan(plan: Mapping[str, Any]) -> Stack:
    """The model of a plan JSON of schemaVersion 2; PlanVersionError for any other version."""
    check_schema(plan)
    raw = list(plan.get("resources", []))
    providers = {r["name"]: r.get("inputs", {}) for r in raw if str(r["type"]).startswith("pulumi:providers:")}
    return stack_of([_res(r, providers) for r in raw])
