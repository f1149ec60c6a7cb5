"""Fixtures of the policy pack's tests."""

from __future__ import annotations

from typing import Any

import pytest

from envctl.render import load_plan


@pytest.fixture(scope="module")
def prod_plan() -> dict[str, Any]:
    plan: dict[str, Any] = load_plan("prod")
    return plan
