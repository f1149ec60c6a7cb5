"""Fixtures of the CLI's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.program import ROOT


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's stack files and program, as ENVSTACK_ROOT."""
    root = tmp_path / "project"
    root.mkdir()
    for path in [*ROOT.glob("Pulumi*.yaml"), ROOT / "__main__.py"]:
        shutil.copy(path, root / path.name)
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    return root
