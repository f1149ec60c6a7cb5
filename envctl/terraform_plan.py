"""`envctl plan STACK --format terraform-plan`: the rendering as Terraform's plan JSON.

pulumi-aws is bridged from the Terraform AWS provider, so every AWS resource envstack declares
is a Terraform resource under another spelling. This module respells the plan JSON
(envctl/plan.py) as Terraform's machine-readable plan (`terraform show -json`, format 1.2), so
that the IaC scanners security teams already run on Terraform plans (Checkov, Trivy, KICS)
read envstack too. docs/policies.md says how.

- Type tokens and property names come from envctl/data/terraform-mapping.json (its provenance
  says where each side comes from); nested blocks become lists, as Terraform writes them.
- Links between resources come from the dependencies the engine recorded, never from names:
  a property whose value *is* another exported resource's id or ARN is unknown until apply,
  as Terraform plans it, and its configuration expression references that resource
  (`aws_s3_bucket.NAME.id`), which is how Checkov's graph connects a bucket to its encryption,
  public access block, lifecycle and logging. A composite value (a policy document) stays
  known and lists its references.
- Resources that are not AWS resources (components, the table store's dynamic resource,
  random, time, providers, the stack) are left out and returned in `Export.left_out`.
- An AWS type or property with no mapping stops the export (UnmappedTypeError, one line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from envctl.errors import FailureError
from policies.contracts import conventions

MAPPING_FILE = Path(__file__).parent / "data" / "terraform-mapping.json"
# Format 1.2 is the FormatVersion of Terraform's own writer (hashicorp/terraform,
# internal/command/jsonplan/plan.go). No JSON Schema of it is maintained: HashiCorp documents it
# in prose (developer.hashicorp.com/terraform/internals/json-format) and as Go types
# (hashicorp/terraform-json). The Terraform version is nominal: no Terraform runs here.
FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.9.8"
PROVIDER_KEY = "aws"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"


class UnmappedTypeError(FailureError):
    """An AWS type or property that terraform-mapping.json does not map: the export would miss it."""


@dataclass
class Export:
    """The Terraform plan JSON of one rendering, and what was left out of it."""

    plan: dict[str, Any]
    left_out: list[dict[str, str]] = field(default_factory=list)  # {name, type}: not AWS resources


@cache
def mapping() -> dict[str, Any]:
    """The committed mapping: Pulumi type token -> {terraform, fields}."""
    data: dict[str, Any] = json.loads(MAPPING_FILE.read_text())
    return dict(data["resources"])


def is_aws_type(type_: str) -> bool:
    """A resource of the pulumi-aws package (not its provider, whose package is `pulumi`)."""
    return type_.split(":", 1)[0] == conventions.AWS_PACKAGE


def _address(tf_type: str, name: str) -> str:
    return f"{tf_type}.{name}"


@dataclass
class _Target:
    """An exported resource another one depends on: its address and recorded ARN."""

    address: str
    arn: str | None


def _reference(value: Any, targets: list[_Target], top: bool) -> str | None:
    """The Terraform reference a plain value stands for: `ADDR.arn` when it is a dependency's
    recorded ARN; `ADDR.id` when it is a whole property (`top`), a string that is no JSON
    document, and the property has exactly one dependency (ids are not recorded, ARNs are)."""
    if not isinstance(value, str):
        return None
    for t in targets:
        if t.arn is not None and value == t.arn:
            return f"{t.address}.arn"
    if top and len(targets) == 1 and not value.lstrip().startswith(("{", "[")):
        return f"{targets[0].address}.id"
    return None


def _unmapped(what: str) -> UnmappedTypeError:
    return UnmappedTypeError(
        f"{what}: not in envctl/data/terraform-mapping.json; add it there (scripts/terraform-mapping "
        "checks it against pulumi-aws) so that the Terraform plan export carries it"
    )


def _convert(
    inputs: dict[str, Any], fields: dict[str, Any], where: str, targets: list[_Target], top: bool = False
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(values, after_unknown, expressions) of one object: Pulumi names respelled, nested blocks
    as lists, and with `targets` (the property's exported dependencies), values that stand for a
    dependency unknown and referenced."""
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    for key, value in inputs.items():
        spec = fields.get(key)
        if spec is None:
            raise _unmapped(f"{where}.{key}")
        if isinstance(spec, str):
            ref = _reference(value, targets, top) if targets else None
            if ref is not None:
                unknown[spec] = True
                expressions[spec] = {"references": [ref, ref.rsplit(".", 1)[0]]}
            else:
                values[spec] = value
                expressions[spec] = {"constant_value": value}
            continue
        items = value if spec["block"] == "list" else [value]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _unmapped(f"{where}.{key} (a {spec['block']} block, got {type(value).__name__})")
        converted = [_convert(i, spec["fields"], f"{where}.{key}", targets) for i in items]
        values[spec["terraform"]] = [c[0] for c in converted]
        if any(c[1] for c in converted):
            unknown[spec["terraform"]] = [c[1] for c in converted]
        expressions[spec["terraform"]] = [c[2] for c in converted]
    return values, unknown, expressions


