"""The rough edges a new user met, one test each: what a new user met, and the one line and exit code
envctl now gives instead (docs/envctl.md). Each of these failed on the code before the fix."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from envctl.cli import app
from tests.support.program import REGION, ROOT, render_raw, runner
from tests.support.records import deploy


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines}"
    return lines[0]


def _project(tmp_path: Path, stacks: dict[str, str | bytes]) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    for stack, content in stacks.items():
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp_path


DEV = (ROOT / "Pulumi.dev.yaml").read_text()


# --- stack files ------------------------------------------------------------------------------


def test_a_latin1_comment_names_the_file_and_the_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": "# caf\xe9 owner: Ren\xe9\n".encode("latin-1") + DEV.encode()})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, out, err = invoke("plan", "dev")
    assert (code, out) == (2, "")
    assert one_line(err) == (
        "envctl: Pulumi.dev.yaml: not UTF-8 text (byte 0xe9 at line 1); allowed: a UTF-8 YAML file, "
        "as Pulumi reads it (re-save it as UTF-8)"
    )


def test_a_yaml_error_has_file_line_and_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": "config:\n  aws:region: ap-northeast-2\n  envstack:type: [dev\n"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert one_line(err).startswith("envctl: Pulumi.dev.yaml:4:1: not valid YAML: ")


def test_a_stack_file_path_is_taken_as_its_stack() -> None:
    code, out, err = invoke("plan", "Pulumi.dev.yaml", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["stack"] == "dev"
    code, out, err = invoke("manifest", str(ROOT / "Pulumi.prod.yaml"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["stack"] == "prod"


def test_a_stack_file_of_another_project_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    code, _, err = invoke("plan", str(tmp_path / "Pulumi.dev.yaml"))
    assert code == 2
    assert one_line(err) == (
        f"envctl: {tmp_path / 'Pulumi.dev.yaml'}: a stack file outside this project ({ROOT}); "
        "allowed: a committed stack's name or file, or set ENVSTACK_ROOT to its project"
    )


def test_a_mistyped_stack_gets_did_you_mean() -> None:
    code, _, err = invoke("plan", "prd")
    assert code == 2
    assert one_line(err) == (
        "envctl: unknown stack 'prd': Pulumi.prd.yaml does not exist (did you mean prod? committed stacks: "
        "dev, prod, staging)"
    )


def test_an_unknown_config_key_gets_did_you_mean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": DEV + "  envstack:apiKeyVersoin: 2\n"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert "envstack:apiKeyVersoin: got 2; allowed: no such key (did you mean envstack:apiKeyVersion?); " in err


def test_a_wrong_type_says_what_is_allowed_in_our_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": DEV + "  envstack:name: true\n  envstack:apiKeyVersion: zero\n"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert "Input should" not in err
    assert "envstack:name: got true; allowed: a string (The environment's name" in err
    assert 'envstack:apiKeyVersion: got "zero"; allowed: a whole number (Bump to rotate' in err


# --- ENVSTACK_ROOT ----------------------------------------------------------------------------


def test_envstack_root_without_the_program_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())  # the project, but no program
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV)
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert one_line(err) == (
        f"envctl: ENVSTACK_ROOT={tmp_path}: no __main__.py; allowed: an envstack project directory "
        "(Pulumi.yaml, __main__.py and the stack files)"
    )


def test_envstack_root_at_a_missing_folder_checks_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path / "missing"))
    code, _, err = invoke("snapshot", "--check")
    assert code == 2
    assert one_line(err) == (
        f"envctl: ENVSTACK_ROOT={tmp_path / 'missing'}: no such directory; allowed: an envstack project directory "
        "(Pulumi.yaml, __main__.py and the stack files)"
    )


def test_snapshot_check_with_no_stacks_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSTACK_ROOT", str(_project(tmp_path, {})))
    code, _, err = invoke("snapshot", "--check")
    assert code == 2
    assert one_line(err) == f"envctl: no committed stacks (Pulumi.<stack>.yaml) in {tmp_path}: nothing to check"


# --- AWS region -------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)


def test_aws_region_is_honoured(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(aws, render_raw({"envstack:type": "dev"}, stack="dev"))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # AWS_REGION wins, as in the AWS CLI
    code, out, err = invoke("cards", "--live", "--format", "json")
    assert code == 0, err
    assert [c["stack"] for c in json.loads(out)] == ["dev"]


def test_a_bad_aws_region_is_refused_naming_the_variable(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "mars-1")
    code, _, err = invoke("cards", "--live")
    assert code == 2
    assert one_line(err) == "envctl: AWS_REGION: got 'mars-1'; allowed: an AWS region code such as ap-northeast-2"


def test_no_region_is_bad_input_exit_2(aws: Any) -> None:
    code, _, err = invoke("cards", "--live")
    assert code == 2
    assert one_line(err) == (
        "envctl: no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile's region"
    )


# --- cards ------------------------------------------------------------------------------------


def test_cards_from_a_plan_json_read_the_card_under_outputs(tmp_path: Path) -> None:
    plan = tmp_path / "dev-plan.json"
    code, out, _ = invoke("plan", "dev", "--format", "json")
    plan.write_text(out)
    code, out, err = invoke("cards", "--from", str(plan), "--format", "json")
    assert code == 0, err
    (card,) = json.loads(out)
    assert (card["stack"], card["name"], card["type"], card["deployed"]) == ("dev", "dev", "dev", True)


@pytest.mark.parametrize("option", [["--project", "other"], ["--region", REGION]])
def test_live_only_options_without_live_are_refused(option: list[str], tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text("{}")
    code, _, err = invoke("cards", "--from", str(tmp_path / "dev.json"), *option)
    assert code == 2
    assert one_line(err) == f"envctl: {option[0]} does nothing without --live; allowed: --live {option[0]} ..."


def test_cards_live_with_a_mistyped_stack_gets_did_you_mean(aws: Any) -> None:
    deploy(aws, render_raw({"envstack:type": "dev"}, stack="dev"))
    code, out, err = invoke("cards", "--live", "prd", "--region", REGION)
    assert (code, out) == (2, "")
    assert one_line(err) == ("envctl: unknown stack 'prd': no record and no Pulumi.prd.yaml (did you mean prod?)")


def test_cards_live_shows_an_uncommitted_deployed_stack_and_an_undeployed_preview(aws: Any) -> None:
    deploy(aws, render_raw({"envstack:type": "dev"}, stack="sandbox"))
    code, out, err = invoke("cards", "--live", "sandbox", "pr-43", "--region", REGION, "--format", "json")
    assert code == 0, err
    assert [(c["stack"], c["deployed"]) for c in json.loads(out)] == [("sandbox", True), ("pr-43", False)]


def _stand_in_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "pulumi"
    cli.write_text("#!/bin/sh\n" + script)
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_hanging_pulumi_cli_times_out_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stand_in_pulumi(tmp_path, monkeypatch, "sleep 60\n")
    monkeypatch.setenv("ENVCTL_PULUMI_TIMEOUT", "1")
    started = time.monotonic()
    code, out, err = invoke("cards", "dev")
    assert time.monotonic() - started < 20
    assert (code, out) == (1, "")
    assert one_line(err) == (
        "envctl: pulumi stack output --json --stack dev: no answer within 1s (ENVCTL_PULUMI_TIMEOUT); "
        "check the backend login (`pulumi whoami`), or raise ENVCTL_PULUMI_TIMEOUT"
    )


def test_a_bad_pulumi_timeout_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stand_in_pulumi(tmp_path, monkeypatch, "echo '{}'\n")
    monkeypatch.setenv("ENVCTL_PULUMI_TIMEOUT", "soon")
    code, _, err = invoke("cards", "dev")
    assert code == 2
    assert one_line(err) == "envctl: ENVCTL_PULUMI_TIMEOUT: got 'soon'; allowed: a number of seconds above 0"


# --- pr-config --write ------------------------------------------------------------------------

REF = "acme/envstack/staging"


def test_pr_config_write_keeps_a_hand_edited_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path))
    assert invoke("pr-config", "7", "--cluster-stack", REF, "--write")[0] == 0
    assert invoke("pr-config", "7", "--cluster-stack", REF, "--write")[0] == 0  # unchanged: fine
    target = tmp_path / "Pulumi.pr-7.yaml"
    edited = target.read_text() + "  envstack:dbConnectionLimit: 5\n"
    target.write_text(edited)
    code, _, err = invoke("pr-config", "7", "--cluster-stack", REF, "--write")
    assert code == 2 and target.read_text() == edited
    assert one_line(err) == (
        "envctl: Pulumi.pr-7.yaml exists and differs from what pr-config writes; "
        "allowed: --force to overwrite it, or edit it by hand"
    )
    assert invoke("pr-config", "7", "--cluster-stack", REF, "--write", "--force")[0] == 0
    assert target.read_text() != edited


# --- the CLI itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["plan", "dev", "--bogus"], "envctl: No such option: --bogus (see `envctl plan --help`)"),
        (["plan"], "envctl: Missing argument 'stack'. (see `envctl plan --help`)"),
        (["nope"], "envctl: No such command 'nope'. (see `envctl --help`)"),
        (
            ["plan", "dev", "--format", "yaml"],
            "envctl: Invalid value for '--format' / '-f': 'yaml' is not one of 'text', 'json', 'markdown', 'tree', "
            "'terraform-plan'. (see `envctl plan --help`)",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], line: str) -> None:
    code, out, err = invoke(*args)
    assert (code, out) == (2, "")
    assert one_line(err) == line


def test_version() -> None:
    from importlib.metadata import version

    code, out, _ = invoke("--version")
    assert (code, out) == (0, f"envctl {version('envstack')}\n")


def test_plan_markdown_and_manifest_agree_on_what_destroy_does() -> None:
    _, manifest, _ = invoke("manifest", "staging", "--format", "json")
    _, markdown, _ = invoke("plan", "staging", "--format", "markdown")
    items = json.loads(manifest)["items"]
    refused = [x for x in items if x["fate"] == "refused"]
    assert {x["category"] for x in refused} >= {"tables and data", "users", "files"}
    rows = {
        tuple(cell.strip(" `") for cell in line.split("|")[1:3]): line
        for line in markdown.splitlines()
        if line.startswith("| `")
    }
    for x in items:
        assert rows[x["resource"], x["type"]].endswith(f"| {x['fate']}: {x['detail']} |"), x["resource"]
    assert not any("deleted" in rows[x["resource"], x["type"]].rsplit("|", 2)[1] for x in refused)


def test_the_encoding_error_counts_lines_to_the_bad_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": DEV.encode() + "  # caf\xe9\n".encode("latin-1")})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert f"(byte 0xe9 at line {DEV.count(chr(10)) + 1})" in one_line(err)


def test_a_yaml_reader_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, {"dev": DEV + "  # bell \x07\n"})
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert one_line(err).startswith("envctl: Pulumi.dev.yaml: not valid YAML: unacceptable character #x0007")


def test_a_yaml_error_without_a_position_is_still_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML's own errors carry a position; an error raised without one still reads as one line."""
    import yaml

    def unplaced(text: str) -> Any:
        raise yaml.MarkedYAMLError(problem="no position")

    monkeypatch.setenv("ENVSTACK_ROOT", str(_project(tmp_path, {"dev": DEV})))
    monkeypatch.setattr(yaml, "safe_load", unplaced)
    code, _, err = invoke("plan", "dev")
    assert code == 2
    assert one_line(err) == "envctl: Pulumi.yaml: not valid YAML: no position"
