"""The Cognito rules: MFA, threat protection, password policy and deletion protection of the
user pool. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.contracts.conventions import USER_POOL
from policies.model import PROD, UNIVERSAL, Res, Rule, Stack, collector, holds, known

RULES: list[Rule] = []
rule = collector(RULES)


@rule(
    "cognito-mfa",
    UNIVERSAL,
    "KICS cognito_userpool_without_mfa",
    "Every user pool offers MFA: ON in prod, at least OPTIONAL elsewhere.",
)
def _cognito_mfa(s: Stack) -> Iterator[tuple[Res, str]]:
    allowed = ("ON",) if s.env_type in (None, "prod") else ("ON", "OPTIONAL")
    for pool in s.of(USER_POOL):
        mfa = pool.get("mfaConfiguration") or "OFF"
        if known(mfa) and mfa not in allowed:
            yield pool, f"MFA is {mfa}; allowed: {' or '.join(allowed)}"


@rule(
    "cognito-threat-protection",
    PROD,
    "Security Hub Cognito.1",
    "Every user pool runs threat protection in ENFORCED mode (the PLUS tier).",
)
def _cognito_threat(s: Stack) -> Iterator[tuple[Res, str]]:
    for pool in s.of(USER_POOL):
        if not holds(pool.get("userPoolAddOns", "advancedSecurityMode"), "ENFORCED"):
            yield pool, "threat protection is not ENFORCED"


@rule(
    "cognito-password-policy",
    UNIVERSAL,
    "(own rule)",
    "Passwords: at least 12 characters of every class in prod; at least 8 characters elsewhere.",
)
def _cognito_password(s: Stack) -> Iterator[tuple[Res, str]]:
    prod = s.env_type in (None, "prod")
    minimum = 12 if prod else 8
    classes = ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols")
    for pool in s.of(USER_POOL):
        length = pool.get("passwordPolicy", "minimumLength")
        length = 8 if length is None else length
        if known(length) and int(length) < minimum:
            yield pool, f"minimum password length {length}, below {minimum}"
        missing = [c for c in classes if not holds(pool.get("passwordPolicy", c), True)]
        if prod and missing:
            yield pool, f"the password policy does not require {', '.join(missing)}"


@rule(
    "cognito-deletion-protection",
    PROD,
    "AWS Config cognito-user-pool-deletion-protection-enabled",
    "Every user pool has deletion protection ACTIVE (lifted by envstack:confirmDeletion).",
    deletion_guard=True,
)
def _cognito_deletion(s: Stack) -> Iterator[tuple[Res, str]]:
    for pool in s.of(USER_POOL):
        if not holds(pool.get("deletionProtection"), "ACTIVE"):
            yield pool, "deletion protection is INACTIVE"
