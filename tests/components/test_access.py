"""The runtime role (components/access.py): the component's inputs, the config refusals, and the
policy rule through CrossGuard's own types. `envctl access` and the review comment's access
section: tests/envctl/test_access.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.access import (
    MAX_SESSION_SECONDS,
    STATEMENTS,
    USERS,
    Targets,
    permissions_document,
    trust_document,
)
from components.config import parse_config
from components.config_errors import ConfigError
from envctl.cli import app
from envctl.plan import Rendering
from envctl.stackfiles import ROOT
from policies.contracts import conventions, names
from policies.contracts.names import NAME_MAX, logical
from tests.support.crossguard import policy_args, run_pack
from tests.support.program import (
    PLATFORM_ROLE,
    PROJECT_DEFAULTS,
    REGION,
    UNSET,
    committed_plan,
    only,
    render_raw,
    runner,
)
from tests.support.program import over_defaults as merged_over_defaults

ROLE = conventions.ROLE
ROLE_POLICY = conventions.ROLE_POLICY
STAGING = {"envstack:type": "staging", "envstack:cluster": {"name": "shared-nonprod", "create": True}}
PROD = {"envstack:type": "prod", "envstack:cluster": {"name": "prod-main", "create": True}}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def documents(r: Rendering) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    role = only(r.resources, ROLE)
    policy = only(r.resources, ROLE_POLICY)
    return role.inputs, json.loads(role.inputs["assumeRolePolicy"]), json.loads(policy.inputs["policy"])


# --- the component ---------------------------------------------------------------------------


def test_every_committed_stack_has_one_runtime_role_of_one_hour_under_envstack_path(
    rendered: dict[str, Rendering],
) -> None:
    for stack, r in rendered.items():
        inputs, trust, _ = documents(r)
        assert inputs["path"] == names.IAM_PATH == "/envstack/"
        assert inputs["maxSessionDuration"] == MAX_SESSION_SECONDS == 3600
        assert inputs["tags"] == {"envstack:purpose": "runtime-role"}
        assert "name" not in inputs  # auto-named: a replacement never collides with the old name
        assert inputs["permissionsBoundary"] == r.config.permissions_boundary == BOUNDARY
        assert trust["Statement"][0]["Principal"]["AWS"] == sorted(r.config.platform_principals)
        assert not any(p.endswith(":root") for p in trust["Statement"][0]["Principal"]["AWS"])
        role = only(r.resources, ROLE)
        assert r.outputs["runtimeRoleArn"] == role.arn
        assert only(r.resources, ROLE_POLICY).property_dependencies["role"] == [role.name]  # the role's own id
        assert role.provider == f"aws-{REGION}", stack
        assert [s["Action"] for s in trust["Statement"]] == ["sts:AssumeRole"]


def test_staging_and_prod_trust_their_platform_principals(rendered: dict[str, Rendering]) -> None:
    for stack in ("staging", "prod"):
        _, trust, _ = documents(rendered[stack])
        expected = f"arn:aws:iam::123456789012:role/platform-api-{stack}"  # the committed example
        assert rendered[stack].config.platform_principals == (expected,)
        assert trust["Statement"][0]["Principal"] == {"AWS": [expected]}


def test_prod_may_use_its_key_only_through_s3_and_secrets_manager(rendered: dict[str, Rendering]) -> None:
    _, _, policy = documents(rendered["prod"])
    key = next(s for s in policy["Statement"] if s["Sid"] == "ProdKey")
    assert key["Resource"] == [rendered["prod"].outputs["kmsKeyArn"]]
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com", f"secretsmanager.{REGION}.amazonaws.com"]}
    }
    for stack in ("dev", "staging"):
        assert "ProdKey" not in {s["Sid"] for s in documents(rendered[stack])[2]["Statement"]}


def test_the_policy_names_only_the_environments_own_arns(rendered: dict[str, Rendering]) -> None:
    for r in rendered.values():
        _, _, policy = documents(r)
        out = r.outputs
        cluster = only(r.resources, conventions.SCHEMA_ROLE).inputs["executor"]["clusterArn"]
        own = {out["bucketArn"], out["bucketArn"] + "/*", out["userPoolArn"], out["apiKeySecretArn"]}
        own |= {out["databaseSecretArn"], cluster, out.get("kmsKeyArn")}
        for st in policy["Statement"]:
            assert st["Effect"] == "Allow" and set(st["Resource"]) <= own, st
            assert not any(a == "*" or a.startswith(("iam:", "sts:")) or "*" in a for a in st["Action"]), st
            if cluster in st["Resource"]:
                assert st["Resource"] == [cluster] and all(a.startswith("rds-data:") for a in st["Action"])


def test_dev_trusts_the_projects_principals_never_the_account() -> None:
    """No runtime role trusts an account root (CKV_AWS_61); dev's role trusts the
    platform's role and the developer role of the project's defaults (Pulumi.yaml)."""
    r = render_raw({"envstack:type": "dev"}, "dev")
    _, trust, _ = documents(r)
    assert trust["Statement"][0]["Principal"]["AWS"] == sorted(PROJECT_DEFAULTS["envstack:platformPrincipals"])
    assert "arn:aws:iam::123456789012:role/envstack-developer" in trust["Statement"][0]["Principal"]["AWS"]


def test_trust_document_never_holds_a_wildcard_an_account_root_or_nothing() -> None:
    for bad in ([], ["*"], ["arn:aws:iam::*:root"], ["arn:aws:iam::123456789012:root"]):
        with pytest.raises(ValueError, match="named principals only"):
            trust_document(bad)


def test_the_longest_environment_name_still_fits_iam_role_names() -> None:
    name = logical("a" * NAME_MAX, "runtime")
    assert len(name) + 8 <= 64  # Pulumi's auto-name adds "-" and 7 characters


def test_docs_explain_every_granted_action() -> None:
    doc = (ROOT / "docs" / "access.md").read_text()
    for sid, granted in STATEMENTS.items():
        for action in granted:
            assert re.search(rf"`{re.escape(action)}`", doc), (sid, action)


# --- config refusals -------------------------------------------------------------------------


BOUNDARY = "arn:aws:iam::123456789012:policy/envstack/runtime-boundary-envstack"


def over_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """A stack's config as the Pulumi CLI hands it over: the project's defaults, then the stack's."""
    return merged_over_defaults({"aws:region": REGION, **raw})


