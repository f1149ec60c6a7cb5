"""The base of envstack's own components: each one's type token comes from
policies/contracts/conventions.py, the one owner of type tokens, and no component spells its own out."""

from __future__ import annotations

from typing import ClassVar

import pulumi


class EnvstackComponent(pulumi.ComponentResource):
    """A component whose Pulumi type is its class's TYPE, a token of policies/contracts/conventions.py."""

    TYPE: ClassVar[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
