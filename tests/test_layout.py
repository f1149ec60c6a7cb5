"""The code's layout: Pulumi's private runtime API is touched by envctl/runtime.py alone."""

from __future__ import annotations

import ast
from pathlib import Path

from envctl.stackfiles import ROOT

RUNTIME = Path("envctl/runtime.py")
PACKAGES = ("components", "envctl", "policies", "tests")


def _is_pulumi(module: str) -> bool:
    """The Pulumi SDK (`pulumi`, `pulumi.runtime...`), not its provider packages (pulumi_aws...)."""
    return module == "pulumi" or module.startswith("pulumi.")


def private_pulumi_names(source: str) -> list[str]:
    """Every private Pulumi name `source` imports or reaches: `from pulumi.x import _y`, a module
    path part starting with `_`, or attribute access such as `sync_await._sync_await`."""
    tree = ast.parse(source)
    bound: set[str] = set()  # local names bound to a Pulumi module or object
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_pulumi(alias.name):
                    found += [alias.name] if any(p.startswith("_") for p in alias.name.split(".")) else []
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and _is_pulumi(node.module):
            if any(p.startswith("_") for p in node.module.split(".")):
                found.append(node.module)
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
                bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root: ast.expr = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                found.append(ast.unparse(node))
    return found


def test_the_detector_sees_each_form_of_private_use() -> None:
    source = (
        "import pulumi\nfrom pulumi.runtime import sync_await, settings as s\nfrom pulumi.runtime.sync_await import _sync_await\n"
        "from pulumi._internal import x\nimport pulumi_aws\n"
        "sync_await._ensure_event_loop()\npulumi.runtime.settings._get_rpc_manager()\ns._x\npulumi_aws._utilities\n"
        "pulumi.export('a', 1)\nsettings_local._private\n"
    )
    assert sorted(private_pulumi_names(source)) == [
        "pulumi._internal",
        "pulumi.runtime.settings._get_rpc_manager",
        "pulumi.runtime.sync_await._sync_await",
        "s._x",
        "sync_await._ensure_event_loop",
    ]


def test_only_the_mock_runtime_touches_pulumis_private_api() -> None:
    files = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
    files.append(ROOT / "__main__.py")
    assert len(files) > 40  # the walk found the project
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in files
        if path.relative_to(ROOT) != RUNTIME and (names := private_pulumi_names(path.read_text()))
    }
    assert offenders == {}
    assert private_pulumi_names((ROOT / RUNTIME).read_text())  # the runtime is where they are