def refused(raw: dict[str, Any], stack: str = "staging") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(over_defaults(raw), stack)
    return info.value


PRINCIPALS = "envstack:platformPrincipals"
BOUNDARY_KEY = "envstack:permissionsBoundary"


@pytest.mark.parametrize(
    ("raw", "key", "allowed"),
    [
        ({**STAGING, PRINCIPALS: UNSET}, PRINCIPALS, "required for every type"),
        ({"envstack:type": "dev", PRINCIPALS: UNSET}, PRINCIPALS, "no runtime role trusts an account root"),
        ({**STAGING, PRINCIPALS: ["arn:aws:iam::123456789012:user/alice"]}, PRINCIPALS, "IAM role ARNs"),
        ({**STAGING, PRINCIPALS: ["arn:aws:iam::123456789012:root"]}, PRINCIPALS, "IAM role ARNs"),
        ({**STAGING, PRINCIPALS: ["platform-api"]}, PRINCIPALS, "IAM role ARNs"),
        ({**STAGING, PRINCIPALS: ["*"]}, PRINCIPALS, "never a wildcard"),
        ({"envstack:type": "dev", PRINCIPALS: ["arn:aws:iam::*:role/x"]}, PRINCIPALS, "never a wildcard"),
        ({**PROD, PRINCIPALS: ["arn:aws-cn:iam::123456789012:role/platform-api"]}, PRINCIPALS, "partition aws"),
        ({**STAGING, PRINCIPALS: [PLATFORM_ROLE, PLATFORM_ROLE]}, PRINCIPALS, "each IAM role ARN once"),
        ({**STAGING, PRINCIPALS: PLATFORM_ROLE}, PRINCIPALS, "a list"),
        ({"envstack:type": "dev", BOUNDARY_KEY: UNSET}, BOUNDARY_KEY, "must be set"),
        (
            {"envstack:type": "dev", BOUNDARY_KEY: "arn:aws:iam::123456789012:role/x"},
            BOUNDARY_KEY,
            "IAM managed policy",
        ),
        (
            {"envstack:type": "dev", BOUNDARY_KEY: "arn:aws-us-gov:iam::123456789012:policy/b"},
            BOUNDARY_KEY,
            "partition aws",
        ),
        (
            {"envstack:type": "dev", BOUNDARY_KEY: "arn:aws:iam::123456789012:policy/org/boundary"},
            BOUNDARY_KEY,
            "arn:aws:iam::<account>:policy/envstack/runtime-boundary-envstack",
        ),
        (
            {"envstack:type": "dev", BOUNDARY_KEY: "arn:aws:iam::aws:policy/envstack/runtime-boundary-envstack"},
            BOUNDARY_KEY,
            "aws sts get-caller-identity",
        ),
        (
            {"envstack:type": "dev", "envstack:project": "shop", BOUNDARY_KEY: BOUNDARY},
            BOUNDARY_KEY,
            "policy/envstack/runtime-boundary-shop",
        ),
        ({**PROD, "envstack:deployRoleArn": UNSET}, "envstack:deployRoleArn", "required"),
        ({**PROD, "envstack:deployRoleArn": "arn:aws:iam::123456789012:user/ci"}, "envstack:deployRoleArn", "role ARN"),
    ],
)
def test_bad_access_config_is_refused_naming_the_key(raw: dict[str, Any], key: str, allowed: str) -> None:
    err = refused(raw)
    assert err.keys == [key]
    assert f"{key}: got " in str(err) and allowed in str(err)
    assert len(str(err).splitlines()) == 2  # the header and one line for the one problem


