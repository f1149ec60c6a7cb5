"""envctl/manifest.py: the data-loss manifest a user reads before deleting an environment.

Each case builds one plan resource as `envctl plan --format json` shows it and asserts the
manifest's exact words for it: the fate and the sentence a user reads. The committed stacks'
manifests, through the CLI, are at the end of this module."""

from __future__ import annotations

from typing import Any

import pytest

from envctl.manifest import SEED_WARNING, Loss, fate, manifest
from policies.contracts import conventions
from tests.support.program import CONFIRMED_PROD, committed_plan, render_raw


def _res(type_: str, inputs: dict[str, Any] | None = None, name: str = "r", **options: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "type": type_, **options}
    if inputs is not None:
        r["inputs"] = inputs
    return r


FATES = [
    # S3: force_destroy decides whether the files go with the bucket.
    (
        _res(conventions.BUCKET, {"forceDestroy": True}),
        "deleted",
        "bucket deleted with every file and file version in it",
    ),
    (
        _res(conventions.BUCKET, {"forceDestroy": False}),
        "refused",
        "force_destroy off: deletion fails while the bucket holds files, so the files survive",
    ),
    (
        _res(conventions.BUCKET, {}),
        "refused",
        "force_destroy off: deletion fails while the bucket holds files, so the files survive",
    ),
    # Cognito: only ACTIVE protects the pool.
    (
        _res(conventions.USER_POOL, {"deletionProtection": "ACTIVE"}),
        "refused",
        "deletion protection ACTIVE: the pool and its users survive",
    ),
    (_res(conventions.USER_POOL, {"deletionProtection": "INACTIVE"}), "deleted", "user pool deleted with every user"),
    (_res(conventions.USER_POOL, {}), "deleted", "user pool deleted with every user"),
    # Secrets Manager: the recovery window, 30 days unless set.
    (_res(conventions.SECRET, {"recoveryWindowInDays": 0}), "deleted", "deleted at once, no recovery window"),
    (_res(conventions.SECRET, {"recoveryWindowInDays": 7}), "recoverable", "recoverable for 7 days, then deleted"),
    (_res(conventions.SECRET, {}), "recoverable", "recoverable for 30 days, then deleted"),
    (_res(conventions.SECRET), "recoverable", "recoverable for 30 days, then deleted"),
    # The table store: refused until the deletion is confirmed.
    (
        _res(conventions.SCHEMA_ROLE, {"deleteNeedsConfirmation": True, "schema": "env_x", "role": "env_x_app"}),
        "refused",
        "drop refused until envstack:confirmDeletion: schema env_x survives",
    ),
    (
        _res(
            conventions.SCHEMA_ROLE,
            {"deleteNeedsConfirmation": True, "deletionConfirmed": True, "schema": "env_x", "role": "env_x_app"},
        ),
        "deleted",
        "schema env_x dropped with every table and row, and role env_x_app",
    ),
    (
        _res(conventions.SCHEMA_ROLE, {"deletionConfirmed": False, "schema": "env_y", "role": "env_y_app"}),
        "deleted",
        "schema env_y dropped with every table and row, and role env_y_app",
    ),
    # Aurora: deletion protection, then the final snapshot.
    (
        _res(conventions.CLUSTER, {"deletionProtection": True, "skipFinalSnapshot": True}),
        "refused",
        "deletion protection on: the cluster and every schema on it survive",
    ),
    (
        _res(conventions.CLUSTER, {"deletionProtection": False, "skipFinalSnapshot": True}),
        "deleted",
        "cluster deleted with every environment's schema on it",
    ),
    (
        _res(conventions.CLUSTER, {"skipFinalSnapshot": False, "finalSnapshotIdentifier": "c-final-1a2b3c4d"}),
        "deleted",
        "cluster deleted with every environment's schema on it; final snapshot c-final-1a2b3c4d kept",
    ),
    # skipFinalSnapshot absent is the provider's default, false: a final snapshot is taken.
    (
        _res(conventions.CLUSTER, {"finalSnapshotIdentifier": "c-final-1a2b3c4d"}),
        "deleted",
        "cluster deleted with every environment's schema on it; final snapshot c-final-1a2b3c4d kept",
    ),
    # A snapshot taken but not named: the provider's delete fails (terraform-provider-aws,
    # internal/service/rds/cluster.go; policies/rules_lifecycle.py's unique-final-snapshot), so no
    # snapshot is "kept" and nothing is deleted.
    (
        _res(conventions.CLUSTER, {"skipFinalSnapshot": False}),
        "refused",
        "takes a final snapshot but names none: the delete fails and the cluster survives",
    ),
    (
        _res(conventions.CLUSTER, {"skipFinalSnapshot": False, "finalSnapshotIdentifier": ""}),
        "refused",
        "takes a final snapshot but names none: the delete fails and the cluster survives",
    ),
    (
        _res(conventions.CLUSTER, {}),
        "refused",
        "takes a final snapshot but names none: the delete fails and the cluster survives",
    ),
    # KMS (a key not retained on delete, e.g. from a plan made elsewhere): the deletion window.
    (
        _res(conventions.KMS_KEY, {"deletionWindowInDays": 7}),
        "recoverable",
        "scheduled for deletion in 7 days; data encrypted with it is then unreadable",
    ),
    (
        _res(conventions.KMS_KEY, {}),
        "recoverable",
        "scheduled for deletion in 30 days; data encrypted with it is then unreadable",
    ),
    # A type destroy has no special fate for.
    (_res(conventions.ROLE, {}), "deleted", "deleted"),
]


