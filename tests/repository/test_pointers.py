"""Pointers in the repository's own text lead somewhere: every section named in a page (`README,
"Section"`, `docs/x.md, "Section"`), every anchor (`docs/x.md#anchor`), every repository path
(`scripts/mutation`, `policies/contracts/names.py`, `policies/contracts/conventions.PLAN_SCHEMA_VERSION`) exists,
and no text cites an issue number of a tracker that is not in the repository (`owner/repo#N` names
its tracker, and passes). Source, comments, docstrings, config files and docs alike.
(docs' relative Markdown links are tests/envctl/test_reference.py's.)"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from collections.abc import Iterator
from pathlib import Path

from tests.support.program import ROOT

PAGE = r"(?P<page>README(?:\.md)?|docs/[\w-]+\.md)"
SECTION = re.compile(PAGE + r"(?:'s)?,? \"(?P<section>[^\"\n]+)\"")
ANCHOR = re.compile(PAGE + r"#(?P<anchor>[\w-]+)")
TOP = ("components", "envctl", "policies", "tests", "scripts", "docs", "devtools", ".github", ".ci")
PATH = re.compile(r"(?<![\w./@-])(?P<path>(?:" + "|".join(re.escape(t) for t in TOP) + r")/[\w./*<>{}-]*[\w>}*/])")
ISSUE = re.compile(r"(?i)\bissues? +#?\d+")
# Text files of the repository whose pointers are read; generated data (snapshots) is not prose.
SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".txt", ".js", ".sql", ""}
SKIPPED = {"tests/snapshots", "tests/repository/test_pointers.py"}  # this module holds examples of stale pointers


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(page: Path) -> list[str]:
    """A Markdown page's headings, without their backticks; a fenced block's `# comments` are none."""
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text())
    return [m["text"].strip().replace("`", "") for m in re.finditer(r"(?m)^#{1,6} +(?P<text>.+)$", text)]


def exists(path: str) -> bool:
    """A repository path, a glob or placeholder pattern, or `module.attribute` of a Python module."""
    path = path.split("::", maxsplit=1)[0].rstrip("/.")
    if any(c in path for c in "*<>{}"):  # tests/snapshots/*.json, docs/<page>.md: patterns, not files
        pattern = re.sub(r"<[^>]*>|\{[^}]*\}", "*", path)
        fixed = pattern.split("*", maxsplit=1)[0].rpartition("/")[0]  # the folder before the first wildcard
        return any(ROOT.glob(pattern)) or (ROOT / fixed).is_dir()
    if (ROOT / path).exists():
        return True
    module, _, attribute = path.rpartition(".")
    if attribute and (ROOT / f"{module}.py").is_file():
        return True
    # A path git ignores is one made at run time (policies/venv): named, rightly, before it exists.
    ignored = subprocess.run(
        ["git", "check-ignore", path, f"{path}/"], cwd=ROOT, capture_output=True, check=False, timeout=60
    )
    return ignored.returncode == 0


def stale(text: str) -> Iterator[str]:
    """Every pointer in `text` that leads nowhere, as `what: why`."""
    for m in SECTION.finditer(text):
        page = ROOT / ("README.md" if m["page"].startswith("README") else m["page"])
        if not page.is_file():
            yield f"{m[0]}: no page {m['page']}"
        elif m["section"] not in headings(page):
            yield f"{m[0]}: {m['page']} has no section {m['section']!r}"
    for m in ANCHOR.finditer(text):
        page = ROOT / ("README.md" if m["page"].startswith("README") else m["page"])
        if not page.is_file() or m["anchor"] not in {slug(h) for h in headings(page)}:
            yield f"{m[0]}: no such anchor"
    for m in PATH.finditer(text):
        if not exists(m["path"]):
            yield f"{m['path']}: no such file or directory in the repository"
    for m in ISSUE.finditer(text):
        yield f"{m[0]}: an issue of a tracker that is not in the repository; say what it means instead"


def prose(name: str) -> str:
    """The text of a repository file whose pointers are read. A test module's string literals are
    its data (a path that must not exist, a stale pointer to detect): its comments and docstrings
    are read; everything else is read whole."""
    text = (ROOT / name).read_text()
    if not (name.startswith("tests/") and name.endswith(".py")):
        return text
    parts = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            parts.append(ast.get_docstring(node, clean=False) or "")
    return "\n".join(parts)


def repository_texts() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split("\n")
    return [
        name
        for name in listed
        if name
        and Path(name).suffix in SUFFIXES
        and (ROOT / name).is_file()
        and not any(name == s or name.startswith(s + "/") for s in SKIPPED)
    ]


def test_the_detector_finds_each_kind_of_stale_pointer() -> None:
    assert list(stale('see the README, "Nowhere"')) == ["README, \"Nowhere\": README has no section 'Nowhere'"]
    assert list(stale('docs/policies.md, "How the pack is packaged"')) == []
    assert list(stale('docs/nope.md, "X"')) == [
        'docs/nope.md, "X": no page docs/nope.md',
        "docs/nope.md: no such file or directory in the repository",
    ]
    assert list(stale("README#documentation and README.md#nope")) == ["README.md#nope: no such anchor"]
    assert (
        list(stale("scripts/mutation, policies/contracts/conventions.PLAN_SCHEMA_VERSION, tests/snapshots/*.json"))
        == []
    )
    assert list(stale("tests/test_x.py::test_y and `scripts/nope`.")) == [
        "tests/test_x.py: no such file or directory in the repository",
        "scripts/nope: no such file or directory in the repository",
    ]
    assert list(stale("as issue 9.2 says; see Issue #4")) == [
        "issue 9: an issue of a tracker that is not in the repository; say what it means instead",
        "Issue #4: an issue of a tracker that is not in the repository; say what it means instead",
    ]
    assert list(stale("terraform-aws-modules/terraform-aws-rds-aurora#228, https://x.org/docs/a")) == []
    assert list(stale("policies/venv (made by Pulumi; git ignores it)")) == []


def test_a_test_module_is_read_for_its_comments_and_docstrings_not_its_data() -> None:
    text = prose("tests/devtools/test_mutation.py")
    assert "scripts/mutation's own logic" in text  # the module docstring
    assert "components/nope.py" not in text  # a string literal: a path that must not exist
    assert "components/nope.py" in (ROOT / "tests/devtools/test_mutation.py").read_text()


def test_no_pointer_in_the_repository_leads_nowhere() -> None:
    names = repository_texts()
    assert {"README.md", "policies/contracts/names.py", "policies/PulumiPolicy.yaml", ".ci/run", "scripts/test"} <= set(
        names
    )
    found = [f"{name}: {problem}" for name in names for problem in stale(prose(name))]
    assert found == []
