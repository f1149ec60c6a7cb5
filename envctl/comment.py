"""The pull request's offline review comment: per committed stack, the diff from the base
branch's snapshot to this change's rendering (envctl/diff.py), the data-loss manifest
(envctl/manifest.py), and what changed in what the runtime role can reach (envctl/access.py)."""

from __future__ import annotations

from pathlib import Path

from envctl import access, formats
from envctl.diff import diff_plans
from envctl.errors import UsageError
from envctl.manifest import manifest
from envctl.plan import read_plan_file
from envctl.render import load_plan
from envctl.stackfiles import project_root
from policies.contracts import conventions

COMMENT_MARKER = "<!-- envstack:offline-review -->"
COMMENT_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


def base_snapshots(base_dir: Path | None) -> Path:
    """Where the base branch's snapshots are: --base-dir, which must be a directory, or else
    this checkout's own tests/snapshots."""
    if base_dir is None:
        return project_root() / "tests" / "snapshots"
    if not base_dir.is_dir():
        what = "is not a directory" if base_dir.exists() else "does not exist"
        raise UsageError(f"--base-dir: {base_dir} {what}; allowed: a directory of the base branch's snapshots")
    return base_dir


def section(stack: str, base_file: Path) -> dict[str, str]:
    """One stack's parts of the comment, in Markdown: summary, diff, manifest, and access when
    the change alters what the stack's runtime role can reach."""
    head = load_plan(stack)
    if base_file.is_file():
        base = read_plan_file(base_file)
    else:  # a stack this change adds: everything in it is new
        base = {"stack": stack, "project": conventions.PULUMI_PROJECT, "resources": [], "outputs": {}}
    result = diff_plans(base, head, f"base:{stack}", stack)
    summary = "new stack" if not base["resources"] else "no change" if result.empty else "changes infrastructure"
    parts = {
        "summary": summary,
        "diff": formats.diff_markdown(result),
        "manifest": formats.manifest_markdown(manifest(head)),
    }
    removed, added = access.reach_change(base, head)
    if removed or added:  # the change alters what the environment's runtime role can reach
        parts["access"] = access.reach_markdown(stack, removed, added)
    return parts


def review_comment(stacks: list[str], base_dir: Path | None, sections: dict[str, dict[str, str]]) -> str:
    """The pull request's offline review comment. `sections[stack]` holds the Markdown parts
    already rendered for that stack (see `section`): `summary`, `diff` (base snapshot → this PR),
    `manifest`, and `access` when the change alters what the stack's runtime role can reach."""
    lines = [
        COMMENT_MARKER,
        "## envstack offline review",
        "",
        "Rendered from the committed stack config with no cloud credentials "
        "(`python -m envctl plan/diff/manifest`). Secrets show as `[secret]`.",
        "",
    ]
    reach = [stack for stack in stacks if sections[stack].get("access")]
    if reach:
        names = ", ".join(f"`{stack}`" for stack in reach)
        lines += [
            f"**This change alters what a runtime role can reach:** {names} (see each stack).",
            "",
        ]
    for stack in stacks:
        parts = sections[stack]
        lines += [f"<details><summary><b>{stack}</b>: {parts['summary']}</summary>", "", parts["diff"], ""]
        lines += ["<details><summary>data-loss manifest</summary>", "", parts["manifest"], "</details>", ""]
        if parts.get("access"):  # the change alters what the runtime role can reach
            lines += [parts["access"], ""]
        lines += ["</details>", ""]
    if base_dir is None:
        lines.append("_No base snapshots were given: each stack is compared with its own committed snapshot._")
    body = "\n".join(lines) + "\n"
    if len(body) > COMMENT_LIMIT:
        cut = body[:COMMENT_LIMIT].rsplit("\n", 1)[0]
        body = cut + "\n\n_(truncated: run `python -m envctl diff` locally for the rest)_\n"
    return body
