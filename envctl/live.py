"""What AWS itself holds about a project's environments: the SSM records and key index.

`envctl cards --live` and `envctl resolve` read Parameter Store with boto3 and the default
credential chain; neither needs the Pulumi CLI or a backend.
"""

from __future__ import annotations

import json
import os
from typing import Any

from components.aws_facts import aws_regions
from components.config import NAME_ALLOWED
from components.resolver import ResolverBusyError, resolve
from envctl.cards import Card, card_from_outputs
from envctl.errors import FailureError, UsageError, aws_refusal
from envctl.pr import PR_STACK
from envctl.stackfiles import did_you_mean
from policies.contracts.names import is_valid_name, records_path


class AwsError(FailureError):
    """AWS could not be asked or refused (credentials, region, access, throttling): one line."""


def check_project(project: str) -> str:
    if not is_valid_name(project):
        raise UsageError(f"--project: got {project!r}; allowed: {NAME_ALLOWED}")
    return project


REGION_ALLOWED = "an AWS region code such as ap-northeast-2"
NO_REGION = "no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile's region"


def region_of(region: str | None) -> str | None:
    """The region to ask: --region, else AWS_REGION, else None (boto3's own chain:
    AWS_DEFAULT_REGION, then the profile's `region`). botocore reads only AWS_DEFAULT_REGION
    (botocore/configprovider.py), while the AWS CLI and the other SDKs put AWS_REGION first;
    envctl follows them, so a shell set up for any AWS tool works. A bad value is refused,
    naming where it came from."""
    source, value = ("--region", region) if region is not None else ("AWS_REGION", os.environ.get("AWS_REGION"))
    if not value:
        return None
    if value not in aws_regions():
        raise UsageError(f"{source}: got {value!r}; allowed: {REGION_ALLOWED}")
    return value


def ssm_client(region: str | None) -> Any:
    """An SSM client for `region` (default: region_of's chain); no region at all is bad input."""
    import boto3
    from botocore.exceptions import NoRegionError

    try:
        return boto3.session.Session().client("ssm", region_name=region_of(region))
    except NoRegionError:
        raise UsageError(NO_REGION) from None


def _aws(action: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except ClientError as err:
        raise AwsError(aws_refusal(err)) from None
    except BotoCoreError as err:
        raise AwsError(f"cannot reach AWS: {err}") from None


def read_records(ssm: Any, project: str) -> list[dict[str, Any]]:
    """Every environment record of `project`: GetParametersByPath, every page."""

    def read() -> list[dict[str, Any]]:
        records = []
        pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=records_path(project), Recursive=False)
        for page in pages:
            for parameter in page["Parameters"]:
                try:
                    records.append(json.loads(parameter["Value"]))
                except json.JSONDecodeError:
                    raise AwsError(f"{parameter['Name']}: not an envstack record (malformed JSON)") from None
        return records

    result: list[dict[str, Any]] = _aws(read)
    return result


def cards_from_records(
    records: list[dict[str, Any]], stacks: list[str] | None = None, committed: list[str] | None = None
) -> list[Card]:
    """Cards from records, ordered by stack; with `stacks`, exactly those, in that order. A named
    stack without a record is not deployed (as with the other sources), unless it is no committed
    stack either and close to a known one (`committed` or recorded): then it is a typo, refused
    with "did you mean". A preview's name (pr-<n>) is never a typo: previews come and go."""
    by_stack = {str(r.get("stack") or r.get("name")): r for r in records}
    known = sorted({*by_stack, *(committed or [])})
    for stack in stacks or []:
        if stack not in known and not PR_STACK.match(stack):
            hint = did_you_mean(stack, known)
            if hint:
                raise UsageError(f"unknown stack '{stack}': no record and no Pulumi.{stack}.yaml ({hint.strip()})")
    names = stacks if stacks else sorted(by_stack)
    return [card_from_outputs(s, by_stack.get(s, {}), f"record of {s}") for s in names]


def resolve_key(ssm: Any, key: str, project: str) -> dict[str, Any]:
    """The record of `key`; MalformedKeyError and UnknownKeyError pass through, AWS errors
    (throttling included) become AwsError."""
    try:
        record: dict[str, Any] = _aws(lambda: resolve(ssm, key, project))
    except ResolverBusyError as err:  # Parameter Store throttled the lookup
        raise AwsError(f"AWS refused: ThrottlingException: {err}") from None
    return record
