"""The access rule: an environment's runtime role reaches only its own environment's resources.

This module owns how the runtime role is recognised (its envstack:purpose tag), which ARNs are
the stack's own, and how one policy statement is judged. It reads the documents; it is no IAM
policy evaluator (that is moto's, in envctl/access.py). Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.contracts.arns import is_account_root
from policies.contracts.conventions import (
    BUCKET,
    CLUSTER,
    KMS_KEY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SCHEMA_ROLE,
    SECRET,
    TAG_PURPOSE,
    USER_POOL,
)
from policies.model import INVARIANT, Res, Rule, Stack, collector, known, policy_document

RUNTIME_ROLE = "runtime-role"  # the envstack:purpose tag of an environment's runtime role

RULES: list[Rule] = []
rule = collector(RULES)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _runtime_roles(s: Stack) -> list[Res]:
    roles = []
    for role in s.of(ROLE):
        tags = role.get("tags")
        if not known(tags) or (isinstance(tags, Mapping) and tags.get(TAG_PURPOSE) == RUNTIME_ROLE):
            roles.append(role)
    return roles


def _wildcard_principal(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return any(known(p) and "*" in str(p) for v in principal.values() for p in _listed(v))
    return known(principal) and "*" in str(principal)


def _account_root(statement: Mapping[str, Any]) -> bool:
    """`arn:<partition>:iam::<account>:root` (or a bare account id) stands for every identity of
    that account whose own policies allow sts:AssumeRole on the role (CKV_AWS_61)."""
    principal = statement.get("Principal")
    values = [p for v in principal.values() for p in _listed(v)] if isinstance(principal, Mapping) else []
    return any(known(p) and (is_account_root(str(p)) or str(p).isdigit()) for p in values)


def _own_arns(s: Stack) -> tuple[set[str], set[str], set[str], bool]:
    """This stack's own ARNs (bucket, pool, secret, key), its buckets, its clusters' ARNs, and
    whether any of them is not known yet."""
    own: set[str] = set()
    buckets: set[str] = set()
    clusters: set[str] = set()
    unknown = False
    for res in s.of(BUCKET) + s.of(USER_POOL) + s.of(SECRET) + s.of(KMS_KEY) + s.of(CLUSTER):
        if not known(res.arn) or not isinstance(res.arn, str):
            unknown = True
            continue
        (clusters if res.type == CLUSTER else own).add(res.arn)
        if res.type == BUCKET:
            buckets.add(res.arn)
    for store in s.of(SCHEMA_ROLE):
        arn = store.get("executor", "clusterArn")
        if isinstance(arn, str) and known(arn):
            clusters.add(arn)
        elif arn is not None:
            unknown = True
    return own, buckets, clusters, unknown


def _statement_problems(st: Any, s_own: tuple[set[str], set[str], set[str], bool]) -> Iterator[str]:
    if not isinstance(st, Mapping) or st.get("Effect") != "Allow":
        return
    for element in ("NotAction", "NotResource"):
        if element in st:
            yield f"grants with {element}, which reaches everything not listed"
    actions = [a for a in _listed(st.get("Action")) if known(a) and isinstance(a, str)]
    for action in actions:
        if "*" in action or "?" in action:
            yield f"grants a wildcard action {action!r}"
        elif action.lower().startswith(("iam:", "sts:")):
            yield f"grants {action}: a runtime role never manages identities"
    yield from _resource_problems(st, actions, s_own)


def _resource_problems(
    st: Mapping[str, Any], actions: list[str], s_own: tuple[set[str], set[str], set[str], bool]
) -> Iterator[str]:
    own, buckets, clusters, unknown = s_own
    for resource in _listed(st.get("Resource")):
        if not known(resource) or not isinstance(resource, str):
            continue
        if resource in clusters:
            other = [a for a in actions if not a.lower().startswith("rds-data:")]
            if other:
                yield f"grants {', '.join(other)} on the shared cluster {resource}: only rds-data: actions may name it"
            continue
        data_api = [a for a in actions if a.lower().startswith("rds-data:")]
        if data_api:
            yield f"grants {', '.join(data_api)} on {resource}, which is not the environment's cluster"
        objects_of = resource[:-2] if resource.endswith("/*") else None
        if objects_of is not None and "*" not in objects_of and "?" not in objects_of:
            # A bucket's objects: allowed for the environment's own bucket only.
            if objects_of not in buckets and not unknown:
                yield f"grants access to {resource}, the objects of a bucket that is not this environment's"
            continue
        if "*" in resource or "?" in resource:
            yield f"grants a wildcard resource {resource!r}"
        elif resource not in own and not unknown:
            yield f"grants access to {resource}, which is not one of this environment's resources"


@rule(
    "runtime-role-own-resources",
    INVARIANT,
    "(own rule)",
    "The runtime role reaches only its own environment's resources (the shared cluster only for rds-data:), "
    "with no wildcard resource or action, no iam:/sts: action, and neither a `*` principal nor an account root "
    "in its trust (CKV_AWS_61).",
)
def _runtime_role(s: Stack) -> Iterator[tuple[Res, str]]:
    own = _own_arns(s)
    for role in _runtime_roles(s):
        trust = policy_document(role.get("assumeRolePolicy"))
        if trust is None:
            yield role, "the trust policy is not a JSON policy document"
        elif known(trust) and any(_wildcard_principal(st) for st in trust["Statement"] if isinstance(st, Mapping)):
            yield role, "the trust policy allows a wildcard principal"
        elif known(trust) and any(_account_root(st) for st in trust["Statement"] if isinstance(st, Mapping)):
            yield role, "the trust policy trusts an account root, not named principals"
        if role.get("managedPolicyArns") or role.get("inlinePolicies"):
            yield role, "grants through managed or inline policies on the role, outside its checked role policy"
        for attachment in s.linked(ROLE_POLICY_ATTACHMENT, "role", role):
            yield attachment, "attaches a managed policy to the runtime role: only its own inline policy may grant"
        for policy in s.linked(ROLE_POLICY, "role", role):
            document = policy_document(policy.get("policy"))
            if document is None:
                yield policy, "the role policy is not a JSON policy document"
                continue
            if not known(document):
                continue  # unknown during preview: nothing to check yet
            for st in document["Statement"]:
                for problem in _statement_problems(st, own):
                    yield policy, problem
