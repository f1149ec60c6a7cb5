"""components/config_keys.py: one constant per field of the config contract's model, and the
model's aliases are those constants, so a key cannot drift from the schema nor exist without it."""

from __future__ import annotations

from components import config_keys as keys
from components.config import KNOWN_KEYS, LIST_KEYS, OBJECT_KEYS, StackConfig
from policies.contracts.conventions import PULUMI_PROJECT


def _constants() -> dict[str, str]:
    return {name: value for name, value in vars(keys).items() if name.isupper() and isinstance(value, str)}


def test_each_field_has_its_key_and_each_key_its_field() -> None:
    aliases = {name.upper(): field.alias for name, field in StackConfig.model_fields.items()}
    assert aliases == _constants()
    assert len(set(aliases.values())) == len(aliases)  # no two fields share a key


def test_the_keys_are_the_projects_but_the_region() -> None:
    namespaces = {value.partition(":")[0] for name, value in _constants().items() if name != "REGION"}
    assert namespaces == {PULUMI_PROJECT}
    assert keys.REGION == "aws:region"  # the AWS provider's own key, which Pulumi reads for every provider
    assert set(KNOWN_KEYS) == set(_constants().values()) - {keys.REGION}
    assert {keys.CLUSTER, keys.NETWORK} == OBJECT_KEYS
    assert {keys.PLATFORM_PRINCIPALS} == LIST_KEYS
