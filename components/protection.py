"""Protection and retention, applied once: one transformation on the Environment that sets
`protect` and `retain_on_delete` on every stateful resource below it, from the type's settings.

Components declare their resources without any lifecycle option of this kind; what a type
keeps is decided here alone, from components/settings.py, over the stateful types of
policies/contracts/conventions.py. This is how SST (`removal`) and Stelvio apply retention: one rule for
the whole environment, never repeated at call sites.

- every stateful resource (STATEFUL) is protected when the type says `protect`;
- the cluster and its writer follow `cluster_protect` instead: their identifiers are fixed, so a
  replacement deletes them first, and protect refuses that for a cluster that holds data;
- a KMS key is always retained on delete: it must outlive the final snapshot and the secrets in
  their recovery window that it encrypts (docs/lifecycle.md).

It is a `transformations` callback (run by the SDK for the Environment's descendants), not a
stack `transforms` callback (run through the engine), so the offline mock runtime applies it
exactly as `pulumi up` does.
"""

from __future__ import annotations

import pulumi

from components.settings import TypeSettings
from policies.contracts.conventions import CLUSTER, INSTANCE, KMS_KEY, STATEFUL

RETAINED = (KMS_KEY,)  # retained on delete whatever the type
CLUSTER_TYPES = (CLUSTER, INSTANCE)  # protected by cluster_protect


def options_for(type_: str, settings: TypeSettings) -> pulumi.ResourceOptions | None:
    """The lifecycle options a resource of `type_` gets in an environment of these settings."""
    if type_ in CLUSTER_TYPES:
        protect = settings.cluster_protect
    elif type_ in STATEFUL:
        protect = settings.protect
    else:
        return None
    return pulumi.ResourceOptions(protect=protect, retain_on_delete=True if type_ in RETAINED else None)


def protection(settings: TypeSettings) -> pulumi.ResourceTransformation:
    """The transformation that applies `options_for` to every resource it sees."""

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        extra = options_for(args.type_, settings)
        if extra is None:
            return None
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, extra))

    return transform
