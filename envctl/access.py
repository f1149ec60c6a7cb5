"""The access matrix: what each environment's runtime role can do to each environment's resources.

Works on renderings (plan JSON), offline. Each role's permissions document, as rendered, is
evaluated by moto's IAM policy engine (`moto.iam.access_control.IAMPolicy`), never by code of
ours, against every environment's resource ARNs, for every action any runtime role is granted
plus a few that none should be (PROBES). docs/access.md states the engine's limits.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from components.access import STATEMENTS
from envctl.errors import UsageError
from policies.contracts import conventions, names

EXTRA = "access"  # pyproject.toml's extra that installs moto, the evaluator
OBJECT_KEY = "example-object"  # the object an S3 object action is evaluated on

# Actions no runtime role is granted; the matrix probes them to show they stay denied.
PROBES = (
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteObjectVersion",
    "cognito-idp:DeleteUserPool",
    "cognito-idp:UpdateUserPool",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
    "kms:Encrypt",
    "kms:ScheduleKeyDeletion",
    "rds:DeleteDBCluster",
    "iam:PassRole",
    "sts:AssumeRole",
)
# Each store of an environment: the output holding its ARN, and the store's label.
STORES = (
    ("bucketArn", "files (bucket)"),
    ("bucketArn", "files (objects)"),
    ("userPoolArn", "users"),
    ("apiKeySecretArn", "API key"),
    ("databaseSecretArn", "tables (credentials)"),
    ("clusterArn", "tables (cluster)"),
    ("kmsKeyArn", "encryption key"),
)


class AccessError(UsageError):
    """A rendering has no runtime role to evaluate."""


def actions() -> list[str]:
    """Every action the matrix evaluates: the granted catalogue, then the probes."""
    granted = sorted({a for acts in STATEMENTS.values() for a in acts})
    return granted + [p for p in PROBES if p not in granted]


@dataclass
class EnvAccess:
    """One environment's runtime role (documents as rendered) and its stores' ARNs."""

    env: str
    region: str
    role_arn: str
    permissions: dict[str, Any]
    trust: dict[str, Any]
    max_session: int | None
    boundary: str | None
    stores: dict[str, str]  # label -> ARN

    @property
    def principals(self) -> list[str]:
        found: list[str] = []
        for st in self.trust.get("Statement", []):
            aws = (st.get("Principal") or {}).get("AWS", [])
            found += aws if isinstance(aws, list) else [aws]
        return found


def _one(plan: dict[str, Any], type_: str) -> dict[str, Any]:
    role = names.role_suffix("runtime")  # every runtime role is `envstack-<stem>-runtime` (names.logical)
    suffix = role if type_ == conventions.ROLE else names.role_policy(role)
    found = [r for r in plan["resources"] if r["type"] == type_ and r["name"].endswith(suffix)]
    if len(found) != 1:
        raise AccessError(f"{plan['stack']}: expected one runtime {type_.rsplit(':', 1)[-1]}, found {len(found)}")
    resource: dict[str, Any] = found[0]
    return resource


def _json_document(value: Any, what: str) -> dict[str, Any]:
    try:
        document = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or "Statement" not in document:
        raise AccessError(f"{what} is not a policy document")
    return document


def env_access(plan: dict[str, Any]) -> EnvAccess:
    """The runtime role of a rendering (plan JSON), with the ARNs of the environment's stores."""
    outputs = plan.get("outputs", {})
    role, policy = _one(plan, conventions.ROLE), _one(plan, conventions.ROLE_POLICY)
    arns = {key: outputs.get(key) for key, _ in STORES}
    stores = [r for r in plan["resources"] if r["type"] == conventions.SCHEMA_ROLE]
    arns["clusterArn"] = stores[0]["inputs"]["executor"]["clusterArn"] if stores else None
    labelled = {}
    for key, label in STORES:
        arn = arns.get(key)
        if isinstance(arn, str):
            labelled[label] = f"{arn}/{OBJECT_KEY}" if label == "files (objects)" else arn
    return EnvAccess(
        env=str(outputs.get("name") or plan["stack"]),
        region=str(outputs.get("region", "")),
        role_arn=str(outputs.get("runtimeRoleArn") or role.get("arn") or ""),
        permissions=_json_document(policy["inputs"].get("policy"), f"{plan['stack']}: the runtime role policy"),
        trust=_json_document(role["inputs"].get("assumeRolePolicy"), f"{plan['stack']}: the runtime role trust"),
        max_session=role["inputs"].get("maxSessionDuration"),
        boundary=role["inputs"].get("permissionsBoundary"),
        stores=labelled,
    )


def via_service_context(action: str, region: str, service: str = "s3") -> dict[str, str] | None:
    """The request context of a KMS call made on the caller's behalf by `service`."""
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"} if action.startswith("kms:") else None


def evaluator() -> Any:
    """moto's IAM policy engine (`moto.iam.access_control`), installed by the `access` extra: a
    missing one is one line naming the extra (exit 2), never an internal error."""
    try:
        return importlib.import_module("moto.iam.access_control")
    except ModuleNotFoundError as err:
        raise UsageError(
            f"access needs moto's IAM policy engine, which is not installed (no module {err.name!r}): "
            # envstack is not on the package index: `pip install 'envstack[...]'` would fetch
            # whatever is published under that name, so the hint installs the checkout's own extra.
            f"install the extra from your envstack checkout, `pip install '.[{EXTRA}]'`"
        ) from None


