"""`envctl plan --format terraform-plan`: the export's shape, names, nested blocks and links.

Evaluation only: the export of the real renderings (Pulumi's mocks run the program), checked
here field by field; tests/integration/test_checkov_fidelity.py has Checkov read it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest

from envctl import terraform_plan
from envctl.cli import app
from envctl.errors import FailureError
from policies.contracts import conventions
from tests.support.program import ROOT, committed_plan, runner

STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def plans() -> dict[str, dict[str, Any]]:
    return {stack: committed_plan(stack) for stack in STACKS}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def by_address(tf: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    if section == "planned":
        return {r["address"]: r for r in tf["planned_values"]["root_module"]["resources"]}
    if section == "changes":
        return {r["address"]: r for r in tf["resource_changes"]}
    return {r["address"]: r for r in tf["configuration"]["root_module"]["resources"]}


def test_every_aws_resource_is_exported_once_and_every_other_one_is_listed(plans: dict[str, dict[str, Any]]) -> None:
    for plan in plans.values():
        result = terraform_plan.export(plan)
        aws = [r for r in plan["resources"] if r["type"].split(":")[0] == "aws"]
        others = [r for r in plan["resources"] if r["type"].split(":")[0] != "aws"]
        assert aws and others
        planned, changes, config = (by_address(result.plan, s) for s in ("planned", "changes", "config"))
        assert len(planned) == len(changes) == len(config) == len(aws)
        assert set(planned) == set(changes) == set(config)
        assert sorted((r["name"], r["type"]) for r in others) == sorted((r["name"], r["type"]) for r in result.left_out)
        assert {r["type"] for r in result.left_out} >= {conventions.AWS_PROVIDER, conventions.FILES}
        assert all(c["change"]["actions"] == ["create"] and c["change"]["before"] is None for c in changes.values())
        assert result.plan["format_version"] == "1.2" and result.plan["terraform_version"]


def test_types_and_names_are_terraforms(plans: dict[str, dict[str, Any]]) -> None:
    tf = terraform_plan.export(plans["prod"]).plan
    planned = by_address(tf, "planned")
    writer = planned["aws_rds_cluster_instance.prod-main-writer"]["values"]
    assert writer["performance_insights_enabled"] is True and writer["instance_class"] == "db.serverless"
    assert "performanceInsightsEnabled" not in writer
    cluster = planned["aws_rds_cluster.prod-main"]["values"]
    assert cluster["serverlessv2_scaling_configuration"] == [{"max_capacity": 16, "min_capacity": 0.5}]
    assert cluster["backup_retention_period"] == 14 and cluster["storage_encrypted"] is True
    pool = planned["aws_cognito_user_pool.envstack-prod-users"]["values"]
    assert pool["password_policy"][0]["minimum_length"] == 12
    assert pool["account_recovery_setting"][0]["recovery_mechanism"][0]["name"] == "verified_email"
    assert pool["user_pool_add_ons"] == [{"advanced_security_mode": "ENFORCED"}]


def test_nested_blocks_are_lists_under_terraforms_names(plans: dict[str, dict[str, Any]]) -> None:
    tf = terraform_plan.export(plans["prod"]).plan
    planned = by_address(tf, "planned")
    lifecycle = planned["aws_s3_bucket_lifecycle_configuration.envstack-prod-files-lifecycle"]["values"]
    (rule,) = lifecycle["rule"]  # Pulumi's `rules`
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    assert rule["filter"] == [{}] and rule["status"] == "Enabled"
    logs = planned["aws_s3_bucket_lifecycle_configuration.envstack-prod-files-logs-lifecycle"]["values"]
    assert logs["rule"][0]["expiration"] == [{"days": 365}]
    sse = planned["aws_s3_bucket_server_side_encryption_configuration.envstack-prod-files-encryption"]["values"]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == [{"sse_algorithm": "aws:kms"}]
    ownership = planned["aws_s3_bucket_ownership_controls.envstack-prod-files-ownership"]["values"]
    assert ownership["rule"] == [{"object_ownership": "BucketOwnerEnforced"}]


def test_links_come_from_the_recorded_dependencies(plans: dict[str, dict[str, Any]]) -> None:
    """A value that is another resource's id or ARN is unknown until apply and referenced, as
    Terraform plans it: how Checkov's graph connects a bucket to its configuration resources."""
    tf = terraform_plan.export(plans["prod"]).plan
    planned, changes, config = (by_address(tf, s) for s in ("planned", "changes", "config"))
    block = "aws_s3_bucket_public_access_block.envstack-prod-files-public-access-block"
    assert "bucket" not in planned[block]["values"]
    assert changes[block]["change"]["after_unknown"] == {"bucket": True}
    assert config[block]["expressions"]["bucket"] == {
        "references": ["aws_s3_bucket.envstack-prod-files.id", "aws_s3_bucket.envstack-prod-files"]
    }
    assert config[block]["expressions"]["block_public_acls"] == {"constant_value": True}
    sse = config["aws_s3_bucket_server_side_encryption_configuration.envstack-prod-files-encryption"]
    by_default = sse["expressions"]["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert by_default["kms_master_key_id"]["references"][0] == "aws_kms_key.envstack-prod-key.arn"
    assert by_default["sse_algorithm"] == {"constant_value": "aws:kms"}  # a constant, though the block has a dep
    writer = config["aws_rds_cluster_instance.prod-main-writer"]["expressions"]
    assert writer["cluster_identifier"]["references"][0] == "aws_rds_cluster.prod-main.id"
    logging = config["aws_s3_bucket_logging.envstack-prod-files-logging"]
    assert logging["expressions"]["target_bucket"]["references"][0] == "aws_s3_bucket.envstack-prod-files-logs.id"
    assert set(logging["depends_on"]) == {
        "aws_s3_bucket_policy.envstack-prod-files-logs-policy",
        "aws_s3_bucket_ownership_controls.envstack-prod-files-logs-ownership",
    }
    policy = config["aws_s3_bucket_policy.envstack-prod-files-policy"]["expressions"]["policy"]
    assert json.loads(policy["constant_value"])["Statement"][0]["Sid"] == "DenyInsecureTransport"
    assert policy["references"] == ["aws_s3_bucket.envstack-prod-files"]  # a composite value stays known


def test_secrets_stay_placeholders(plans: dict[str, dict[str, Any]]) -> None:
    for plan in plans.values():
        text = json.dumps(terraform_plan.export(plan).plan)
        assert conventions.SECRET_PLACEHOLDER in text
        versions = [r for r in plan["resources"] if r["type"] == conventions.SECRET_VERSION]
        assert versions and all(r["inputs"]["secretString"] == conventions.SECRET_PLACEHOLDER for r in versions)


def test_an_unmapped_aws_type_or_property_stops_the_export(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["dev"])
    plan["resources"].append({"name": "x", "type": "aws:sqs/queue:Queue", "inputs": {}})
    with pytest.raises(terraform_plan.UnmappedTypeError, match=r"^x \(aws:sqs/queue:Queue\): not in envctl/data"):
        terraform_plan.export(plan)
    plan = copy.deepcopy(plans["dev"])
    bucket = next(r for r in plan["resources"] if r["type"] == conventions.BUCKET)
    bucket["inputs"]["objectLockEnabled"] = True
    with pytest.raises(terraform_plan.UnmappedTypeError, match=r"^aws:s3/bucket:Bucket\.objectLockEnabled: not in"):
        terraform_plan.export(plan)
    pool = next(r for r in plan["resources"] if r["type"] == conventions.USER_POOL)
    bucket["inputs"].pop("objectLockEnabled")
    pool["inputs"]["passwordPolicy"] = ["not", "an", "object"]
    with pytest.raises(terraform_plan.UnmappedTypeError, match=r"passwordPolicy \(a single block, got list\)"):
        terraform_plan.export(plan)


def test_two_aws_resources_of_one_name_are_refused(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["dev"])
    bucket = next(r for r in plan["resources"] if r["type"] == conventions.BUCKET)
    plan["resources"].append(copy.deepcopy(bucket))
    with pytest.raises(FailureError, match="share this name"):
        terraform_plan.export(plan)


def test_the_cli_prints_the_export_and_counts_what_it_left_out() -> None:
    code, out, err = invoke("plan", "dev", "--format", "terraform-plan")
    assert code == 0, err
    tf = json.loads(out)
    assert tf["configuration"]["provider_config"]["aws"]["expressions"]["region"] == {
        "constant_value": "ap-northeast-2"
    }
    assert "left out" in err and "pulumi:providers:aws" in err and "not AWS resources" in err
    assert terraform_plan.left_out_line([]) == ""


def test_the_mapping_agrees_with_the_pinned_pulumi_aws() -> None:
    """scripts/terraform-mapping: every declared type mapped, every Pulumi name and shape real."""
    done = subprocess.run(
        [sys.executable, "scripts/terraform_mapping.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "20 types checked: 0 problem(s)" in done.stderr


def test_the_mapping_check_finds_what_is_wrong() -> None:
    from scripts import terraform_mapping as tm  # the repository root is on sys.path (pytest's pythonpath)

    table = copy.deepcopy(terraform_plan.mapping())
    table["aws:s3/bucket:Bucket"]["fields"]["forceDestroyy"] = "force_destroy"
    table["aws:s3/bucketOwnershipControls:BucketOwnershipControls"]["fields"]["rule"]["block"] = "list"
    del table["aws:kms/alias:Alias"]
    problems = tm.check(table, None)
    assert "aws:s3/bucket:Bucket forceDestroyy: no such property in pulumi-aws" in problems
    assert any("rule: the mapping says list, pulumi-aws has single" in p for p in problems)
    assert "aws:kms/alias:Alias: declared in policies/contracts/conventions.py but not mapped" in problems
    # Against bridge-metadata.json's shape: renamedProperties lists every property whose
    # Terraform name differs from its Pulumi name, keyed by the resource's or nested type's token.
    token = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    rule = "aws:s3/BucketLifecycleConfigurationRule:BucketLifecycleConfigurationRule"
    renamed = {
        token: {"rules": "rule"},
        rule: {
            "abortIncompleteMultipartUpload": "abort_incomplete_multipart_upload",
            "noncurrentVersionExpiration": "noncurrent_version_expirations",
        },
        "aws:s3/BucketLifecycleConfigurationRuleNoncurrentVersionExpiration:"
        "BucketLifecycleConfigurationRuleNoncurrentVersionExpiration": {"noncurrentDays": "noncurrent_days"},
        "aws:s3/BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload:"
        "BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload": {
            "daysAfterInitiation": "days_after_initiation"
        },
    }
    fields = terraform_plan.mapping()[token]["fields"]
    problems = tm.check_fields(token, token, tm._args_class(token), fields, renamed)
    assert problems == [
        f"{rule} noncurrentVersionExpiration: the mapping says noncurrent_version_expiration, "
        "bridge-metadata noncurrent_version_expirations",
        "aws:s3/BucketLifecycleConfigurationRuleNoncurrentVersionExpiration:"
        "BucketLifecycleConfigurationRuleNoncurrentVersionExpiration newerNoncurrentVersions: the mapping says "
        "newer_noncurrent_versions, bridge-metadata newerNoncurrentVersions",
    ]
    metadata = {"renames": {"resources": {token: "aws_s3_bucket_lifecycle"}, "renamedProperties": renamed}}
    assert (
        f"{token}: the mapping says aws_s3_bucket_lifecycle_configuration, bridge-metadata aws_s3_bucket_lifecycle"
        in (tm.check({token: terraform_plan.mapping()[token]}, metadata))
    )


def test_one_resource_in_terraforms_exact_shape(plans: dict[str, dict[str, Any]]) -> None:
    """Every key Terraform writes for a created resource, for one resource end to end."""
    tf = terraform_plan.export(plans["dev"]).plan
    assert set(tf) == {
        "format_version",
        "terraform_version",
        "planned_values",
        "resource_changes",
        "configuration",
        "applyable",
        "complete",
        "errored",
    }
    assert (tf["applyable"], tf["complete"], tf["errored"]) == (True, True, False)
    assert tf["configuration"]["provider_config"] == {
        "aws": {
            "name": "aws",
            "full_name": "registry.terraform.io/hashicorp/aws",
            "expressions": {"region": {"constant_value": "ap-northeast-2"}},
        }
    }
    address = "aws_s3_bucket_public_access_block.envstack-dev-files-public-access-block"
    head = {
        "address": address,
        "mode": "managed",
        "type": "aws_s3_bucket_public_access_block",
        "name": "envstack-dev-files-public-access-block",
    }
    flags = {
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    assert by_address(tf, "planned")[address] == {
        **head,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": flags,
        "sensitive_values": {},
    }
    assert by_address(tf, "changes")[address] == {
        **head,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["create"],
            "before": None,
            "after": flags,
            "after_unknown": {"bucket": True},
            "before_sensitive": False,
            "after_sensitive": {},
        },
    }
    assert by_address(tf, "config")[address] == {
        **head,
        "provider_config_key": "aws",
        "schema_version": 0,
        "expressions": {
            "bucket": {"references": ["aws_s3_bucket.envstack-dev-files.id", "aws_s3_bucket.envstack-dev-files"]},
            **{k: {"constant_value": True} for k in flags},
        },
    }
    sse = by_address(tf, "changes")["aws_s3_bucket_server_side_encryption_configuration.envstack-dev-files-encryption"]
    assert sse["change"]["after_unknown"] == {"bucket": True}  # no nested unknowns: dev uses the AWS-managed key
    prod = terraform_plan.export(plans["prod"]).plan
    prod_sse = by_address(prod, "changes")[
        "aws_s3_bucket_server_side_encryption_configuration.envstack-prod-files-encryption"
    ]
    assert prod_sse["change"]["after_unknown"] == {
        "bucket": True,
        "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": True}]}],
    }


