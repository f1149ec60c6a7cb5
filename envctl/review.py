"""Reviewing renderings: the env-to-env diff and the data-loss manifest.

Both work on the plan JSON (`envctl plan STACK --format json`), so they compare live
renderings, saved plans and the committed snapshots alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from components import conventions, names
from components.tags import TAG_PROJECT
from envctl.render import RenderError, render

ENV = "<env>"


def read_plan_file(path: Path) -> dict[str, Any]:
    """A saved plan JSON file (`envctl plan STACK --format json`), checked for its shape."""
    try:
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        raise RenderError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RenderError(f"{path}: not a plan JSON file ({err})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list) or "stack" not in plan:
        raise RenderError(f"{path}: not a plan JSON file (expected the output of `envctl plan STACK --format json`)")
    return plan


def load_plan(ref: str) -> dict[str, Any]:
    """A plan by reference, where either may be given (diff, manifest): a saved plan JSON file
    (a path ending in .json or holding a `/`), or else a committed stack's name."""
    if ref.endswith(".json") or "/" in ref:
        return read_plan_file(Path(ref))
    return render(ref).to_json()


def env_name(plan: dict[str, Any]) -> str:
    return str(plan.get("outputs", {}).get("name") or plan["stack"])


def env_project(plan: dict[str, Any]) -> str:
    """The platform project, from the envstack:project tag of the plan's provider."""
    for r in plan.get("resources", []):
        tags = ((r.get("inputs") or {}).get("defaultTags") or {}).get("tags") or {}
        if r.get("type") == "pulumi:providers:aws" and isinstance(tags.get(TAG_PROJECT), str):
            return str(tags[TAG_PROJECT])
    return names.DEFAULT_PROJECT


