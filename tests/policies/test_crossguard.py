"""The CrossGuard adapter (policies/crossguard.py): CrossGuard's StackValidationArgs, built from the
Policy SDK's own types, become the rules' model; what the engine does not tell CrossGuard stays
unset, and its unknown-value sentinels become the rules' UNKNOWN."""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import crossguard, rules
from policies.contracts import conventions
from tests.support.crossguard import policy_args, run_pack
from tests.support.policies import TAGS, _option, findings


def test_crossguard_is_not_told_retain_on_delete_so_only_envctl_check_sees_it(prod_plan: dict[str, Any]) -> None:
    plan = copy.deepcopy(prod_plan)
    _option(conventions.KMS_KEY, "", retainOnDelete=False)(plan)
    assert "kms-key-outlives-its-data" in {f.rule for f in findings(plan)}  # offline: seen
    model = crossguard.from_policy_args(policy_args(plan))
    assert {r.retain_on_delete for r in model.resources} == {None}
    assert "kms-key-outlives-its-data" not in run_pack(policy_args(plan))  # docs/policies.md says so


def test_unknown_values_become_the_rules_unknown_sentinel() -> None:
    plain = crossguard.plain(unknown_checking_proxy({"a": UNKNOWN_STRING_VALUE, "b": [UNKNOWN_BOOLEAN_VALUE, 1]}))
    assert plain == {"a": rules.UNKNOWN, "b": [rules.UNKNOWN, 1]}


def _resource(name: str, props: dict[str, Any], provider: PolicyProviderResource | None, **opts: Any) -> PolicyResource:
    options = PolicyResourceOptions(
        opts.get("protect", False),
        opts.get("ignore_changes", []),
        opts.get("delete_before_replace"),
        [],
        PolicyCustomTimeouts(0, 0, 0),
        [],
    )
    return PolicyResource(
        conventions.BUCKET, unknown_checking_proxy(props), f"urn:{name}", name, options, provider, None, [], {}
    )


def test_each_field_crossguard_is_told_reaches_the_model() -> None:
    provider = PolicyProviderResource(
        conventions.AWS_PROVIDER, unknown_checking_proxy({"defaultTags": {"tags": TAGS}}), "urn:aws", "aws"
    )
    policy = _resource("policy", {"bucket": "files"}, provider)
    files = _resource(
        "files",
        {"bucket": "x", "arn": "arn:aws:s3:::x"},
        provider,
        protect=True,
        ignore_changes=["tags"],
        delete_before_replace=True,
    )
    files.property_dependencies = {"policy": [policy]}
    stack = crossguard.from_policy_args(StackValidationArgs([policy, files]))
    assert stack.resources[1] == rules.Res(
        type=conventions.BUCKET,
        name="files",
        props={"bucket": "x", "arn": "arn:aws:s3:::x"},
        protect=True,
        provider="aws",
        provider_tags=TAGS,
        urn="urn:files",
        links={"policy": ["policy"]},
        delete_before_replace=True,
        ignore_changes=["tags"],
        retain_on_delete=None,
        arn="arn:aws:s3:::x",
    )


def test_a_default_provider_counts_as_none_and_an_arn_not_yet_known_is_unknown() -> None:
    default = PolicyProviderResource(
        conventions.AWS_PROVIDER, unknown_checking_proxy({"defaultTags": {"tags": TAGS}}), "urn:d", "default_7_51_1"
    )
    (under_default, bare) = crossguard.from_policy_args(
        StackValidationArgs([_resource("a", {"bucket": "a"}, default), _resource("b", {}, None)])
    ).resources
    for res in (under_default, bare):
        assert (res.provider, res.provider_tags, res.arn, res.links) == (None, None, rules.UNKNOWN, {})
        assert (res.protect, res.delete_before_replace, res.ignore_changes) == (False, None, [])


def test_plain_values_pass_through_and_tuples_become_lists() -> None:
    assert crossguard.plain({"a": ("x", {"b": None}), "c": 0}) == {"a": ["x", {"b": None}], "c": 0}
    assert crossguard.plain(UNKNOWN_STRING_VALUE) is rules.UNKNOWN


def test_the_adapter_reads_the_committed_prod_plan_as_the_offline_adapter_does(prod_plan: dict[str, Any]) -> None:
    """Through CrossGuard every resource keeps its type, name, inputs, protection, provider and
    ARN (which the engine shows among the props once known); the links are not compared, since
    tests/support/crossguard.py takes them from the offline adapter."""
    offline = rules.from_plan(copy.deepcopy(prod_plan))
    through = crossguard.from_policy_args(policy_args(prod_plan))
    assert len(through.resources) == len(offline.resources) > 20
    for a, b in zip(offline.resources, through.resources, strict=True):
        inputs = {k: v for k, v in b.props.items() if k != "arn" or "arn" in a.props}
        assert (a.type, a.name, a.props, a.protect) == (b.type, b.name, inputs, b.protect)
        assert (a.provider, a.provider_tags, a.arn or rules.UNKNOWN) == (b.provider, b.provider_tags, b.arn)
        assert b.urn == f"urn:{a.name}"
    assert (through.env, through.env_type, through.project) == (offline.env, offline.env_type, offline.project)
