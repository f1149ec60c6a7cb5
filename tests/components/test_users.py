"""Users (components/users.py) built alone under mocks: the pool tightens by type."""

from __future__ import annotations

import pytest

from components.environment import users_args
from components.users import Users
from policies.contracts import conventions
from tests.support.program import CUSTOM, DEV, PROD, STAGING, TEST_PROVIDER, assert_all_aws_on, build, only


@pytest.mark.parametrize(
    ("settings", "min_length", "mfa", "protection"),
    [
        (DEV, 8, "OPTIONAL", "INACTIVE"),
        (CUSTOM, 8, "OPTIONAL", "INACTIVE"),
        (STAGING, 10, "OPTIONAL", "ACTIVE"),
        (PROD, 12, "ON", "ACTIVE"),
    ],
)
def test_users_pool_tightens_by_type(settings, min_length: int, mfa: str, protection: str) -> None:  # type: ignore[no-untyped-def]
    res = build(lambda o: Users("u", users_args(settings), o), settings)
    assert_all_aws_on(res, TEST_PROVIDER)
    pool = only(res, conventions.USER_POOL)
    assert pool.parent == "u" and pool.protect is settings.protect
    assert pool.inputs["passwordPolicy"]["minimumLength"] == min_length
    assert pool.inputs["mfaConfiguration"] == mfa
    assert pool.inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert pool.inputs["deletionProtection"] == protection
    all_classes = settings in (STAGING, PROD)
    assert pool.inputs["passwordPolicy"]["requireSymbols"] is all_classes
    assert pool.inputs["passwordPolicy"]["requireUppercase"] is all_classes
    client = only(res, conventions.USER_POOL_CLIENT)
    assert client.inputs["generateSecret"] is False
    assert client.inputs["preventUserExistenceErrors"] == "ENABLED"


def test_prod_users_enforce_threat_protection_on_the_plus_tier() -> None:
    pool = only(build(lambda o: Users("u", users_args(PROD), o)), conventions.USER_POOL)
    assert pool.inputs["userPoolTier"] == "PLUS"
    assert pool.inputs["userPoolAddOns"] == {"advancedSecurityMode": "ENFORCED"}
