"""Malformed JSON thrown at every envctl command that reads a file: random bytes, truncated
JSON, the wrong top-level shape, and wrong types in the fields each command reads. No traceback
ever escapes the boundary, and the exit code is 1 or 2: never 0 on garbage, never 3 (a bug)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from envctl import comment
from envctl.cli import app
from envctl.stackfiles import ROOT
from policies.contracts.conventions import CARD_FIELDS
from tests.support.program import runner

PLAN = json.loads((ROOT / "tests" / "snapshots" / "staging.json").read_text())
VALID: dict[str, Any] = {
    "plan": PLAN,
    "outputs": {**dict.fromkeys(CARD_FIELDS, "x"), "type": "custom"},
    "stack outputs": {"name": "pr-7", "type": "custom"},
    "config": {"envstack:type": {"value": "custom", "secret": False}},
    "stacks": [{"name": "pr-7", "lastUpdate": "2026-11-01T08:00:00Z", "updateInProgress": False}],
    "prs": [{"number": 7}],
}
# The fields each input's reader types, and what each may hold: a wrong type there is garbage.
STR, OPT_STR, BOOL, LIST, DICT = (
    lambda v: isinstance(v, str),
    lambda v: v is None or isinstance(v, str),
    lambda v: isinstance(v, bool),
    lambda v: isinstance(v, list),
    lambda v: isinstance(v, dict),
)
STR_LIST = lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)  # noqa: E731
FIELDS: dict[str, list[tuple[tuple[Any, ...], Callable[[Any], bool]]]] = {
    "plan": [
        (("stack",), STR),
        (("resources",), LIST),
        (("outputs",), DICT),
        (("schemaVersion",), lambda v: type(v) is int and v == 2),
        *(
            (("resources", 5, key), allowed)
            for key, allowed in [
                ("name", STR),
                ("type", STR),
                ("parent", OPT_STR),
                ("provider", OPT_STR),
                ("inputs", DICT),
                ("protect", BOOL),
                ("retainOnDelete", BOOL),
                ("deleteBeforeReplace", BOOL),
                ("ignoreChanges", STR_LIST),
                ("dependsOn", STR_LIST),
                ("propertyDependencies", lambda v: isinstance(v, dict) and all(STR_LIST(x) for x in v.values())),
                ("arn", OPT_STR),
            ]
        ),
    ],
    "outputs": [((f,), OPT_STR) for f in CARD_FIELDS],  # the card's fields
    "stack outputs": [(("type",), STR)],  # what `disposable` reads of a stack's outputs
    "config": [(("envstack:type",), lambda v: isinstance(v, str) or (isinstance(v, dict) and STR(v.get("value"))))],
    "stacks": [
        ((0, "name"), STR),
        ((0, "lastUpdate"), lambda v: v is None or (isinstance(v, str) and v.endswith("Z") and "T" in v)),
        ((0, "updateInProgress"), BOOL),
    ],
    "prs": [((0, "number"), lambda v: type(v) is int)],
}
SHAPES = {"plan": DICT, "outputs": DICT, "stack outputs": DICT, "config": DICT, "stacks": LIST, "prs": LIST}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _parses(data: bytes) -> bool:
    try:
        json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return True


@st.composite
def garbage(draw: st.DrawFn, kind: str) -> bytes:
    """Malformed content for an input of `kind`: one of four kinds of wrong."""
    valid = VALID[kind]
    how = draw(st.sampled_from(["bytes", "truncated", "shape", "field"]))
    if how == "bytes":
        data = draw(st.binary(min_size=1, max_size=64))
        assume(data.strip(b" \t\n\r") and not _parses(data))  # JSON's whitespace only: an empty file is {}
        return data
    if how == "truncated":
        text = json.dumps(valid).encode()
        return text[: draw(st.integers(1, len(text) - 1))]
    if how == "shape":
        value = draw(json_values)
        assume(not SHAPES[kind](value))
        return json.dumps(value).encode()
    doc = json.loads(json.dumps(valid))
    path, allowed = draw(st.sampled_from(FIELDS[kind]))
    target = doc
    for part in path[:-1]:
        target = target[part]
    if draw(st.booleans()) and allowed(None) is False and path[-1] not in ("schemaVersion", "outputs"):
        target.pop(path[-1], None)  # a field the reader needs, missing
        if kind in ("outputs", "stack outputs", "config") or path[-1] not in (
            "name",
            "type",
            "stack",
            "resources",
            "number",
        ):
            assume(False)  # optional there: not garbage
    else:
        value = draw(json_values)
        assume(not allowed(value))
        target[path[-1]] = value
    return json.dumps(doc).encode()


COMMANDS: dict[str, tuple[str, list[str]]] = {
    # name: (the kind of input, the command line; {bad} is the malformed file, {ok:KIND} a valid one)
    "diff a": ("plan", ["diff", "{bad}", "{ok:plan}"]),
    "diff b": ("plan", ["diff", "{ok:plan}", "{bad}"]),
    "manifest": ("plan", ["manifest", "{bad}"]),
    "check --plan": ("plan", ["check", "--plan", "{bad}"]),
    "access": ("plan", ["access", "{bad}"]),
    "cards --from": ("outputs", ["cards", "--from", "{bad}"]),
    "disposable --outputs": ("stack outputs", ["disposable", "pr-7", "--outputs", "{bad}", "--config", "{ok:config}"]),
    "disposable --config": ("config", ["disposable", "pr-7", "--outputs", "{ok:outputs}", "--config", "{bad}"]),
    "sweep --stacks": ("stacks", ["sweep", "--stacks", "{bad}", "--open-prs", "{ok:prs}"]),
    "sweep --open-prs": ("prs", ["sweep", "--stacks", "{ok:stacks}", "--open-prs", "{bad}"]),
    "review-comment --base-dir": ("plan", ["review-comment", "--base-dir", "{dir}"]),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("malformed")
    for kind, doc in VALID.items():
        (path / f"ok-{kind.replace(' ', '-')}.json").write_text(json.dumps(doc))
    (path / "base").mkdir()
    return path


@pytest.fixture
def head_is_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """review-comment's head side (this change's rendering) is not what is tested: its committed
    snapshot stands in, so that each example reads only the malformed base file."""
    monkeypatch.setattr(
        comment, "load_plan", lambda stack: json.loads((ROOT / f"tests/snapshots/{stack}.json").read_text())
    )


@pytest.mark.usefixtures("head_is_the_snapshot")
@pytest.mark.parametrize("name", COMMANDS)
def test_no_malformed_file_escapes_as_a_traceback_or_passes(workdir: Path, name: str) -> None:
    kind, argv = COMMANDS[name]
    bad = workdir / ("base/staging.json" if name.startswith("review-comment") else f"bad-{kind.replace(' ', '-')}.json")

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(data=garbage(kind))
    def run(data: bytes) -> None:
        bad.write_bytes(data)
        args = [
            str(bad)
            if a == "{bad}"
            else str(workdir / "base")
            if a == "{dir}"
            else a.replace("{ok:", str(workdir / "ok-"))
            for a in argv
        ]
        args = [a[:-1] + ".json" if a.startswith(str(workdir / "ok-")) else a for a in args]
        result = runner.invoke(app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (data, result.exception)
        assert "Traceback" not in result.output
        assert result.exit_code in (1, 2), (data, result.exit_code, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

    run()
