"""Support for the policy rule tests: the committed plans, edits of a plan (each a `Mutation`),
and what one rule finds on an edited plan.

Each test_rules_*.py module holds the edge cases of one policies/rules_*.py module: each
threshold on both sides, each environment type's standard, absent properties (AWS's defaults)
and values unknown during preview. A case starts from a committed stack's plan, changes it, and
asserts every finding of one rule: resource, level and whole message (users read the message to
know what to fix). tests/policies/test_rules.py holds the cases that run every rule."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from policies import rules
from policies.contracts import conventions
from tests.support.program import ROOT, committed_plan

# The provider's default tags of a preview of project acme, as a plan of it records them.
TAGS = {
    conventions.TAG_ENVIRONMENT: "pr-5",
    conventions.TAG_TYPE: "custom",
    conventions.TAG_PROJECT: "acme",
    conventions.TAG_STACK: "acme/envstack/pr-5",
}


def findings(plan: dict[str, Any]) -> list[rules.Finding]:
    return rules.evaluate(rules.from_plan(plan))


def res(plan: dict[str, Any], type_: str, name_suffix: str = "") -> dict[str, Any]:
    found = [r for r in plan["resources"] if r["type"] == type_ and r["name"].endswith(name_suffix)]
    assert found, f"no {type_} ending {name_suffix!r}"
    first: dict[str, Any] = found[0]
    return first


def drop(plan: dict[str, Any], type_: str, name_suffix: str = "") -> None:
    plan["resources"].remove(res(plan, type_, name_suffix))


Mutation = Callable[[dict[str, Any]], None]


def _set(type_: str, suffix: str, *path: str | int, value: Any) -> Mutation:
    def mutate(plan: dict[str, Any]) -> None:
        target = res(plan, type_, suffix)["inputs"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _remove_key(type_: str, suffix: str, *path: str | int) -> Mutation:
    def mutate(plan: dict[str, Any]) -> None:
        target = res(plan, type_, suffix)["inputs"]
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _drop(type_: str, suffix: str = "") -> Mutation:
    return lambda plan: drop(plan, type_, suffix)


def _fixed_final_snapshot(plan: dict[str, Any]) -> None:
    """The final snapshot named as main named it: a literal, depending on nothing generated."""
    cluster = res(plan, conventions.CLUSTER)
    cluster["inputs"]["finalSnapshotIdentifier"] = "prod-main-final"
    del cluster["propertyDependencies"]["finalSnapshotIdentifier"]
    drop(plan, conventions.RANDOM_ID)


def _option(type_: str, suffix: str, **options: Any) -> Mutation:
    return lambda plan: res(plan, type_, suffix).update(**options)


def _runtime(
    edit: Callable[[dict[str, Any]], None], prop: str = "policy", type_: str = conventions.ROLE_POLICY
) -> Mutation:
    """Edit the runtime role's permissions (RolePolicy.policy) or trust (Role.assumeRolePolicy)."""

    def mutate(plan: dict[str, Any]) -> None:
        inputs = res(plan, type_, "runtime-policy" if type_ == conventions.ROLE_POLICY else "runtime")["inputs"]
        document = json.loads(inputs[prop])
        edit(document)
        inputs[prop] = json.dumps(document)

    return mutate


M, A = "mandatory", "advisory"


def _type(env_type: str | None) -> Mutation:
    """The environment type the provider's default tags name; None: no type tag at all."""

    def mutate(plan: dict[str, Any]) -> None:
        tags = res(plan, conventions.AWS_PROVIDER)["inputs"]["defaultTags"]["tags"]
        if env_type is None:
            del tags[conventions.TAG_TYPE]
        else:
            tags[conventions.TAG_TYPE] = env_type

    return mutate


Case = tuple[str, str, list[Mutation], list[tuple[str, str, str]]]

SECRET = (conventions.SECRET, "-api-key")
POOL = (conventions.USER_POOL, "")
CLUSTER = (conventions.CLUSTER, "")
INSTANCE = (conventions.INSTANCE, "")

KEY = conventions.KMS_KEY
SSE_FILES = (conventions.SSE, "files-encryption")
SSE_DEFAULT = ("rules", 0, "applyServerSideEncryptionByDefault")
WILDCARD_KEY = "the key policy allows a wildcard principal"
AWS_MANAGED = "encrypted with the AWS-managed key, not the environment's own key"

PAB = (conventions.PUBLIC_ACCESS_BLOCK, "files-public-access-block")
FILES_POLICY = (conventions.BUCKET_POLICY, "files-policy")
LIFECYCLE = (conventions.LIFECYCLE_CONFIGURATION, "")
NO_SSE = "no default encryption configuration"
NO_TLS = "no bucket policy denies requests without TLS (aws:SecureTransport = false)"
NO_EXPIRY = "no lifecycle rule expires noncurrent versions"

