"""The tagging rule, in one place: every AWS resource carries these through the provider's default_tags.

The tag keys are policies/contracts/conventions.py's (the policy pack reads them too); this module
owns their values."""

from __future__ import annotations

from components.config import StackConfig
from policies.contracts.conventions import TAG_ENVIRONMENT, TAG_PROJECT, TAG_STACK, TAG_TYPE


def environment_tags(config: StackConfig, stack: str) -> dict[str, str]:
    """The tags that name a resource's environment, type, project and stack."""
    return {
        TAG_ENVIRONMENT: config.name,
        TAG_TYPE: config.type.value,
        TAG_PROJECT: config.project,
        TAG_STACK: stack,
    }
