"""The name grammar of envstack: how an environment's name becomes the names of its resources,
and how those names are read back. The one owner of these rules for the program
(components/), the diff normaliser (envctl/diff.py) and the policy rules
(policies/rules_isolation.py).

Standard library only: the policy pack imports this module in its own virtualenv, which
holds only pulumi and pulumi-policy (policies/requirements.txt).

The forms, for an environment name N (the config's NAME_PATTERN, at most NAME_MAX characters):
- logical (Pulumi) names: `envstack-N-<role>`, one role per store (ROLES); components name
  their children `envstack-N-<role>-<child>`; Pulumi auto-naming appends `-<7 random>` to form
  physical names;
- an RDS cluster identifier that envstack chooses for dev: `envstack-N` (children
  `envstack-N-<child>`), and the KMS alias `alias/envstack-N`;
- PostgreSQL schema and role: `env_` + N with every `-` replaced by `_`;
- the label in descriptions and database comments: `envstack environment N`.

Reading back is ambiguous by construction: a name may itself contain role words
(`new-users`, `api-key-test`), so `envstack-new-users-files` is either environment
`new-users`'s files or environment `new`'s users-files. The reader therefore never guesses
where a name ends; it asks whether a token belongs to a given environment (`owned_by`):
`envstack-N` itself or anything under `envstack-N-`. One consequence, documented where the
policy uses it: environment N cannot tell its own names from another environment's names that
are literally also of that form (`envstack-new-users` is environment `new`'s user pool and
environment `new-users`' cluster).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PREFIX = "envstack"  # the physical-name prefix: every name envstack forms starts with it
PG_PREFIX = "env_"
# The database that holds the environment schemas, on a cluster envstack creates.
DATABASE = PREFIX
# The provisioner login of a shared cluster (components/provisioner.py): outside `env_`, so no
# environment's schema or role can ever take its name.
PG_PROVISIONER = f"{PREFIX}_provisioner"
# + the name: descriptions, and the comment that marks every schema and role envstack owns
# (components/sql.py): existing databases carry it, so it must never change.
LABEL = f"{PREFIX} environment "

# One name pattern for environments and cluster assignments: it must be usable in S3 bucket
# names, RDS identifiers, Cognito pool names and (mapped by pg_identifier) PostgreSQL
# identifiers. A trailing hyphen or a double hyphen is refused because RDS refuses both.
NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-))*(?<!-)$")
NAME_MAX = 32

# The role of each store in its logical name `envstack-<env>-<role>`.
ROLES = ("files", "users", "api-key", "tables", "key", "cluster", "created-at", "runtime", "registry", "provisioner")

PG_MAX_IDENTIFIER = 63
# The longest physical name formed from a logical name is an S3 bucket: 63 characters, of
# which Pulumi's auto-naming takes 8 ("-" + 7 random characters).
LOGICAL_MAX = 63 - 8

# A token of the grammar inside any text: `envstack-<run>` or `env_<ident>`, not preceded by a
# character that would make it part of a longer word.
_TOKEN = re.compile(
    rf"(?<![a-z0-9_-])(?:{LABEL}(?P<label>[a-z0-9-]+)|{PREFIX}-(?P<run>[a-z0-9-]+)|{PG_PREFIX}(?P<ident>[a-z0-9_]+))"
)
_PG_SAFE = re.compile(r"^[a-z][a-z0-9_]*$")


class UnmappableNameError(ValueError):
    """A name that cannot be mapped safely to a physical or database identifier."""


def is_valid_name(name: str) -> bool:
    return len(name) <= NAME_MAX and NAME_PATTERN.match(name) is not None


# The platform project (envstack:project) an environment belongs to unless its config names
# another. Its own fact, not the prefix nor the Pulumi project: it is stored, in the record's SSM
# path and the envstack:project tag of every environment, so it must never change. In it every
# name is exactly what it was before projects existed (see `stem`).
DEFAULT_PROJECT = "envstack"
_STEM = re.compile(r"^(?P<n>[1-9][0-9]*)-(?P<rest>.*)$")


def stem(env: str, project: str = DEFAULT_PROJECT) -> str:
    """What stands for the environment in its names. In the default project that is the
    environment's name. In any other it is `<n>-<project>-<env>`, n being the project name's
    length: it starts with a digit, which no environment name does, and n says where the
    project ends, so no two (project, environment) pairs share a stem (`parse_stem` inverts
    it). A separator could not do this: names hold single hyphens, and RDS refuses `--`."""
    return env if project == DEFAULT_PROJECT else f"{len(project)}-{project}-{env}"


def parse_stem(value: str) -> tuple[str, str]:
    """(project, environment) of a stem: the inverse of `stem`, which proves it one-to-one."""
    match = _STEM.match(value)
    if match is None:
        return DEFAULT_PROJECT, value
    n, rest = int(match["n"]), match["rest"]
    if len(rest) < n + 2 or rest[n] != "-":
        raise UnmappableNameError(f"{value!r} is not an environment stem")
    return rest[:n], rest[n + 1 :]


def is_valid_stem(value: str) -> bool:
    """Whether `value` is the stem of a valid (project, environment) pair."""
    try:
        project, env = parse_stem(value)
    except UnmappableNameError:
        return False
    return is_valid_name(project) and is_valid_name(env)


def scope(env: str, project: str = DEFAULT_PROJECT) -> str:
    """What every logical name of environment `env` starts with: `envstack-<stem>-`. Followed by
    `*`, the glob over its stores' names."""
    return f"{PREFIX}-{stem(env, project)}-"


