"""envctl's one error boundary (envctl/console.py) and exit codes (envctl/errors.py), tried as a
new user would: every bad input is one line and exit 2; a bug is one line and exit 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer

from envctl import cli_plan
from envctl.cli import app
from envctl.stackfiles import ROOT
from tests.support.program import runner

SNAPSHOT = ROOT / "tests" / "snapshots" / "dev.json"


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def one_line(result: Any) -> str:
    """The one stderr line of a refused command; no traceback escaped the boundary."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("envctl: "), result.stderr
    assert "Traceback" not in result.output
    return str(lines[0])


def test_diff_of_a_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "some-directory").mkdir()
    result = invoke("diff", "dev", f"{tmp_path}/some-directory/")
    assert result.exit_code == 2 and result.stdout == ""
    assert "some-directory: is a directory; give a plan JSON file" in one_line(result)


def _plan_without_type(tmp_path: Path) -> Path:
    plan = json.loads(SNAPSHOT.read_text())
    del plan["resources"][3]["type"]
    path = tmp_path / "untyped.json"
    path.write_text(json.dumps(plan))
    return path


@pytest.mark.parametrize(
    "command",
    [["diff", "{plan}", str(SNAPSHOT)], ["manifest", "{plan}"], ["check", "--plan", "{plan}"], ["access", "{plan}"]],
)
def test_a_plan_whose_resource_lacks_its_type_is_one_line_naming_file_and_field(
    tmp_path: Path, command: list[str]
) -> None:
    path = _plan_without_type(tmp_path)
    result = invoke(*(str(path) if arg == "{plan}" else arg for arg in command))
    assert result.exit_code == 2 and result.stdout == ""
    line = one_line(result)
    assert f"{path}: not a plan JSON file: resources[3] ('envstack-dev-api-key').type is missing" in line


def test_a_plan_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    plan = json.loads(SNAPSHOT.read_text())
    plan["schemaVersion"] = 99
    (tmp_path / "new.json").write_text(json.dumps(plan))
    result = invoke("manifest", str(tmp_path / "new.json"))
    assert (
        result.exit_code == 2
        and "the plan has schemaVersion 99; this envctl reads schemaVersion 2 only" in one_line(result)
    )


@pytest.mark.parametrize("base", ["/typo", str(SNAPSHOT)])
def test_review_comment_refuses_a_base_dir_that_is_not_a_directory(base: str) -> None:
    result = invoke("review-comment", "--base-dir", base)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"--base-dir: {base} " in one_line(result) and "allowed: a directory" in result.stderr


def test_review_comment_reads_base_snapshots_through_the_plan_reader(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text('{"schemaVersion": 2, "stack": "dev", "resources": [{"name": "x"}]}')
    result = invoke("review-comment", "--base-dir", str(tmp_path))
    assert result.exit_code == 2 and "dev.json: not a plan JSON file: resources[0] ('x').type is missing" in one_line(
        result
    )


def test_disposable_refuses_a_type_that_is_not_a_string(tmp_path: Path) -> None:
    (tmp_path / "out.json").write_text('{"name": "pr-3", "type": "custom"}')
    (tmp_path / "cfg.json").write_text('{"envstack:type": {"value": 3}}')
    result = invoke(
        "disposable", "pr-3", "--outputs", str(tmp_path / "out.json"), "--config", str(tmp_path / "cfg.json")
    )
    assert result.exit_code == 2 and "--config: 'envstack:type': got {\"value\": 3}" in one_line(result)


def test_cards_refuse_an_output_that_is_not_a_string(tmp_path: Path) -> None:
    outputs = dict.fromkeys(("name", "type", "cloudProvider", "region", "cluster", "createdAt"), "x")
    (tmp_path / "dev.json").write_text(json.dumps({**outputs, "region": ["ap-northeast-2"]}))
    result = invoke("cards", "--from", str(tmp_path / "dev.json"))
    assert result.exit_code == 2 and "output 'region': got [\"ap-northeast-2\"]; allowed: a string" in one_line(result)


@pytest.mark.parametrize("value", [5, 1.5e9, "1700000000"])
def test_sweep_refuses_a_last_update_that_is_a_number(tmp_path: Path, value: Any) -> None:
    """pydantic alone reads numbers as Unix seconds: the preview would look idle since 1970."""
    (tmp_path / "stacks.json").write_text(json.dumps([{"name": "pr-7", "lastUpdate": value}]))
    (tmp_path / "prs.json").write_text('[{"number": 7}]')
    result = invoke("sweep", "--stacks", str(tmp_path / "stacks.json"), "--open-prs", str(tmp_path / "prs.json"))
    assert result.exit_code == 2 and "--stacks: entry 0 'lastUpdate'" in one_line(result)


def test_an_unexpected_error_is_exit_3_and_says_it_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(plan: dict[str, Any]) -> Any:
        raise KeyError("executor")

    monkeypatch.setattr(cli_plan, "manifest_of", broken)
    result = invoke("manifest", str(SNAPSHOT))
    assert result.exit_code == 3 and result.stdout == ""
    line = one_line(result)
    assert "internal error, a bug in envctl and not a finding about your stacks (KeyError: 'executor')" in line
    assert "violat" not in line


def test_envctl_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_plan, "manifest_of", lambda plan: 1 / 0)
    monkeypatch.setenv("ENVCTL_DEBUG", "1")
    result = invoke("manifest", str(SNAPSHOT))
    assert isinstance(result.exception, ZeroDivisionError)