@pytest.mark.parametrize(("resource", "expected_fate", "detail"), FATES)
def test_the_fate_of_each_store_is_told_in_exact_words(
    resource: dict[str, Any], expected_fate: str, detail: str
) -> None:
    assert fate(resource) == (expected_fate, detail)


def test_no_final_snapshot_is_claimed_when_none_is_taken() -> None:
    """The bug mutation found: a cluster that takes a final snapshot but names none was shown as
    deleted with "final snapshot None kept"; the provider refuses that delete."""
    for inputs in ({"skipFinalSnapshot": False}, {}, {"finalSnapshotIdentifier": None}):
        verdict, detail = fate(_res(conventions.CLUSTER, inputs))
        assert (verdict, "kept" in detail, "None" in detail) == ("refused", False, False), inputs


PROTECTED = "protected: `pulumi destroy` stops here until envstack:confirmDeletion is applied"


def test_protection_comes_before_retention_and_before_the_inputs() -> None:
    bucket = {"forceDestroy": True}
    assert fate(_res(conventions.BUCKET, bucket, protect=True)) == ("refused", PROTECTED)
    assert fate(_res(conventions.BUCKET, bucket, protect=True, retainOnDelete=True)) == (
        "refused",
        PROTECTED + "; even then it is retained on delete",
    )
    assert fate(_res(conventions.BUCKET, bucket, protect=False, retainOnDelete=True)) == (
        "retained",
        "retained on delete: Pulumi forgets it, the cloud resource and its data stay",
    )
    assert fate(_res(conventions.KMS_KEY, {"deletionWindowInDays": 7}, retainOnDelete=True)) == (
        "retained",
        "retained on delete: the key stays enabled so the final snapshot and the secrets in their recovery "
        "window stay readable; retire it by hand later (docs/lifecycle.md)",
    )
    assert fate(_res(conventions.BUCKET, bucket, protect=False, retainOnDelete=False))[0] == "deleted"


def _secret(name: str, tags: Any) -> dict[str, Any]:
    return _res(conventions.SECRET, {"recoveryWindowInDays": 0, "tags": tags}, name=name)


def test_the_manifest_names_each_store_sorts_it_and_skips_what_holds_no_data() -> None:
    plan = {
        "stack": "pr-7",
        "outputs": {"name": "pr-7-env", "type": "custom"},
        "resources": [
            _res(conventions.KMS_KEY, {}, name="k"),
            _secret("s-other", {conventions.TAG_PURPOSE: "other"}),
            _secret("s-untagged", None),
            _res(conventions.SECRET, name="s-bare"),
            _secret("s-db", {conventions.TAG_PURPOSE: "database-credentials"}),
            _secret("z-api", {conventions.TAG_PURPOSE: "api-key"}),  # listed before the rest, whatever its name
            _res(conventions.BUCKET, {"forceDestroy": True}, name="files"),
            _res(conventions.USER_POOL, {}, name="users"),
            _res(conventions.CLUSTER, {"skipFinalSnapshot": True}, name="cluster"),
            _res(conventions.SCHEMA_ROLE, {"schema": "s", "role": "r"}, name="tables-b"),
            _res(conventions.SCHEMA_ROLE, {"schema": "s", "role": "r"}, name="tables-a"),
            _res(conventions.ROLE, {}, name="runtime-role"),  # no data: not in the manifest
        ],
    }
    m = manifest(plan)
    assert [(x.category, x.resource) for x in m.items] == [
        ("tables and data", "tables-a"),
        ("tables and data", "tables-b"),
        ("tables and data (whole cluster)", "cluster"),
        ("users", "users"),
        ("files", "files"),
        ("API keys", "z-api"),
        # The rest after the listed categories, by resource name.
        ("encryption key", "k"),
        ("secret", "s-bare"),
        ("database credentials", "s-db"),
        ("secret", "s-other"),
        ("secret", "s-untagged"),
    ]
    assert m.items[-1] == Loss(
        "secret", "s-untagged", conventions.SECRET, "deleted", "deleted at once, no recovery window"
    )
    assert (m.stack, m.environment, m.type, m.warning) == ("pr-7", "pr-7-env", "custom", SEED_WARNING)