def _known(role: str) -> str:
    if role not in ROLES:
        raise ValueError(
            f"unknown role {role!r}: add it to ROLES in policies/contracts/names.py (one of {', '.join(ROLES)})"
        )
    return role


def role_suffix(role: str) -> str:
    """What the logical name of every environment's store playing `role` ends with: `-<role>`."""
    return f"-{_known(role)}"


def logical(env: str, role: str, project: str = DEFAULT_PROJECT) -> str:
    """The logical name of environment `env`'s store playing `role`, e.g. `envstack-dev-files`."""
    name = scope(env, project) + _known(role)
    if len(name) > LOGICAL_MAX:
        raise UnmappableNameError(f"'{name}' is {len(name)} characters; at most {LOGICAL_MAX} fit AWS's limits")
    return name


def cluster_identifier(env: str, project: str = DEFAULT_PROJECT) -> str:
    """The RDS identifier of a dev environment's own cluster."""
    return f"{PREFIX}-{stem(env, project)}"


def kms_alias(env: str, project: str = DEFAULT_PROJECT) -> str:
    """The alias of an environment's own KMS key."""
    return f"alias/{PREFIX}-{stem(env, project)}"


# The IAM path of every role and managed policy envstack creates (components/access.py).
IAM_PATH = f"/{PREFIX}/"
# The runtime roles' permissions boundary (`envctl iam-policy boundary`): one managed policy per
# platform project, under the IAM path BOUNDARY_PATH, created once by an administrator.
BOUNDARY_PATH = IAM_PATH


def boundary_policy_name(project: str) -> str:
    """The name of the managed policy that caps every runtime role of `project`. It starts
    outside the grammar's `envstack-<env>-...` form, so that no environment (`runtime`, say)
    reads it as one of its own names."""
    return f"runtime-boundary-{project}"


KEY_INDEX = "api-keys"


def key_index_path(project: str) -> str:
    """The hierarchy of a project's API key index entries, named by a key's hash."""
    return f"{ssm_root(project)}/{KEY_INDEX}"


def ssm_root(project: str) -> str:
    """The SSM Parameter Store hierarchy of a platform project (components/records.py)."""
    return f"/{PREFIX}/{project}"


def records_path(project: str) -> str:
    """The hierarchy of a project's environment records (for GetParametersByPath)."""
    return f"{ssm_root(project)}/environments"


def record_name(project: str, env: str) -> str:
    """The SSM parameter of environment `env`'s record."""
    return f"{records_path(project)}/{env}"


def pg_name(env: str) -> str:
    """The PostgreSQL identifier that `env` maps to, unchecked (see pg_identifier)."""
    return PG_PREFIX + env.replace("-", "_")


def pg_identifier(env: str, project: str = DEFAULT_PROJECT) -> str:
    """The schema and role name of an environment in PostgreSQL: `env_` + its stem with every
    `-` as `_`. Only names of NAME_PATTERN are mapped, so the mapping is one-to-one (`a_b` and
    `a-b` would collide) and needs no case folding; names beyond PostgreSQL's 63-byte
    identifier limit are refused."""
    ident = pg_name(stem(env, project))
    valid = is_valid_name(env) and is_valid_name(project)
    if not valid or not _PG_SAFE.match(ident) or len(ident.encode()) > PG_MAX_IDENTIFIER:
        raise UnmappableNameError(
            f"environment name {env!r} cannot be mapped to a PostgreSQL identifier: allowed are lowercase "
            f"letters, digits and '-', starting with a letter, mapping to at most {PG_MAX_IDENTIFIER} bytes"
        )
    return ident


def label(env: str) -> str:
    return LABEL + env


