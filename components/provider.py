"""The explicit regional AWS provider. Every AWS resource of the environment uses it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import StackConfig
from components.tags import environment_tags


def regional_provider(config: StackConfig, stack: str) -> aws.Provider:
    """One provider pinned to the environment's region, tagging everything it creates."""
    return aws.Provider(
        f"aws-{config.region}",
        aws.ProviderArgs(
            region=config.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=environment_tags(config, stack)),
        ),
    )


def child(parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a component's child: parented, so it inherits the regional provider and the
    environment's protection (components/protection.py)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)  # type: ignore[arg-type]
