"""The code's layout: Pulumi's private runtime API is touched by envctl/runtime.py alone,
`pulumi.runtime` is imported by it and components/pulumi_runtime.py alone, and the Policy
SDK's private names are policies/crossguard.py's alone."""

from __future__ import annotations

import ast
from pathlib import Path

from envctl.stackfiles import ROOT

RUNTIME = Path("envctl/runtime.py")
PROGRAM_RUNTIME = Path("components/pulumi_runtime.py")
CROSSGUARD = Path("policies/crossguard.py")
PACKAGES = ("components", "envctl", "policies", "tests")
SOURCE_PACKAGES = ("components", "envctl", "policies")


def _sources(packages: tuple[str, ...]) -> dict[str, str]:
    files = sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))
    files.append(ROOT / "__main__.py")
    assert len(files) > 40  # the walk found the project
    return {str(path.relative_to(ROOT)): path.read_text() for path in files}


def _is_sdk(module: str, sdk: str = "pulumi") -> bool:
    """The SDK `sdk` (`pulumi`, `pulumi.runtime...`), not the provider packages (pulumi_aws...)."""
    return module == sdk or module.startswith(f"{sdk}.")


def private_pulumi_names(source: str, sdk: str = "pulumi") -> list[str]:
    """Every private name of `sdk` that `source` imports or reaches: `from pulumi.x import _y`, a
    module path part starting with `_`, or attribute access such as `sync_await._sync_await`."""
    tree = ast.parse(source)
    bound: set[str] = set()  # local names bound to a Pulumi module or object
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sdk(alias.name, sdk):
                    found += [alias.name] if any(p.startswith("_") for p in alias.name.split(".")) else []
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and _is_sdk(node.module, sdk):
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
    sources = _sources(PACKAGES)
    offenders = {path: names for path, text in sources.items() if (names := private_pulumi_names(text))}
    assert list(offenders) == [str(RUNTIME)]  # the runtime is where they are, and nowhere else
    # ...and they are exactly the ones its docstring names, so the claim a reader trusts is true.
    used = set(offenders[str(RUNTIME)])
    assert used == {"sync_await._sync_await", "sync_await._ensure_event_loop"}
    docstring = ast.get_docstring(ast.parse(sources[str(RUNTIME)])) or ""
    assert all(f"`{name}`" in docstring for name in used)


def runtime_imports(source: str) -> list[str]:
    """Every import of `pulumi.runtime` (or a module under it) in `source`, in any form."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_sdk(a.name, "pulumi.runtime")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if _is_sdk(node.module, "pulumi.runtime"):
                found.append(node.module)
            elif node.module == "pulumi":
                found += [f"pulumi.{a.name}" for a in node.names if a.name == "runtime"]
        elif isinstance(node, ast.Attribute) and node.attr == "runtime" and ast.unparse(node.value) == "pulumi":
            found.append("pulumi.runtime")
    return found


def test_the_runtime_detector_sees_each_form_of_import() -> None:
    source = (
        "import pulumi.runtime\nfrom pulumi.runtime import rpc\nfrom pulumi.runtime.config import CONFIG\n"
        "from pulumi import runtime, Output\nimport pulumi\npulumi.runtime.set_mocks\nimport pulumi_aws.runtime\n"
    )
    assert runtime_imports(source) == [
        "pulumi.runtime",
        "pulumi.runtime",
        "pulumi.runtime.config",
        "pulumi.runtime",
        "pulumi.runtime",
    ]


def test_only_the_two_runtime_modules_import_pulumis_runtime() -> None:
    sources = _sources(SOURCE_PACKAGES)
    importers = sorted(path for path, text in sources.items() if runtime_imports(text))
    assert importers == sorted([str(RUNTIME), str(PROGRAM_RUNTIME)])


def test_only_the_crossguard_adapter_touches_the_policy_sdks_private_names() -> None:
    sources = _sources(SOURCE_PACKAGES)
    offenders = [path for path, text in sources.items() if private_pulumi_names(text, "pulumi_policy")]
    assert offenders == [str(CROSSGUARD)]
