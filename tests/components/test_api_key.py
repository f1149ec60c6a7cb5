"""ApiKey (components/api_key.py) built alone under mocks: the key, its secret, its rotation and recovery window."""

from __future__ import annotations

import json

import pytest

from components.api_key import ApiKey, ApiKeyArgs
from policies.contracts import conventions
from policies.contracts.conventions import TAG_PURPOSE
from tests.support.program import CUSTOM, DEV, PROD, STAGING, TEST_PROVIDER, assert_all_aws_on, build, only


def _api_key(settings, version: int = 1):  # type: ignore[no-untyped-def]
    return build(
        lambda o: ApiKey(
            "k",
            ApiKeyArgs(
                env="dev",
                env_type="dev",
                region="ap-northeast-2",
                secret_recovery_days=settings.secret_recovery_days,
                version=version,
            ),
            o,
        )
    )


def test_api_key_is_generated_stably_and_kept_as_json_in_its_own_secret() -> None:
    res = _api_key(DEV)
    assert_all_aws_on([r for r in res if r.type.startswith("aws:")], TEST_PROVIDER)
    token = only(res, conventions.RANDOM_PASSWORD)
    assert token.inputs["length"] >= 32
    assert token.inputs["overrideSpecial"] == "-_"  # URL-safe alphabet
    assert token.inputs["keepers"] == {"version": "1"}
    secret = only(res, conventions.SECRET)
    assert secret.inputs["recoveryWindowInDays"] == 0
    assert secret.inputs["tags"] == {TAG_PURPOSE: "api-key"}
    version = only(res, conventions.SECRET_VERSION)
    assert version.inputs["secretString"] == "[secret]"  # never rendered in the clear


def test_api_key_rotates_when_the_version_changes() -> None:
    token = only(_api_key(DEV, version=2), conventions.RANDOM_PASSWORD)
    assert token.inputs["keepers"] == {"version": "2"}


def test_api_key_document_maps_the_header_to_the_environment() -> None:
    from components.api_key import secret_document

    doc = json.loads(secret_document("pk_abc", "staging", "staging", "ap-northeast-2"))
    assert doc == {
        "apiKey": "pk_abc",
        "environment": "staging",
        "type": "staging",
        "region": "ap-northeast-2",
        "header": "X-API-Key",
    }


@pytest.mark.parametrize(("settings", "days"), [(DEV, 0), (CUSTOM, 0), (STAGING, 7), (PROD, 30)])
def test_api_key_recovery_window_by_type(settings, days: int) -> None:  # type: ignore[no-untyped-def]
    assert only(_api_key(settings), conventions.SECRET).inputs["recoveryWindowInDays"] == days
