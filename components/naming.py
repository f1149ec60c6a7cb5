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
"""

from __future__ import annotations

import re

from components.config import NAME_MAX, NAME_PATTERN

PREFIX = "envstack"
# The longest physical name we form is an S3 bucket: 63 characters, of which Pulumi's
# auto-naming takes 8 ("-" + 7 random characters).
_BUCKET_MAX = 63 - 8
PG_MAX_IDENTIFIER = 63
_PG_SAFE = re.compile(r"^[a-z][a-z0-9_]*$")


class UnmappableNameError(ValueError):
    """A name that cannot be mapped safely to a physical or database identifier."""


def resource_name(env: str, role: str) -> str:
    """The logical name of an environment's resource playing `role`, e.g. `envstack-dev-files`."""
    name = f"{PREFIX}-{env}-{role}"
    if len(name) > _BUCKET_MAX:
        raise UnmappableNameError(f"'{name}' is {len(name)} characters; at most {_BUCKET_MAX} fit AWS's limits")
    return name


def private_cluster_identifier(env: str) -> str:
    """The RDS identifier of a dev environment's own cluster."""
    return f"{PREFIX}-{env}"


def pg_identifier(env: str) -> str:
    """The schema and role name of an environment in PostgreSQL (see the module docstring).

    Only names of the config's pattern are mapped: anything else (an `_`, a leading digit)
    could collide with another environment's identifier (`a_b` and `a-b`)."""
    ident = "env_" + env.replace("-", "_")
    valid_name = len(env) <= NAME_MAX and NAME_PATTERN.match(env)
    if not valid_name or not _PG_SAFE.match(ident) or len(ident.encode()) > PG_MAX_IDENTIFIER:
        raise UnmappableNameError(
            f"environment name {env!r} cannot be mapped to a PostgreSQL identifier: allowed are lowercase "
            f"letters, digits and '-', starting with a letter, mapping to at most {PG_MAX_IDENTIFIER} bytes"
        )
    return ident