def test_the_project_defaults_satisfy_every_type_and_china_takes_aws_cn() -> None:
    for raw, stack in (({"envstack:type": "dev"}, "dev"), ({"envstack:type": "custom", **_custom()}, "pr-1")):
        cfg = parse_config(over_defaults(raw), stack)
        assert cfg.platform_principals == tuple(PROJECT_DEFAULTS[PRINCIPALS]) and cfg.permissions_boundary == BOUNDARY
    assert parse_config(over_defaults({"envstack:type": "dev", "envstack:deployRoleArn": UNSET}), "dev")
    cn = "arn:aws-cn:iam::123456789012:role/platform-api"
    cn_boundary = "arn:aws-cn:iam::123456789012:policy/envstack/runtime-boundary-envstack"
    cn_raw = {
        "aws:region": "cn-north-1",
        **STAGING,
        PRINCIPALS: [cn],
        BOUNDARY_KEY: cn_boundary,
        "envstack:deployRoleArn": UNSET,
    }
    assert parse_config(over_defaults(cn_raw), "staging").platform_principals == (cn,)
    # As `pulumi config set --path` stores a list, Pulumi hands it to the program as JSON text.
    raw = over_defaults({**STAGING, PRINCIPALS: json.dumps([PLATFORM_ROLE])})
    assert parse_config(raw, "staging").platform_principals == (PLATFORM_ROLE,)


def _custom() -> dict[str, Any]:
    return {"envstack:cluster": {"name": "shared-nonprod", "stack": "organization/envstack/staging"}}


def test_envctl_refuses_a_bad_principal_with_one_line_and_exit_2(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  aws:region: ap-northeast-2\n  envstack:type: staging\n"
        "  envstack:cluster:\n    name: shared-nonprod\n    create: true\n"
        "  envstack:platformPrincipals:\n    - '*'\n"
    )
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    code, _, err = invoke("access", "bad")
    assert code == 2
    assert 'envstack:platformPrincipals: got ["*"]; allowed: never a wildcard principal' in err


# --- the rule through CrossGuard's own types -------------------------------------------------


def test_the_pack_reports_a_runtime_role_reaching_another_environment() -> None:
    # A real pool ARN carries no environment name (userpool/<region>_<id>): only the ARN
    # comparison of runtime-role-own-resources can tell it is not this environment's.
    prod = committed_plan("prod")
    other_pool = f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/{REGION}_AbCdEf123"
    policy = next(r for r in prod["resources"] if r["type"] == ROLE_POLICY)
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"][2]["Resource"] = [other_pool]
    policy["inputs"]["policy"] = json.dumps(document)
    reported = run_pack(policy_args(prod))
    assert list(reported) == ["runtime-role-own-resources"]
    assert other_pool in reported["runtime-role-own-resources"][0]
    assert run_pack(policy_args(prod, unknown=True)) == {}  # unknown during preview: never a failure


