"""envctl resolve, cards --live, the cards sources, and the Environments page in a real browser."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from envctl import live
from envctl.cards import Card, cards_from_files
from envctl.page import cards_html, created_label
from envctl.plan import Rendering
from policies.contracts.conventions import CARD_FIELDS
from tests.support.browser import dump_dom, parse_cards, png_size, screenshot
from tests.support.program import REGION, invoke, render_raw
from tests.support.records import PREVIEW, deploy, generated_keys


@pytest.fixture(scope="module")
def preview() -> Rendering:
    return render_raw(PREVIEW, stack="pr-42")


# --- envctl resolve -------------------------------------------------------------------------


def test_resolve_prints_the_record_of_a_key(rendered: dict[str, Rendering], aws: Any) -> None:
    for r in rendered.values():
        deploy(aws, r)
    key = generated_keys(rendered["staging"])[1]
    code, out, err = invoke("resolve", key, "--region", REGION, "--format", "json")
    assert code == 0, err
    record = json.loads(out)
    assert (record["name"], record["type"], record["project"]) == ("staging", "staging", "envstack")
    code, out, _ = invoke("resolve", "-", "--region", REGION, stdin=key + "\n")  # keeps the key out of argv
    assert code == 0 and "name: staging\n" in out and "cluster: shared-nonprod\n" in out
    assert key not in out


def test_resolve_an_unknown_key_is_one_line_and_exit_1(rendered: dict[str, Rendering], aws: Any) -> None:
    deploy(aws, rendered["dev"])
    code, out, err = invoke("resolve", "pk_" + "Z" * 43, "--region", REGION)
    assert (code, out) == (1, "")
    assert err.strip() == "envctl: no environment of project 'envstack' has this API key"
    theirs = render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="dev")
    deploy(aws, theirs)
    key = generated_keys(theirs)[1]
    assert invoke("resolve", key, "--region", REGION)[0] == 1
    code, out, _ = invoke("resolve", key, "--region", REGION, "--project", "acme", "--format", "json")
    assert code == 0 and json.loads(out)["project"] == "acme"


@pytest.mark.parametrize("key", ["", "pk_short", "sk_" + "a" * 43, "pk_" + "a" * 42 + "!", "pk_" + "a" * 44])
def test_resolve_refuses_a_malformed_key_before_touching_aws(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_aws(region: str | None) -> Any:
        raise AssertionError("an AWS client was made for a malformed key")

    monkeypatch.setattr(live, "ssm_client", no_aws)
    code, out, err = invoke("resolve", key, "--region", REGION)
    assert (code, out) == (2, "")
    assert (
        err.strip()
        == "envctl: KEY: not an envstack API key; allowed: 'pk_' followed by 43 characters of A-Z a-z 0-9 - _"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "Acme"], "--project: got 'Acme'; allowed: lowercase letters"),
        (["--region", "mars-1"], "--region: got 'mars-1'; allowed: an AWS region code"),
    ],
)
def test_resolve_and_live_cards_refuse_bad_options(args: list[str], message: str) -> None:
    for command in (["resolve", "pk_" + "a" * 43], ["cards", "--live"]):
        code, out, err = invoke(*command, *args)
        assert (code, out) == (2, "") and message in err and len(err.strip().splitlines()) == 1


def test_resolve_without_a_region_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, _, err = invoke("resolve", "pk_" + "a" * 43)
    assert code == 2 and err.strip() == (
        "envctl: no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile's region"
    )


# --- cards: sources -------------------------------------------------------------------------


def test_live_cards_read_every_record_in_stack_order(
    rendered: dict[str, Rendering], preview: Rendering, aws: Any
) -> None:
    for r in [*rendered.values(), preview]:
        deploy(aws, r)
    deploy(aws, render_raw({"envstack:type": "dev", "envstack:project": "acme"}, stack="dev"))  # another project
    code, out, err = invoke("cards", "--live", "--region", REGION, "--format", "json")
    assert code == 0, err
    cards = json.loads(out)
    assert [c["stack"] for c in cards] == sorted([*rendered, "pr-42"])
    for card in cards:
        outputs = (rendered.get(card["stack"]) or preview).outputs
        assert card == {"stack": card["stack"], "deployed": True, **{f: outputs[f] for f in CARD_FIELDS}}
    code, out, _ = invoke("cards", "prod", "qa", "dev", "--live", "--region", REGION, "--format", "json")
    assert code == 0 and [(c["stack"], c["deployed"]) for c in json.loads(out)] == [
        ("prod", True),
        ("qa", False),
        ("dev", True),
    ]
    code, out, _ = invoke("cards", "--live", "--project", "acme", "--region", REGION, "--format", "markdown")
    assert code == 0 and out.count("| `dev` |") == 1 and "staging" not in out
    code, out, _ = invoke("cards", "--live", "--region", REGION)
    assert code == 0 and "pr-42" in out and "shared-nonprod" in out


def test_live_cards_without_credentials_fail_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = invoke("cards", "--live", "--region", REGION)
    assert (code, out) == (1, "") and err.strip() == "envctl: cannot reach AWS: Unable to locate credentials"


@pytest.mark.parametrize("extra", [["dev"], ["--live"]])
def test_cards_refuse_to_mix_from_files_with_another_source(tmp_path: Path, extra: list[str]) -> None:
    (tmp_path / "dev.json").write_text("{}")
    code, out, err = invoke("cards", *extra, "--from", str(tmp_path / "dev.json"))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "--from takes each stack from its file's name" in err


# --- the Environments page ------------------------------------------------------------------


def _saved_outputs(tmp_path: Path, rendered: dict[str, Rendering], preview: Rendering) -> list[str]:
    args = []
    for stack, outputs in [*((s, r.outputs) for s, r in rendered.items()), ("pr-42", preview.outputs), ("qa", {})]:
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(outputs))
        args += ["--from", str(path)]
    return args


def _expected(card: Card) -> dict[str, Any]:
    if not card.deployed:
        return {"stack": card.stack, "deployed": "false", "name": card.stack, "status": "Not deployed", "fields": {}}
    # The card's own time as the console shows it (the time itself is made up by the mocks).
    created = created_label(card.createdAt)
    fields = {"cloudProvider": card.cloudProvider.upper(), "region": card.region, "createdAt": created}
    if card.type != "dev":
        fields["cluster"] = card.cluster
    return {"stack": card.stack, "deployed": "true", "name": card.name, "badge": card.type, "fields": fields}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-03-04T05:06:07+09:00", "2026-03-03 20:06 UTC"),  # any offset, shown in UTC
        ("2026-03-04T05:06:07Z", "2026-03-04 05:06 UTC"),
        ("2026-03-04T05:06:07", "2026-03-04T05:06:07"),  # no zone: not guessed, shown as it is
        ("yesterday", "yesterday"),
    ],
)
def test_the_page_shows_a_time_in_utc_to_the_minute(value: str, shown: str) -> None:
    assert created_label(value) == shown


def test_the_page_in_a_real_browser(rendered: dict[str, Rendering], preview: Rendering, tmp_path: Path) -> None:
    code, out, err = invoke("cards", *_saved_outputs(tmp_path, rendered, preview), "--format", "html")
    assert code == 0, err
    page = tmp_path / "environments.html"
    page.write_text(out)
    dom = parse_cards(dump_dom(page))
    files = sorted(tmp_path.glob("*.json"), key=lambda p: [*rendered, "pr-42", "qa"].index(p.stem))
    cards = cards_from_files(files)
    assert len(dom.cards) == len(cards) == len(rendered) + 2
    for seen, card in zip(dom.cards, cards, strict=True):
        assert {k: v for k, v in seen.items() if k != "classes"} == _expected(card)
    assert {c["badge"] for c in dom.cards if "badge" in c} == {"dev", "staging", "prod", "custom"}
    assert "cluster" not in next(c for c in dom.cards if c.get("badge") == "dev")["fields"]
    assert dom.external == []  # nothing to fetch: self-contained
    png = tmp_path / "environments.png"
    screenshot(page, png, 1200, 640)
    assert png_size(png) == (1200, 640) and png.stat().st_size > 20_000  # a rendered page, not a blank one


def test_the_page_escapes_every_value_as_the_browser_reads_it(tmp_path: Path) -> None:
    evil = '<img src=x onerror="alert(1)">&amp;"'
    card = Card(stack=evil, deployed=True, name=evil, type=evil, cloudProvider="aws", region=evil, cluster=evil)
    page = tmp_path / "evil.html"
    page.write_text(cards_html([card, Card(stack=evil, deployed=False)], subtitle=evil))
    dom = parse_cards(dump_dom(page))
    assert dom.external == [] and len(dom.cards) == 2
    assert dom.cards[0]["name"] == evil and dom.cards[0]["badge"] == evil and dom.cards[0]["fields"]["region"] == evil
    assert dom.cards[1]["stack"] == evil and dom.cards[1]["name"] == evil


def test_the_page_from_the_pulumi_cli_and_from_live_records(
    rendered: dict[str, Rendering], aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dev.json").write_text(json.dumps(rendered["dev"].outputs))
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\ncat "{tmp_path}/$5.json" 2>/dev/null || echo "{{}}"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    code, out, _ = invoke("cards", "dev", "staging", "--format", "html")
    assert code == 0 and out.count('<li class="card"') == 1 and out.count('data-deployed="false"') == 1
    deploy(aws, rendered["prod"])
    code, out, _ = invoke("cards", "--live", "--region", REGION, "--format", "html")
    assert code == 0 and out.count('<li class="card"') == 1 and 'data-stack="prod"' in out
    assert "project envstack · 1 environment<" in out


def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.browser import chromium

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium()
