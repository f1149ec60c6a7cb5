"""The tagging rule, in one place: every AWS resource carries these through the provider's default_tags."""

from __future__ import annotations

from components.config import StackConfig

TAG_ENVIRONMENT = "envstack:environment"
TAG_TYPE = "envstack:type"
TAG_PROJECT = "envstack:project"  # the platform project (envstack:project), "envstack" by default
TAG_STACK = "envstack:stack"
TAG_PURPOSE = "envstack:purpose"  # per resource: what the resource holds, e.g. "api-key"


def environment_tags(config: StackConfig, stack: str) -> dict[str, str]:
    """The tags that name a resource's environment, type, project and stack."""
    return {
        TAG_ENVIRONMENT: config.name,
        TAG_TYPE: config.type.value,
        TAG_PROJECT: config.project,
        TAG_STACK: stack,
    }
