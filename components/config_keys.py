"""The config contract's keys: the one place a stack config key is spelled out.

components/config.py's StackConfig takes its aliases from these constants, one per model field and
named as the field (`confirm_deletion` -> CONFIRM_DELETION); tests/components/test_config_keys.py
checks that the two pair up one to one, so a key cannot drift from the schema. Every other module
reads and writes a key as `keys.CONFIRM_DELETION` (`from components import config_keys as keys`);
tests/repository/test_owners.py fails on a key spelled out anywhere else. Tag keys, such as the
`envstack:type` tag, are another fact: policies/contracts/conventions.py's TAG_*.

Pulumi namespaces a key by the project that reads it (conventions.PULUMI_PROJECT), the region by
the AWS provider. The keys are plain literals because mypy takes a pydantic alias only from one.
"""

from __future__ import annotations

from typing import Final

REGION: Final = "aws:region"
TYPE: Final = "envstack:type"
NAME: Final = "envstack:name"
CLUSTER: Final = "envstack:cluster"
NETWORK: Final = "envstack:network"
CONFIRM_DELETION: Final = "envstack:confirmDeletion"
API_KEY_VERSION: Final = "envstack:apiKeyVersion"
API_KEY_RETIRING: Final = "envstack:apiKeyRetiring"
PROJECT: Final = "envstack:project"
DB_PASSWORD_VERSION: Final = "envstack:dbPasswordVersion"  # noqa: S105 (a key's name, not a password)
DB_CONNECTION_LIMIT: Final = "envstack:dbConnectionLimit"
PLATFORM_PRINCIPALS: Final = "envstack:platformPrincipals"
PERMISSIONS_BOUNDARY: Final = "envstack:permissionsBoundary"
DEPLOY_ROLE_ARN: Final = "envstack:deployRoleArn"
