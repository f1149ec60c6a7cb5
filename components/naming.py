"""Physical and logical names, in one place.

Rules:
- Logical names (Pulumi's) are `envstack-<env>-<role>`. Pulumi's auto-naming appends a
  random 7-character suffix to form the physical name, so a name freed by a deleted bucket
  or a secret in its recovery window never blocks re-creating the environment.
- A created cluster's identifier is the assignment's name; dev's private cluster is
  `envstack-<env>`.
- PostgreSQL identifiers (schema and role) are `env_` + the environment name with every
  `-` replaced by `_`. The name pattern in config.py allows only `[a-z0-9-]`, so the mapping
  is one-to-one and the result never needs case folding; names that would exceed
  PostgreSQL's 63-byte identifier limit are refused by `pg_identifier`.
- The platform project (`envstack:project`): in every name above, `<env>` stands for the
  environment's *stem*. In the default project the stem is the environment's name, so
  nothing deployed before projects existed is renamed. In any other project it is
  `<n>-<project>-<env>`, n being the project name's length: it starts with a digit, which
  no environment name does, and n says where the project ends, so no two (project,
  environment) pairs share a stem (`parse_stem` inverts it). A separator could not do this:
  names may hold single hyphens, and RDS refuses `--`.
"""

from __future__ import annotations

import re

from components.config import PROJECT, is_valid_name

PREFIX = "envstack"
# The longest physical name we form is an S3 bucket: 63 characters, of which Pulumi's
# auto-naming takes 8 ("-" + 7 random characters).
_BUCKET_MAX = 63 - 8
PG_MAX_IDENTIFIER = 63
_PG_SAFE = re.compile(r"^[a-z][a-z0-9_]*$")


class UnmappableNameError(ValueError):
    """A name that cannot be mapped safely to a physical or database identifier."""


_STEM = re.compile(r"^(?P<n>[1-9][0-9]*)-(?P<rest>.*)$")


def stem(env: str, project: str = PROJECT) -> str:
    """What stands for the environment in its physical names (see the module docstring)."""
    return env if project == PROJECT else f"{len(project)}-{project}-{env}"


def parse_stem(value: str) -> tuple[str, str]:
    """(project, environment) of a stem: the inverse of `stem`, which proves it one-to-one."""
    match = _STEM.match(value)
    if match is None:
        return PROJECT, value
    n, rest = int(match["n"]), match["rest"]
    if len(rest) < n + 2 or rest[n] != "-":
        raise UnmappableNameError(f"{value!r} is not an environment stem")
    return rest[:n], rest[n + 1 :]


def resource_name(env: str, role: str, project: str = PROJECT) -> str:
    """The logical name of an environment's resource playing `role`, e.g. `envstack-dev-files`."""
    name = f"{PREFIX}-{stem(env, project)}-{role}"
    if len(name) > _BUCKET_MAX:
        raise UnmappableNameError(f"'{name}' is {len(name)} characters; at most {_BUCKET_MAX} fit AWS's limits")
    return name


def private_cluster_identifier(env: str, project: str = PROJECT) -> str:
    """The RDS identifier of a dev environment's own cluster."""
    return f"{PREFIX}-{stem(env, project)}"


def kms_alias(env: str, project: str = PROJECT) -> str:
    """The alias of an environment's own KMS key."""
    return f"alias/{PREFIX}-{stem(env, project)}"


def pg_identifier(env: str, project: str = PROJECT) -> str:
    """The schema and role name of an environment in PostgreSQL (see the module docstring).

    Only names of the config's pattern are mapped: anything else (an `_`, a leading digit)
    could collide with another environment's identifier (`a_b` and `a-b`)."""
    valid_name = is_valid_name(env) and is_valid_name(project)
    ident = "env_" + stem(env, project).replace("-", "_")
    if not valid_name or not _PG_SAFE.match(ident) or len(ident.encode()) > PG_MAX_IDENTIFIER:
        raise UnmappableNameError(
            f"environment name {env!r} cannot be mapped to a PostgreSQL identifier: allowed are lowercase "
            f"letters, digits and '-', starting with a letter, mapping to at most {PG_MAX_IDENTIFIER} bytes"
        )
    return ident