def test_without_outputs_the_environment_is_the_stack_and_its_type_is_empty() -> None:
    m = manifest({"stack": "pr-8", "resources": []})
    assert (m.environment, m.type, m.items) == ("pr-8", "", [])
    assert m.verdict == "`pulumi destroy` of pr-8 would permanently delete 0 item(s); nothing refuses it"


def test_the_verdict_counts_the_guards_and_the_unguarded_losses() -> None:
    plan = {
        "stack": "staging",
        "outputs": {"type": "staging"},
        "resources": [
            _res(conventions.BUCKET, {"forceDestroy": False}, name="files"),
            _res(conventions.USER_POOL, {"deletionProtection": "ACTIVE"}, name="users"),
            _res(conventions.SCHEMA_ROLE, {"schema": "s", "role": "r"}, name="tables"),
            _res(conventions.SECRET, {}, name="key"),
        ],
    }
    m = manifest(plan)
    assert [x.resource for x in m.refused] == ["users", "files"]
    assert m.verdict == (
        "`pulumi destroy` of staging would be stopped by 2 guard(s); 1 unguarded item(s) may be deleted before it stops"
    )
    assert m.to_json() == {
        "stack": "staging",
        "environment": "staging",
        "type": "staging",
        "warning": SEED_WARNING,
        "verdict": m.verdict,
        "items": [
            {
                "category": "tables and data",
                "resource": "tables",
                "type": conventions.SCHEMA_ROLE,
                "fate": "deleted",
                "detail": "schema s dropped with every table and row, and role r",
            },
            {
                "category": "users",
                "resource": "users",
                "type": conventions.USER_POOL,
                "fate": "refused",
                "detail": "deletion protection ACTIVE: the pool and its users survive",
            },
            {
                "category": "files",
                "resource": "files",
                "type": conventions.BUCKET,
                "fate": "refused",
                "detail": "force_destroy off: deletion fails while the bucket holds files, so the files survive",
            },
            {
                "category": "secret",
                "resource": "key",
                "type": conventions.SECRET,
                "fate": "recoverable",
                "detail": "recoverable for 30 days, then deleted",
            },
        ],
    }


def test_the_seed_warning_is_the_products_sentence() -> None:
    assert SEED_WARNING == (
        "Deleting an environment permanently removes all tables, data, users, and files within it. "
        "This action cannot be undone."
    )


def test_dev_loses_each_store_for_good_in_the_manifests_words() -> None:
    m = manifest(committed_plan("dev"))
    details = {x.category: (x.fate, x.detail) for x in m.items}
    assert details["tables and data (whole cluster)"] == (
        "deleted",
        "cluster deleted with every environment's schema on it",
    )
    assert details["files"] == ("deleted", "bucket deleted with every file and file version in it")
    assert details["users"] == ("deleted", "user pool deleted with every user")


def _fates(stack_or_plan: str | dict) -> dict[str, str]:
    plan = committed_plan(stack_or_plan) if isinstance(stack_or_plan, str) else stack_or_plan
    return {x.category + ":" + x.resource: x.fate for x in manifest(plan).items}


def test_manifest_dev_deletes_everything_for_good() -> None:
    m = manifest(committed_plan("dev"))
    assert {x.category for x in m.items} >= {"tables and data", "users", "files", "API keys"}
    assert all(x.fate == "deleted" for x in m.items), m.items
    assert "permanently delete" in m.verdict and "cannot be undone" in m.warning


def test_manifest_prod_refuses_everything() -> None:
    m = manifest(committed_plan("prod"))
    assert m.items and all(x.fate == "refused" for x in m.items)
    key = next(x for x in m.items if x.category == "encryption key")
    assert key.detail.endswith("even then it is retained on delete")
    assert "stopped by" in m.verdict


def test_manifest_staging_keeps_files_users_and_tables_and_can_recover_keys() -> None:
    fates = _fates("staging")
    assert fates["files:envstack-staging-files"] == "refused"
    assert fates["users:envstack-staging-users"] == "refused"
    assert fates["tables and data:envstack-staging-tables"] == "refused"
    assert fates["API keys:envstack-staging-api-key"] == "recoverable"
    assert fates["tables and data (whole cluster):shared-nonprod"] == "refused"


def test_manifest_after_prod_confirmation_shows_the_loss() -> None:
    r = render_raw(CONFIRMED_PROD, stack="prod")
    fates = _fates(r.to_json())
    assert fates["tables and data:envstack-prod-tables"] == "deleted"
    assert fates["files:envstack-prod-files"] == "deleted"
    assert fates["API keys:envstack-prod-api-key"] == "recoverable"
    assert fates["encryption key:envstack-prod-key"] == "retained"  # it outlives its data (docs/lifecycle.md)


def test_the_manifest_knows_the_fate_of_every_stateful_type_and_no_other() -> None:
    from envctl.manifest import _FATES
    from policies.contracts.conventions import STATEFUL

    assert set(_FATES) == set(STATEFUL)
