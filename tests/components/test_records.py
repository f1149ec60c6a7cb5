"""The key index and the resolver, proven on moto's SSM backend with the rendered plans' own parameters.

Every parameter put into moto is taken from a rendering (its `name` and `insecureValue`
inputs, as `pulumi up` would send them), never re-typed. The keys come from the same
deterministic generator the mock runtime used for each RandomPassword, so the program's
hashing and the resolver's hashing must agree for anything to resolve.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from components.records import (
    KEY_ALLOWED,
    KEY_PREFIX,
    TOKEN_ALPHABET,
    TOKEN_LENGTH,
    index_document,
    key_hash,
    well_formed,
)
from components.resolver import MalformedKeyError, Resolver, UnknownKeyError, resolve
from envctl.plan import Rendering
from policies.contracts import conventions
from policies.contracts.names import record_name
from tests.support.program import PLATFORM_ROLE, REGION, STACKS, only, render_raw
from tests.support.records import PARAMETER, PREVIEW, deploy, generated_keys, parameters


def destroy(ssm: Any, r: Rendering) -> None:
    """What `pulumi destroy` does to them: none is protected or retained, so each is deleted."""
    for p in r.by_type(PARAMETER):
        assert not p.protect and not p.retain_on_delete, p.name
        ssm.delete_parameter(Name=p.inputs["name"])


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)


@pytest.fixture(scope="module")
def preview() -> Rendering:
    return render_raw(PREVIEW, stack="pr-42")


# --- what the plans declare -----------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_declares_its_record_and_one_index_entry_per_key(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    params = parameters(r)
    keys = generated_keys(r)
    assert set(params) == {record_name("envstack", r.config.name)} | {
        f"/envstack/envstack/api-keys/{key_hash(k)}" for k in keys.values()
    }
    for i in params.values():
        assert (i["type"], i["tier"], i["dataType"]) == ("String", "Standard", "text")
        assert len(i["insecureValue"]) <= 4096
    record = json.loads(params[record_name("envstack", r.config.name)]["insecureValue"])
    out = r.outputs
    for field in ("name", "type", "cloudProvider", "region", "cluster", "createdAt", "bucketName", "userPoolId"):
        assert record[field] == out[field], field
    for field in ("userPoolClientId", "apiKeySecretArn", "databaseSchema", "databaseSecretArn", "databaseCluster"):
        assert record[field] == out[field], field
    store = only(r.resources, conventions.SCHEMA_ROLE)
    assert record["databaseClusterArn"] == store.inputs["executor"]["clusterArn"] and record["project"] == "envstack"
    assert record["stack"] == stack
    # The role a request for this environment assumes (docs/access.md), as the stack outputs it.
    assert record["runtimeRoleArn"] == r.outputs["runtimeRoleArn"]
    assert out["environmentRecord"] == record_name("envstack", r.config.name)


@pytest.mark.parametrize("stack", STACKS)
def test_no_parameter_holds_a_key_or_a_secret(rendered: dict[str, Rendering], stack: str) -> None:
    r = rendered[stack]
    text = json.dumps(parameters(r))
    assert "[secret]" not in text
    for key in generated_keys(r).values():
        assert key not in text and key[len(KEY_PREFIX) :][:12] not in text


# --- resolving on moto ----------------------------------------------------------------------


def test_each_committed_stacks_key_resolves_to_its_environment(rendered: dict[str, Rendering], ssm: Any) -> None:
    for r in rendered.values():
        deploy(ssm, r)
    assert len(rendered) >= 3
    for stack, r in rendered.items():
        (key,) = generated_keys(r).values()
        record = resolve(ssm, key, "envstack")
        assert (record["name"], record["stack"], record["type"]) == (r.config.name, stack, r.config.type.value)
        assert record["bucketName"] == r.outputs["bucketName"]


def test_a_custom_previews_key_resolves_to_the_preview(
    rendered: dict[str, Rendering], preview: Rendering, ssm: Any
) -> None:
    deploy(ssm, rendered["staging"])
    deploy(ssm, preview)
    record = resolve(ssm, generated_keys(preview)[1], "envstack")
    assert (record["name"], record["type"], record["cluster"]) == ("pr-42", "custom", "shared-nonprod")
    assert resolve(ssm, generated_keys(rendered["staging"])[1], "envstack")["name"] == "staging"


def test_two_projects_environments_with_the_same_name_resolve_apart(rendered: dict[str, Rendering], ssm: Any) -> None:
    ours = rendered["dev"]
    theirs = render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="dev")
    # Nothing of one collides with the other: parameters, physical names, schema.
    assert not set(parameters(ours)) & set(parameters(theirs))
    assert theirs.outputs["bucketName"].startswith("envstack-4-acme-dev-files")
    assert (theirs.outputs["databaseSchema"], theirs.outputs["databaseCluster"]) == (
        "env_4_acme_dev",
        "envstack-4-acme-dev",
    )
    tags = next(x for x in theirs.resources if x.type == conventions.AWS_PROVIDER).inputs["defaultTags"]["tags"]
    assert tags["envstack:project"] == "acme"
    deploy(ssm, ours)
    deploy(ssm, theirs)
    our_key, their_key = generated_keys(ours)[1], generated_keys(theirs)[1]
    assert our_key != their_key
    assert resolve(ssm, our_key, "envstack")["project"] == "envstack"
    mine = resolve(ssm, their_key, "acme")
    assert (mine["project"], mine["name"], mine["bucketName"]) == ("acme", "dev", theirs.outputs["bucketName"])
    with pytest.raises(UnknownKeyError):
        resolve(ssm, their_key, "envstack")  # one project's key never resolves in another
    with pytest.raises(UnknownKeyError):
        resolve(ssm, our_key, "acme")


def test_a_rotation_overlaps_then_retires_the_old_key(ssm: Any) -> None:
    before = render_raw({"envstack:type": "dev"}, stack="dev")
    during = render_raw({"envstack:type": "dev", "envstack:apiKeyVersion": 2, "envstack:apiKeyRetiring": 1}, "dev")
    after = render_raw({"envstack:type": "dev", "envstack:apiKeyVersion": 2}, stack="dev")
    old, new = generated_keys(before)[1], generated_keys(after)[2]
    assert generated_keys(during) == {1: old, 2: new}
    # The old key's generator is untouched by the rotation (same name, same inputs): not replaced.
    token = {r.name: r.inputs for r in before.resources if r.name.endswith("-api-key-token")}
    assert token and all(r.inputs == token[r.name] for r in during.resources if r.name in token)
    secret = next(r for r in during.resources if r.name.endswith("-api-key-version"))
    assert secret.inputs["secretString"] == "[secret]"

    deploy(ssm, before)
    assert resolve(ssm, old, "envstack")["name"] == "dev"
    deploy(ssm, during, before)
    assert resolve(ssm, old, "envstack")["name"] == "dev" and resolve(ssm, new, "envstack")["name"] == "dev"
    deploy(ssm, after, during)
    assert resolve(ssm, new, "envstack")["name"] == "dev"
    with pytest.raises(UnknownKeyError):
        resolve(ssm, old, "envstack")


def test_secret_document_holds_both_keys_during_the_overlap() -> None:
    from components.api_key import secret_document

    doc = json.loads(secret_document("pk_new", "dev", "dev", REGION, retiring_key="pk_old"))
    assert (doc["apiKey"], doc["retiringApiKey"]) == ("pk_new", "pk_old")
    assert "retiringApiKey" not in json.loads(secret_document("pk_new", "dev", "dev", REGION))


def test_an_immediate_rotation_kills_the_old_key_at_once(ssm: Any) -> None:
    before = render_raw({"envstack:type": "dev"}, stack="dev")
    after = render_raw({"envstack:type": "dev", "envstack:apiKeyVersion": 2}, stack="dev")
    deploy(ssm, before)
    deploy(ssm, after, before)
    with pytest.raises(UnknownKeyError):
        resolve(ssm, generated_keys(before)[1], "envstack")


@pytest.mark.parametrize("stack", STACKS)
def test_a_destroyed_environments_key_does_not_resolve(rendered: dict[str, Rendering], ssm: Any, stack: str) -> None:
    for r in rendered.values():
        deploy(ssm, r)
    destroy(ssm, rendered[stack])
    with pytest.raises(UnknownKeyError):
        resolve(ssm, generated_keys(rendered[stack])[1], "envstack")
    others = [s for s in rendered if s != stack]
    assert others and all(resolve(ssm, generated_keys(rendered[s])[1], "envstack")["stack"] == s for s in others)


# --- forged index entries: the record vouches for its keys --------------------------

ATTACKER_KEY = KEY_PREFIX + "f" * TOKEN_LENGTH  # a key of the attacker's own, well-formed


def _put(ssm: Any, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def _record_of(r: Rendering) -> str:
    return str(parameters(r)[record_name("envstack", r.config.name)]["insecureValue"])


def _entry_of(r: Rendering) -> str:
    (entry,) = [i["insecureValue"] for n, i in parameters(r).items() if "/api-keys/" in n]
    return str(entry)


def _forged_entries(prod: Rendering, preview: Rendering) -> dict[str, str]:
    """What an attacker who may write /envstack/envstack/api-keys/* (and a preview's own record)
    could write under the hash of a key of their own."""
    prod_record, own_record = record_name("envstack", "prod"), record_name("envstack", "pr-42")
    return {
        "prod's own entry, copied": _entry_of(prod),
        "names the preview, points at prod's record": json.dumps(
            {"project": "envstack", "environment": "pr-42", "record": prod_record}
        ),
        "names prod, points at the preview's record": json.dumps(
            {"project": "envstack", "environment": "prod", "record": own_record}
        ),
        "another project's entry": json.dumps({"project": "acme", "environment": "prod", "record": prod_record}),
        "not JSON": "{",
        "not an object": json.dumps([prod_record]),
        "an environment that is no name": json.dumps(
            {"project": "envstack", "environment": "../prod", "record": record_name("envstack", "../prod")}
        ),
    }


@pytest.mark.parametrize("forgery", range(7))
def test_a_forged_index_entry_never_resolves_and_is_counted(
    rendered: dict[str, Rendering], preview: Rendering, ssm: Any, forgery: int
) -> None:
    plans = [*rendered.values(), preview]
    for r in plans:
        deploy(ssm, r)
    entries = _forged_entries(rendered["prod"], preview)
    assert len(entries) == 7
    what, value = list(entries.items())[forgery]
    _put(ssm, f"/envstack/envstack/api-keys/{key_hash(ATTACKER_KEY)}", value)
    resolver = Resolver(ssm, "envstack", clock=FakeClock())
    with pytest.raises(UnknownKeyError):
        resolver.resolve(ATTACKER_KEY)
    assert resolver.counters()["forgeries"] == 1, what
    # Every real key still resolves, to its own environment.
    for r in plans:
        for key in generated_keys(r).values():
            assert resolver.resolve(key)["name"] == r.config.name
    assert resolver.counters()["forgeries"] == 1


def test_a_record_naming_another_environment_does_not_vouch(preview: Rendering, ssm: Any) -> None:
    """A preview may write its own record: one that lists the attacker's hash but says it is prod
    is not prod's, and one that says what it is resolves only to itself."""
    deploy(ssm, preview)
    record = json.loads(_record_of(preview))
    own = record_name("envstack", "pr-42")
    _put(ssm, f"/envstack/envstack/api-keys/{key_hash(ATTACKER_KEY)}", index_document("envstack", "pr-42", 1))
    _put(ssm, own, json.dumps(record | {"name": "prod", "apiKeyHashes": [key_hash(ATTACKER_KEY)]}))
    resolver = Resolver(ssm, "envstack", negative_ttl=0)
    with pytest.raises(UnknownKeyError):
        resolver.resolve(ATTACKER_KEY)
    assert resolver.counters()["forgeries"] == 1
    _put(ssm, own, json.dumps(record | {"apiKeyHashes": [key_hash(ATTACKER_KEY)]}))
    assert resolver.resolve(ATTACKER_KEY)["name"] == "pr-42"


def test_a_record_naming_another_environments_role_does_not_vouch(
    rendered: dict[str, Rendering], preview: Rendering, ssm: Any
) -> None:
    """A preview may write its own record: one that lists the attacker's key under its own name
    but names prod's runtime role would have the platform assume prod's role for a preview key.
    It is a forgery; the preview's own role, as rendered, resolves."""
    deploy(ssm, rendered["prod"])
    deploy(ssm, preview)
    record = json.loads(_record_of(preview))
    prod_role = json.loads(_record_of(rendered["prod"]))["runtimeRoleArn"]
    assert record["runtimeRoleArn"] != prod_role
    own = record_name("envstack", "pr-42")
    _put(ssm, f"/envstack/envstack/api-keys/{key_hash(ATTACKER_KEY)}", index_document("envstack", "pr-42", 1))
    forged = record | {"apiKeyHashes": [key_hash(ATTACKER_KEY)], "runtimeRoleArn": prod_role}
    _put(ssm, own, json.dumps(forged))
    resolver = Resolver(ssm, "envstack", negative_ttl=0)
    with pytest.raises(UnknownKeyError):
        resolver.resolve(ATTACKER_KEY)
    assert resolver.counters()["forgeries"] == 1
    _put(ssm, own, json.dumps(forged | {"runtimeRoleArn": record["runtimeRoleArn"]}))
    assert resolver.resolve(ATTACKER_KEY)["runtimeRoleArn"] == record["runtimeRoleArn"]


def test_a_record_without_hashes_is_refused(rendered: dict[str, Rendering], ssm: Any) -> None:
    """What today's stacks wrote (recordVersion 1, no hashes): refused until the stack is
    deployed again, which is why the rollout deploys every stack before the resolver."""
    r = rendered["staging"]
    deploy(ssm, r)
    key = generated_keys(r)[1]
    old = json.loads(_record_of(r))
    assert old.pop("apiKeyHashes") == [key_hash(key)] and old["recordVersion"] == 2
    _put(ssm, record_name("envstack", "staging"), json.dumps(old | {"recordVersion": 1}))
    resolver = Resolver(ssm, "envstack", negative_ttl=0)
    with pytest.raises(UnknownKeyError):
        resolver.resolve(key)
    assert (resolver.counters()["outdated_records"], resolver.counters()["forgeries"]) == (1, 0)
    deploy(ssm, r)
    assert resolver.resolve(key)["name"] == "staging"


def test_a_record_whose_hashes_are_malformed_vouches_for_nothing(rendered: dict[str, Rendering], ssm: Any) -> None:
    r = rendered["dev"]
    deploy(ssm, r)
    key = generated_keys(r)[1]
    record = json.loads(_record_of(r))
    for hashes in ([key_hash(key).upper()], key_hash(key), [key_hash(key)] * 2, []):
        _put(ssm, record_name("envstack", "dev"), json.dumps(record | {"apiKeyHashes": hashes}))
        resolver = Resolver(ssm, "envstack")
        with pytest.raises(UnknownKeyError):
            resolver.resolve(key)
        assert resolver.counters()["forgeries"] == 1, hashes


def test_during_a_rotation_the_record_lists_both_keys(ssm: Any) -> None:
    during = render_raw({"envstack:type": "dev", "envstack:apiKeyVersion": 2, "envstack:apiKeyRetiring": 1}, "dev")
    keys = generated_keys(during)
    assert json.loads(_record_of(during))["apiKeyHashes"] == [key_hash(keys[1]), key_hash(keys[2])]
    deploy(ssm, during)
    resolver = Resolver(ssm, "envstack")
    assert all(resolver.resolve(k)["name"] == "dev" for k in keys.values())
    assert resolver.counters()["forgeries"] == 0


@pytest.mark.parametrize("stack", STACKS)
def test_the_record_waits_for_the_runtime_policy_and_the_index_for_the_record(
    rendered: dict[str, Rendering], stack: str
) -> None:
    """The record points at a role whose policy is already in place; an index entry
    never exists before the record that vouches for it (and is deleted before it)."""
    r = rendered[stack]
    (policy,) = r.by_type(conventions.ROLE_POLICY)
    records = [p for p in r.by_type(PARAMETER) if p.name.endswith("-record")]
    entries = [p for p in r.by_type(PARAMETER) if not p.name.endswith("-record")]
    assert len(records) == 1 and entries
    assert policy.name in records[0].depends_on
    assert all(records[0].name in e.depends_on for e in entries)


# --- what never resolves --------------------------------------------------------------------

tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH)
anything = st.one_of(tokens.map(lambda t: KEY_PREFIX + t), st.text(max_size=60), tokens)


def test_property_no_key_envstack_did_not_generate_resolves(
    rendered: dict[str, Rendering], preview: Rendering, ssm: Any
) -> None:
    plans = [*rendered.values(), preview]
    generated = {k for r in plans for k in generated_keys(r).values()}
    for r in plans:
        deploy(ssm, r)
    assert all(resolve(ssm, k, "envstack") for k in generated)  # the index is really there
    tried = []

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(key=anything)
    def check(key: str) -> None:
        if key in generated:
            return
        tried.append(key)
        with pytest.raises(MalformedKeyError if not well_formed(key) else UnknownKeyError):
            resolve(ssm, key, "envstack")

    check()
    assert sum(map(well_formed, tried)) >= 50  # most tries were well-formed keys, which reach the index


def test_a_malformed_key_is_refused_before_any_aws_call() -> None:
    calls: list[str] = []
    client = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("before-call.ssm.*", lambda model, **_: calls.append(model.name))
    for key in (
        "",
        "pk_",
        "pk_" + "a" * 42,
        "pk_" + "a" * 44,
        "sk_" + "a" * 43,
        "pk_" + "a" * 42 + "/",
        "pk_" + "é" * 43,
    ):
        with pytest.raises(MalformedKeyError):
            resolve(client, key, "envstack")
    assert calls == []


# --- the cache, on a fake clock -------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_resolver_caches_for_its_ttl_and_forgets_after(rendered: dict[str, Rendering], ssm: Any) -> None:
    r = rendered["dev"]
    deploy(ssm, r)
    key = generated_keys(r)[1]
    calls: list[str] = []
    ssm.meta.events.register("before-call.ssm.GetParameter", lambda model, **_: calls.append(model.name))
    clock = FakeClock()
    resolver = Resolver(ssm, "envstack", ttl=300, negative_ttl=30, jitter=0, clock=clock)

    assert resolver.resolve(key)["name"] == "dev"
    assert calls == ["GetParameter", "GetParameter"]  # the index entry, then the record
    clock.now += 299
    assert resolver.resolve(key)["name"] == "dev"
    assert len(calls) == 2  # served from the cache
    destroy(ssm, r)
    calls.clear()
    clock.now += 0.5
    assert resolver.resolve(key)["name"] == "dev"  # still cached: why a rotation's overlap must outlast the TTL
    assert calls == []
    clock.now += 1
    with pytest.raises(UnknownKeyError):
        resolver.resolve(key)
    assert calls == ["GetParameter"]
    clock.now += 29
    with pytest.raises(UnknownKeyError):
        resolver.resolve(key)
    assert calls == ["GetParameter"]  # the miss is cached too, for the shorter negative TTL
    deploy(ssm, r)
    clock.now += 1.5
    assert resolver.resolve(key)["name"] == "dev"
    assert len(calls) == 3


def test_the_cache_is_bounded_and_never_holds_a_key(ssm: Any) -> None:
    resolver = Resolver(ssm, "envstack", max_unknown=3, clock=FakeClock())
    keys = [KEY_PREFIX + str(i) * TOKEN_LENGTH for i in range(5)]
    for key in keys:
        with pytest.raises(UnknownKeyError):
            resolver.resolve(key)
    assert len(resolver._unknown) == 3
    assert set(resolver._unknown) == {key_hash(k) for k in keys[2:]}


def test_the_resolver_imports_without_pulumi() -> None:
    code = (
        "import sys; sys.modules['pulumi'] = None; sys.modules['pulumi_aws'] = None\n"
        "from components.resolver import Resolver, resolve\n"
        "assert 'pulumi' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# --- another project renders cleanly --------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"envstack:type": "dev"},
        {
            "envstack:type": "staging",
            "envstack:cluster": {"name": "acme-nonprod", "create": True},
            "envstack:platformPrincipals": [PLATFORM_ROLE],
        },
        {
            "envstack:type": "prod",
            "envstack:cluster": {"name": "acme-prod", "create": True},
            "envstack:platformPrincipals": [PLATFORM_ROLE],
        },  # stack "dev"
        PREVIEW,
        {"envstack:type": "dev", "envstack:name": "a-" * 10 + "b", "envstack:project": "p-1" * 3 + "x"},  # 31 chars
    ],
)
def test_another_projects_stack_passes_the_policy_pack_with_no_mandatory_finding(raw: dict[str, Any]) -> None:
    from policies import rules

    r = render_raw({**raw, "envstack:project": raw.get("envstack:project", "acme")}, stack="dev")
    findings = rules.evaluate(rules.from_plan(r.to_json()))
    assert [f for f in findings if f.level == rules.MANDATORY] == []
    bucket = r.outputs["bucketName"]
    assert len(bucket) <= 63 and len(bucket.replace("-files-", "-files-logs-")) <= 63
    assert r.outputs["environmentRecord"].startswith(f"/envstack/{r.config.project}/environments/")
    aliases = [x.inputs["name"] for x in r.by_type(conventions.KMS_ALIAS)]
    assert aliases == (["alias/envstack-4-acme-dev"] if r.config.type.value == "prod" else [])


def test_a_cached_answer_expires_exactly_at_its_ttl(rendered: dict[str, Rendering], ssm: Any) -> None:
    r = rendered["dev"]
    deploy(ssm, r)
    key = generated_keys(r)[1]
    calls: list[str] = []
    ssm.meta.events.register("before-call.ssm.GetParameter", lambda model, **_: calls.append(model.name))
    clock = FakeClock()
    resolver = Resolver(ssm, "envstack", ttl=300, negative_ttl=30, jitter=0, clock=clock)
    resolver.resolve(key)
    clock.now += 300  # the entry's deadline: no longer served from the cache
    resolver.resolve(key)
    assert len(calls) == 4


def test_a_malformed_key_message_says_what_a_key_looks_like(ssm: Any) -> None:
    with pytest.raises(MalformedKeyError) as err:
        Resolver(ssm, "envstack").resolve("pk_short")
    assert str(err.value) == f"not an envstack API key: expected {KEY_ALLOWED}"
