"""An environment as `pulumi up` of it leaves AWS, on moto: the custom environment `qa`, made
with `envctl env create`, its record from the rendering, a user pool with two users and a bucket
of files; and the row estimates a schema of two tables reads as."""

from __future__ import annotations

import json
from typing import Any

import boto3

from envctl.cli import app
from envctl.render import render
from tests.support.program import REGION, STAGING_REF, runner
from tests.support.records import deploy

FILES = {"a.txt": b"12345", "b/c.bin": b"x" * 1000, "d.json": b"{}"}


def deploy_qa(files: dict[str, bytes] = FILES) -> dict[str, Any]:
    """What `pulumi up` of a custom environment `qa` leaves in AWS, on moto: its record (from the
    rendering), a user pool with two users, and a bucket with `files`. Returns the record."""
    assert (
        runner.invoke(app, ["env", "create", "qa", "--type", "custom", "--cluster-stack", STAGING_REF]).exit_code == 0
    )
    rendering = render("qa")
    ssm = boto3.client("ssm", region_name=REGION)
    deploy(ssm, rendering)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName="envstack-qa-users")["UserPool"]["Id"]
    for user in ("ann", "bob"):
        cognito.admin_create_user(UserPoolId=pool, Username=user)
    s3 = boto3.client("s3", region_name=REGION)
    record: dict[str, Any] = json.loads(
        ssm.get_parameter(Name=rendering.outputs["environmentRecord"])["Parameter"]["Value"]
    )
    s3.create_bucket(Bucket=record["bucketName"], CreateBucketConfiguration={"LocationConstraint": REGION})
    for key, body in files.items():
        s3.put_object(Bucket=record["bucketName"], Key=key, Body=body)
    record["userPoolId"] = pool  # moto chooses the pool's id; the record names it, as the program's does
    ssm.put_parameter(Name=rendering.outputs["environmentRecord"], Value=json.dumps(record), Overwrite=True)
    return record


TABLES = [
    {"table": "notes", "rows": 2, "source": "pg_stat_user_tables.n_live_tup"},
    {"table": "posts", "rows": 120, "source": "pg_class.reltuples"},
]
