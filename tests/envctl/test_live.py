"""What AWS holds about a project's environments (envctl/live.py): the SSM records read page by
page on moto, the cards made of them, and the one-line refusals of a bad project, region or
record. `envctl cards --live` and `envctl resolve` are tests/envctl/test_records_cli.py's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import NAME_ALLOWED
from envctl import live
from envctl.errors import UsageError, aws_refusal
from envctl.plan import Rendering
from policies.contracts import conventions


def test_live_cards_follow_every_page(rendered: dict[str, Rendering], aws: Any) -> None:
    record = next(p for p in rendered["dev"].by_type(conventions.SSM_PARAMETER) if "/environments/" in p.inputs["name"])
    for i in range(23):  # GetParametersByPath returns at most 10 a page
        doc = {**json.loads(record.inputs["insecureValue"]), "name": f"e{i:02}", "stack": f"e{i:02}"}
        aws.put_parameter(Name=f"/envstack/envstack/environments/e{i:02}", Value=json.dumps(doc), Type="String")
    pages: list[str] = []
    aws.meta.events.register("before-call.ssm.GetParametersByPath", lambda model, **_: pages.append(model.name))
    cards = live.cards_from_records(live.read_records(aws, "envstack"))
    assert [c.stack for c in cards] == [f"e{i:02}" for i in range(23)]
    assert len(pages) == 3


def test_a_record_that_is_not_json_is_one_line(aws: Any) -> None:
    aws.put_parameter(Name="/envstack/envstack/environments/x", Value="{not json", Type="String")
    with pytest.raises(live.AwsError) as err:
        live.read_records(aws, "envstack")
    assert str(err.value) == "/envstack/envstack/environments/x: not an envstack record (malformed JSON)"


def test_another_projects_records_are_not_read(aws: Any) -> None:
    aws.put_parameter(Name="/envstack/shop/environments/x", Value="{}", Type="String")
    assert live.read_records(aws, "envstack") == []
    assert live.read_records(aws, "shop") == [{}]


def test_a_bad_project_is_refused_naming_the_option() -> None:
    assert live.check_project("shop") == "shop"
    with pytest.raises(UsageError) as err:
        live.check_project("Shop")
    assert str(err.value) == f"--project: got 'Shop'; allowed: {NAME_ALLOWED}"


def test_the_region_is_the_option_else_aws_region_and_a_bad_one_names_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert live.region_of(None) is None  # boto3's own chain decides
    assert live.region_of("eu-west-1") == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "us-gov-west-1")
    assert (live.region_of(None), live.region_of("cn-north-1")) == ("us-gov-west-1", "cn-north-1")
    with pytest.raises(UsageError) as err:
        live.region_of("mars-1")
    assert str(err.value) == "--region: got 'mars-1'; allowed: an AWS region code such as ap-northeast-2"
    monkeypatch.setenv("AWS_REGION", "mars-1")
    with pytest.raises(UsageError) as err:
        live.region_of(None)
    assert str(err.value) == "AWS_REGION: got 'mars-1'; allowed: an AWS region code such as ap-northeast-2"


def test_named_stacks_keep_their_order_and_a_typo_is_refused_but_a_preview_is_not(
    rendered: dict[str, Rendering],
) -> None:
    record = next(p for p in rendered["dev"].by_type(conventions.SSM_PARAMETER) if "/environments/" in p.inputs["name"])
    dev = json.loads(record.inputs["insecureValue"])
    unstacked = {k: v for k, v in dev.items() if k != "stack"} | {"name": "b"}  # keyed by its name
    records = [dev, unstacked]
    cards = live.cards_from_records(records, ["pr-9", "staging", "b"], committed=["dev", "staging"])
    assert [(c.stack, c.deployed) for c in cards] == [("pr-9", False), ("staging", False), ("b", True)]
    assert [c.stack for c in live.cards_from_records(records)] == ["b", "dev"]  # by stack
    with pytest.raises(UsageError) as err:
        live.cards_from_records(records, ["stagin"], committed=["dev", "staging"])
    assert str(err.value) == "unknown stack 'stagin': no record and no Pulumi.stagin.yaml (did you mean staging?)"
    with pytest.raises(UsageError) as err:
        live.cards_from_records(records, ["bb"], committed=["dev", "staging"])
    assert str(err.value) == "unknown stack 'bb': no record and no Pulumi.bb.yaml (did you mean b?)"
    # Close to nothing known: not deployed, as with the other sources.
    assert [c.deployed for c in live.cards_from_records(records, ["qa"], committed=["dev"])] == [False]


def test_an_aws_refusal_is_one_line_of_its_code_and_message() -> None:
    from botocore.exceptions import ClientError

    def refusal(error: dict[str, str]) -> str:
        return aws_refusal(ClientError({"Error": error}, "GetParameter"))

    assert refusal({"Code": "AccessDenied", "Message": "no"}) == "AWS refused: AccessDenied: no"
    assert refusal({"Code": "AccessDenied"}) == "AWS refused: AccessDenied:"
    assert refusal({"Message": "no"}) == "AWS refused: error: no"
    assert aws_refusal(ClientError({}, "GetParameter")) == "AWS refused: error:"  # no Error at all


def test_a_record_is_keyed_by_its_stack_before_its_name_and_named_as_a_record_when_refused(
    rendered: dict[str, Rendering],
) -> None:
    record = next(p for p in rendered["dev"].by_type(conventions.SSM_PARAMETER) if "/environments/" in p.inputs["name"])
    dev = json.loads(record.inputs["insecureValue"])
    assert [c.stack for c in live.cards_from_records([{**dev, "stack": "a", "name": "z"}])] == ["a"]
    with pytest.raises(UsageError) as err:
        live.cards_from_records([{"stack": "qa", "name": "qa"}])
    assert str(err.value).startswith("record of qa: not envstack outputs (missing ")


def test_records_are_read_from_the_records_path_itself_not_below_it(aws: Any) -> None:
    aws.put_parameter(Name="/envstack/envstack/environments/x", Value='{"name": "x"}', Type="String")
    aws.put_parameter(Name="/envstack/envstack/environments/x/notes", Value="not a record", Type="String")
    assert live.read_records(aws, "envstack") == [{"name": "x"}]


def test_a_read_aws_refuses_is_one_line_naming_the_refusal() -> None:
    from botocore.exceptions import ClientError

    def refused() -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetParametersByPath")

    with pytest.raises(live.AwsError) as err:
        live._aws(refused)
    assert str(err.value) == "AWS refused: AccessDeniedException: no"
