"""One owner per fact, enforced where the fact lives: type tokens and tag keys belong to
policies/contracts/conventions.py, physical-name forms to policies/contracts/names.py, the stack config keys
to components/config_keys.py. No other module of the program, the CLI, the policy pack or the tooling spells
one of them out (a docstring may describe them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from components.config import StackConfig
from policies.contracts import conventions, names
from tests.support.program import ROOT

OWNERS = {ROOT / "policies" / "contracts" / "conventions.py", ROOT / "policies" / "contracts" / "names.py"}
TOKEN = re.compile(r"^[a-z][\w-]*:[\w/-]*:\w+$")  # package:module:Type
# Forms appended to a name (`f"{name}-writer"`, `name + "-logs"`): a literal that starts with one,
# or has one after a character that cannot be part of a word (`db:{c}-writer` is two parts).
SUFFIXES = (
    names.WRITER,
    names.FINAL_SNAPSHOT,
    names.FINAL_SNAPSHOT_SUFFIX,
    names.LOGS,
    names.PROVISIONER_SECRET,
    names.role_policy("-runtime"),
    names.role_suffix("runtime"),  # how every runtime role's logical name ends
    f"{names.FINAL_SNAPSHOT[:-1]}*",  # `-final*`: a glob over a cluster's final snapshots
)
# Forms that are a name form wherever they occur.
ANYWHERE = (
    names.LABEL,
    names.PREVIEWS,
    f"/{names.KEY_INDEX}/",
    names.RUNTIME_POLICY_NAME,
    names.MASTER_USERNAME,
    names.boundary_policy_name(""),
)
# The IAM path, where it is a path: at the start of a string, or after an IAM ARN's resource type
# (`role/envstack/...`, `policy/envstack/...`). Not `org/envstack/stack`, a stack reference.
IAM_PATH = re.compile(rf"(?:^|\b(?:role|policy)){re.escape(names.IAM_PATH)}")


def _modules() -> list[Path]:
    """Every Python module of the program, the CLI, the pack (its subpackages included) and the
    tooling, and the program's entry point."""
    packages = ("components", "envctl", "policies", "devtools", "scripts")
    found = [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))] + [ROOT / "__main__.py"]
    return [p for p in found if p not in OWNERS and ".venv" not in p.parts and "venv" not in p.parts]


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    literals = [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    ordered = sorted(literals, key=lambda n: (n.lineno, n.col_offset))
    return [(n.lineno, str(n.value)) for n in ordered if id(n) not in skip]


def _is_prefix(node: ast.AST) -> bool:
    """`PREFIX` or `names.PREFIX`: the physical-name prefix."""
    return (isinstance(node, ast.Name) and node.id == "PREFIX") or (
        isinstance(node, ast.Attribute) and node.attr == "PREFIX"
    )


def _forms(path: Path) -> list[tuple[int, str]]:
    """Name forms built from parts rather than spelled out: `f"{names.PREFIX}-..."` (the
    `envstack-<stem>-` form is names.scope's), the prefix under another name (`p = names.PREFIX`),
    and a dynamic resource's type token given as `module=`/`name=` literals."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            pairs = zip(node.values, node.values[1:], strict=False)
            if any(
                isinstance(part, ast.FormattedValue)
                and _is_prefix(part.value)
                and isinstance(after, ast.Constant)
                and str(after.value).startswith("-")
                for part, after in pairs
            ):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Assign) and _is_prefix(node.value):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ClassDef):
            literal = [k for k in node.keywords if k.arg in ("module", "name") and isinstance(k.value, ast.Constant)]
            found += [(node.lineno, ast.unparse(k)) for k in literal]
    return found


def restatements(path: Path, root: Path = ROOT) -> list[str]:
    """Every literal of `path` that spells out a type token or a name form of names.py, and every
    name form it builds from parts (`_forms`)."""
    found = list(_forms(path))
    for line, text in _literals(path):
        suffix = any(text.startswith(form) or re.search(rf"[^\w-]{re.escape(form)}", text) for form in SUFFIXES)
        # `pr-{number}`, `^pr-([1-9]...`: the preview prefix before a number or a pattern.
        preview = re.match(rf"\^?{re.escape(names.PREVIEW_PREFIX)}(?:$|[0-9*(\[{{])", text) is not None
        path_ = IAM_PATH.search(text) is not None
        if TOKEN.match(text) or suffix or preview or path_ or any(form in text for form in ANYWHERE):
            found.append((line, repr(text)))
    return [f"{path.relative_to(root)}:{line}: {text}" for line, text in sorted(found)]


def test_no_module_restates_a_type_token_or_a_name_form() -> None:
    modules = _modules()
    assert {
        "components/access.py",
        "components/cluster.py",
        "envctl/iam.py",
        "policies/rules_s3.py",
        "policies/contracts/__init__.py",
        "scripts/terraform_mapping.py",
        "devtools/mutation.py",
        "__main__.py",
    } <= {str(p.relative_to(ROOT)) for p in modules}
    assert [entry for path in modules for entry in restatements(path)] == []


CONTRACTS = ("policies.contracts.names", "policies.contracts.conventions", "policies.contracts.arns")


def aliases(path: Path, root: Path = ROOT) -> list[str]:
    """Every second name `path` gives a fact of the contracts: `X = names.X`, `X = Y` for a `Y`
    imported from a contract, and an `__all__` that re-exports one."""
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module in CONTRACTS
        for alias in node.names
    }
    found = []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        value, targets = node.value, [t.id for t in node.targets if isinstance(t, ast.Name)]
        if targets == ["__all__"] and isinstance(value, ast.List | ast.Tuple):
            found += [f"__all__: {e.value}" for e in value.elts if isinstance(e, ast.Constant) and e.value in imported]
        elif (isinstance(value, ast.Name) and value.id in imported) or (
            isinstance(value, ast.Attribute)
            and isinstance(value.value, ast.Name)
            and value.value.id in {"names", "conventions", "arns"}
        ):
            found.append(ast.unparse(node))
    return [f"{path.relative_to(root)}: {entry}" for entry in found]


def test_no_module_gives_a_contract_fact_a_second_name() -> None:
    assert [entry for path in _modules() for entry in aliases(path)] == []


def test_the_alias_check_sees_each_kind(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from policies.contracts import names\n"
        "from policies.contracts.conventions import ROLE, TAG_TYPE\n"
        "from policies.contracts.names import LABEL\n"
        "__all__ = ['TAG_TYPE', 'f']\n"
        "A = names.MASTER_USERNAME\n"
        "B = LABEL\n"
        "C = names.label('x')\n"
        "D = ROLE + ':x'\n"
    )
    assert aliases(source, tmp_path) == [
        "m.py: __all__: TAG_TYPE",
        "m.py: A = names.MASTER_USERNAME",
        "m.py: B = LABEL",
    ]


def test_the_pack_restates_no_tag_key_nor_the_placeholder() -> None:
    """The pack reads tags and the secret placeholder by conventions.py's names, never by value.
    (The CLI may: `envstack:type` is also a config key, owned by components/config_keys.py.)"""
    owned = {v for k, v in vars(conventions).items() if k.startswith("TAG_") or k == "SECRET_PLACEHOLDER"}
    restated = [
        f"{path.name}:{line}: {text!r}"
        for path in sorted((ROOT / "policies").rglob("*.py"))
        if path not in OWNERS
        for line, text in _literals(path)
        if text in owned
    ]
    assert restated == []


def test_the_check_sees_each_kind_of_restatement(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        '"""A docstring may say envstack:index:Files, -writer and pr-*."""\n'
        'A = "envstack:index:Files"\n'
        'B = f"{name}-writer"\n'
        'C = f"db:{c}-writer"\n'
        'D = f"Runtime role of envstack environment {env}"\n'
        'E = f"pr-{number}"\n'
        'F = "/envstack/p/api-keys/x"\n'
        'G = "expire-access-logs"\n'
        'H = "unique-final-snapshot"\n'
        'I = "/envstack/"\n'
        'J = "acme/envstack/staging"\n'
        'K = "2026-01-01T00:00:00Z"\n'
        'L = "pr-config"\n'
        'M = r"^pr-([1-9][0-9]*)$"\n'
        'N = f"{names.PREFIX}-{stem}-*"\n'
        'O = f"{PREFIX} provisioner"\n'
        "p = names.PREFIX\n"
        'Q = "-runtime"\n'
        'R = f"cluster-snapshot:{c}-final*"\n'
        'S = "arn:aws:iam::1:policy/envstack/runtime-boundary-acme"\n'
        'class T(Resource, module="envstack", name="T"): ...\n'
    )
    found = [entry.split(": ", 1)[1] for entry in restatements(source, tmp_path)]
    assert found == [
        "'envstack:index:Files'",
        "'-writer'",
        "'-writer'",
        "'Runtime role of envstack environment '",
        "'pr-'",
        "'/envstack/p/api-keys/x'",
        "'/envstack/'",
        "'^pr-([1-9][0-9]*)$'",
        "f'{names.PREFIX}-{stem}-*'",
        "p = names.PREFIX",
        "'-runtime'",
        "'-final*'",
        "'arn:aws:iam::1:policy/envstack/runtime-boundary-acme'",
        "module='envstack'",
        "name='T'",
    ]


# The stack config keys, read from the config contract's model (its aliases), so this list cannot
# lag behind the schema. Only components/config_keys.py spells them out; conventions.py spells the
# tag keys, some of which are written alike (`envstack:type` the tag, `envstack:type` the key).
CONFIG_KEYS = frozenset(field.alias for field in StackConfig.model_fields.values() if field.alias)
KEY_OWNER = ROOT / "components" / "config_keys.py"
TAG_OWNER = ROOT / "policies" / "contracts" / "conventions.py"
TAG_KEYS = frozenset(v for k, v in vars(conventions).items() if k.startswith("TAG_"))


def _is_key(text: str) -> bool:
    """A config key, or a path into an object-valued one (`envstack:cluster.create`)."""
    return text in CONFIG_KEYS or any(text.startswith(f"{key}.") for key in CONFIG_KEYS)


def _is_namespace(node: ast.AST) -> bool:
    """`PULUMI_PROJECT` or `conventions.PULUMI_PROJECT`: the config keys' namespace."""
    return (isinstance(node, ast.Name) and node.id == "PULUMI_PROJECT") or (
        isinstance(node, ast.Attribute) and node.attr == "PULUMI_PROJECT"
    )


def key_spellings(path: Path, root: Path = ROOT) -> list[str]:
    """Every literal of `path` (docstrings aside) that is a config key, whole or at the start of a
    path into one, and every key built from the namespace (`f"{PULUMI_PROJECT}:type"`)."""
    tags = TAG_KEYS if path == TAG_OWNER else frozenset()
    found = [(line, repr(text)) for line, text in _literals(path) if text not in tags and _is_key(text)]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            pairs = zip(node.values, node.values[1:], strict=False)
            if any(
                isinstance(part, ast.FormattedValue)
                and _is_namespace(part.value)
                and isinstance(after, ast.Constant)
                and _is_key(conventions.PULUMI_PROJECT + str(after.value))
                for part, after in pairs
            ):
                found.append((node.lineno, ast.unparse(node)))
    return [f"{path.relative_to(root)}:{line}: {text}" for line, text in sorted(found)]


def test_no_module_spells_out_a_config_key() -> None:
    """Code that reads or writes a stack config key names it by components/config_keys.py's KEY
    (a tag key by conventions.TAG_*); help text and docstrings may describe a key in prose."""
    modules = [p for p in _modules() if p != KEY_OWNER] + sorted(OWNERS)  # the name and tag owners too
    assert {
        "components/config.py",
        "components/config_errors.py",
        "envctl/pr.py",
        "envctl/environments.py",
        "policies/contracts/conventions.py",
    } <= {str(p.relative_to(ROOT)) for p in modules}
    assert [entry for path in modules for entry in key_spellings(path)] == []


def test_the_key_check_sees_each_kind(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        '"""A docstring may say envstack:type and aws:region."""\n'
        'A = {"aws:region": r}\n'
        'B = config.get("envstack:type")\n'
        'C = f"envstack:cluster.{key}"\n'
        'D = f"{PULUMI_PROJECT}:permissionsBoundary"\n'
        'E = f"{conventions.PULUMI_PROJECT}:cluster.arn"\n'
        'F = "envstack:platformPrincipals: an IAM role ARN; repeatable."\n'
        'G = "envstack:environment"\n'
        'H = f"{PULUMI_PROJECT}:{name}"\n'
        'I = "envstack:typo"\n'
    )
    found = [entry.split(": ", 1)[1] for entry in key_spellings(source, tmp_path)]
    assert found == [
        "'aws:region'",
        "'envstack:type'",
        "'envstack:cluster.'",
        "f'{PULUMI_PROJECT}:permissionsBoundary'",
        "f'{conventions.PULUMI_PROJECT}:cluster.arn'",
    ]
