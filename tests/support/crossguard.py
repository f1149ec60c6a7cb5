"""The policy pack driven as the Pulumi engine drives it, offline: a plan turned into CrossGuard's
StackValidationArgs (values unknown during a preview included), and every policy run on it."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import pack, rules


def _unknownify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unknownify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknownify(v) for v in value]
    return UNKNOWN_BOOLEAN_VALUE if isinstance(value, bool) else UNKNOWN_STRING_VALUE


def policy_args(plan: dict[str, Any], unknown: bool = False) -> StackValidationArgs:
    """CrossGuard's StackValidationArgs for a plan: the types the pack receives from the engine."""
    model = rules.from_plan(plan)  # only to learn which property refers to which resource
    by_name: dict[str, PolicyResource] = {}
    providers = {r["name"]: r for r in plan["resources"] if r["type"].startswith("pulumi:providers:")}

    def opts(raw: dict[str, Any]) -> PolicyResourceOptions:
        # What the engine tells CrossGuard: protect, ignore_changes, delete_before_replace (None
        # when not set); never retain_on_delete.
        dbr = raw.get("deleteBeforeReplace") or None
        return PolicyResourceOptions(
            raw["protect"], raw.get("ignoreChanges", []), dbr, [], PolicyCustomTimeouts(0, 0, 0), []
        )

    out = []
    for raw, m in zip(plan["resources"], model.resources, strict=True):
        # The engine shows a resource's outputs, such as its ARN, once they are known.
        known_props = {**raw["inputs"], **({"arn": raw["arn"]} if "arn" in raw else {})}
        props = _unknownify(known_props) if unknown and not raw["type"].startswith("pulumi:") else known_props
        provider = providers.get(raw["provider"] or "")
        policy_provider = (
            PolicyProviderResource(
                provider["type"],
                unknown_checking_proxy(json.loads(json.dumps(provider["inputs"]))),
                f"urn:{provider['name']}",
                provider["name"],
            )
            if provider
            else None
        )
        resource = PolicyResource(
            raw["type"],
            unknown_checking_proxy(json.loads(json.dumps(props))),
            f"urn:{raw['name']}",
            raw["name"],
            opts(raw),
            policy_provider,
            None,
            [],
            {},
        )
        by_name[raw["name"]] = resource
        out.append((resource, m))
    for resource, m in out:
        resource.property_dependencies = {k: [by_name[n] for n in names] for k, names in m.links.items()}
    return StackValidationArgs([r for r, _ in out])


def run_pack(args: StackValidationArgs) -> dict[str, list[str]]:
    reported: dict[str, list[str]] = {}
    for policy in pack.policies():
        assert isinstance(policy, StackValidationPolicy) and policy.validate is not None

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            reported.setdefault(name, []).append(message)

        policy.validate(args, report)
    return reported
