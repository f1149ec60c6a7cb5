"""What the Environments page shows beside each card: the stores and, with `--live`, what they hold.

The cards come from any of `envctl cards`' sources; with no Pulumi CLI and no other source,
from an offline rendering of each committed stack (`cards_offline`). The stores and what
deletion would do to each come from the committed stack's rendering (envctl/inventory.py);
their names from the card's own source where it has them (stack outputs, or the SSM record),
else the rendering's placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from envctl.cards import Card, card_from_outputs
from envctl.inventory import STORES, Live, Store, read_live, stores
from envctl.render import render
from envctl.stackfiles import committed_stacks

OFFLINE = "rendered offline from the committed stacks: names are placeholders until deployed"


@cache
def _plan(stack: str) -> dict[str, Any]:
    return render(stack).to_json()


def cards_offline(stacks: list[str]) -> list[Card]:
    """A card per committed stack, from its offline rendering (no Pulumi CLI, no backend)."""
    return [card_from_outputs(s, _plan(s)["outputs"], f"rendering of {s}") for s in stacks]


@dataclass
class Details:
    """The page's panel of one environment beside its card."""

    stores: list[Store]
    note: str = ""
    live: Live | None = None


def _named(found: list[Store], outputs: dict[str, Any]) -> list[Store]:
    output_of = {label: output for label, _, _, output in STORES}
    for store in found:
        value = outputs.get(output_of[store.store])
        if isinstance(value, str) and value:
            store.identifier = value
    return found


def details(cards: list[Card], session: Any | None = None) -> dict[str, Details]:
    """Per card's stack: its stores (when its stack file is committed here) and, with a boto3
    `session`, what a deployed one holds (its card's source being its SSM record)."""
    committed = set(committed_stacks())
    shown = {}
    for card in cards:
        if card.stack in committed:
            found = Details(_named(stores(_plan(card.stack)), card.outputs))
        else:
            found = Details([], f"no Pulumi.{card.stack}.yaml here: what deletion would do is not known offline")
        if session is not None and card.deployed:
            found.live = read_live(session, card.outputs, None)
        shown[card.stack] = found
    return shown


def page(cards: list[Card], live_project: str | None, region: str | None, offline: bool = False) -> str:
    """The Environments page of `cards`: `live_project` when they came from its SSM records
    (then each panel also shows what the environment holds), `offline` when rendered here."""
    import boto3

    from envctl.page import cards_html

    session = boto3.session.Session(region_name=region) if live_project else None
    subtitle = f"project {live_project}" if live_project else OFFLINE if offline else ""
    return cards_html(cards, subtitle, details(cards, session))
