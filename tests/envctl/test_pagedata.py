"""envctl/pagedata.py: what the Environments page shows beside each card: the stores of a
committed stack, with the card's own names for them, and with a session what a deployed
environment holds. The live reading itself (envctl/inventory.py) is tests/envctl/test_inventory.py's."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from envctl import pagedata
from envctl.cards import Card, card_from_outputs
from envctl.errors import UsageError
from envctl.inventory import Live
from tests.support.program import committed

STAGING_STORES = [
    ("schema", "envstack-staging-tables", "refused"),
    ("bucket", "envstack-staging-files", "refused"),
    ("user pool", "envstack-staging-users", "refused"),
    ("key secret", "envstack-staging-api-key", "recoverable"),
    ("runtime role", "envstack-staging-runtime", "deleted"),
]


def test_offline_cards_are_the_committed_stacks_renderings() -> None:
    cards = pagedata.cards_offline(["staging", "dev"])
    assert [c.to_json() for c in cards] == [
        card_from_outputs(s, committed(s).outputs, s).to_json() for s in ("staging", "dev")
    ]
    assert pagedata.OFFLINE == "rendered offline from the committed stacks: names are placeholders until deployed"


def test_an_offline_rendering_without_a_card_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagedata, "_plan", lambda stack: {"outputs": {"name": stack}})
    with pytest.raises(UsageError) as info:
        pagedata.cards_offline(["dev"])
    assert str(info.value) == (
        "rendering of dev: not envstack outputs (missing type, cloudProvider, region, cluster, createdAt)"
    )


def test_a_committed_stacks_stores_carry_the_names_its_card_gives() -> None:
    outputs = {
        **committed("staging").outputs,
        "bucketName": "real-bucket",
        "userPoolId": "",  # empty: the rendering's placeholder stays
        "databaseSchema": 5,  # not a string: the placeholder stays
        "apiKeySecretArn": "arn-of-the-key",
    }
    del outputs["runtimeRoleArn"]  # absent: the placeholder stays
    card = Card(stack="staging", deployed=True, outputs=outputs)
    found = pagedata.details([card])["staging"]
    assert (found.note, found.live) == ("", None)
    assert [(s.store, s.resource, s.fate) for s in found.stores] == STAGING_STORES
    placeholder = {
        s.store: s.identifier for s in pagedata.details([Card(stack="staging", deployed=True)])["staging"].stores
    }
    assert {s.store: s.identifier for s in found.stores} == {
        "schema": placeholder["schema"],
        "bucket": "real-bucket",
        "user pool": placeholder["user pool"],
        "key secret": "arn-of-the-key",
        "runtime role": placeholder["runtime role"],
    }
    assert placeholder["bucket"] == "envstack-staging-files-0000000" and placeholder["schema"] == "env_staging"


def test_a_stack_not_committed_here_has_no_stores_and_says_why() -> None:
    found = pagedata.details([Card(stack="pr-9", deployed=False)])
    assert found["pr-9"].stores == []
    assert found["pr-9"].note == "no Pulumi.pr-9.yaml here: what deletion would do is not known offline"


def test_with_a_session_only_deployed_environments_are_read_live(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def read_live(session: Any, record: dict[str, Any], executor: Any) -> Live:
        calls.append((session, record, executor))
        return Live(record=str(record.get("name")))

    monkeypatch.setattr(pagedata, "read_live", read_live)
    deployed = Card(stack="pr-9", deployed=True, outputs={"name": "pr-9"})
    shown = pagedata.details([deployed, Card(stack="dev", deployed=False)], session="S")
    assert calls == [("S", {"name": "pr-9"}, None)]  # None: the Data API, with the environment's own secret
    assert shown["pr-9"].live == Live(record="pr-9") and shown["dev"].live is None
    assert pagedata.details([deployed])["pr-9"].live is None and len(calls) == 1  # no session: nothing read


class _Session:
    made: ClassVar[list[str | None]] = []

    def __init__(self, region_name: str | None = None) -> None:
        self.made.append(region_name)


def test_the_page_subtitle_and_session_follow_the_cards_source(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    seen: list[tuple[str, Any]] = []
    monkeypatch.setattr(boto3.session, "Session", _Session)

    def details(cards: list[Card], session: Any) -> dict[str, Any]:
        seen.append(("session", session))
        return {}

    monkeypatch.setattr(pagedata, "details", details)
    card = Card(stack="pr-9", deployed=False)
    live = pagedata.page([card], "acme", "eu-west-1")
    assert '<p class="summary">project acme · 1 environment</p>' in live
    assert _Session.made == ["eu-west-1"] and isinstance(seen[-1][1], _Session)
    offline = pagedata.page([card], None, "eu-west-1", offline=True)
    assert f'<p class="summary">{pagedata.OFFLINE} · 1 environment</p>' in offline
    assert seen[-1] == ("session", None) and _Session.made == ["eu-west-1"]
    assert '<p class="summary">1 environment</p>' in pagedata.page([card], None, None)