def allowed(document: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """moto's verdict: does the identity policy `document` allow `action` on `resource`?"""
    engine = evaluator()
    verdict = engine.IAMPolicy(json.dumps(document)).is_action_permitted(action, resource, None, context)
    return bool(verdict == engine.PermissionResult.PERMITTED)


@dataclass
class Cell:
    role: str  # the environment whose runtime role acts
    target: str  # the environment whose resource it acts on
    store: str
    arn: str
    allowed: list[str]
    shared: bool  # the same ARN as one of the role's own stores (the shared cluster)


@dataclass
class Matrix:
    roles: list[EnvAccess]
    cells: list[Cell] = field(default_factory=list)

    @property
    def crossings(self) -> list[Cell]:
        """Cells where a role reaches another environment's resource that is not shared by design."""
        return [c for c in self.cells if c.role != c.target and c.allowed and not c.shared]

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluator": "moto.iam.access_control.IAMPolicy (identity policy only; see docs/access.md)",
            "roles": [
                {
                    "environment": r.env,
                    "roleArn": r.role_arn,
                    "trustedPrincipals": r.principals,
                    "maxSessionDuration": r.max_session,
                    "permissionsBoundary": r.boundary,
                }
                for r in self.roles
            ],
            "cells": [asdict(c) for c in self.cells],
            "crossings": len(self.crossings),
        }


def matrix(plans: list[dict[str, Any]]) -> Matrix:
    """Evaluate every role against every environment's stores."""
    evaluator()  # a missing evaluator is refused before any role is read
    envs = [env_access(p) for p in plans]
    result = Matrix(roles=envs)
    probed = actions()
    for a in envs:
        own = set(a.stores.values())
        for b in envs:
            for store, arn in b.stores.items():
                granted = [x for x in probed if allowed(a.permissions, x, arn, via_service_context(x, b.region))]
                result.cells.append(Cell(a.env, b.env, store, arn, granted, shared=a is not b and arn in own))
    return result


# --- the review comment's section: what changed in what a role can reach -----------------


def grants(plan: dict[str, Any]) -> set[str]:
    """What the runtime role of a rendering is granted, as `action on store` lines (ARNs that are
    not one of the environment's stores are shown as they are), plus who it trusts."""
    try:
        env = env_access(plan)
    except AccessError:
        return set()
    label = {arn: store for store, arn in env.stores.items()}
    bucket = env.stores.get("files (bucket)")
    if bucket:
        label[f"{bucket}/*"] = "files (objects)"
    lines = {f"trusts {p}" for p in env.principals}
    for st in env.permissions.get("Statement", []):
        acts = st.get("Action", [])
        resources = st.get("Resource", [])
        for action in acts if isinstance(acts, list) else [acts]:
            for resource in resources if isinstance(resources, list) else [resources]:
                verb = "allow" if st.get("Effect") == "Allow" else "deny"
                cond = " (conditional)" if st.get("Condition") else ""
                lines.add(f"{verb} {action} on {label.get(resource, resource)}{cond}")
    return lines


def reach_change(base: dict[str, Any], head: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Grants the change removes and adds; both empty when what the role can reach is unchanged."""
    before, after = grants(base), grants(head)
    return sorted(before - after), sorted(after - before)


# --- how the matrix is shown ------------------------------------------------------------------


def _cell_text(c: Cell) -> str:
    if not c.allowed:
        return "none"
    shown = ", ".join(c.allowed)
    return f"{shown} (shared cluster: isolation is the credentials secret)" if c.shared else shown


def _summary(m: Matrix) -> str:
    n = len(m.crossings)
    verdict = "no role reaches another environment's resources" if not n else f"{n} crossing(s)"
    return f"access matrix of {', '.join(r.env for r in m.roles)}: {verdict} (evaluated by moto's IAM policy engine)"


def matrix_table(m: Matrix) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=_summary(m), title_justify="left")
    for column in ("role of", "on", "store", "allowed actions"):
        table.add_column(column)
    for c in m.cells:
        table.add_row(Text(c.role), Text(c.target), Text(c.store), Text(_cell_text(c)))
    roles = Table(title="runtime roles", title_justify="left")
    for column in ("environment", "role", "trusts", "max session", "boundary"):
        roles.add_column(column)
    for r in m.roles:
        session = f"{r.max_session} s" if r.max_session else "-"
        roles.add_row(Text(r.env), Text(r.role_arn), Text(", ".join(r.principals)), session, Text(r.boundary or "-"))
    from rich.console import Group

    return Group(roles, table)


def matrix_markdown(m: Matrix) -> str:
    lines = [f"### envstack {_summary(m)}", "", "| environment | role | trusts | max session |", "|---|---|---|---|"]
    lines += [
        f"| {r.env} | `{r.role_arn}` | {', '.join(f'`{p}`' for p in r.principals)} | {r.max_session} s |"
        for r in m.roles
    ]
    lines += ["", "| role of | on | store | allowed actions |", "|---|---|---|---|"]
    lines += [f"| {c.role} | {c.target} | {c.store} | {_cell_text(c)} |" for c in m.cells]
    return "\n".join(lines) + "\n"


def reach_markdown(stack: str, removed: list[str], added: list[str]) -> str:
    """The review comment's section for a change to what a stack's runtime role can reach."""
    lines = [f"### Access change: `{stack}`'s runtime role", "", "| change | grant |", "|---|---|"]
    lines += [f"| removed | {g} |" for g in removed]
    lines += [f"| **added** | {g} |" for g in added]
    return "\n".join(lines) + "\n"
