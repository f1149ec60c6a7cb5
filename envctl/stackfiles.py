"""The files envctl reads from the project and from the user: where the project is, which stacks
are committed, a stack's raw config (Pulumi.yaml defaults, then Pulumi.<stack>.yaml), and saved
JSON inputs. Every problem is one UsageError line naming the file."""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from envctl.errors import UsageError
from policies.contracts.conventions import PULUMI_PROJECT, SECRET_PLACEHOLDER

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


PROJECT_ALLOWED = "an envstack project directory (Pulumi.yaml, __main__.py and the stack files)"
_STACK_FILE = re.compile(r"Pulumi\.(?P<stack>.+)\.yaml")


def project_root() -> Path:
    """The project directory: where Pulumi.yaml and the stack files are. ENVSTACK_ROOT if set
    (a root that does not exist is refused, so a typo never reads as a project with no stacks);
    else, as the Pulumi CLI finds its project, the nearest directory from the working directory
    up that holds a Pulumi.yaml; else the checkout envctl runs from (an editable install). An
    installed envctl (`pip install .`) lives in site-packages, so it needs one of the first two."""
    given = os.environ.get("ENVSTACK_ROOT")
    if given:
        root = Path(given)
        if not root.is_dir():
            raise UsageError(f"ENVSTACK_ROOT={given}: no such directory; allowed: {PROJECT_ALLOWED}")
        return root
    here = Path.cwd()
    return next((d for d in (here, *here.parents) if (d / "Pulumi.yaml").is_file()), ROOT)


def program_file(root: Path) -> Path:
    """The Pulumi program of the project at `root`; a root without one is refused."""
    program = root / "__main__.py"
    if not program.is_file():
        raise UsageError(f"ENVSTACK_ROOT={root}: no __main__.py; allowed: {PROJECT_ALLOWED}")
    return program


def stack_file(stack: str, root: Path | None = None) -> Path:
    return (root or project_root()) / f"Pulumi.{stack}.yaml"


def did_you_mean(word: str, known: list[str]) -> str:
    """`did you mean X? ` when one of `known` is close to `word` (difflib), else nothing."""
    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean {close[0]}? " if close else ""


def stack_name(ref: str, root: Path | None = None) -> str:
    """A stack by its name or by its stack file (`Pulumi.dev.yaml`, with or without this project's
    directory): the stack's name. A stack file of another directory is refused."""
    path = Path(ref)
    match = _STACK_FILE.fullmatch(path.name)
    if match is None:
        return ref
    root = root or project_root()
    if path.parent != Path() and path.parent.resolve() != root.resolve():
        raise UsageError(
            f"{ref}: a stack file outside this project ({root}); "
            "allowed: a committed stack's name or file, or set ENVSTACK_ROOT to its project"
        )
    return match["stack"]


def committed_stacks(root: Path | None = None) -> list[str]:
    """The stacks whose config is committed next to Pulumi.yaml."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (root or project_root()).glob("Pulumi.*.yaml"))


def _config_block(source: Path) -> dict[str, Any]:
    """The `config:` mapping of a project or stack file ({} when the file does not exist)."""
    if not source.is_file():
        return {}
    doc = _read_yaml(source)
    if not isinstance(doc, dict) or not isinstance(doc.get("config") or {}, dict):
        raise UsageError(f"{source.name} must hold a YAML mapping, with `config:` a mapping")
    block: dict[str, Any] = doc.get("config") or {}
    return block


def _key(name: str) -> str:
    return name if ":" in name else f"{PULUMI_PROJECT}:{name}"


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
        committed = committed_stacks(root)
        known = ", ".join(committed) or "none"
        hint = did_you_mean(stack, committed)
        raise UsageError(f"unknown stack '{stack}': {path.name} does not exist ({hint}committed stacks: {known})")
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


def _read_yaml(source: Path) -> Any:
    """A YAML file's content; not UTF-8 or not YAML is one UsageError line with where it is."""
    data = source.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UsageError(
            f"{source.name}: not UTF-8 text (byte 0x{data[err.start]:02x} at line {line}); "
            "allowed: a UTF-8 YAML file, as Pulumi reads it (re-save it as UTF-8)"
        ) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = " ".join(str(err.problem or err.context or "").split())
        raise UsageError(f"{source.name}{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise UsageError(f"{source.name}: not valid YAML: {err}".splitlines()[0]) from None