def _resource(r: dict[str, Any], spec: dict[str, Any], exported: dict[str, _Target]) -> dict[str, Any]:
    """One resource's planned values, change and configuration."""
    tf_type, address = spec["terraform"], exported[r["name"]].address
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    property_deps: dict[str, list[str]] = r.get("propertyDependencies") or {}
    for key, value in (r.get("inputs") or {}).items():
        targets = [exported[d] for d in property_deps.get(key, []) if d in exported and d != r["name"]]
        v, u, e = _convert({key: value}, spec["fields"], r["type"], targets, top=True)
        values.update(v)
        unknown.update(u)
        for name, expression in e.items():
            composite = targets and isinstance(expression, dict) and "constant_value" in expression
            # A composite value (a policy document) built from other resources: Terraform keeps it
            # known only when they are; it names them either way.
            expressions[name] = {**expression, "references": [t.address for t in targets]} if composite else expression
    named = {d for deps in property_deps.values() for d in deps}
    depends_on = sorted(
        exported[d].address for d in r.get("dependsOn") or [] if d in exported and d not in named and d != r["name"]
    )
    common = {"address": address, "mode": "managed", "type": tf_type, "name": r["name"]}
    config: dict[str, Any] = {
        **common,
        "provider_config_key": PROVIDER_KEY,
        "expressions": expressions,
        "schema_version": 0,
    }
    if depends_on:
        config["depends_on"] = depends_on
    return {
        "planned": {
            **common,
            "provider_name": PROVIDER_NAME,
            "schema_version": 0,
            "values": values,
            "sensitive_values": {},
        },
        "change": {
            **common,
            "provider_name": PROVIDER_NAME,
            "change": {
                "actions": ["create"],
                "before": None,
                "after": values,
                "after_unknown": unknown,
                "before_sensitive": False,
                "after_sensitive": {},
            },
        },
        "config": config,
    }


def export(plan: dict[str, Any]) -> Export:
    """The Terraform plan JSON (format 1.2) of a plan JSON (envctl/plan.py `to_json`)."""
    table = mapping()
    exported: dict[str, _Target] = {}
    left_out: list[dict[str, str]] = []
    specs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for r in plan["resources"]:
        if not is_aws_type(r["type"]):
            left_out.append({"name": r["name"], "type": r["type"]})
            continue
        spec = table.get(r["type"])
        if spec is None:
            raise _unmapped(f"{r['name']} ({r['type']})")
        address = _address(spec["terraform"], r["name"])
        if r["name"] in exported or any(t.address == address for t in exported.values()):
            raise FailureError(f"{r['name']}: two AWS resources share this name; the export needs unique names")
        exported[r["name"]] = _Target(address=address, arn=r.get("arn"))
        specs.append((r, spec))
    converted = [_resource(r, spec, exported) for r, spec in specs]
    region = _region(plan)
    provider: dict[str, Any] = {"name": PROVIDER_KEY, "full_name": PROVIDER_NAME}
    if region is not None:
        provider["expressions"] = {"region": {"constant_value": region}}
    terraform_plan = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": [c["planned"] for c in converted]}},
        "resource_changes": [c["change"] for c in converted],
        "configuration": {
            "provider_config": {PROVIDER_KEY: provider},
            "root_module": {"resources": [c["config"] for c in converted]},
        },
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    return Export(plan=terraform_plan, left_out=left_out)


def _region(plan: dict[str, Any]) -> str | None:
    """The region of the plan's explicit AWS provider, which every AWS resource uses."""
    for r in plan["resources"]:
        if r["type"] == conventions.AWS_PROVIDER and isinstance((r.get("inputs") or {}).get("region"), str):
            return str(r["inputs"]["region"])
    return None


def left_out_line(left_out: list[dict[str, str]]) -> str:
    """One line for stderr: how many resources the export left out, by type."""
    counts: dict[str, int] = {}
    for r in left_out:
        counts[r["type"]] = counts.get(r["type"], 0) + 1
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    return f"left out {len(left_out)} resources that are not AWS resources ({kinds})" if left_out else ""
