"""The isolation and project rules (policies/rules_isolation.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import json

import pytest

from policies.contracts import conventions
from policies.model import UNKNOWN
from tests.support.policies import (
    AWS_RESOURCES,
    CLUSTER,
    NOT_PK,
    PAB,
    SECRET,
    Case,
    M,
    Mutation,
    _api_key,
    _api_key_text,
    _default_provider,
    _first_aws_on_default_provider,
    _option,
    _provider_tags_without,
    _remove_key,
    _set,
    _twin_input,
    _type,
    edge_findings,
)

CASES: list[Case] = [
    # explicit-regional-provider: AWS resources only; every missing tag is named, in order.
    (
        "prod",
        "explicit-regional-provider",
        [_provider_tags_without(conventions.TAG_ENVIRONMENT, conventions.TAG_PROJECT)],
        [(M, r, "its provider does not tag envstack:environment, envstack:project") for r in AWS_RESOURCES["prod"]],
    ),
    ("prod", "explicit-regional-provider", [_default_provider(conventions.RANDOM_ID)], []),
    # a resource on the default provider does not end the check of the others.
    (
        "prod",
        "explicit-regional-provider",
        [_provider_tags_without(conventions.TAG_STACK), _first_aws_on_default_provider],
        [(M, AWS_RESOURCES["prod"][0], "uses the default provider, not the explicit regional one")]
        + [(M, r, "its provider does not tag envstack:stack") for r in AWS_RESOURCES["prod"][1:]],
    ),
    # no-cross-environment-names: any string at any depth; nothing without an environment tag.
    # the identifier of a cluster this stack creates is its own, even shaped like another
    # environment's store; one that is not a string is no owner (and no crash).
    ("prod", "no-cross-environment-names", [_set(*CLUSTER, "clusterIdentifier", value="envstack-shared-cluster")], []),
    (
        "prod",
        "no-cross-environment-names",
        [_set(*CLUSTER, "clusterIdentifier", value=7), _set(*SECRET, "description", value="envstack-staging-users")],
        [(M, "envstack-prod-api-key", "refers to another environment's resource: 'envstack-staging-users'")],
    ),
    (
        "prod",
        "no-cross-environment-names",
        [_set(*SECRET, "description", value={"copies": ["see", {"of": "envstack-staging-users"}]})],
        [(M, "envstack-prod-api-key", "refers to another environment's resource: 'envstack-staging-users'")],
    ),
    (
        "prod",
        "no-cross-environment-names",
        [
            _set(*SECRET, "description", value="envstack-staging-users"),
            _provider_tags_without(conventions.TAG_ENVIRONMENT),
        ],
        [],
    ),
    ("prod", "no-cross-environment-names", [_set(*SECRET, "description", value="backed up to prod-main")], []),
    # api-key-is-publishable: `pk_` and at least 32 characters after it, in the secret tagged api-key.
    ("prod", "api-key-is-publishable", [_api_key("pk_" + "a" * 32)], []),
    # a version whose value is unknown is skipped, not the end of the check of the others.
    (
        "prod",
        "api-key-is-publishable",
        [
            _api_key("sk_" + "a" * 32),
            _twin_input(
                conventions.SECRET_VERSION,
                "api-key-version",
                "envstack-prod-api-key-version-twin",
                "secretString",
                UNKNOWN,
            ),
        ],
        [(M, "envstack-prod-api-key-version", NOT_PK)],
    ),
    (
        "prod",
        "api-key-is-publishable",
        [_remove_key(*SECRET, "tags")],
        [(M, "envstack-prod-api-key-version", "no secret is tagged envstack:purpose=api-key")],
    ),
    ("prod", "api-key-is-publishable", [_api_key("pk_" + "a" * 31)], [(M, "envstack-prod-api-key-version", NOT_PK)]),
    (
        "prod",
        "api-key-is-publishable",
        [_api_key_text(json.dumps(["pk_" + "a" * 32]))],
        [(M, "envstack-prod-api-key-version", NOT_PK)],
    ),
    (
        "prod",
        "api-key-is-publishable",
        [_api_key_text("pk_" + "a" * 32)],
        [(M, "envstack-prod-api-key-version", NOT_PK)],
    ),
    (
        "prod",
        "api-key-is-publishable",
        [_api_key_text(json.dumps({"apiKey": 12345}))],
        [(M, "envstack-prod-api-key-version", NOT_PK)],
    ),
    ("prod", "api-key-is-publishable", [_api_key_text(json.dumps({}))], [(M, "envstack-prod-api-key-version", NOT_PK)]),
    (
        "prod",
        "api-key-is-publishable",
        [_remove_key(*SECRET, "tags"), _provider_tags_without(conventions.TAG_ENVIRONMENT)],
        [],
    ),
    (
        "prod",
        "api-key-is-publishable",
        [_set(*SECRET, "tags", value=UNKNOWN), _set(conventions.SECRET, "-tables-credentials", "tags", value=UNKNOWN)],
        [],
    ),
    # explicit-regional-provider: a provider the plan does not hold tags nothing.
    (
        "prod",
        "explicit-regional-provider",
        [_option(conventions.BUCKET, "-files", provider="gone")],
        [
            (
                M,
                "envstack-prod-files",
                "its provider does not tag envstack:environment, envstack:type, envstack:project, envstack:stack",
            )
        ],
    ),
    # no-cross-environment-names: without a project tag, the default project's names are the environment's.
    (
        "prod",
        "no-cross-environment-names",
        [_provider_tags_without(conventions.TAG_PROJECT), _set(*SECRET, "description", value="envstack-staging-users")],
        [(M, "envstack-prod-api-key", "refers to another environment's resource: 'envstack-staging-users'")],
    ),
    ("prod", "no-cross-environment-names", [_provider_tags_without(conventions.TAG_PROJECT)], []),
    # no-cluster-in-custom: the cluster and its instances, in every custom environment.
    (
        "prod",
        "no-cluster-in-custom",
        [_type("custom")],
        [
            (M, "prod-main", "a custom environment creates a cluster"),
            (M, "prod-main-writer", "a custom environment creates a cluster"),
        ],
    ),
    ("prod", "no-cluster-in-custom", [_type("staging")], []),
    # Each rule has a passing and a failing case here (tests/policies/test_rules.py checks it).
    # prod-stateful-protected: stateful types only; advice in staging.
    ("prod", "prod-stateful-protected", [_option(*PAB, protect=False)], []),
    (
        "prod",
        "prod-stateful-protected",
        [_option(conventions.BUCKET, "-files", protect=False)],
        [(M, "envstack-prod-files", "stateful resource without protect")],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
