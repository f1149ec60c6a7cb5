"""The isolation and project rules: stateful resources protected, the explicit regional provider
and its tags, no name of another environment, the publishable API key, and no cluster in a
custom environment. Names are read with the program's own grammar (policies/contracts/names.py).
Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from policies.contracts import names  # standard library only, like this module
from policies.contracts.conventions import (
    CLUSTER,
    INSTANCE,
    SECRET,
    SECRET_VERSION,
    STATEFUL,
    TAG_ENVIRONMENT,
    TAG_PROJECT,
    TAG_PURPOSE,
    TAG_STACK,
    TAG_TYPE,
)
from policies.model import INVARIANT, PROD, UNIVERSAL, Res, Rule, Stack, collector, known

RULES: list[Rule] = []
rule = collector(RULES)


@rule(
    "prod-stateful-protected",
    PROD,
    "(own rule)",
    "Every stateful resource (bucket, pool, secret, cluster, key, schema) has Pulumi `protect` "
    "(lifted by envstack:confirmDeletion).",
    deletion_guard=True,
)
def _protected(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.resources:
        if res.type in STATEFUL and not res.protect:
            yield res, "stateful resource without protect"


# Project rules ----------------------------------------------------------------------------


@rule(
    "explicit-regional-provider",
    UNIVERSAL,
    "(own rule)",
    "Every AWS resource uses the explicit regional provider, whose default tags name the environment, "
    "its type, the project and the stack.",
)
def _provider(s: Stack) -> Iterator[tuple[Res, str]]:
    for res in s.resources:
        if not res.type.startswith("aws:"):
            continue
        if res.provider is None:
            yield res, "uses the default provider, not the explicit regional one"
            continue
        missing = [
            t for t in (TAG_ENVIRONMENT, TAG_TYPE, TAG_PROJECT, TAG_STACK) if not (res.provider_tags or {}).get(t)
        ]
        if missing:
            yield res, f"its provider does not tag {', '.join(missing)}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@rule(
    "no-cross-environment-names",
    INVARIANT,
    "(own rule)",
    "No resource of one environment names another environment's bucket, pool, secret or schema.",
)
def _cross_env(s: Stack) -> Iterator[tuple[Res, str]]:
    """Names are read with the program's own grammar (policies/contracts/names.py). A token is this
    environment's when it is `envstack-<env>`, lies under `envstack-<env>-`, or is its schema;
    the identifiers of clusters this stack creates are its own too. Limit, by construction of
    the names: a reference to another environment's name that is literally also a name of this
    one (`envstack-new-users` in environment new-users: environment new's user pool) goes
    unreported."""
    if not s.env:
        return
    owners = [names.stem(s.env, s.project or names.DEFAULT_PROJECT)] + [
        ident
        for ident in (c.get("clusterIdentifier") for c in s.of(CLUSTER))
        if isinstance(ident, str) and known(ident)
    ]
    for res in s.resources:
        for text in _strings(res.props):
            for token in names.tokens(text):
                if names.names_a_store(token) and not names.owned_by(token, owners):
                    yield res, f"refers to another environment's resource: {token.text!r}"


def _publishable(text: str) -> bool:
    """Whether a secret's value is a JSON object whose apiKey is `pk_` and 32 characters or more."""
    try:
        key = json.loads(text).get("apiKey")
    except (json.JSONDecodeError, AttributeError):
        return False
    return isinstance(key, str) and key.startswith("pk_") and len(key) >= 35


@rule(
    "api-key-is-publishable",
    UNIVERSAL,
    "(own rule)",
    "The API key secret holds a publishable key: `pk_` and at least 32 characters.",
)
def _api_key(s: Stack) -> Iterator[tuple[Res, str]]:
    def purpose(secret: Res) -> Any:
        tags = secret.get("tags")
        return tags.get(TAG_PURPOSE) if isinstance(tags, Mapping) else tags

    api_secrets = [r for r in s.of(SECRET) if purpose(r) == "api-key"]
    if s.of(SECRET_VERSION) and not api_secrets and s.env and all(known(purpose(r)) for r in s.of(SECRET)):
        yield s.of(SECRET_VERSION)[0], "no secret is tagged envstack:purpose=api-key"
    for secret in api_secrets:
        versions = s.linked(SECRET_VERSION, "secretId", secret)
        if not versions:
            yield secret, "the API key secret has no value"
        for version in versions:
            text = version.get("secretString")
            if not known(text):
                continue  # secret or unknown during preview: nothing to check here
            if not _publishable(text):
                yield version, "the API key secret does not hold a pk_ publishable key"


@rule(
    "no-cluster-in-custom",
    INVARIANT,
    "(own rule)",
    "A custom (preview) environment never creates an Aurora cluster: it attaches to one.",
)
def _no_cluster(s: Stack) -> Iterator[tuple[Res, str]]:
    if s.env_type == "custom":
        for cluster in s.of(CLUSTER) + s.of(INSTANCE):
            yield cluster, "a custom environment creates a cluster"
