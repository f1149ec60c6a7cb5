"""Fixtures of the CLI's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.program import REGION, ROOT


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's stack files and program, as ENVSTACK_ROOT."""
    root = tmp_path / "project"
    root.mkdir()
    for path in [*ROOT.glob("Pulumi*.yaml"), ROOT / "__main__.py"]:
        shutil.copy(path, root / path.name)
    monkeypatch.setenv("ENVSTACK_ROOT", str(root))
    return root


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's SSM, reached by envctl through boto3's default credential chain."""
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)