# --- reading names back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """One grammar token in a text: `envstack-<run>`, `env_<ident>`, or a label
    `envstack environment <label>` (which names an environment, not a store)."""

    text: str
    run: str | None = None
    ident: str | None = None
    label: str | None = None


def tokens(text: str) -> Iterable[Token]:
    for m in _TOKEN.finditer(text):
        yield Token(m.group(0), m.group("run"), m.group("ident"), m.group("label"))


def owned_by(token: Token, owners: Iterable[str]) -> bool:
    """Whether the token is a name that an environment (or a cluster identifier) in `owners`
    forms: `envstack-O`, anything under `envstack-O-`, `env_<O mapped>`, its label, or the
    owner's bare name (`O`, `O-...`), which itself reads as a token when it starts `envstack-`."""
    for owner in owners:
        if token.label is not None:
            if token.label == owner:
                return True
            continue
        if token.ident is not None:
            if token.text == pg_name(owner):
                return True
            continue
        for base in (f"{PREFIX}-{owner}", owner):
            if token.text == base or token.text.startswith(base + "-"):
                return True
    return False


def names_a_store(token: Token) -> bool:
    """Whether the token has the shape of an environment's store: `envstack-<name>-<role>...`
    for some split of its run, or a PostgreSQL schema `env_<ident>`."""
    if token.ident is not None:
        return True
    if token.run is None:
        return False
    run = token.run
    for i, char in enumerate(run):
        rest = run[i + 1 :]
        if char == "-" and is_valid_stem(run[:i]) and any(rest == r or rest.startswith(r + "-") for r in ROLES):
            return True
    return False


def normaliser(env: str, placeholder: str, project: str = DEFAULT_PROJECT) -> Callable[[str], str]:
    """A function that replaces `env` where the grammar put it into a longer name (logical and
    physical names, the cluster identifier, the PostgreSQL identifier, the label, the SSM
    record's name), so that the
    same resource of two environments reads the same. Text that merely contains the same
    letters (a region `ap-northeast-2` for an environment `ap`, an ARN's `aws`) is left alone."""
    own = stem(env, project)
    pg = pg_name(own)
    pattern = re.compile(
        rf"(?<![a-z0-9_-])(?:(?P<prefix>{PREFIX}-){re.escape(own)}(?![a-z0-9])"
        rf"|(?P<pg>{re.escape(pg)})(?![a-z0-9_])"
        rf"|(?P<label>{re.escape(LABEL)}){re.escape(env)}(?![a-z0-9]|-[a-z0-9]))"
        rf"|(?P<record>{re.escape(records_path(project))}/){re.escape(env)}(?![a-z0-9-])"
    )

    def replace(m: re.Match[str]) -> str:
        if m.group("pg"):
            return PG_PREFIX + placeholder
        return (m.group("prefix") or m.group("label") or m.group("record")) + placeholder

    return lambda text: pattern.sub(replace, text)


PROVISIONER_SECRET = "-provisioner"  # noqa: S105 (a name suffix, not a password)


def provisioner_secret_name(cluster: str) -> str:
    """The Secrets Manager name of the provisioner login's credentials on cluster `cluster`."""
    return cluster + PROVISIONER_SECRET


# --- children of a store: `<its name><suffix>` -----------------------------------------------------

WRITER = "-writer"  # an RDS cluster's writer instance, both its logical name and its identifier
FINAL_SNAPSHOT = "-final-"  # a cluster's final snapshot: `<identifier>-final-<8 hex>`
FINAL_SNAPSHOT_SUFFIX = "-final-snapshot-suffix"  # the random id that makes that snapshot unique
LOGS = "-logs"  # the files bucket's access-log bucket
ROLE_POLICY = "-policy"  # an IAM role's inline policy
# The runtime role's inline policy, named inside its role. It carries no `envstack-<env>` token,
# so no environment reads it as its own, not even one named `runtime`.
RUNTIME_POLICY_NAME = "runtime-access"
MASTER_USERNAME = f"{PREFIX}_admin"  # the master login of a cluster envstack creates


def writer(cluster: str) -> str:
    """The writer instance of cluster `cluster` (a logical name or an RDS identifier)."""
    return cluster + WRITER


def final_snapshots(cluster: str) -> str:
    """A glob over every final snapshot of cluster `cluster` (an RDS identifier)."""
    return f"{cluster}{FINAL_SNAPSHOT}*"


def log_bucket(bucket: str) -> str:
    """The access-log bucket of bucket `bucket`."""
    return bucket + LOGS


def role_policy(role: str) -> str:
    """The logical name of role `role`'s inline policy."""
    return role + ROLE_POLICY


# --- previews: one environment per pull request ----------------------------------------------------

PREVIEW_PREFIX = "pr-"
PREVIEWS = f"{PREVIEW_PREFIX}*"  # a glob for every preview environment's name


def preview(number: int) -> str:
    """The stack and environment name of pull request `number`'s preview."""
    return f"{PREVIEW_PREFIX}{number}"