def test_the_left_out_line_counts_each_type() -> None:
    line = terraform_plan.left_out_line(
        [
            {"name": "a", "type": "random:index/randomId:RandomId"},
            {"name": "b", "type": "random:index/randomId:RandomId"},
            {"name": "c", "type": conventions.FILES},
        ]
    )
    assert line == (
        "left out 3 resources that are not AWS resources (1 envstack:index:Files, 2 random:index/randomId:RandomId)"
    )


def test_references_are_ids_only_for_whole_plain_properties() -> None:
    target = terraform_plan._Target(address="aws_s3_bucket.b", arn="arn:aws:s3:::b")
    other = terraform_plan._Target(address="aws_kms_key.k", arn=None)
    assert terraform_plan._reference("arn:aws:s3:::b", [other, target], False) == "aws_s3_bucket.b.arn"
    assert terraform_plan._reference("b-id", [target], True) == "aws_s3_bucket.b.id"
    assert terraform_plan._reference("b-id", [target], False) is None  # inside a block: ARNs only
    assert terraform_plan._reference("b-id", [target, other], True) is None  # two dependencies: which one?
    assert terraform_plan._reference('  {"a": 1}', [target], True) is None  # a JSON document is composite
    assert terraform_plan._reference('[{"a": 1}]', [target], True) is None
    assert terraform_plan._reference(7, [target], True) is None


