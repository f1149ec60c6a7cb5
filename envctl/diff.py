"""The env-to-env diff: what differs between two plans (envctl/plan.py), with each environment's
name normalised away (policies/contracts/names.py's grammar) so that two environments' same resource
compares as one. Works on live renderings, saved plans and the committed snapshots alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from envctl.plan import env_name, env_project
from policies.contracts import names

ENV = "<env>"


def _normaliser(name: str, project: str = names.DEFAULT_PROJECT) -> Any:
    """Replace an environment's name where the name grammar put it into a longer name
    (policies/contracts/names.py), so that `envstack-dev-files` and `envstack-prod-files` are the same
    resource in two environments. A value that is exactly the name stays: it is a real difference."""
    norm_text = names.normaliser(name, ENV, project)

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return value if value == name else norm_text(value)
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    return norm


def _keyed(plan: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    name = env_name(plan)
    norm = _normaliser(name, env_project(plan))
    keyed: dict[tuple[str, str], dict[str, Any]] = {}
    for r in plan["resources"]:
        key = (r["type"], ENV if r["name"] == name else norm(r["name"]))
        keyed[key] = {**r, "inputs": norm(r.get("inputs", {}))}
    return keyed


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


@dataclass
class Change:
    path: str
    a: Any
    b: Any


@dataclass
class ResourceDiff:
    type: str
    name: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class PlanDiff:
    a: str
    b: str
    only_in_a: list[dict[str, str]] = field(default_factory=list)
    only_in_b: list[dict[str, str]] = field(default_factory=list)
    changed: list[ResourceDiff] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.only_in_a or self.only_in_b or self.changed or self.outputs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_OPTIONS: dict[str, Any] = {
    "protect": False,
    "retainOnDelete": False,
    "deleteBeforeReplace": False,
    "ignoreChanges": [],
}


def diff_plans(a: dict[str, Any], b: dict[str, Any], a_label: str, b_label: str) -> PlanDiff:
    """What differs between two renderings: one-sided resources, differing inputs and options
    (protect, retainOnDelete, deleteBeforeReplace, ignoreChanges), and differing outputs."""
    ka, kb = _keyed(a), _keyed(b)
    result = PlanDiff(a=a_label, b=b_label)
    result.only_in_a = [{"type": t, "name": n} for (t, n) in sorted(ka.keys() - kb.keys())]
    result.only_in_b = [{"type": t, "name": n} for (t, n) in sorted(kb.keys() - ka.keys())]
    for key in sorted(ka.keys() & kb.keys()):
        ra, rb = ka[key], kb[key]
        fa = {f"inputs.{k}": v for k, v in _flatten(ra["inputs"]).items()}
        fb = {f"inputs.{k}": v for k, v in _flatten(rb["inputs"]).items()}
        for opt, default in _OPTIONS.items():  # absent (an older plan): the engine's default
            fa[opt], fb[opt] = ra.get(opt, default), rb.get(opt, default)
        changes = [Change(p, fa.get(p), fb.get(p)) for p in sorted(fa.keys() | fb.keys()) if fa.get(p) != fb.get(p)]
        if changes:
            result.changed.append(ResourceDiff(type=key[0], name=key[1], changes=changes))
    oa = _flatten(_normaliser(env_name(a), env_project(a))(a.get("outputs", {})))
    ob = _flatten(_normaliser(env_name(b), env_project(b))(b.get("outputs", {})))
    result.outputs = [Change(p, oa.get(p), ob.get(p)) for p in sorted(oa.keys() | ob.keys()) if oa.get(p) != ob.get(p)]
    return result