def test_the_component_registers_the_roles_arn_as_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """A component that never registers its outputs stays 'creating' (house style)."""
    import pulumi

    from components.access import Access

    registered: list[dict[str, Any]] = []

    def register_outputs(_self: Access, outputs: dict[str, Any]) -> None:
        resolved: dict[str, Any] = {}
        registered.append(resolved)
        for key, output in outputs.items():

            def keep(value: Any, key: str = key) -> None:
                resolved[key] = value

            pulumi.Output.from_input(output).apply(keep)

    monkeypatch.setattr(Access, "register_outputs", register_outputs)
    r = render_raw({"envstack:type": "dev"}, "dev")
    assert registered == [{"runtimeRoleArn": only(r.resources, ROLE).arn}]


# --- the documents, in exact words ------------------------------------------------------------

TARGETS = {
    "bucket_arn": "arn:aws:s3:::b",
    "user_pool_arn": "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Abc",
    "api_key_secret_arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:k-AbCdEf",
    "database_secret_arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:d-AbCdEf",
    "cluster_arn": "arn:aws:rds:eu-west-1:111122223333:cluster:c",
}
EXPECTED_STATEMENTS = [
    {
        "Sid": "FilesBucket",
        "Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
        "Resource": ["arn:aws:s3:::b"],
    },
    {
        "Sid": "FilesObjects",
        "Effect": "Allow",
        "Action": [
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:PutObject",
        ],
        "Resource": ["arn:aws:s3:::b/*"],
    },
    {"Sid": "Users", "Effect": "Allow", "Action": sorted(USERS), "Resource": [TARGETS["user_pool_arn"]]},
    {
        "Sid": "ApiKey",
        "Effect": "Allow",
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Resource": [TARGETS["api_key_secret_arn"]],
    },
    {
        "Sid": "TablesCredentials",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [TARGETS["database_secret_arn"]],
    },
    {
        "Sid": "TablesDataApi",
        "Effect": "Allow",
        "Action": [
            "rds-data:BatchExecuteStatement",
            "rds-data:BeginTransaction",
            "rds-data:CommitTransaction",
            "rds-data:ExecuteStatement",
            "rds-data:RollbackTransaction",
        ],
        "Resource": [TARGETS["cluster_arn"]],
    },
]


def test_the_permissions_document_in_full_without_and_with_a_key() -> None:
    assert permissions_document(Targets("eu-west-1", **TARGETS)) == {
        "Version": "2012-10-17",
        "Statement": EXPECTED_STATEMENTS,
    }
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert permissions_document(Targets("eu-west-1", **TARGETS, kms_key_arn=key)) == {
        "Version": "2012-10-17",
        "Statement": [
            *EXPECTED_STATEMENTS,
            {
                "Sid": "ProdKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [key],
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"]
                    }
                },
            },
        ],
    }


def test_the_trust_document_in_full_and_its_refusal_in_exact_words() -> None:
    roles = ["arn:aws:iam::111122223333:role/z-api", "arn:aws:iam::111122223333:role/a-api"]
    assert trust_document(roles) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PlatformApi", "Effect": "Allow", "Principal": {"AWS": sorted(roles)}, "Action": "sts:AssumeRole"}
        ],
    }
    for bad in (["arn:aws:iam::111122223333:role/*"], [*roles, "arn:aws-cn:iam::111122223333:root"]):
        with pytest.raises(ValueError) as info:
            trust_document(bad)
        assert str(info.value) == f"a runtime role trusts named principals only, got {bad!r}"


def test_the_role_and_its_policy_as_the_program_declares_them() -> None:
    r = render_raw({"envstack:type": "dev"}, "dev")
    role, policy = only(r.resources, ROLE), only(r.resources, ROLE_POLICY)
    assert (
        role.inputs["description"] == "Runtime role of envstack environment dev: its own files, users, API key, tables"
    )
    assert policy.inputs["name"] == "runtime-access"
    assert policy.name == names.role_policy(role.name)
    # The documents are stored as JSON with sorted keys, so that a rendering never differs by key order.
    for text in (role.inputs["assumeRolePolicy"], policy.inputs["policy"]):
        assert text == json.dumps(json.loads(text), sort_keys=True)
