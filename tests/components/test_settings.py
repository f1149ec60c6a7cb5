"""components/settings.py: the per-type table's field docs and the config's adjustments to a row."""

from __future__ import annotations

import dataclasses

from components.config import EnvType, parse_config
from components.settings import SETTINGS, TypeSettings, _doc, settings_for
from tests.support.program import over_defaults


def test_a_settings_field_carries_its_doc_for_the_reference() -> None:
    made = _doc("S3: something")
    assert isinstance(made, dataclasses.Field)
    assert dict(made.metadata) == {"doc": "S3: something"}
    assert made.default is dataclasses.MISSING and made.default_factory is dataclasses.MISSING
    # every field of the table has one, which is what envctl/reference.py renders
    docs = {f.name: f.metadata.get("doc") for f in dataclasses.fields(TypeSettings)}
    assert docs["versioning"] == "S3: versioning (CKV_AWS_21)"
    assert all(docs.values())


PROD = over_defaults(
    {
        "aws:region": "us-east-1",
        "envstack:type": "prod",
        "envstack:cluster": '{"name": "shared", "create": true}',
        "envstack:platformPrincipals": '["arn:aws:iam::123456789012:role/platform-api"]',
    }
)


def test_a_connection_limit_overrides_only_the_connection_limit() -> None:
    config = parse_config({**PROD, "envstack:dbConnectionLimit": 7}, "prod")
    assert settings_for(config) == dataclasses.replace(SETTINGS[EnvType.PROD], db_connection_limit=7)


def test_an_unconfirmed_row_is_the_types_row() -> None:
    assert settings_for(parse_config(PROD, "prod")) == SETTINGS[EnvType.PROD]


def test_a_confirmed_deletion_lifts_exactly_the_guards_that_keep_destroy_from_deleting() -> None:
    config = parse_config({**PROD, "envstack:confirmDeletion": "prod"}, "prod")
    assert settings_for(config) == dataclasses.replace(
        SETTINGS[EnvType.PROD],
        force_destroy=True,
        protect=False,
        user_pool_deletion_protection=False,
        cluster_deletion_protection=False,
        cluster_protect=False,
    )


def test_a_confirmed_deletion_keeps_a_configured_connection_limit() -> None:
    config = parse_config({**PROD, "envstack:confirmDeletion": "prod", "envstack:dbConnectionLimit": 7}, "prod")
    got = settings_for(config)
    assert (got.db_connection_limit, got.force_destroy, got.protect) == (7, True, False)
