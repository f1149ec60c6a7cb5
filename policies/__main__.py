"""The envstack CrossGuard policy pack: `pulumi preview --policy-pack policies`.

Pulumi runs this file with policies/ as the working directory; the project root goes on
sys.path so that the rules load as the same `policies` package that `envctl check` imports."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
