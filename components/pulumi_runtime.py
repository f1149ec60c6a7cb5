"""The program's side of Pulumi's runtime: the one module of components/ that imports
`pulumi.runtime`. It uses no private (underscore) name, but two runtime internals no public API
offers: the whole config bag (`runtime.config.get_config_env` and `CONFIG`; the SDK's public
`pulumi.Config` reads single keys only) and the engine's unknown values (`rpc.contains_unknowns`,
`rpc.UNKNOWN`). envctl/runtime.py is the other side: the
mocks that run the program to render it (tests/repository/test_layout.py holds both to that).
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc

from components.config import StackConfig, parse_config
from components.config_errors import ConfigError


def raw_pulumi_config() -> dict[str, Any]:
    """Every config value of the running Pulumi program, as `namespace:key` -> value.

    Pulumi's SDK exposes single keys (`pulumi.Config.get`) but not the whole bag; reading
    the bag is what lets unknown `envstack:` keys (typos) be refused instead of ignored.
    """
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_stack_config() -> StackConfig:
    """The running stack's validated config; a bad config ends the program with one clean message."""
    try:
        return parse_config(raw_pulumi_config(), pulumi.get_stack())
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None


def is_unknown(value: Any) -> bool:
    """Whether a value the engine hands to check or diff is, or holds, an unknown: during a
    preview, an input that depends on a resource not created yet. The SDK's provider host
    turns the wire sentinel (`rpc.UNKNOWN`, a fixed string) into `pulumi.output.Unknown`
    objects; both count."""
    return rpc.contains_unknowns(value) or value == rpc.UNKNOWN
