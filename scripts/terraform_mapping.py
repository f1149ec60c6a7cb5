"""Check envctl/data/terraform-mapping.json against its two sources.

- The Pulumi side, against the pinned pulumi-aws wheel: every type token the program declares
  (policies/contracts/conventions.py) is mapped, and every mapped Pulumi property exists on the type's
  Args class with the shape the entry says (a `list` block is a list of objects, a `single`
  block one object, an attribute neither).
- The Terraform side, against pulumi-aws's bridge-metadata.json when given
  (`--bridge-metadata FILE`, from provider/cmd/pulumi-resource-aws/ at the pinned tag): each
  token's Terraform type (`renames.resources`) and each renamed property
  (`renames.renamedProperties`, keyed by the resource's or nested type's token) must agree;
  a property the metadata does not rename keeps its Pulumi name.

Prints one line per disagreement and exits 1 if there is any.
    scripts/terraform-mapping [--bridge-metadata FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envctl.terraform_plan import MAPPING_FILE, is_aws_type
from policies.contracts import conventions


def _args_class(token: str) -> type:
    """pulumi-aws's Args class of a resource token, e.g. aws:s3/bucket:Bucket -> pulumi_aws.s3.BucketArgs."""
    package_module, name = token.split(":")[1], token.split(":")[2]
    module = importlib.import_module(f"pulumi_aws.{package_module.split('/')[0]}")
    # The SDK names a resource's args `<Name>InitArgs` where `<Name>Args` is taken by a nested type.
    return getattr(module, f"{name}InitArgs", None) or getattr(module, f"{name}Args")  # type: ignore[no-any-return]


def _pulumi_types(cls: type) -> dict[str, Any]:
    """Pulumi property name -> its (unwrapped) type, from the SDK's input type."""
    from pulumi import _types

    return dict(_types._types_from_py_properties(cls))


def _shape(annotation: Any) -> tuple[str, type | None]:
    """`list` (a sequence of input types), `single` (one input type) or `attribute`."""
    origin = typing.get_origin(annotation)
    if origin in (list, Sequence):
        (item,) = typing.get_args(annotation)[:1]
        candidates = [a for a in typing.get_args(item) or (item,) if getattr(a, "_pulumi_input_type", False)]
        return ("list", candidates[0]) if candidates else ("attribute", None)
    if isinstance(annotation, type) and getattr(annotation, "_pulumi_input_type", False):
        return "single", annotation
    return "attribute", None


def _nested_token(resource_token: str, cls: type) -> str:
    """The type token of a nested input type: the module of its resource, the class's name."""
    module = resource_token.split(":")[1].split("/", maxsplit=1)[0]
    name = cls.__name__.removesuffix("Args")
    return f"{conventions.AWS_PACKAGE}:{module}/{name}:{name}"


def check_fields(
    resource_token: str, token: str, cls: type, fields: dict[str, Any], renamed: dict[str, dict[str, str]] | None
) -> list[str]:
    """Problems of one object's field entries against the SDK class (and the metadata's renames)."""
    problems: list[str] = []
    types = _pulumi_types(cls)
    for name, spec in fields.items():
        where = f"{token} {name}"
        if name not in types:
            problems.append(f"{where}: no such property in pulumi-aws")
            continue
        shape, nested = _shape(types[name])
        want = spec["block"] if isinstance(spec, dict) else "attribute"
        if shape != want:
            problems.append(f"{where}: the mapping says {want}, pulumi-aws has {shape}")
            continue
        tf_name = spec["terraform"] if isinstance(spec, dict) else spec
        source = None if renamed is None else renamed.get(token, {}).get(name, name)
        if source is not None and source != tf_name:
            problems.append(f"{where}: the mapping says {tf_name}, bridge-metadata {source}")
        if isinstance(spec, dict) and nested is not None:
            inner = _nested_token(resource_token, nested)
            problems += check_fields(resource_token, inner, nested, spec["fields"], renamed)
    return problems


def check(table: dict[str, Any], metadata: dict[str, Any] | None) -> list[str]:
    """Every problem of the mapping table, one line each."""
    tokens = [v for k, v in vars(conventions).items() if k.isupper() and isinstance(v, str) and v.count(":") == 2]
    problems = [
        f"{token}: declared in policies/contracts/conventions.py but not mapped"
        for token in tokens
        if is_aws_type(token) and token not in table and token not in conventions.INVOKES
    ]
    resources = (metadata or {}).get("renames", {}).get("resources", {})
    renamed = (metadata or {}).get("renames", {}).get("renamedProperties", {}) if metadata is not None else None
    for token, spec in table.items():
        if metadata is not None and resources.get(token) != spec["terraform"]:
            problems.append(f"{token}: the mapping says {spec['terraform']}, bridge-metadata {resources.get(token)}")
        try:
            cls = _args_class(token)
        except (ImportError, AttributeError):
            problems.append(f"{token}: no such resource in pulumi-aws")
            continue
        problems += check_fields(token, token, cls, spec["fields"], renamed)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check envctl/data/terraform-mapping.json against pulumi-aws.")
    parser.add_argument("--bridge-metadata", type=Path, help="pulumi-aws's bridge-metadata.json at the pinned tag")
    args = parser.parse_args(argv)
    table = json.loads(MAPPING_FILE.read_text())["resources"]
    metadata = json.loads(args.bridge_metadata.read_text()) if args.bridge_metadata else None
    problems = check(table, metadata)
    for p in problems:
        print(p)
    print(f"{len(table)} types checked: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
