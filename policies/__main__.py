"""The envstack CrossGuard policy pack: `pulumi preview --policy-pack policies`.

The Pulumi CLI runs this folder (`python -m pulumi.policy`) in the pack's own virtualenv, where
requirements.txt installed the folder as the `policies` package (pyproject.toml here). The
project root goes on sys.path only for the shared contracts, components/names.py and
components/conventions.py, until they move into this package (docs/policies.md, "How the pack
is packaged")."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
