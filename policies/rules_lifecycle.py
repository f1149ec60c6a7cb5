"""The lifecycle rules: what makes a later replace, upgrade or second destroy fail (unique
final snapshots, pinned minor engine versions, fixed names without delete_before_replace, a
key deleted before the data it encrypts). Mandatory for every environment type. Standard
library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.contracts.conventions import (
    CLUSTER,
    INSTANCE,
    KMS_ALIAS,
    KMS_KEY,
    RANDOM_ID,
    RANDOM_PET,
    RANDOM_STRING,
    SECRET,
)
from policies.model import LIFECYCLE, Res, Rule, Stack, collector, known

# Resources whose physical name envstack sets itself (never auto-named), and the property
# that holds it. A fixed name cannot exist twice, so a replacement must delete first.
FIXED_NAMES = {CLUSTER: "clusterIdentifier", INSTANCE: "identifier", KMS_ALIAS: "name"}
# Resources that generate a value once and keep it in state.
GENERATORS = (RANDOM_ID, RANDOM_STRING, RANDOM_PET)

RULES: list[Rule] = []
rule = collector(RULES)


@rule(
    "unique-final-snapshot",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-cluster#129)",
    "Every Aurora cluster that takes a final snapshot names it with a generated suffix kept in state, "
    "so a second destroy after re-creating it cannot collide.",
)
def _unique_final_snapshot(s: Stack) -> Iterator[tuple[Res, str]]:
    generated = {r.name for r in s.resources if r.type in GENERATORS}
    for cluster in s.of(CLUSTER):
        skip = cluster.get("skipFinalSnapshot")
        if skip is True or not known(skip):
            continue
        identifier = cluster.get("finalSnapshotIdentifier")
        if not known(identifier):
            continue
        if not identifier:
            yield cluster, "takes a final snapshot but names none: destroy fails"
        elif not generated & set(cluster.links.get("finalSnapshotIdentifier", [])):
            yield cluster, f"fixed final snapshot identifier {identifier!r}: a second destroy fails once it exists"


_MINOR = re.compile(r"^\d+\.\d+")


@rule(
    "no-pinned-minor-engine-version",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-aurora#228)",
    "No Aurora cluster pins a minor engine version while its instances take automatic minor upgrades, "
    "unless engineVersion is in ignore_changes.",
)
def _pinned_minor(s: Stack) -> Iterator[tuple[Res, str]]:
    auto_upgrade = any(i.get("autoMinorVersionUpgrade") is not False for i in s.of(INSTANCE))
    for cluster in s.of(CLUSTER):
        version = cluster.get("engineVersion")
        pinned = isinstance(version, str) and _MINOR.match(version)
        if auto_upgrade and pinned and "engineVersion" not in cluster.ignore_changes:
            yield cluster, f"engine version {version} pins a minor that AWS upgrades: the next update fails"


@rule(
    "fixed-name-delete-before-replace",
    LIFECYCLE,
    "(own rule; terraform-aws-rds-aurora#408)",
    "Every RDS cluster, RDS instance and KMS alias with a fixed name is delete_before_replace.",
)
def _fixed_names(s: Stack) -> Iterator[tuple[Res, str]]:
    for type_, prop in FIXED_NAMES.items():
        for res in s.of(type_):
            name = res.get(prop)
            if name and res.delete_before_replace is not True:
                shown = repr(name) if known(name) else "(unknown)"
                yield res, f"fixed {prop} {shown} without delete_before_replace: a replacement fails with AlreadyExists"


@rule(
    "kms-key-outlives-its-data",
    LIFECYCLE,
    "(own rule)",
    "Every KMS key that encrypts a final snapshot or a secret in a recovery window is retained on delete "
    "(checked offline: CrossGuard is not told retain_on_delete).",
)
def _key_outlives_data(s: Stack) -> Iterator[tuple[Res, str]]:
    for key in s.of(KMS_KEY):
        if key.retain_on_delete is not False:
            continue  # retained, or not visible (CrossGuard)
        kept = [c.name for c in s.linked(CLUSTER, "kmsKeyId", key) if c.get("skipFinalSnapshot") in (False, None)]
        for secret in s.linked(SECRET, "kmsKeyId", key):
            days = secret.get("recoveryWindowInDays")
            if days is None or (known(days) and int(days) > 0):  # absent: AWS's default, 30 days
                kept.append(secret.name)
        if kept:
            yield key, f"not retained on delete, yet {', '.join(sorted(kept))} outlive destroy encrypted with it"
