"""envctl/comment.py: the pull request's offline review comment, as exact text, and each stack's
section from the real rendering against a base snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envctl import comment, formats
from envctl.comment import COMMENT_LIMIT, COMMENT_MARKER, review_comment, section
from envctl.errors import UsageError
from envctl.manifest import manifest
from tests.support.program import ROOT, committed_plan

SECTIONS = {
    "dev": {"summary": "no change", "diff": "DIFF-dev", "manifest": "MANIFEST-dev"},
    "prod": {"summary": "changes infrastructure", "diff": "DIFF-prod", "manifest": "MANIFEST-prod", "access": "ACC"},
}


def test_the_comment_is_exact_text_with_a_reach_banner_and_each_stack_folded() -> None:
    assert review_comment(["dev", "prod"], Path("base"), SECTIONS) == (
        f"{COMMENT_MARKER}\n"
        "## envstack offline review\n"
        "\n"
        "Rendered from the committed stack config with no cloud credentials "
        "(`python -m envctl plan/diff/manifest`). Secrets show as `[secret]`.\n"
        "\n"
        "**This change alters what a runtime role can reach:** `prod` (see each stack).\n"
        "\n"
        "<details><summary><b>dev</b>: no change</summary>\n"
        "\n"
        "DIFF-dev\n"
        "\n"
        "<details><summary>data-loss manifest</summary>\n"
        "\n"
        "MANIFEST-dev\n"
        "</details>\n"
        "\n"
        "</details>\n"
        "\n"
        "<details><summary><b>prod</b>: changes infrastructure</summary>\n"
        "\n"
        "DIFF-prod\n"
        "\n"
        "<details><summary>data-loss manifest</summary>\n"
        "\n"
        "MANIFEST-prod\n"
        "</details>\n"
        "\n"
        "ACC\n"
        "\n"
        "</details>\n"
        "\n"
    )


def test_without_base_snapshots_or_reach_changes_the_comment_says_so() -> None:
    body = review_comment(["dev"], None, {"dev": SECTIONS["dev"]})
    assert "alters what a runtime role can reach" not in body
    assert body.endswith(
        "</details>\n\n_No base snapshots were given: each stack is compared with its own committed snapshot._\n"
    )
    names = review_comment(["dev", "prod"], None, {"dev": SECTIONS["prod"], "prod": SECTIONS["prod"]})
    assert "can reach:** `dev`, `prod` (see each stack).\n" in names


def test_a_comment_over_githubs_limit_is_cut_at_a_line_and_says_so() -> None:
    line = "x y " * 24 + "x\n"  # 99 characters and a newline; words, so the cut must pick the newline
    big = {"dev": {**SECTIONS["dev"], "diff": line * (COMMENT_LIMIT // 100 + 50)}}
    body = review_comment(["dev"], None, big)
    note = "\n\n_(truncated: run `python -m envctl diff` locally for the rest)_\n"
    assert body.endswith(note)
    kept = body.removesuffix(note)
    assert len(kept) <= COMMENT_LIMIT and kept.endswith("\n" + line.strip())
    assert len(kept) > COMMENT_LIMIT - 100  # cut at the last whole line, not earlier
    assert kept == review_comment(["dev"], None, big)[: len(kept)]
    frame = len(review_comment(["dev"], None, {"dev": {**SECTIONS["dev"], "diff": ""}}))
    exact = {"dev": {**SECTIONS["dev"], "diff": "y" * (COMMENT_LIMIT - frame)}}
    assert len(review_comment(["dev"], None, exact)) == COMMENT_LIMIT  # at the limit: kept whole
    assert "truncated" not in review_comment(["dev"], None, exact)


def test_a_section_against_its_own_snapshot_is_no_change() -> None:
    parts = section("dev", ROOT / "tests" / "snapshots" / "dev.json")
    assert parts["summary"] == "no change"
    assert set(parts) == {"summary", "diff", "manifest"}
    assert parts["diff"] == "### envstack diff: `base:dev` → `dev`\n\nNo differences.\n"
    assert parts["manifest"] == formats.manifest_markdown(manifest(committed_plan("dev")))


def test_a_stack_the_change_adds_is_new_and_a_changed_one_says_so(tmp_path: Path) -> None:
    parts = section("dev", tmp_path / "missing.json")
    assert parts["summary"] == "new stack"
    assert parts["access"].startswith("### Access change: `dev`'s runtime role\n")  # all it can reach is new
    head = committed_plan("dev")
    assert parts["diff"].startswith("### envstack diff: `base:dev` → `dev`\n")
    assert parts["diff"].count("| only in `dev` |") == len(head["resources"])
    plan = committed_plan("dev")
    plan["resources"] = plan["resources"][:-1]
    base = tmp_path / "dev.json"
    base.write_text(json.dumps(plan))
    changed = section("dev", base)
    assert changed["summary"] == "changes infrastructure"
    assert f"| only in `dev` | `{head['resources'][-1]['type']}` |" in changed["diff"]


def test_base_snapshots_default_to_this_checkouts_own(tmp_path: Path) -> None:
    assert comment.base_snapshots(None) == ROOT / "tests" / "snapshots"
    assert comment.base_snapshots(tmp_path) == tmp_path


def test_a_base_dir_that_is_no_directory_says_which_it_is(tmp_path: Path) -> None:
    missing, file = tmp_path / "missing", tmp_path / "file.json"
    file.write_text("{}")
    for path, what in ((missing, "does not exist"), (file, "is not a directory")):
        with pytest.raises(UsageError) as err:
            comment.base_snapshots(path)
        assert str(err.value) == f"--base-dir: {path} {what}; allowed: a directory of the base branch's snapshots"
