"""The files envctl reads from the project and from the user: where the project is, which stacks
are committed, a stack's raw config (Pulumi.yaml defaults, then Pulumi.<stack>.yaml), and saved
JSON inputs. Every problem is one UsageError line naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT
from components.conventions import SECRET_PLACEHOLDER
from envctl.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
JSON_WHITESPACE = " \t\n\r"  # RFC 8259's; str.strip() would also drop control characters such as \x1c


def read_json_file(path: Path) -> Any:
    """A JSON file's content; an empty file is `{}`. Errors are one UsageError line."""
    try:
        text = path.read_text()
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a JSON file") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: malformed JSON (not UTF-8 text)") from None
    try:
        return json.loads(text) if text.strip(JSON_WHITESPACE) else {}
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: malformed JSON ({err.msg} at line {err.lineno})") from None


def project_root() -> Path:
    """The project directory: where Pulumi.yaml and the stack files are (ENVSTACK_ROOT overrides)."""
    return Path(os.environ.get("ENVSTACK_ROOT") or ROOT)


def stack_file(stack: str, root: Path | None = None) -> Path:
    return (root or project_root()) / f"Pulumi.{stack}.yaml"


def committed_stacks(root: Path | None = None) -> list[str]:
    """The stacks whose config is committed next to Pulumi.yaml."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (root or project_root()).glob("Pulumi.*.yaml"))


def _config_block(source: Path) -> dict[str, Any]:
    """The `config:` mapping of a project or stack file ({} when the file does not exist)."""
    if not source.is_file():
        return {}
    try:
        doc = yaml.safe_load(source.read_text()) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"{source.name} is not valid YAML: {err}".splitlines()[0]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config") or {}, dict):
        raise UsageError(f"{source.name} must hold a YAML mapping, with `config:` a mapping")
    block: dict[str, Any] = doc.get("config") or {}
    return block


def _key(name: str) -> str:
    return name if ":" in name else f"{PROJECT}:{name}"


def project_config(root: Path | None = None) -> dict[str, Any]:
    """The project-wide defaults of Pulumi.yaml's `config:` block, as the Pulumi CLI reads them
    (pulumi/pulumi sdk/go/common/workspace/project.go, RewriteShorthandConfigValues): a plain
    value or list is the default of every stack; a mapping declares `default` (keys of the
    project's namespace) or `value` (any other namespace, such as `aws:region`), or only a type.
    A stack's own file overrides each key (read_stack_config)."""
    raw: dict[str, Any] = {}
    for name, value in _config_block((root or project_root()) / "Pulumi.yaml").items():
        if not isinstance(value, dict):
            raw[_key(name)] = value
        elif "default" in value or "value" in value:
            raw[_key(name)] = value.get("default", value.get("value"))
    return raw


def read_stack_config(stack: str, root: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """A stack's raw config (project defaults, then the stack file) and its secret keys.

    Values set with `pulumi config set --secret` are ciphertext that only the stack's
    secrets provider can decrypt; offline they render as `[secret]`.
    """
    root = root or project_root()
    path = stack_file(stack, root)
    if not path.is_file():
        known = ", ".join(committed_stacks(root)) or "none"
        raise UsageError(f"unknown stack '{stack}': {path.name} does not exist (committed stacks: {known})")
    raw = project_config(root)
    secret_keys: list[str] = []
    for name, value in _config_block(path).items():
        key = _key(name)
        if isinstance(value, dict) and "secure" in value:
            raw[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
        else:
            raw[key] = value
    return raw, secret_keys