def _normaliser(name: str, project: str = names.DEFAULT_PROJECT) -> Any:
    """Replace an environment's name where the name grammar put it into a longer name
    (components/names.py), so that `envstack-dev-files` and `envstack-prod-files` are the same
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


# --- the data-loss manifest -------------------------------------------------------------

SEED_WARNING = (
    "Deleting an environment permanently removes all tables, data, users, and files within it. "
    "This action cannot be undone."
)


@dataclass
class Loss:
    """One thing `pulumi destroy` would act on, and what would become of it."""

    category: str
    resource: str
    type: str
    fate: str  # "deleted", "refused", "recoverable" or "retained"
    detail: str


_CATEGORIES = {
    "pulumi-python:dynamic/envstack:SchemaRole": "tables and data",
    "aws:rds/cluster:Cluster": "tables and data (whole cluster)",
    "aws:cognito/userPool:UserPool": "users",
    "aws:s3/bucket:Bucket": "files",
    "aws:kms/key:Key": "encryption key",
}
_SECRET_PURPOSES = {"api-key": "API keys", "database-credentials": "database credentials"}


def _category(r: dict[str, Any]) -> str | None:
    if r["type"] == "aws:secretsmanager/secret:Secret":
        purpose = str((r.get("inputs", {}).get("tags") or {}).get("envstack:purpose", ""))
        return _SECRET_PURPOSES.get(purpose, "secret")
    return _CATEGORIES.get(r["type"])


def _bucket(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("forceDestroy"):
        return "deleted", "bucket deleted with every file and file version in it"
    return "refused", "force_destroy off: deletion fails while the bucket holds files, so the files survive"


def _user_pool(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deletionProtection") == "ACTIVE":
        return "refused", "deletion protection ACTIVE: the pool and its users survive"
    return "deleted", "user pool deleted with every user"


def _secret(i: dict[str, Any]) -> tuple[str, str]:
    days = int(i.get("recoveryWindowInDays", 30))
    if days == 0:
        return "deleted", "deleted at once, no recovery window"
    return "recoverable", f"recoverable for {days} days, then deleted"


def _schema(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deleteNeedsConfirmation") and not i.get("deletionConfirmed"):
        return "refused", f"drop refused until envstack:confirmDeletion: schema {i.get('schema')} survives"
    return "deleted", f"schema {i.get('schema')} dropped with every table and row, and role {i.get('role')}"


def _cluster(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deletionProtection"):
        return "refused", "deletion protection on: the cluster and every schema on it survive"
    snap = "" if i.get("skipFinalSnapshot") else f"; final snapshot {i.get('finalSnapshotIdentifier')} kept"
    return "deleted", f"cluster deleted with every environment's schema on it{snap}"


def _kms_key(i: dict[str, Any]) -> tuple[str, str]:
    days = i.get("deletionWindowInDays", 30)
    return "recoverable", f"scheduled for deletion in {days} days; data encrypted with it is then unreadable"


# What destroy does to each stateful type (components/conventions.py STATEFUL), by its inputs.
_FATES = {
    conventions.BUCKET: _bucket,
    conventions.USER_POOL: _user_pool,
    conventions.SECRET: _secret,
    conventions.SCHEMA_ROLE: _schema,
    conventions.CLUSTER: _cluster,
    conventions.KMS_KEY: _kms_key,
}


def _fate(r: dict[str, Any]) -> tuple[str, str]:
    if r.get("protect"):
        then = "; even then it is retained on delete" if r.get("retainOnDelete") else ""
        return "refused", f"protected: `pulumi destroy` stops here until envstack:confirmDeletion is applied{then}"
    if r.get("retainOnDelete"):
        if r["type"] == "aws:kms/key:Key":
            return "retained", (
                "retained on delete: the key stays enabled so the final snapshot and the secrets in their "
                "recovery window stay readable; retire it by hand later (docs/lifecycle.md)"
            )
        return "retained", "retained on delete: Pulumi forgets it, the cloud resource and its data stay"
    fate = _FATES.get(r["type"])
    return fate(r.get("inputs", {})) if fate else ("deleted", "deleted")


@dataclass
class Manifest:
    stack: str
    environment: str
    type: str
    warning: str
    items: list[Loss]

    @property
    def refused(self) -> list[Loss]:
        return [x for x in self.items if x.fate == "refused"]

    @property
    def verdict(self) -> str:
        lost = [x for x in self.items if x.fate == "deleted"]
        if self.refused:
            return (
                f"`pulumi destroy` of {self.stack} would be stopped by {len(self.refused)} guard(s); "
                f"{len(lost)} unguarded item(s) may be deleted before it stops"
            )
        return f"`pulumi destroy` of {self.stack} would permanently delete {len(lost)} item(s); nothing refuses it"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "type": self.type,
            "warning": self.warning,
            "verdict": self.verdict,
            "items": [asdict(x) for x in self.items],
        }


def manifest(plan: dict[str, Any]) -> Manifest:
    """What `pulumi destroy` of a stack would do to each store of its environment."""
    items = []
    for r in plan["resources"]:
        category = _category(r)
        if category is None:
            continue
        fate, detail = _fate(r)
        items.append(Loss(category=category, resource=r["name"], type=r["type"], fate=fate, detail=detail))
    order = ["tables and data", "tables and data (whole cluster)", "users", "files", "API keys"]
    items.sort(key=lambda x: (order.index(x.category) if x.category in order else len(order), x.resource))
    outputs = plan.get("outputs", {})
    return Manifest(
        stack=plan["stack"],
        environment=env_name(plan),
        type=str(outputs.get("type", "")),
        warning=SEED_WARNING,
        items=items,
    )


COMMENT_MARKER = "<!-- envstack:offline-review -->"
COMMENT_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


def review_comment(stacks: list[str], base_dir: Path | None, sections: dict[str, dict[str, str]]) -> str:
    """The pull request's offline review comment. `sections[stack]` holds the Markdown parts
    already rendered for that stack: `diff` (base snapshot → this PR), `plan` and `manifest`, and
    `access` when the change alters what the stack's runtime role can reach."""
    lines = [
        COMMENT_MARKER,
        "## envstack offline review",
        "",
        "Rendered from the committed stack config with no cloud credentials "
        "(`python -m envctl plan/diff/manifest`). Secrets show as `[secret]`.",
        "",
    ]
    reach = [stack for stack in stacks if sections[stack].get("access")]
    if reach:
        names = ", ".join(f"`{stack}`" for stack in reach)
        lines += [
            f"**This change alters what a runtime role can reach:** {names} (see each stack).",
            "",
        ]
    for stack in stacks:
        parts = sections[stack]
        lines += [f"<details><summary><b>{stack}</b>: {parts['summary']}</summary>", "", parts["diff"], ""]
        lines += ["<details><summary>data-loss manifest</summary>", "", parts["manifest"], "</details>", ""]
        if parts.get("access"):  # the change alters what the runtime role can reach
            lines += [parts["access"], ""]
        lines += ["</details>", ""]
    if base_dir is None:
        lines.append("_No base snapshots were given: each stack is compared with its own committed snapshot._")
    body = "\n".join(lines) + "\n"
    if len(body) > COMMENT_LIMIT:
        cut = body[:COMMENT_LIMIT].rsplit("\n", 1)[0]
        body = cut + "\n\n_(truncated: run `python -m envctl diff` locally for the rest)_\n"
    return body
