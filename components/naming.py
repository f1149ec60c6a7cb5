"""Physical and logical names of the program's resources.

The grammar itself (prefix, roles, how names are formed and read back) lives in
components/names.py, standard library only, so that the policy pack and the diff normaliser
read names exactly as the program forms them. This module is what the components call.

- Logical names (Pulumi's) are `envstack-<env>-<role>`. Pulumi's auto-naming appends a
  random 7-character suffix to form the physical name, so a name freed by a deleted bucket
  or a secret in its recovery window never blocks re-creating the environment.
- A created cluster's identifier is the assignment's name; dev's private cluster is
  `envstack-<env>`.
- PostgreSQL identifiers (schema and role) are `env_` + the environment name with every
  `-` replaced by `_`; names that cannot be mapped one-to-one are refused by `pg_identifier`.
- The platform project (`envstack:project`): in every name above, `<env>` stands for the
  environment's *stem* (components/names.py `stem`): the name itself in the default project,
  so nothing deployed before projects existed is renamed, and `<n>-<project>-<env>` in any
  other, which no two (project, environment) pairs share.
"""

from __future__ import annotations

from components.names import (
    PG_MAX_IDENTIFIER,
    PREFIX,
    UnmappableNameError,
    kms_alias,
    parse_stem,
    pg_identifier,
    stem,
)
from components.names import cluster_identifier as private_cluster_identifier
from components.names import logical as resource_name

__all__ = [
    "PG_MAX_IDENTIFIER",
    "PREFIX",
    "UnmappableNameError",
    "kms_alias",
    "parse_stem",
    "pg_identifier",
    "private_cluster_identifier",
    "resource_name",
    "stem",
]
