"""EncryptionKey (components/encryption.py) built alone under mocks: rotation, its own key policy, protection."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.encryption import DEPLOY_ROLE_ACTIONS, EncryptionKey, EncryptionKeyArgs
from envctl.runtime import FAKE_ACCOUNT
from policies.contracts import conventions
from tests.support.program import PROD, TEST_PROVIDER, assert_all_aws_on, build, only

DEPLOY_ROLE = "arn:aws:iam::123456789012:role/ci/envstack-deploy"


def key_args(partition: str = "aws") -> EncryptionKeyArgs:
    return EncryptionKeyArgs(env="prod", partition=partition, deploy_role_arn=DEPLOY_ROLE)


def test_encryption_key_rotates_and_has_a_key_policy_of_its_own() -> None:
    """CKV2_AWS_64 (a key policy is defined) and CKV_AWS_33 (no wildcard principal): the
    account's root administers the key, as AWS's default policy does (never unmanageable); the
    deploy role is named, so prod's first `up` needs no tag-based access."""
    res = build(lambda o: EncryptionKey("k", key_args("aws-cn"), o), PROD)
    assert_all_aws_on(res, TEST_PROVIDER)
    key = only(res, conventions.KMS_KEY)
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert set(by_sid) == {"AccountAdministration", "DeployRole"}
    # The partition and `:root` are the program's; the account is what getCallerIdentity returned (the mock's).
    assert by_sid["AccountAdministration"]["Principal"] == {"AWS": f"arn:aws-cn:iam::{FAKE_ACCOUNT}:root"}
    assert by_sid["DeployRole"]["Principal"] == {"AWS": DEPLOY_ROLE}
    assert {"kms:EnableKeyRotation", "kms:CreateGrant", "kms:PutKeyPolicy"} <= set(by_sid["DeployRole"]["Action"])
    assert "*" not in json.dumps([st["Principal"] for st in policy["Statement"]])


def test_the_key_policy_grants_the_deploy_role_what_its_iam_policy_grants_on_keys() -> None:
    """The key policy's deploy-role statement and envctl's `kms-key` scope for deploy stay in step."""
    from envctl import iam_actions

    on_keys = {
        a
        for accesses in iam_actions.TYPE_ACCESS.values()
        for x in accesses
        if x.scope == "kms-key"
        for a in (*x.read, *x.write)
    }
    assert set(DEPLOY_ROLE_ACTIONS) == on_keys


def test_a_key_without_the_deploy_role_is_refused() -> None:
    with pytest.raises(ValueError, match="envstack:deployRoleArn"):
        build(lambda o: EncryptionKey("k", EncryptionKeyArgs(env="prod", partition="aws"), o), PROD)


def test_encryption_key_is_protected_and_named_by_its_alias() -> None:
    res = build(lambda o: EncryptionKey("k", key_args(), o), PROD)
    assert only(res, conventions.KMS_KEY).protect is True
    alias = only(res, conventions.KMS_ALIAS)
    assert alias.inputs["name"] == "alias/envstack-prod" and alias.delete_before_replace is True


@pytest.mark.parametrize("protect", [True, False])
def test_encryption_key_outlives_what_it_encrypts(protect: bool) -> None:
    """docs/lifecycle.md, "The KMS key outlives what it encrypts": even with protect lifted (confirmed deletion), destroy must not schedule the
    key's deletion: the final snapshot and recoverable secrets still need it."""
    confirmed = dataclasses.replace(PROD, protect=protect)  # confirmed deletion lifts protect
    res = build(lambda o: EncryptionKey("k", key_args(), o), confirmed)
    key = only(res, conventions.KMS_KEY)
    assert key.retain_on_delete is True and key.protect is protect
