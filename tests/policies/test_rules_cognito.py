"""The Cognito rules (policies/rules_cognito.py) at their edges: the cases, each a committed
plan, its edits and every finding of one rule (tests/support/policies.py says what a case checks)."""

from __future__ import annotations

import pytest

from policies.model import UNKNOWN
from tests.support.policies import (
    POOL,
    A,
    Case,
    M,
    Mutation,
    _remove_key,
    _set,
    _type,
    edge_findings,
)

CASES: list[Case] = [
    # cognito-mfa: ON in prod (and when the type is unknown); OPTIONAL allowed elsewhere; absent is OFF.
    (
        "prod",
        "cognito-mfa",
        [_remove_key(*POOL, "mfaConfiguration")],
        [(M, "envstack-prod-users", "MFA is OFF; allowed: ON")],
    ),
    ("prod", "cognito-mfa", [_set(*POOL, "mfaConfiguration", value=UNKNOWN)], []),
    ("staging", "cognito-mfa", [], []),
    (
        "staging",
        "cognito-mfa",
        [_set(*POOL, "mfaConfiguration", value="OFF")],
        [(M, "envstack-staging-users", "MFA is OFF; allowed: ON or OPTIONAL")],
    ),
    (
        "staging",
        "cognito-mfa",
        [_type(None)],
        [(M, "envstack-staging-users", "MFA is OPTIONAL; allowed: ON")],
    ),
    # cognito-threat-protection: ENFORCED only; absent is OFF.
    (
        "prod",
        "cognito-threat-protection",
        [_set(*POOL, "userPoolAddOns", "advancedSecurityMode", value="AUDIT")],
        [(M, "envstack-prod-users", "threat protection is not ENFORCED")],
    ),
    ("prod", "cognito-threat-protection", [_set(*POOL, "userPoolAddOns", "advancedSecurityMode", value=UNKNOWN)], []),
    ("staging", "cognito-threat-protection", [], [(A, "envstack-staging-users", "threat protection is not ENFORCED")]),
    # cognito-password-policy: 12 characters of every class in prod, 8 characters elsewhere; absent is 8.
    ("prod", "cognito-password-policy", [_set(*POOL, "passwordPolicy", "minimumLength", value=12)], []),
    (
        "prod",
        "cognito-password-policy",
        [_set(*POOL, "passwordPolicy", "minimumLength", value=11)],
        [(M, "envstack-prod-users", "minimum password length 11, below 12")],
    ),
    (
        "prod",
        "cognito-password-policy",
        [_remove_key(*POOL, "passwordPolicy", "minimumLength")],
        [(M, "envstack-prod-users", "minimum password length 8, below 12")],
    ),
    ("prod", "cognito-password-policy", [_set(*POOL, "passwordPolicy", "minimumLength", value=UNKNOWN)], []),
    (
        "prod",
        "cognito-password-policy",
        [
            _set(*POOL, "passwordPolicy", "requireLowercase", value=False),
            _remove_key(*POOL, "passwordPolicy", "requireNumbers"),
            _set(*POOL, "passwordPolicy", "requireUppercase", value=UNKNOWN),
        ],
        [(M, "envstack-prod-users", "the password policy does not require requireLowercase, requireNumbers")],
    ),
    ("dev", "cognito-password-policy", [], []),  # 8 characters, no symbols: enough outside prod
    ("dev", "cognito-password-policy", [_remove_key(*POOL, "passwordPolicy", "minimumLength")], []),
    (
        "dev",
        "cognito-password-policy",
        [_set(*POOL, "passwordPolicy", "minimumLength", value=7)],
        [(A, "envstack-dev-users", "minimum password length 7, below 8")],
    ),
    (
        "dev",
        "cognito-password-policy",
        [_type(None)],
        [
            (M, "envstack-dev-users", "minimum password length 8, below 12"),
            (M, "envstack-dev-users", "the password policy does not require requireUppercase, requireSymbols"),
        ],
    ),
    # cognito-deletion-protection: ACTIVE only; absent is INACTIVE.
    (
        "prod",
        "cognito-deletion-protection",
        [_remove_key(*POOL, "deletionProtection")],
        [(M, "envstack-prod-users", "deletion protection is INACTIVE")],
    ),
    ("prod", "cognito-deletion-protection", [_set(*POOL, "deletionProtection", value=UNKNOWN)], []),
]


@pytest.mark.parametrize(("stack", "rule", "edits", "expected"), CASES)
def test_a_rule_at_its_edges(
    stack: str, rule: str, edits: list[Mutation], expected: list[tuple[str, str, str]]
) -> None:
    assert edge_findings(stack, rule, edits) == expected