FIXED_SNAPSHOT = "fixed final snapshot identifier 'prod-main-final': a second destroy fails once it exists"
KEY_OUTLIVED = (
    "not retained on delete, yet envstack-prod-api-key, envstack-prod-provisioner-credentials, envstack-prod-tables-credentials, prod-main "
    "outlive destroy encrypted with it"
)

NOT_PK = "the API key secret does not hold a pk_ publishable key"

ROLE = (conventions.ROLE, "runtime")
POLICY = "envstack-prod-runtime-policy"
WILDCARD_TRUST = "the trust policy allows a wildcard principal"
UNKNOWN_TEXT = "[secret]"  # what a secret (and, through the adapter, an unknown) string shows as
OTHER_POOL = "arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/ap-northeast-2_OtherPool"


def _trust(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    return _runtime(edit, "assumeRolePolicy", conventions.ROLE)


def _statement_edit(sid: str, **changes: Any) -> Mutation:
    return _runtime(lambda d: next(st for st in d["Statement"] if st["Sid"] == sid).update(changes))


def _arn(type_: str, suffix: str, arn: Any) -> Mutation:
    return lambda plan: res(plan, type_, suffix).update(arn=arn)


def _api_key_text(text: str) -> Mutation:
    return _set(conventions.SECRET_VERSION, "api-key-version", "secretString", value=text)


def _api_key(key: str) -> Mutation:
    return _api_key_text(json.dumps({"apiKey": key}))


def _provider_tags_without(*keys: str) -> Mutation:
    def mutate(plan: dict[str, Any]) -> None:
        tags = res(plan, conventions.AWS_PROVIDER)["inputs"]["defaultTags"]["tags"]
        for key in keys:
            del tags[key]

    return mutate


def _default_provider(type_: str) -> Mutation:
    return lambda plan: res(plan, type_).update(provider=None)


# prod's AWS resources in plan order, as its committed snapshot lists them (the cases' expected
# findings are built when the module loads; tests/envctl/test_cli_plan.py holds the snapshot to the render).
AWS_RESOURCES = {
    stack: [
        r["name"]
        for r in json.loads((ROOT / "tests" / "snapshots" / f"{stack}.json").read_text())["resources"]
        if r["type"].startswith("aws:")
    ]
    for stack in ("prod",)
}


def _generated_by(type_: str) -> Mutation:
    """The final snapshot's suffix generated by a resource of another type."""
    return lambda plan: res(plan, conventions.RANDOM_ID).update(type=type_)


def _twin(type_: str, suffix: str, name: str, **options: Any) -> Mutation:
    """A copy of a resource, named `name` and listed just before it, with top-level options
    changed: a rule must judge each resource of a type, not stop at the first it passes."""

    def mutate(plan: dict[str, Any]) -> None:
        original = res(plan, type_, suffix)
        twin = copy.deepcopy(original)
        twin.update(name=name, **options)
        plan["resources"].insert(plan["resources"].index(original), twin)

    return mutate


def _twin_input(type_: str, suffix: str, name: str, prop: str, value: Any) -> Mutation:
    """A twin (see _twin) whose input `prop` is `value`."""

    def mutate(plan: dict[str, Any]) -> None:
        _twin(type_, suffix, name)(plan)
        res(plan, type_, name)["inputs"][prop] = value

    return mutate


def _first_aws_on_default_provider(plan: dict[str, Any]) -> None:
    next(r for r in plan["resources"] if r["type"].startswith("aws:")).update(provider=None)


def _add_sse_rule(algorithm: str) -> Mutation:
    def mutate(plan: dict[str, Any]) -> None:
        rules_ = res(plan, *SSE_FILES)["inputs"]["rules"]
        rules_.append({"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}, "bucketKeyEnabled": True})

    return mutate


def _tls_policy(effect: str, secure: Any, single: bool = False, as_object: bool = False) -> Mutation:
    statement = {
        "Effect": effect,
        "Principal": "*",
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": secure}},
    }
    document = {"Statement": statement if single else [{"Effect": "Allow", "Principal": "*"}, statement]}
    return _set(*FILES_POLICY, "policy", value=document if as_object else json.dumps(document))


def _key_policy(principal: Any, effect: str = "Allow", statements: int = 1, as_object: bool = False) -> Mutation:
    statement = {"Effect": effect, "Principal": principal, "Action": "kms:*", "Resource": "*"}
    document = {"Statement": [statement] * statements}
    return _set(KEY, "", "policy", value=document if as_object else json.dumps(document))


def edge_findings(stack: str, rule: str, edits: list[Mutation]) -> list[tuple[str, str, str]]:
    """The findings of `rule` (level, resource, whole message) on the committed plan of `stack`
    after `edits`."""
    plan = committed_plan(stack)
    for edit in edits:
        edit(plan)
    return [(f.level, f.resource, f.message) for f in rules.evaluate(rules.from_plan(plan)) if f.rule == rule]
