"""Fixtures of the policy pack's tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.program import committed_plan


@pytest.fixture(scope="module")
def prod_plan() -> dict[str, Any]:
    return committed_plan("prod")