def test_every_command_has_a_one_sentence_summary() -> None:
    group = typer.main.get_command(app)
    commands = dict(group.commands)  # type: ignore[attr-defined]
    for group_name in ("db", "env"):
        commands.update({f"{group_name} {n}": c for n, c in commands.pop(group_name).commands.items()})
    assert len(commands) == 21
    for name, command in commands.items():
        summary = (command.help or "").split("\n\n")[0]
        assert "\n" not in summary and summary.endswith("."), (name, summary)
        assert len(summary) <= 100, (name, summary)


def test_rules_text_is_a_table_not_markdown() -> None:
    text = invoke("rules", "-f", "text").stdout
    markdown = invoke("rules", "-f", "markdown").stdout
    assert "s3-public-access-block" in text and "|---" not in text and "| `s3-public-access-block` |" not in text
    assert markdown.startswith("| rule |") and "|---" in markdown


def test_plan_text_is_the_tree_and_tree_stays_its_alias() -> None:
    text = invoke("plan", "dev", "--format", "text")
    assert text.exit_code == 0 and text.stdout.startswith("stack envstack/dev (")
    assert invoke("plan", "dev", "--format", "tree").stdout == text.stdout == invoke("plan", "dev").stdout


def test_a_control_character_is_malformed_json_not_an_empty_file(tmp_path: Path) -> None:
    """str.strip() drops \\x1c: the file would have read as `{}` and passed as a stack with no outputs."""
    (tmp_path / "out.json").write_text("\x1c")
    result = invoke("disposable", "pr-7", "--outputs", str(tmp_path / "out.json"))
    assert result.exit_code == 2 and "out.json: malformed JSON" in one_line(result)


def test_the_internal_error_line_says_how_to_see_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(plan: dict[str, Any]) -> Any:
        raise KeyError("executor")

    monkeypatch.setattr(cli_plan, "manifest_of", broken)
    line = one_line(invoke("manifest", str(SNAPSHOT)))
    assert line.endswith("; rerun with ENVCTL_DEBUG=1 for the traceback and report it")


def test_an_error_line_is_printed_verbatim_not_as_rich_markup() -> None:
    result = invoke("plan", "[red]nope")
    assert result.exit_code == 2 and "'[red]nope'" in one_line(result)


def test_everything_envctl_prints_on_stderr_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A config key like `envstack:a`, a `[secret]` placeholder or a `[bold]` in a path reach the
    terminal as written: rich's emoji codes, markup and highlighting are off for envctl's console."""
    from envctl.console import err_console

    text = "envstack:a: got [secret]; allowed: [bold]x[/bold] :smile: 0x1f"
    err_console.print(text, soft_wrap=True)
    assert capsys.readouterr().err == text + "\n"
