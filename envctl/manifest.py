"""The data-loss manifest: what `pulumi destroy` of a stack would do to each store of its
environment (tables, users, files, keys), read from its plan (envctl/plan.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from envctl.plan import env_name
from policies.contracts import conventions

SEED_WARNING = (
    "Deleting an environment permanently removes all tables, data, users, and files within it. "
    "This action cannot be undone."
)


@dataclass
class Loss:
    """One thing `pulumi destroy` would act on, and what would become of it."""

    category: str
    resource: str
    type: str
    fate: str  # "deleted", "refused", "recoverable" or "retained"
    detail: str


_CATEGORIES = {
    conventions.SCHEMA_ROLE: "tables and data",
    conventions.CLUSTER: "tables and data (whole cluster)",
    conventions.USER_POOL: "users",
    conventions.BUCKET: "files",
    conventions.KMS_KEY: "encryption key",
}
_SECRET_PURPOSES = {"api-key": "API keys", "database-credentials": "database credentials"}


def _category(r: dict[str, Any]) -> str | None:
    if r["type"] == conventions.SECRET:
        purpose = str((r.get("inputs", {}).get("tags") or {}).get(conventions.TAG_PURPOSE, ""))
        return _SECRET_PURPOSES.get(purpose, "secret")
    return _CATEGORIES.get(r["type"])


def _bucket(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("forceDestroy"):
        return "deleted", "bucket deleted with every file and file version in it"
    return "refused", "force_destroy off: deletion fails while the bucket holds files, so the files survive"


def _user_pool(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deletionProtection") == "ACTIVE":
        return "refused", "deletion protection ACTIVE: the pool and its users survive"
    return "deleted", "user pool deleted with every user"


def _secret(i: dict[str, Any]) -> tuple[str, str]:
    days = int(i.get("recoveryWindowInDays", 30))
    if days == 0:
        return "deleted", "deleted at once, no recovery window"
    return "recoverable", f"recoverable for {days} days, then deleted"


def _schema(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deleteNeedsConfirmation") and not i.get("deletionConfirmed"):
        return "refused", f"drop refused until envstack:confirmDeletion: schema {i.get('schema')} survives"
    return "deleted", f"schema {i.get('schema')} dropped with every table and row, and role {i.get('role')}"


def _cluster(i: dict[str, Any]) -> tuple[str, str]:
    if i.get("deletionProtection"):
        return "refused", "deletion protection on: the cluster and every schema on it survive"
    if i.get("skipFinalSnapshot"):
        return "deleted", "cluster deleted with every environment's schema on it"
    # skipFinalSnapshot false or absent (the provider's default) takes a final snapshot, whose name
    # the provider's delete requires: without one it fails and the cluster stays (policies/rules_lifecycle.py).
    if not i.get("finalSnapshotIdentifier"):
        return "refused", "takes a final snapshot but names none: the delete fails and the cluster survives"
    kept = i["finalSnapshotIdentifier"]
    return "deleted", f"cluster deleted with every environment's schema on it; final snapshot {kept} kept"


def _kms_key(i: dict[str, Any]) -> tuple[str, str]:
    days = i.get("deletionWindowInDays", 30)
    return "recoverable", f"scheduled for deletion in {days} days; data encrypted with it is then unreadable"


# What destroy does to each stateful type (policies/contracts/conventions.py STATEFUL), by its inputs.
_FATES = {
    conventions.BUCKET: _bucket,
    conventions.USER_POOL: _user_pool,
    conventions.SECRET: _secret,
    conventions.SCHEMA_ROLE: _schema,
    conventions.CLUSTER: _cluster,
    conventions.KMS_KEY: _kms_key,
}


def fate(r: dict[str, Any]) -> tuple[str, str]:
    """What `pulumi destroy` does to one resource of a plan JSON: (fate, why). The one source of
    this fact: the manifest and `plan --format markdown` both read it here."""
    if r.get("protect"):
        then = "; even then it is retained on delete" if r.get("retainOnDelete") else ""
        return "refused", f"protected: `pulumi destroy` stops here until envstack:confirmDeletion is applied{then}"
    if r.get("retainOnDelete"):
        if r["type"] == conventions.KMS_KEY:
            return "retained", (
                "retained on delete: the key stays enabled so the final snapshot and the secrets in their "
                "recovery window stay readable; retire it by hand later (docs/lifecycle.md)"
            )
        return "retained", "retained on delete: Pulumi forgets it, the cloud resource and its data stay"
    by_inputs = _FATES.get(r["type"])
    return by_inputs(r.get("inputs", {})) if by_inputs else ("deleted", "deleted")


@dataclass
class Manifest:
    stack: str
    environment: str
    type: str
    warning: str
    items: list[Loss]

    @property
    def refused(self) -> list[Loss]:
        return [x for x in self.items if x.fate == "refused"]

    @property
    def verdict(self) -> str:
        lost = [x for x in self.items if x.fate == "deleted"]
        if self.refused:
            return (
                f"`pulumi destroy` of {self.stack} would be stopped by {len(self.refused)} guard(s); "
                f"{len(lost)} unguarded item(s) may be deleted before it stops"
            )
        return f"`pulumi destroy` of {self.stack} would permanently delete {len(lost)} item(s); nothing refuses it"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "type": self.type,
            "warning": self.warning,
            "verdict": self.verdict,
            "items": [asdict(x) for x in self.items],
        }


def manifest(plan: dict[str, Any]) -> Manifest:
    """What `pulumi destroy` of a stack would do to each store of its environment."""
    items = []
    for r in plan["resources"]:
        category = _category(r)
        if category is None:
            continue
        verdict, detail = fate(r)
        items.append(Loss(category=category, resource=r["name"], type=r["type"], fate=verdict, detail=detail))
    order = ["tables and data", "tables and data (whole cluster)", "users", "files", "API keys"]
    items.sort(key=lambda x: (order.index(x.category) if x.category in order else len(order), x.resource))
    outputs = plan.get("outputs", {})
    return Manifest(
        stack=plan["stack"],
        environment=env_name(plan),
        type=str(outputs.get("type", "")),
        warning=SEED_WARNING,
        items=items,
    )
