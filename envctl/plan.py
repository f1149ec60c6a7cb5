"""The plan: what a rendering declares, and the one way a saved plan JSON is read.

`Resource` and `Rendering` are what the mock runtime records (envctl/runtime.py);
`Rendering.to_json` is the plan JSON (`envctl plan STACK --format json`, the snapshots).
`PlanModel` is that JSON's typed schema and `read_plan_file` its one reader: every command that
takes a saved plan (diff, manifest, check --plan, access, review-comment's base snapshots) reads
it here, and a malformed file is one UsageError line naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from components.config import StackConfig
from envctl.errors import UsageError
from envctl.stackfiles import read_json_file
from policies.contracts import conventions, names
from policies.contracts.conventions import PLAN_SCHEMA_VERSION, TAG_PROJECT

PLAN_HINT = "expected the output of `envctl plan STACK --format json`"


@dataclass
class Resource:
    """One registered resource, as the plan shows it."""

    urn: str
    name: str
    type: str
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    custom: bool
    parent_urn: str | None = None
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    # What the engine is told this resource depends on, by resource name (sorted): every
    # dependency, and per input property the resources its value came from.
    depends_on: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    arn: str | None = None  # the (placeholder) ARN an AWS resource gets; the access matrix reads it

    def to_json(self) -> dict[str, Any]:
        shown = {
            "name": self.name,
            "type": self.type,
            "parent": self.parent,
            "provider": self.provider,
            "inputs": self.inputs,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "deleteBeforeReplace": self.delete_before_replace,
            "ignoreChanges": self.ignore_changes,
            "dependsOn": self.depends_on,
            "propertyDependencies": self.property_dependencies,
        }
        if self.arn is not None:
            shown["arn"] = self.arn
        return shown


@dataclass
class Rendering:
    stack: str
    project: str
    config: StackConfig
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": PLAN_SCHEMA_VERSION,
            "stack": self.stack,
            "project": self.project,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ResourceModel(_Strict):
    """One resource of a plan JSON. Options absent from an older plan are the engine's defaults."""

    name: StrictStr
    type: StrictStr
    parent: StrictStr | None = None
    provider: StrictStr | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    protect: StrictBool = False
    retain_on_delete: StrictBool = Field(default=False, alias="retainOnDelete")
    delete_before_replace: StrictBool = Field(default=False, alias="deleteBeforeReplace")
    ignore_changes: list[StrictStr] = Field(default_factory=list, alias="ignoreChanges")
    depends_on: list[StrictStr] = Field(default_factory=list, alias="dependsOn")
    property_dependencies: dict[str, list[StrictStr]] = Field(default_factory=dict, alias="propertyDependencies")
    arn: StrictStr | None = None


class PlanModel(_Strict):
    """A plan JSON of schemaVersion PLAN_SCHEMA_VERSION, the only one read (`parse_plan` applies
    conventions.plan_version_refusal first, as the policy pack's offline adapter does)."""

    schema_version: StrictInt = Field(alias="schemaVersion")
    stack: StrictStr
    project: StrictStr = conventions.PULUMI_PROJECT
    resources: list[ResourceModel]
    outputs: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The plan as a dict of the plan JSON's shape, every option filled in."""
        plan = self.model_dump(by_alias=True)
        for r in plan["resources"]:
            if r["arn"] is None:
                del r["arn"]
        return plan


def _where(loc: tuple[int | str, ...], plan: Any) -> str:
    """`resources[3] ('envstack-dev-files').type` for pydantic's location of a problem."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if loc[:i] == ("resources",):
                name = plan["resources"][part].get("name") if isinstance(plan["resources"][part], dict) else None
                out += f" ({name!r})" if isinstance(name, str) else ""
        else:
            # A key is shown as written unless it holds a character a terminal would not print as
            # itself (a newline, a record separator): then escaped, so the problem stays one line.
            key = part if part.isprintable() else repr(part)
            out += f".{key}" if out else key
    return out


def parse_plan(data: Any, source: str) -> PlanModel:
    """A plan JSON's content, validated; the first problem is one UsageError line."""
    if not isinstance(data, dict):
        raise UsageError(f"{source}: not a plan JSON file (a JSON {type(data).__name__}; {PLAN_HINT})")
    refusal = conventions.plan_version_refusal(data)
    if refusal:
        raise UsageError(f"{source}: {refusal}")
    try:
        return PlanModel.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = _where(tuple(first["loc"]), data) or "the plan"
        if first["type"] == "missing":
            problem = f"{where} is missing"
        else:
            got = json.dumps(first["input"], default=str)
            got = got if len(got) <= 60 else got[:57] + "..."
            problem = f"{where}: got {got} ({first['msg'].lower()})"
        raise UsageError(f"{source}: not a plan JSON file: {problem}; {PLAN_HINT}") from None


def read_plan_file(path: Path) -> dict[str, Any]:
    """A saved plan JSON file, read through PlanModel, as a dict of the plan JSON's shape."""
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; give a plan JSON file ({PLAN_HINT}) or a committed stack")
    if not path.exists():
        raise UsageError(f"{path}: no such file; give a plan JSON file ({PLAN_HINT}) or a committed stack")
    try:
        data = read_json_file(path)
    except UsageError as err:
        raise UsageError(f"{err}: not a plan JSON file") from None
    if data == {}:
        raise UsageError(f"{path}: not a plan JSON file (empty); {PLAN_HINT}")
    return parse_plan(data, str(path)).to_json()


def env_name(plan: dict[str, Any]) -> str:
    """The environment's name: the `name` output, else the stack's name."""
    return str(plan.get("outputs", {}).get("name") or plan["stack"])


def env_project(plan: dict[str, Any]) -> str:
    """The platform project, from the envstack:project tag of the plan's provider."""
    for r in plan.get("resources", []):
        tags = ((r.get("inputs") or {}).get("defaultTags") or {}).get("tags") or {}
        if r.get("type") == conventions.AWS_PROVIDER and isinstance(tags.get(TAG_PROJECT), str):
            return str(tags[TAG_PROJECT])
    return names.DEFAULT_PROJECT
