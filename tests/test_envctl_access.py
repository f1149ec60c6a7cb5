"""`envctl access` (envctl/access.py): the matrix of what each environment's runtime role can do
to each environment's stores, as a table, markdown or JSON, its refusals, and the review
comment's access section (what a change adds to or removes from a role's reach)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from components import conventions
from components.access import STATEMENTS
from envctl import access
from envctl.cli import app
from envctl.render import load_plan
from tests.conftest import runner

ROLE = conventions.ROLE
ROLE_POLICY = conventions.ROLE_POLICY


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


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
    staging, prod = load_plan("staging"), load_plan("prod")
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
    plan = load_plan("dev")
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
        plan = load_plan(stack)
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
    head = load_plan("staging")
    base = copy.deepcopy(head)
    role = next(r for r in base["resources"] if r["type"] == ROLE)
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    trust["Statement"][0]["Principal"]["AWS"] = ["arn:aws:iam::123456789012:role/old-api"]
    role["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    removed, added = access.reach_change(base, head)
    assert removed == ["trusts arn:aws:iam::123456789012:role/old-api"]
    assert added == ["trusts arn:aws:iam::123456789012:role/platform-api-staging"]
    assert access.reach_change(head, head) == ([], [])
