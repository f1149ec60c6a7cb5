"""Rendering a stack offline (envctl/render.py): a stack by its name or its stack file, an invalid
committed config refused in one line naming the file, and a plan by reference (a saved plan file
or a committed stack)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envctl.errors import UsageError
from envctl.render import is_plan_file, load_plan, render


@pytest.mark.parametrize(
    ("ref", "is_file"),
    [
        ("dev", False),
        ("Pulumi.dev.yaml", False),
        ("./Pulumi.dev.yaml", False),
        ("plan.json", True),
        ("plans/dev", True),
        ("/srv/plans/dev", True),
        ("dev.yaml", False),
    ],
)
def test_a_reference_names_a_plan_file_by_json_or_a_path_not_a_stack_file(ref: str, is_file: bool) -> None:
    assert is_plan_file(ref) is is_file


@pytest.mark.usefixtures("project")
def test_a_stack_file_renders_as_its_stack() -> None:
    r = render("Pulumi.dev.yaml")
    assert (r.stack, r.project, r.config.name) == ("dev", "envstack", "dev")
    assert r.outputs["bucketName"] and r.resources


def test_an_invalid_committed_config_is_one_refusal_naming_its_file(project: Path) -> None:
    (project / "Pulumi.qa.yaml").write_text("config:\n  aws:region: ap-northeast-2\n  envstack:type: qa\n")
    with pytest.raises(UsageError) as err:
        render("qa")
    assert str(err.value) == (
        'Pulumi.qa.yaml: invalid stack config\n  envstack:type: got "qa"; allowed: one of dev, staging, prod, custom'
    )


def test_a_saved_plan_file_is_read_not_rendered(tmp_path: Path) -> None:
    plan = load_plan("dev")
    saved = tmp_path / "dev-plan.json"
    saved.write_text(json.dumps(plan))
    assert load_plan(str(saved)) == plan
    with pytest.raises(UsageError):
        load_plan(str(tmp_path / "missing.json"))
