"""Environment cards: the product's Environments page, from stack outputs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from envctl.errors import UsageError
from envctl.plan import parse_plan
from envctl.pulumi_cli import pulumi_cli, run_pulumi
from envctl.stackfiles import read_json_file
from policies.contracts.conventions import CARD_FIELDS

__all__ = [
    "NOT_DEPLOYED",
    "Card",
    "card_from_outputs",
    "cards_from_cli",
    "cards_from_files",
    "pulumi_cli",
]
NOT_DEPLOYED = "not deployed"


@dataclass
class Card:
    stack: str
    deployed: bool
    name: str = ""
    type: str = ""
    cloudProvider: str = ""  # noqa: N815 (the stack output's name)
    region: str = ""
    cluster: str = ""
    createdAt: str = ""  # noqa: N815
    # Everything the source said (stack outputs or the SSM record): the page reads the stores' names here.
    outputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["outputs"]
        return shown


def card_from_outputs(stack: str, outputs: Any, source: str) -> Card:
    """A card from one stack's outputs (`pulumi stack output --json`). No outputs: not deployed."""
    if not isinstance(outputs, dict):
        raise UsageError(f"{source}: expected a JSON object of stack outputs, got {type(outputs).__name__}")
    if not outputs:
        return Card(stack=stack, deployed=False)
    missing = [f for f in CARD_FIELDS if f not in outputs]
    if missing:
        raise UsageError(f"{source}: not envstack outputs (missing {', '.join(missing)})")
    wrong = next((f for f in CARD_FIELDS if not isinstance(outputs[f], str | None)), None)
    if wrong:
        raise UsageError(f"{source}: output '{wrong}': got {json.dumps(outputs[wrong])}; allowed: a string")
    return Card(stack=stack, deployed=True, outputs=outputs, **{f: str(outputs[f] or "") for f in CARD_FIELDS})


def card_from_file(path: Path) -> Card:
    """A card from a saved file: stack outputs (`pulumi stack output --json --stack S > S.json`,
    the stack is the file's stem) or a plan JSON (`envctl plan S --format json`, whose card is
    under `outputs` and whose stack is its `stack`)."""
    data = read_json_file(path)
    if isinstance(data, dict) and "resources" in data and "stack" in data:
        plan = parse_plan(data, str(path))
        return card_from_outputs(plan.stack, plan.outputs, f"{path} (outputs)")
    return card_from_outputs(path.stem, data, str(path))


def cards_from_files(paths: list[Path]) -> list[Card]:
    """Cards from saved output or plan JSON files (see `card_from_file`)."""
    return [card_from_file(path) for path in paths]


def cards_from_cli(stacks: list[str], cli: str) -> list[Card]:
    """Cards through `pulumi stack output --json --stack S`; a stack with no outputs is not deployed.
    Each call has envctl/pulumi_cli.py's deadline."""
    cards = []
    for stack in stacks:
        done = run_pulumi(cli, ["stack", "output", "--json", "--stack", stack])
        if done.returncode != 0:
            reason = (done.stderr.strip() or done.stdout.strip() or "failed").splitlines()[-1]
            raise UsageError(f"pulumi stack output --stack {stack}: {reason}")
        try:
            outputs = json.loads(done.stdout or "{}")
        except json.JSONDecodeError as err:
            raise UsageError(f"pulumi stack output --stack {stack}: malformed JSON ({err.msg})") from None
        cards.append(card_from_outputs(stack, outputs, f"stack {stack}"))
    return cards
