"""The offline adapter (policies/plan_adapter.py): how a plan JSON's fields become resources, that
links come only from recorded property dependencies, and the one-line refusal of a plan of
another schemaVersion."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policies import rules
from policies.contracts import conventions
from policies.model import Res
from policies.plan_adapter import PlanVersionError, check_schema, from_plan
from tests.support.policies import TAGS, findings, res


def _plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"schemaVersion": conventions.PLAN_SCHEMA_VERSION, "resources": list(resources)}


def test_the_adapter_maps_every_field_of_a_plan_resource() -> None:
    provider = {"type": conventions.AWS_PROVIDER, "name": "aws", "inputs": {"defaultTags": {"tags": TAGS}}}
    bucket = {
        "type": conventions.BUCKET,
        "name": "files",
        "inputs": {"bucket": "x"},
        "protect": 1,
        "provider": "aws",
        "propertyDependencies": {"policy": ["b", "a", "b"]},
        "deleteBeforeReplace": True,
        "ignoreChanges": ["tags"],
        "retainOnDelete": False,
        "arn": "arn:aws:s3:::x",
    }
    stack = rules.from_plan(_plan(provider, bucket))
    assert stack.env == "pr-5"
    res = stack.resources[1]
    assert res == Res(
        type=conventions.BUCKET,
        name="files",
        props={"bucket": "x"},
        protect=True,
        provider="aws",
        provider_tags=TAGS,
        urn="files",
        links={"policy": ["a", "b"]},
        delete_before_replace=True,
        ignore_changes=["tags"],
        retain_on_delete=False,
        arn="arn:aws:s3:::x",
    )


def test_the_adapter_reads_absent_fields_as_unset() -> None:
    bare = {"type": conventions.BUCKET, "name": "files", "provider": "gone"}
    under_bare_provider = {"type": conventions.BUCKET, "name": "logs", "provider": "aws"}
    stack = rules.from_plan(_plan({"type": conventions.AWS_PROVIDER, "name": "aws"}, bare, under_bare_provider))
    assert stack.resources[1] == Res(conventions.BUCKET, "files", {}, provider="gone", urn="files")
    assert stack.resources[2] == Res(conventions.BUCKET, "logs", {}, provider="aws", urn="logs")
    assert (stack.env, stack.resources[0].provider_tags) == (None, None)
    empty = rules.from_plan({"schemaVersion": conventions.PLAN_SCHEMA_VERSION})
    assert empty.resources == [] and rules.evaluate(empty) == []


def test_the_plan_adapter_links_resources_only_through_recorded_property_dependencies(
    prod_plan: dict[str, Any],
) -> None:
    """Inputs that merely name a resource (its name, an ARN ending `:<name>`) link nothing."""
    plan = copy.deepcopy(prod_plan)
    block = res(plan, conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block")
    bucket = res(plan, conventions.BUCKET, "-files")
    block["inputs"]["bucket"] = bucket["name"]  # the plainest guessable reference
    del block["propertyDependencies"]["bucket"]
    key = res(plan, conventions.KMS_KEY)
    cluster = res(plan, conventions.CLUSTER)
    cluster["inputs"]["kmsKeyId"] = f"arn:aws:kms:ap-northeast-2:123456789012:{key['name']}"
    del cluster["propertyDependencies"]["kmsKeyId"]
    model = {r.name: r for r in rules.from_plan(plan).resources}
    assert "bucket" not in model[block["name"]].links and "kmsKeyId" not in model[cluster["name"]].links
    assert model[block["name"]].links == {k: sorted(set(v)) for k, v in block["propertyDependencies"].items()}
    hits = [f.message for f in findings(plan) if f.rule == "s3-public-access-block"]
    assert hits == ["no public access block"]


@pytest.mark.parametrize("version", [None, 1, "2", 3])
def test_the_plan_adapter_refuses_a_plan_of_another_schema_version(prod_plan: dict[str, Any], version: Any) -> None:
    plan = copy.deepcopy(prod_plan)
    if version is None:
        del plan["schemaVersion"]
    else:
        plan["schemaVersion"] = version
    with pytest.raises(ValueError, match=r"schemaVersion") as refused:
        rules.from_plan(plan)
    message = str(refused.value)
    assert isinstance(refused.value, rules.PlanVersionError)
    found = "has no schemaVersion" if version is None else f"has schemaVersion {json.dumps(version)}"
    assert f"the plan {found}; this envctl reads schemaVersion 2 only" in message
    assert "re-render it with this envctl" in message
    assert "\n" not in message


def test_check_schema_passes_a_plan_of_schema_version_2_and_names_the_refusals_class() -> None:
    check_schema({"schemaVersion": conventions.PLAN_SCHEMA_VERSION})
    with pytest.raises(PlanVersionError) as refused:
        check_schema({"schemaVersion": 1})
    assert str(refused.value) == (
        "the plan has schemaVersion 1; this envctl reads schemaVersion 2 only: "
        "re-render it with this envctl (`envctl plan STACK --format json`)"
    )
    assert rules.PlanVersionError is PlanVersionError


def test_only_providers_lend_their_tags_and_the_default_provider_none() -> None:
    tagged = {"type": conventions.AWS_PROVIDER, "name": "aws", "inputs": {"defaultTags": {"tags": TAGS}}}
    not_a_provider = {"type": conventions.BUCKET, "name": "other", "inputs": {"defaultTags": {"tags": TAGS}}}
    on_default = {"type": conventions.BUCKET, "name": "files", "provider": None}
    on_other = {"type": conventions.BUCKET, "name": "logs", "provider": "other"}
    stack = from_plan(_plan(tagged, not_a_provider, on_default, on_other))
    assert [r.provider_tags for r in stack.resources] == [None, None, None, None]
    assert (stack.resources[2].provider, stack.resources[3].provider) == (None, "other")