def test_the_region_is_the_explicit_providers(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["dev"])
    plan["resources"].insert(0, {"name": "x", "type": conventions.SSM_PARAMETER, "inputs": {"region": "us-east-1"}})
    assert terraform_plan._region(plan) == "ap-northeast-2"
    assert terraform_plan._region({"resources": []}) is None


def test_an_unmapped_nested_property_is_named_by_its_path(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["prod"])
    lifecycle = next(r for r in plan["resources"] if r["type"] == conventions.LIFECYCLE_CONFIGURATION)
    lifecycle["inputs"]["rules"][0]["transitions"] = []
    with pytest.raises(terraform_plan.UnmappedTypeError) as err:
        terraform_plan.export(plan)
    assert str(err.value) == (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration.rules.transitions: not in "
        "envctl/data/terraform-mapping.json; add it there (scripts/terraform-mapping checks it against pulumi-aws) "
        "so that the Terraform plan export carries it"
    )


def test_a_name_shared_by_two_aws_types_is_refused(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["dev"])
    bucket = next(r for r in plan["resources"] if r["type"] == conventions.BUCKET)
    plan["resources"].append({**copy.deepcopy(bucket), "type": conventions.KMS_KEY, "inputs": {}})
    with pytest.raises(FailureError, match="share this name"):
        terraform_plan.export(plan)
