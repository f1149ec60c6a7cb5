"""The envstack CrossGuard policy pack: `pulumi preview --policy-pack policies`.

The Pulumi CLI runs this folder (`python -m pulumi.policy`) in the pack's own virtualenv, where
requirements.txt installed the folder as the `policies` package (pyproject.toml here), the shared
contracts (`policies.contracts`) included: the folder imports nothing from outside itself
(docs/policies.md, "How the pack is packaged")."""

from pulumi_policy import PolicyPack

from policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
