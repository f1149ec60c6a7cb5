"""envctl/cards.py: the environment cards, from stack outputs, saved files or the Pulumi CLI.

Each refusal is asserted in its exact words (the one line a user reads), each card field by
value. The `cards` command end to end is at the end of this module."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from envctl.cards import Card, card_from_file, card_from_outputs, cards_from_cli, cards_from_files
from envctl.errors import UsageError
from envctl.plan import Rendering
from policies.contracts.conventions import CARD_FIELDS
from tests.support.program import invoke

OUTPUTS = {
    "name": "qa",
    "type": "custom",
    "cloudProvider": "aws",
    "region": "eu-west-1",
    "cluster": None,  # a dev-like environment with no cluster: shown empty
    "createdAt": "2026-11-20T01:02:03Z",
    "bucketName": "envstack-qa-files-1a2b",
}


def test_a_deployed_card_holds_each_field_and_everything_its_source_said() -> None:
    card = card_from_outputs("pr-9", OUTPUTS, "stack pr-9")
    assert card.to_json() == {
        "stack": "pr-9",
        "deployed": True,
        "name": "qa",
        "type": "custom",
        "cloudProvider": "aws",
        "region": "eu-west-1",
        "cluster": "",
        "createdAt": "2026-11-20T01:02:03Z",
    }
    assert card.outputs == OUTPUTS  # the page reads the stores' names here


def test_no_outputs_is_a_card_not_deployed() -> None:
    assert card_from_outputs("staging", {}, "stack staging").to_json() == {
        "stack": "staging",
        "deployed": False,
        "name": "",
        "type": "",
        "cloudProvider": "",
        "region": "",
        "cluster": "",
        "createdAt": "",
    }


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([], "src: expected a JSON object of stack outputs, got list"),
        ("x", "src: expected a JSON object of stack outputs, got str"),
        ({"name": "x"}, "src: not envstack outputs (missing type, cloudProvider, region, cluster, createdAt)"),
        ({k: v for k, v in OUTPUTS.items() if k != "region"}, "src: not envstack outputs (missing region)"),
        ({**OUTPUTS, "type": 3}, "src: output 'type': got 3; allowed: a string"),
        # The first field that is not a string, in the card's order.
        ({**OUTPUTS, "createdAt": [1], "region": {"a": 1}}, "src: output 'region': got {\"a\": 1}; allowed: a string"),
    ],
)
def test_outputs_that_are_not_a_card_are_refused_in_one_line(outputs: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        card_from_outputs("s", outputs, "src")
    assert str(info.value) == message


def test_a_saved_outputs_file_is_the_card_of_its_stem(tmp_path: Path) -> None:
    (tmp_path / "pr-9.json").write_text(json.dumps(OUTPUTS))
    (tmp_path / "prod.json").write_text("{}")
    # "resources" without "stack" is no plan: read as outputs (here: not envstack outputs).
    (tmp_path / "odd.json").write_text(json.dumps({"resources": []}))
    cards = cards_from_files([tmp_path / "prod.json", tmp_path / "pr-9.json"])
    assert [(c.stack, c.deployed, c.name) for c in cards] == [("prod", False, ""), ("pr-9", True, "qa")]
    with pytest.raises(UsageError) as info:
        card_from_file(tmp_path / "odd.json")
    assert str(info.value).startswith(f"{tmp_path / 'odd.json'}: not envstack outputs (missing name, ")


def test_a_saved_plan_is_the_card_of_its_stack_from_its_outputs(tmp_path: Path) -> None:
    plan = {"schemaVersion": 2, "stack": "pr-9", "project": "envstack", "resources": [], "outputs": OUTPUTS}
    (tmp_path / "saved.json").write_text(json.dumps(plan))
    card = card_from_file(tmp_path / "saved.json")
    assert (card.stack, card.deployed, card.name, card.region) == ("pr-9", True, "qa", "eu-west-1")
    (tmp_path / "bare.json").write_text(json.dumps({**plan, "outputs": {"name": "qa"}}))
    with pytest.raises(UsageError) as info:
        card_from_file(tmp_path / "bare.json")
    assert str(info.value) == (
        f"{tmp_path / 'bare.json'} (outputs): not envstack outputs (missing type, cloudProvider, region, cluster, createdAt)"
    )


def _cli(tmp_path: Path, body: str) -> str:
    """A stand-in `pulumi` that logs its arguments and answers with `body` (a shell snippet)."""
    cli = tmp_path / "pulumi"
    cli.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/calls"\n{body}\n')
    cli.chmod(0o755)
    return str(cli)


def test_the_cli_is_asked_for_each_stacks_outputs_in_order(tmp_path: Path) -> None:
    (tmp_path / "pr-9.json").write_text(json.dumps(OUTPUTS))
    cli = _cli(tmp_path, f'cat "{tmp_path}/$5.json" 2>/dev/null || echo "{{}}"')
    cards = cards_from_cli(["pr-9", "prod"], cli)
    assert [(c.stack, c.deployed, c.name) for c in cards] == [("pr-9", True, "qa"), ("prod", False, "")]
    assert (tmp_path / "calls").read_text() == ("stack output --json --stack pr-9\nstack output --json --stack prod\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # The last line the CLI wrote, from stderr first, else stdout, else "failed".
        (
            "echo 'first' >&2; echo 'error: last' >&2; echo out; exit 255",
            "pulumi stack output --stack dev: error: last",
        ),
        ("echo 'only stdout'; echo 'said this'; exit 1", "pulumi stack output --stack dev: said this"),
        ("echo '  ' >&2; exit 1", "pulumi stack output --stack dev: failed"),
        ("echo '{\"a\": }'", "pulumi stack output --stack dev: malformed JSON (Expecting value)"),
        (
            'echo \'{"name": "x"}\'',
            "stack dev: not envstack outputs (missing type, cloudProvider, region, cluster, createdAt)",
        ),
    ],
)
def test_a_failing_cli_is_reported_in_one_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        cards_from_cli(["dev"], _cli(tmp_path, body))
    assert str(info.value) == message


def test_a_card_compares_by_its_fields_not_its_outputs() -> None:
    a = card_from_outputs("pr-9", OUTPUTS, "a")
    b = card_from_outputs("pr-9", {**OUTPUTS, "bucketName": "other"}, "b")
    assert a == b and a != Card(stack="pr-9", deployed=True)


def test_a_malformed_saved_plan_is_refused_naming_its_file(tmp_path: Path) -> None:
    plan = {"schemaVersion": 2, "stack": "pr-9", "project": "envstack", "resources": 5, "outputs": OUTPUTS}
    (tmp_path / "saved.json").write_text(json.dumps(plan))
    with pytest.raises(UsageError) as info:
        card_from_file(tmp_path / "saved.json")
    assert str(info.value) == (
        f"{tmp_path / 'saved.json'}: not a plan JSON file: resources: got 5 (input should be a valid list); "
        "expected the output of `envctl plan STACK --format json`"
    )


DEV_OUTPUTS = {
    "name": "dev",
    "type": "dev",
    "cloudProvider": "aws",
    "region": "ap-northeast-2",
    "cluster": "",
    "createdAt": "2026-11-20T01:02:03Z",
    "bucketName": "b",
    "apiKey": "[secret]",
}


def test_cards_from_saved_outputs_including_a_stack_not_deployed(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps(DEV_OUTPUTS))
    (tmp_path / "staging.json").write_text("{}")
    files = ["--from", str(tmp_path / "dev.json"), "--from", str(tmp_path / "staging.json")]
    code, out, _ = invoke("cards", *files, "--format", "json")
    assert code == 0
    cards = json.loads(out)
    assert cards[0] == {"stack": "dev", "deployed": True, **{k: DEV_OUTPUTS[k] for k in CARD_FIELDS}}
    assert cards[1]["stack"] == "staging" and cards[1]["deployed"] is False
    code, out, _ = invoke("cards", *files)
    assert code == 0 and "not deployed" in out and "2026-11-20T01:02:03Z" in out
    code, out, _ = invoke("cards", *files, "--format", "markdown")
    assert code == 0 and "| `staging` | _not deployed_ |" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("{broken", "malformed JSON"), ("[1]", "expected a JSON object"), ('{"name": "x"}', "not envstack outputs")],
)
def test_cards_refuse_malformed_saved_outputs(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.json").write_text(content)
    code, out, err = invoke("cards", "--from", str(tmp_path / "x.json"))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_cards_without_cli_or_saved_outputs_render_the_committed_stacks(
    monkeypatch: pytest.MonkeyPatch, rendered: dict[str, Rendering]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # the page works with no Pulumi CLI
    code, out, err = invoke("cards", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == [
        {"stack": s, "deployed": True, **{f: r.outputs[f] for f in CARD_FIELDS}} for s, r in rendered.items()
    ]


def test_cards_read_stack_outputs_through_the_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in `pulumi` executable on PATH answers `stack output --json --stack S` as the CLI does."""
    (tmp_path / "dev.json").write_text(json.dumps(DEV_OUTPUTS))
    (tmp_path / "staging.json").write_text("{}")
    fake = tmp_path / "pulumi"
    fake.write_text(
        f'#!/bin/sh\n[ "$1 $2 $3 $4" = "stack output --json --stack" ] || exit 9\n'
        f'cat "{tmp_path}/$5.json" 2>/dev/null || {{ echo "error: no stack named $5" >&2; exit 255; }}\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    code, out, _ = invoke("cards", "dev", "staging", "--format", "json")
    assert code == 0, out
    assert [(c["stack"], c["deployed"]) for c in json.loads(out)] == [("dev", True), ("staging", False)]
    code, _, err = invoke("cards", "ghost")
    assert code == 2 and "pulumi stack output --stack ghost: error: no stack named ghost" in err
