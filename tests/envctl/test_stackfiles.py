"""envctl/stackfiles.py: a stack's raw config exactly as read (project defaults, short keys,
secrets, objects), from the root it is given, and each refusal's exact text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from envctl.errors import UsageError
from envctl.stackfiles import read_stack_config, stack_file
from policies.contracts.conventions import SECRET_PLACEHOLDER

PROJECT_FILE = (
    "name: envstack\nruntime: python\nconfig:\n"
    "  envstack:dbConnectionLimit:\n    type: integer\n    default: 7\n"
    "  envstack:apiKeyRetiring:\n    type: integer\n"
)
STACK = (
    "config:\n  aws:region: eu-west-1\n  name: short\n"
    "  envstack:cluster:\n    name: shared\n    create: true\n"
    "  aws:secretKey:\n    secure: v1:CIPHER\n"
)


def _root(tmp_path: Path, stacks: dict[str, str], project: str | None = PROJECT_FILE) -> Path:
    if project is not None:
        (tmp_path / "Pulumi.yaml").write_text(project)
    for stack, text in stacks.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


def test_the_raw_config_is_defaults_short_keys_objects_and_secrets(tmp_path: Path) -> None:
    root = _root(tmp_path, {"dev": STACK})
    assert stack_file("dev", root) == root / "Pulumi.dev.yaml"
    raw, secret_keys = read_stack_config("dev", root)
    assert raw == {
        "envstack:dbConnectionLimit": 7,  # Pulumi.yaml's {type, default}; a key without default is absent
        "aws:region": "eu-west-1",
        "envstack:name": "short",  # a key without namespace is the project's
        "envstack:cluster": {"name": "shared", "create": True},  # an object in a stack file is a value
        "aws:secretKey": SECRET_PLACEHOLDER,
    }
    assert secret_keys == ["aws:secretKey"]


def test_the_given_root_is_read_not_the_project(tmp_path: Path) -> None:
    raw, _ = read_stack_config("dev", _root(tmp_path, {"dev": STACK}, project=None))
    assert raw["aws:region"] == "eu-west-1"  # the repository's own Pulumi.dev.yaml says ap-northeast-2


def _refusal(root: Path, stack: str = "dev") -> str:
    with pytest.raises(UsageError) as err:
        read_stack_config(stack, root)
    return str(err.value)


def test_an_unknown_stack_lists_the_given_roots_stacks(tmp_path: Path) -> None:
    assert _refusal(_root(tmp_path, {}), "dev") == (
        "unknown stack 'dev': Pulumi.dev.yaml does not exist (committed stacks: none)"
    )
    assert _refusal(_root(tmp_path, {"qa": STACK}), "dev") == (
        "unknown stack 'dev': Pulumi.dev.yaml does not exist (committed stacks: qa)"
    )


@pytest.mark.parametrize("text", ["- a list\n", "config:\n  - a list\n"])
def test_a_stack_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    assert (
        _refusal(_root(tmp_path, {"dev": text})) == "Pulumi.dev.yaml must hold a YAML mapping, with `config:` a mapping"
    )


def test_a_yaml_error_names_the_problem_not_its_context(tmp_path: Path) -> None:
    assert _refusal(_root(tmp_path, {"dev": "config:\n  aws:region: [ap-northeast-2\n"})) == (
        "Pulumi.dev.yaml:3:1: not valid YAML: expected ',' or ']', but got '<stream end>'"
    )


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (yaml.MarkedYAMLError(context="only a  context"), "only a context"),
        (yaml.MarkedYAMLError(), ""),
    ],
)
def test_a_yaml_error_without_a_problem_shows_its_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, shown: str
) -> None:
    def broken(text: str) -> Any:
        raise error

    root = _root(tmp_path, {"dev": STACK})
    monkeypatch.setattr(yaml, "safe_load", broken)
    assert _refusal(root) == f"Pulumi.yaml: not valid YAML: {shown}"
