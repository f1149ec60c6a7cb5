"""The access rule (policies/rules_access.py) at its edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.contracts import conventions
from policies.model import UNKNOWN
from tests.support.policies import (
    OTHER_POOL,
    POLICY,
    ROLE,
    UNKNOWN_TEXT,
    WILDCARD_TRUST,
    Case,
    M,
    Mutation,
    _arn,
    _drop,
    _remove_key,
    _set,
    _statement_edit,
    _trust,
    _twin_input,
    edge_findings,
)

ROOT_TRUST = "the trust policy trusts an account root, not named principals"
CASES: list[Case] = [
    # runtime-role-own-resources: the trust policy.
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal={"Service": "*"}))],
        [(M, "envstack-prod-runtime", WILDCARD_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(NotPrincipal={"AWS": "arn:aws:iam::123456789012:root"}))],
        [(M, "envstack-prod-runtime", WILDCARD_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal="arn:aws:iam::123456789012:root"))],
        [],
    ),
    # An account root, in any partition, or a bare account id: every identity of the account (CKV_AWS_61).
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal={"AWS": "arn:aws:iam::123456789012:root"}))],
        [(M, "envstack-prod-runtime", ROOT_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [
            _trust(
                lambda d: d["Statement"][0].update(
                    Principal={
                        "AWS": ["arn:aws:iam::123456789012:role/platform-api", "arn:aws-cn:iam::123456789012:root"]
                    }
                )
            )
        ],
        [(M, "envstack-prod-runtime", ROOT_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal={"AWS": "123456789012"}))],
        [(M, "envstack-prod-runtime", ROOT_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal={"AWS": "arn:aws:iam::123456789012:role/root"}))],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d["Statement"][0].update(Principal={"AWS": [UNKNOWN_TEXT]}))],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_trust(lambda d: d.update(Statement=d["Statement"][0] | {"Principal": "*"}))],
        [(M, "envstack-prod-runtime", WILDCARD_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_set(*ROLE, "assumeRolePolicy", value="[]")],
        [(M, "envstack-prod-runtime", "the trust policy is not a JSON policy document")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_set(*ROLE, "assumeRolePolicy", value={"Statement": [{"Effect": "Allow", "Principal": "*"}]})],
        [(M, "envstack-prod-runtime", WILDCARD_TRUST)],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_set(*ROLE, "inlinePolicies", value=[{"name": "x", "policy": "{}"}])],
        [
            (
                M,
                "envstack-prod-runtime",
                "grants through managed or inline policies on the role, outside its checked role policy",
            )
        ],
    ),
    # Only the role tagged as the runtime role is judged; one whose tags are unknown is judged too.
    (
        "prod",
        "runtime-role-own-resources",
        [_set(*ROLE, "tags", value={conventions.TAG_PURPOSE: "deployer"}), _statement_edit("Users", Resource="*")],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_set(*ROLE, "tags", value=UNKNOWN), _statement_edit("Users", Resource="*")],
        [(M, POLICY, "grants a wildcard resource '*'")],
    ),
    # A role policy that is malformed or unknown does not end the check of the role's other policies.
    *[
        (
            "prod",
            "runtime-role-own-resources",
            [
                _statement_edit("Users", Resource="*"),
                _twin_input(conventions.ROLE_POLICY, "runtime-policy", POLICY + "-twin", "policy", document),
            ],
            [*found, (M, POLICY, "grants a wildcard resource '*'")],
        )
        for document, found in (
            ("[]", [(M, POLICY + "-twin", "the role policy is not a JSON policy document")]),
            (UNKNOWN, []),
        )
    ],
    # The permissions: Deny statements are not grants; each element is judged.
    ("prod", "runtime-role-own-resources", [_statement_edit("Users", Effect="Deny", Resource="*", Action="*")], []),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("Users", NotAction="iam:*")],
        [(M, POLICY, "grants with NotAction, which reaches everything not listed")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("Users", Action="cognito-idp:AdminGet?ser")],
        [(M, POLICY, "grants a wildcard action 'cognito-idp:AdminGet?ser'")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("Users", Action="IAM:CreateUser")],
        [(M, POLICY, "grants IAM:CreateUser: a runtime role never manages identities")],
    ),
    ("prod", "runtime-role-own-resources", [_statement_edit("Users", Action=[UNKNOWN_TEXT, 7])], []),
    (
        "prod",
        "runtime-role-own-resources",
        [
            _statement_edit(
                "Users", Resource="arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/ap-northeast-2_?ther"
            )
        ],
        [
            (
                M,
                POLICY,
                "grants a wildcard resource 'arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/ap-northeast-2_?ther'",
            )
        ],
    ),
    ("prod", "runtime-role-own-resources", [_statement_edit("Users", Resource=[UNKNOWN_TEXT, 7])], []),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("FilesObjects", Resource="arn:aws:s3:::envstack-prod-files-*/*")],
        [(M, POLICY, "grants a wildcard resource 'arn:aws:s3:::envstack-prod-files-*/*'")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("FilesObjects", Resource="arn:aws:s3:::envstack-prod-files-000000?/*")],
        [(M, POLICY, "grants a wildcard resource 'arn:aws:s3:::envstack-prod-files-000000?/*'")],
    ),
    # The shared cluster: only rds-data: actions, in any case; rds-data: actions on nothing else.
    # Each resource of a statement is judged: one passing (unknown, the cluster, the own bucket's
    # objects) does not hide a wildcard after it.
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("Users", Resource=[7, "*"])],
        [(M, POLICY, "grants a wildcard resource '*'")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("FilesObjects", Resource=["arn:aws:s3:::envstack-prod-files-0000000/*", "*"])],
        [(M, POLICY, "grants a wildcard resource '*'")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [
            _statement_edit(
                "TablesDataApi",
                Action="rds-data:ExecuteStatement",
                Resource=["arn:aws:rds:ap-northeast-2:123456789012:cluster:prod-main", "*"],
            )
        ],
        [
            (M, POLICY, "grants rds-data:ExecuteStatement on *, which is not the environment's cluster"),
            (M, POLICY, "grants a wildcard resource '*'"),
        ],
    ),
    # a resource whose ARN is unknown does not end the collection of the others' ARNs: the cluster
    # is still the environment's cluster (here known only from its own resource).
    (
        "prod",
        "runtime-role-own-resources",
        [_arn(conventions.BUCKET, "-files", UNKNOWN), _drop(conventions.SCHEMA_ROLE)],
        [],
    ),
    # an action shown as a secret (unknown during preview) is not judged as a non-rds-data: action.
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("TablesDataApi", Action=["rds-data:ExecuteStatement", UNKNOWN_TEXT])],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("TablesDataApi", Action=["RDS-Data:ExecuteStatement"])],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [
            _statement_edit(
                "TablesDataApi", Action=["rds-data:ExecuteStatement", "rds:DescribeDBClusters", "rds:ModifyDBCluster"]
            )
        ],
        [
            (
                M,
                POLICY,
                "grants rds:DescribeDBClusters, rds:ModifyDBCluster on the shared cluster arn:aws:rds:ap-northeast-2:123456789012:cluster:prod-main: only rds-data: actions may name it",
            )
        ],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_statement_edit("Users", Action=["cognito-idp:ListUsers", "RDS-DATA:ExecuteStatement"])],
        [
            (
                M,
                POLICY,
                "grants RDS-DATA:ExecuteStatement on arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/envstack-prod-users-id, which is not the environment's cluster",
            )
        ],
    ),
    # A resource whose ARN is unknown may be the one named: nothing is reported as not this environment's.
    (
        "prod",
        "runtime-role-own-resources",
        [_arn(conventions.USER_POOL, "", UNKNOWN), _statement_edit("Users", Resource=OTHER_POOL)],
        [],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_arn(conventions.USER_POOL, "", UNKNOWN_TEXT), _statement_edit("Users", Resource=OTHER_POOL)],
        [],
    ),
    # The table store's cluster ARN: unknown (or not a string) may be the one named; absent is no ARN.
    *[
        (
            "prod",
            "runtime-role-own-resources",
            [
                _set(conventions.SCHEMA_ROLE, "", "executor", "clusterArn", value=arn),
                _statement_edit("Users", Resource=OTHER_POOL),
            ],
            [],
        )
        for arn in (UNKNOWN, UNKNOWN_TEXT, 7)
    ],
    (
        "prod",
        "runtime-role-own-resources",
        [
            _remove_key(conventions.SCHEMA_ROLE, "", "executor", "clusterArn"),
            _statement_edit("Users", Resource=OTHER_POOL),
        ],
        [(M, POLICY, f"grants access to {OTHER_POOL}, which is not one of this environment's resources")],
    ),
    (
        "prod",
        "runtime-role-own-resources",
        [_arn(conventions.CLUSTER, "", None), _statement_edit("FilesObjects", Resource="arn:aws:s3:::someone-else/*")],
        [],
    ),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
