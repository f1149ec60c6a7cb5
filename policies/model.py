"""The policy pack's neutral model of a stack, which every rule reads and both adapters build.

This module owns:
- `Res` (one resource: type, name, properties, options, provider tags, links to the resources
  its properties refer to) and `Stack` (the resources, the environment's name, type and
  project, and whether its deletion is confirmed), built from resources by `stack_of`;
- `UNKNOWN` (a value not known during preview) and `known` / `holds`, the two tests that keep
  unknown and secret values from ever failing a rule, and `dig` / `items`, which read nested
  values and lists that may be unknown as a whole, and `policy_document`, which reads a policy
  document the same way for every rule;
- `Rule` and `Finding`, the rule kinds and how a kind becomes a level per environment type:
  - UNIVERSAL controls (on in dev and in prod, per the reference table): mandatory for prod and
    staging, advisory for dev and custom;
  - PROD controls (prod's hardened standard): mandatory for prod, advisory elsewhere;
  - INVARIANT rules (isolation between environments): mandatory for every type;
  - LIFECYCLE rules (what makes a later replace, upgrade or second destroy fail): mandatory for
    every type.
  A stack whose type cannot be read is held to prod's standard.
- `collector`, which each rules_*.py module uses to list its rules.

The adapters are plan_adapter.py (offline plan JSON) and crossguard.py (CrossGuard); the rules
are the rules_*.py modules; rules.py lists them. Standard library only: the policy pack's own
virtualenv holds only pulumi and pulumi-policy. Type tokens and tag keys: policies/contracts/conventions.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.contracts.conventions import (
    AWS_PROVIDER,
    SCHEMA_ROLE,
    SECRET_PLACEHOLDER,
    TAG_ENVIRONMENT,
    TAG_PROJECT,
    TAG_TYPE,
)


class _Unknown:
    """A value that is not known during preview."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
UNIVERSAL, PROD, INVARIANT, LIFECYCLE = "universal", "prod", "invariant", "lifecycle"
MANDATORY, ADVISORY = "mandatory", "advisory"


def known(value: Any) -> bool:
    """False for a value unknown during preview and for a secret shown as its placeholder."""
    return value is not UNKNOWN and value != SECRET_PLACEHOLDER


def holds(value: Any, expected: Any) -> bool:
    """False only when the value is known and differs: unknown values never fail a rule."""
    return not known(value) or value == expected


def policy_document(value: Any) -> Any:
    """An IAM / KMS / bucket policy document from a JSON string or an object, its Statement always
    a list; UNKNOWN when not known; None when malformed."""
    if not known(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, Mapping):
        return None
    statements = value.get("Statement", [])
    return {"Statement": statements if isinstance(statements, list) else [statements]}


# --- the model -----------------------------------------------------------------------------


@dataclass
class Res:
    type: str
    name: str
    props: dict[str, Any]
    protect: bool = False
    provider: str | None = None  # the provider resource's name; None: the default provider
    provider_tags: dict[str, Any] | None = None  # that provider's default tags
    urn: str = ""
    links: dict[str, list[str]] = field(default_factory=dict)  # property -> names of resources it refers to
    delete_before_replace: bool | None = None  # None: not set
    ignore_changes: list[str] = field(default_factory=list)
    retain_on_delete: bool | None = None  # None: not visible (CrossGuard is not told it)
    arn: Any = None  # the resource's ARN; UNKNOWN until AWS assigns it

    def get(self, *path: str | int) -> Any:
        """A nested property; None when absent, UNKNOWN when not known during preview."""
        return dig(self.props, *path)


def dig(value: Any, *path: str | int) -> Any:
    """A nested value; None when absent, UNKNOWN when it or a value on the way is not known."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, Mapping) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def items(value: Any) -> list[Any]:
    """A list property's items: none when absent or not a list, one UNKNOWN item when the whole
    list is not known during preview (a rule then cannot fail on it)."""
    if not known(value):
        return [UNKNOWN]
    return list(value) if isinstance(value, list) else []


@dataclass
class Stack:
    resources: list[Res]
    env: str | None
    env_type: str | None
    deletion_confirmed: bool
    project: str | None = None  # the platform project, from the envstack:project tag

    def of(self, type_: str) -> list[Res]:
        return [r for r in self.resources if r.type == type_]

    def linked(self, type_: str, prop: str, target: Res) -> list[Res]:
        """Resources of `type_` whose `prop` refers to `target`."""
        return [r for r in self.of(type_) if target.name in r.links.get(prop, [])]


def provider_tags(provider_props: Mapping[str, Any]) -> dict[str, Any] | None:
    """A provider's default tags (an object, or the JSON string the engine may pass)."""
    tags = provider_props.get("defaultTags")
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except json.JSONDecodeError:
            return None
    if isinstance(tags, Mapping) and isinstance(tags.get("tags"), Mapping):
        return dict(tags["tags"])
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def stack_of(resources: list[Res]) -> Stack:
    """The stack of these resources: the environment, its type and project from the first
    explicit AWS provider's default tags, and whether the table store confirms its deletion."""
    providers = [r for r in resources if r.type == AWS_PROVIDER]
    tags = next((t for t in (provider_tags(p.props) for p in providers) if t), {})
    confirmed = any(r.get("deletionConfirmed") is True for r in resources if r.type == SCHEMA_ROLE)
    return Stack(
        resources=resources,
        project=_text(tags.get(TAG_PROJECT)),
        env=_text(tags.get(TAG_ENVIRONMENT)),
        env_type=_text(tags.get(TAG_TYPE)),
        deletion_confirmed=confirmed,
    )


# --- rules -----------------------------------------------------------------------------------

Check = Callable[[Stack], Iterator[tuple[Res, str]]]


@dataclass(frozen=True)
class Finding:
    """One violation, at the level its rule has for the stack's environment type."""

    rule: str
    resource: str
    level: str
    message: str
    urn: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # UNIVERSAL, PROD, INVARIANT or LIFECYCLE
    ids: str  # the matching Checkov / Trivy / AWSGuard rule IDs
    description: str
    check: Check
    deletion_guard: bool = False  # lifted once the environment's deletion is confirmed

    def level(self, env_type: str | None) -> str:
        if self.kind in (INVARIANT, LIFECYCLE) or env_type in (None, "prod"):
            return MANDATORY
        if env_type == "staging" and self.kind == UNIVERSAL:
            return MANDATORY
        return ADVISORY

    def run(self, stack: Stack) -> list[Finding]:
        if self.deletion_guard and stack.deletion_confirmed:
            return []
        level = self.level(stack.env_type)
        return [Finding(self.name, r.name, level, message, r.urn) for r, message in self.check(stack)]


def collector(into: list[Rule]) -> Callable[..., Callable[[Check], Check]]:
    """A `@rule(name, kind, ids, description, deletion_guard=False)` decorator that appends each
    check to `into`, in the order the module defines them. A check shared by several rules (one
    function with `functools.partial` arguments) is registered by calling `rule(...)(check)`."""

    def rule(
        name: str, kind: str, ids: str, description: str, *, deletion_guard: bool = False
    ) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            into.append(Rule(name, kind, ids, description, check, deletion_guard))
            return check

        return register

    return rule
