"""Registration (components/registration.py), built in isolation under the mock runtime: the
environment's record and one key index entry per active key version, with the names, values,
descriptions and order the resolver and the platform rely on. That the committed stacks'
parameters resolve on moto is tests/components/test_records.py's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi

from components.records import RECORD_FIELDS
from components.registration import Registration, RegistrationArgs
from policies.contracts import conventions
from tests.support.program import build


def test_the_runtime_role_arn_joins_the_record_when_given() -> None:
    def factory(opts: Any) -> None:
        fields = {f: "x" for f in ("name", "type", "cloudProvider", "region", "cluster", "createdAt", "project")}
        fields |= {f: "y" for f in ("stack", "bucketName", "userPoolId", "userPoolClientId", "apiKeySecretArn")}
        fields |= {f: "z" for f in ("databaseSchema", "databaseSecretArn", "databaseCluster", "databaseClusterArn")}
        role = "arn:aws:iam::123456789012:role/envstack-dev-runtime"
        key = pulumi.Output.secret("pk_" + "k" * 43)
        Registration("reg", RegistrationArgs("envstack", "dev", fields, {1: key}, runtime_role_arn=role), opts)

    res = build(factory)
    record = next(r for r in res if r.name == "reg-record")
    assert json.loads(record.inputs["insecureValue"])["runtimeRoleArn"].endswith(":role/envstack-dev-runtime")


KEYS = {1: "pk_" + "a" * 43, 2: "pk_" + "b" * 43}
FIELDS = {f: "x" for f in RECORD_FIELDS}


def _registration(**options: Any) -> dict[str, Any]:
    def factory(opts: Any) -> None:
        keys = {v: pulumi.Output.secret(k) for v, k in KEYS.items()}
        Registration("reg", RegistrationArgs("shop", "qa", FIELDS, keys, **options), opts)

    return {r.name: r for r in build(factory) if r.type == conventions.SSM_PARAMETER}


def test_the_record_lists_each_keys_hash_in_version_order_as_plain_text() -> None:
    params = _registration()
    record = params["reg-record"]
    assert record.inputs["name"] == "/envstack/shop/environments/qa"
    doc = json.loads(record.inputs["insecureValue"])
    assert doc["apiKeyHashes"] == [hashlib.sha256(KEYS[v].encode()).hexdigest() for v in (1, 2)]
    assert "runtimeRoleArn" not in doc and doc["name"] == "x"
    assert record.inputs["description"] == "envstack environment qa: its record (project shop)"
    assert (record.inputs["type"], record.inputs["tier"], record.inputs["dataType"]) == ("String", "Standard", "text")


def test_each_key_version_has_an_index_entry_named_by_its_hash_written_after_the_record() -> None:
    params = _registration()
    assert sorted(params) == ["reg-key-v1", "reg-key-v2", "reg-record"]
    for version, key in KEYS.items():
        entry = params[f"reg-key-v{version}"]
        assert entry.inputs["name"] == f"/envstack/shop/api-keys/{hashlib.sha256(key.encode()).hexdigest()}"
        assert json.loads(entry.inputs["insecureValue"]) == {
            "project": "shop",
            "environment": "qa",
            "record": "/envstack/shop/environments/qa",
            "keyVersion": version,
        }
        assert (
            entry.inputs["description"]
            == f"envstack environment qa: index entry of API key version {version} (project shop)"
        )
        assert "reg-record" in entry.depends_on
        assert key not in json.dumps(entry.inputs)  # the hash names it, never the key


def test_the_record_waits_for_what_it_points_at() -> None:
    def factory(opts: Any) -> None:
        policy = pulumi.CustomResource("test:index:Policy", "runtime-policy", {}, opts)
        keys = {1: pulumi.Output.secret(KEYS[1])}
        Registration("reg", RegistrationArgs("shop", "qa", FIELDS, keys, record_depends_on=[policy]), opts)

    record = next(r for r in build(factory) if r.name == "reg-record")
    assert "runtime-policy" in record.depends_on
