"""The mock runtime (envctl/runtime.py): what it records of a program's registrations, which every
plan, diff, manifest and policy check reads. Each assertion is about what the program declared
(its options, dependencies, parents, providers, exports and secrets), never about a value the
mocks make up (ids, ARNs, generated values), which are only placeholders."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pytest

from envctl.errors import RenderError
from envctl.plan import Rendering, Resource
from envctl.runtime import generated_password, record
from policies.contracts import conventions, names
from tests.support.program import REGION, only


def _program() -> None:
    """A small program that states every option the recorder must carry, with values of its own."""
    provider = aws.Provider("regional", region=REGION, default_tags={"tags": {"owner": "tests"}})
    parent = pulumi.ComponentResource("tests:index:Group", "group")
    on_provider = pulumi.ResourceOptions(parent=parent, provider=provider)
    bucket = aws.s3.Bucket(
        "bucket",
        force_destroy=False,
        opts=pulumi.ResourceOptions.merge(
            on_provider, pulumi.ResourceOptions(protect=True, retain_on_delete=True, ignore_changes=["tags", "acl"])
        ),
    )
    token = random.RandomPassword("token", length=40, special=False, opts=pulumi.ResourceOptions(parent=parent))
    aws.s3.BucketPolicy(
        "policy",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: f'{{"Resource": "{arn}"}}'),
        opts=pulumi.ResourceOptions.merge(
            on_provider, pulumi.ResourceOptions(depends_on=[token], delete_before_replace=True)
        ),
    )
    aws.ssm.Parameter("secret", type="SecureString", value=token.result, opts=pulumi.ResourceOptions(provider=provider))
    pulumi.export("bucketName", bucket.bucket)
    pulumi.export("token", token.result)
    pulumi.export("limits", {"port": 5432, "ratio": 0.5})


@pytest.fixture(scope="module")
def recorded() -> tuple[dict[str, Resource], dict[str, Any]]:
    resources, outputs = record(_program, stack="runtime-test", region=REGION)
    return {r.name: r for r in resources}, outputs


def test_each_registration_is_recorded_once_with_its_type_sorted_by_name(
    recorded: tuple[dict[str, Resource], dict[str, Any]],
) -> None:
    by_name, _ = recorded
    assert [(r.name, r.type) for r in by_name.values()] == [
        ("bucket", conventions.BUCKET),
        ("group", "tests:index:Group"),
        ("policy", conventions.BUCKET_POLICY),
        ("regional", conventions.AWS_PROVIDER),
        ("secret", "aws:ssm/parameter:Parameter"),
        ("token", conventions.RANDOM_PASSWORD),
    ]
    assert [r.custom for r in by_name.values()] == [True, False, True, True, True, True]


def test_the_options_the_program_sets_are_recorded_and_nothing_else(
    recorded: tuple[dict[str, Resource], dict[str, Any]],
) -> None:
    by_name, _ = recorded
    bucket, policy, secret = by_name["bucket"], by_name["policy"], by_name["secret"]
    assert (bucket.protect, bucket.retain_on_delete, bucket.delete_before_replace) == (True, True, False)
    assert bucket.ignore_changes == ["acl", "tags"]  # sorted, so the plan JSON is stable
    assert (policy.protect, policy.retain_on_delete, policy.delete_before_replace) == (False, False, True)
    assert policy.ignore_changes == []
    assert (secret.protect, secret.retain_on_delete, secret.delete_before_replace) == (False, False, False)


def test_parents_and_providers_are_recorded_by_name(recorded: tuple[dict[str, Resource], dict[str, Any]]) -> None:
    by_name, _ = recorded
    assert [(r.parent, r.provider) for r in by_name.values()] == [
        ("group", "regional"),
        (None, None),  # a child of the stack has no parent in the plan
        ("group", "regional"),
        (None, None),
        (None, "regional"),
        ("group", None),  # not an AWS resource: the default random provider
    ]
    assert by_name["bucket"].parent_urn == by_name["group"].urn
    assert by_name["group"].parent_urn is None


def test_dependencies_are_the_engines_by_name_explicit_and_through_properties(
    recorded: tuple[dict[str, Resource], dict[str, Any]],
) -> None:
    by_name, _ = recorded
    policy = by_name["policy"]
    assert policy.depends_on == ["bucket", "token"]  # depends_on=[token], and the bucket through its inputs
    assert policy.property_dependencies == {"bucket": ["bucket"], "policy": ["bucket"]}
    assert by_name["secret"].property_dependencies == {"value": ["token"]}
    assert by_name["bucket"].depends_on == [] and by_name["bucket"].property_dependencies == {}


def test_provider_settings_are_decoded_and_secrets_are_never_recorded(
    recorded: tuple[dict[str, Resource], dict[str, Any]],
) -> None:
    by_name, outputs = recorded
    # The engine passes provider settings as strings; default tags arrive as an object again.
    assert by_name["regional"].inputs["defaultTags"] == {"tags": {"owner": "tests"}}
    assert (
        by_name["secret"].inputs["value"] == conventions.SECRET_PLACEHOLDER
    )  # a generated password, marked secret by the engine
    assert outputs["token"] == conventions.SECRET_PLACEHOLDER
    assert conventions.SECRET_PLACEHOLDER not in str(
        by_name["token"].inputs
    )  # its own inputs are settings, not the value


def test_stack_outputs_are_the_programs_exports_with_integers_kept_integers(
    recorded: tuple[dict[str, Resource], dict[str, Any]],
) -> None:
    by_name, outputs = recorded
    assert sorted(outputs) == ["bucketName", "limits", "token"]
    assert outputs["limits"] == {"port": 5432, "ratio": 0.5}
    assert isinstance(outputs["limits"]["port"], int)  # protobuf carries numbers as floats
    assert by_name["token"].inputs["length"] == 40 and isinstance(by_name["token"].inputs["length"], int)


def test_only_aws_resources_carry_an_arn(recorded: tuple[dict[str, Resource], dict[str, Any]]) -> None:
    by_name, _ = recorded
    assert [name for name, r in by_name.items() if r.arn is not None] == ["bucket", "policy", "secret"]


def test_the_real_programs_dynamic_provider_code_is_not_recorded_as_input(rendered: dict[str, Rendering]) -> None:
    store = only(rendered["prod"].resources, conventions.SCHEMA_ROLE)
    assert store.inputs["__provider"] == "[dynamic provider code]"
    assert store.arn is None and store.provider is None


def test_the_real_programs_exports_and_components_are_recorded(rendered: dict[str, Rendering]) -> None:
    prod = rendered["prod"]
    assert sorted(prod.outputs) == sorted(conventions.OUTPUTS)
    assert prod.outputs["apiKey"] == conventions.SECRET_PLACEHOLDER  # the program exports the key as a secret
    environment = [r for r in prod.resources if r.parent is None and not r.custom]
    assert [r.type for r in environment] == ["envstack:index:Environment"]
    assert {r.parent for r in prod.resources if r.parent_urn == environment[0].urn} == {environment[0].name}


def test_a_failing_program_is_one_render_error() -> None:
    def program() -> None:
        raise pulumi.RunError("the cluster needs a name")

    with pytest.raises(RenderError, match=r"^the cluster needs a name$"):
        record(program, stack="runtime-test", region=REGION)


def test_a_call_offline_rendering_does_not_fake_is_refused_by_name() -> None:
    def program() -> None:
        aws.ec2.get_vpc(default=True)

    with pytest.raises(RenderError, match="the program called aws:ec2/getVpc:getVpc, which offline rendering"):
        record(program, stack="runtime-test", region=REGION)


def test_generated_password_refuses_what_is_not_a_random_password(rendered: dict[str, Rendering]) -> None:
    bucket = next(r for r in rendered["dev"].resources if r.type == conventions.BUCKET)
    with pytest.raises(ValueError, match=f"^{bucket.name} is a {conventions.BUCKET}, not a RandomPassword$"):
        generated_password(rendered["dev"], bucket)


@pytest.mark.parametrize("project", [names.DEFAULT_PROJECT, "acme"])
def test_a_generated_value_leaves_the_environment_out_in_every_project(project: str) -> None:
    """Two renderings of one stack that differ only by the environment's name get the same
    generated values (here a KMS key's id), in the default project and in any other."""

    def key_arn(env: str) -> str | None:
        def program() -> None:
            aws.kms.Key(names.logical(env, "key", project))

        resources, _ = record(program, stack="runtime-test", region=REGION, env=env, project=project)
        return only(resources, conventions.KMS_KEY).arn

    assert key_arn("dev") == key_arn("qa")
