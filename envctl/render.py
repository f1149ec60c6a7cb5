"""Rendering a stack offline: its committed config, validated, run through the mock runtime.

No engine of our own: envctl/runtime.py runs `__main__.py` and every component exactly as
`pulumi up` would, under Pulumi's mocks. This module owns the steps around it: read the stack
file (envctl/stackfiles.py), validate the config (components/config.py), render, and find a
plan by reference (a committed stack or a saved plan JSON file, envctl/plan.py).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

from components.config import StackConfig, parse_config
from components.config_errors import ConfigError
from envctl.errors import UsageError
from envctl.plan import Rendering, read_plan_file
from envctl.runtime import record
from envctl.stackfiles import program_file, project_root, read_stack_config, stack_name
from policies.contracts.conventions import PULUMI_PROJECT


def render(stack: str, root: Path | None = None) -> Rendering:
    """Run the program for `stack`'s committed config under mocks and return what it declares.
    `stack` is a committed stack's name or its stack file (`Pulumi.dev.yaml`)."""
    stack = stack_name(stack, root)
    raw, secret_keys = read_stack_config(stack, root)
    try:
        config = parse_config(raw, stack)
    except ConfigError as err:
        raise UsageError(f"Pulumi.{stack}.yaml: {err}") from None
    return render_config(stack, raw, secret_keys, config, root)


def render_config(
    stack: str, raw: dict[str, Any], secret_keys: list[str], config: StackConfig, root: Path | None = None
) -> Rendering:
    """Render the program with an already validated config (see `render`)."""
    root = root or project_root()
    program_path = program_file(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    def program() -> None:
        runpy.run_path(str(program_path), run_name="__main__")

    resources, outputs = record(
        program,
        stack=stack,
        region=config.region,
        raw=raw,
        secret_keys=secret_keys,
        env=config.name,
        project=config.project,
    )
    return Rendering(stack=stack, project=PULUMI_PROJECT, config=config, resources=resources, outputs=outputs)


def is_plan_file(ref: str) -> bool:
    """A reference names a saved plan file when it ends in .json or holds a path separator, and
    is not a stack file (`Pulumi.<stack>.yaml`)."""
    return ref.endswith(".json") or ("/" in ref and not ref.endswith(".yaml"))


def load_plan(ref: str) -> dict[str, Any]:
    """A plan by reference, where either may be given (diff, manifest, access): a saved plan
    JSON file (a path ending in .json or holding a `/`), or else a committed stack's name or
    stack file."""
    if is_plan_file(ref):
        return read_plan_file(Path(ref))
    return render(ref).to_json()
