"""The packages stand alone: `pip install .` gives a working envctl, the policy pack loads from
its own requirements, `envctl access` names the extra it needs, and every pin has one value.

The two virtualenv tests are end to end: a fresh virtualenv (`venv --without-pip`, nothing
inherited), this checkout's pip installing from the package registry exactly as a user's would,
and the real entry points (the `envctl` console script; `python -m pulumi.policy`, which is how
the Pulumi CLI starts a Python pack). They take tens of seconds each: marked `slow`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from envctl import access
from envctl.cli import app
from envctl.stackfiles import project_root
from policies import pack, rules
from tests.support.program import ROOT, runner

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)$")


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing that points Python at this checkout or its venv."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "ENVSTACK_ROOT"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _fresh_venv(path: Path) -> Path:
    """A virtualenv with nothing installed, not even pip: this checkout's pip installs into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


def _pip_install(python: Path, *args: str, cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile", *args],
        cwd=cwd,
        env={**_clean_env(), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"pip install {' '.join(args)} failed:\n{proc.stderr[-4000:]}"


def _checkout_copy(dest: Path) -> Path:
    """The checkout's files (tracked, and new ones git does not ignore), without .venv or caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    files = [name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    assert "pyproject.toml" in files and "envctl/cli.py" in files
    for name in files:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _pins(lines: list[str], source: str) -> dict[str, tuple[str, str]]:
    """{normalised name: (version, source)} of the requirement lines (options and comments skipped)."""
    found = {}
    for text in lines:
        line = text.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{source}: {line!r} is not pinned exactly (name==version)"
        found[re.sub(r"[-_.]+", "-", match["name"]).lower()] = (match["version"], source)
    return found


def _requirement_lines(path: str) -> list[str]:
    return (ROOT / path).read_text().splitlines()


def test_every_dependency_has_one_pin_and_the_project_reads_requirements_txt() -> None:
    """requirements.txt owns the runtime pins: pyproject.toml's `dependencies` is that file. Every
    other list (the dev tools, the extras, the pack's own, the build backends) restates a pin of
    the same package with the same version, so no two virtualenvs disagree."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pack_project = tomllib.loads((ROOT / "policies/pyproject.toml").read_text())
    assert "dependencies" in project["project"]["dynamic"] and "dependencies" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    lists = {
        "requirements.txt": _requirement_lines("requirements.txt"),
        "requirements-dev.txt": _requirement_lines("requirements-dev.txt"),
        "policies/requirements.txt": _requirement_lines("policies/requirements.txt"),
        "pyproject.toml [build-system]": project["build-system"]["requires"],
        "policies/pyproject.toml [build-system]": pack_project["build-system"]["requires"],
        **{f"pyproject.toml extra {k}": v for k, v in project["project"]["optional-dependencies"].items()},
    }
    seen: dict[str, tuple[str, str]] = {}
    disagreements = []
    for source, lines in lists.items():
        for name, (version, _) in _pins(lines, source).items():
            first = seen.setdefault(name, (version, source))
            if first[0] != version:
                disagreements.append(f"{name}: {first[0]} in {first[1]}, {version} in {source}")
    assert disagreements == []
    assert {"pulumi", "pulumi-aws", "typer", "moto", "pulumi-policy", "setuptools"} <= set(seen)
    # The dev virtualenv holds every extra, so the suite runs every command.
    dev = _pins(lists["requirements-dev.txt"], "requirements-dev.txt")
    for extra, requirements in project["project"]["optional-dependencies"].items():
        assert set(_pins(requirements, extra)) <= set(dev), f"extra {extra!r} is not in requirements-dev.txt"


def test_a_line_without_an_exact_pin_is_refused() -> None:
    assert _pins(["psycopg[binary]==3.3.9  # why", "-r other.txt", ""], "x") == {"psycopg": ("3.3.9", "x")}
    with pytest.raises(AssertionError, match=r"x: 'moto>=5' is not pinned exactly"):
        _pins(["moto>=5"], "x")


def test_envctl_access_without_the_evaluator_names_the_extra_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto is the `access` extra: without it, one line naming the extra and exit 2 (never 3,
    "a bug in envctl"). A None entry in sys.modules makes the import fail as a missing module does."""
    monkeypatch.setitem(sys.modules, "moto.iam.access_control", None)
    out = runner.invoke(app, ["access", str(ROOT / "tests" / "snapshots" / "dev.json")])
    assert out.exit_code == 2, out.output
    assert out.stderr == (
        "envctl: access needs moto's IAM policy engine, which is not installed "
        "(no module 'moto.iam.access_control'): install the extra from your envstack checkout, "
        "`pip install '.[access]'`\n"
    )
    assert access.EXTRA in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_an_installed_envctl_finds_its_project_as_the_pulumi_cli_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENVSTACK_ROOT, else the nearest directory from the working directory up holding a
    Pulumi.yaml, else the checkout (an editable install's)."""
    monkeypatch.delenv("ENVSTACK_ROOT", raising=False)
    (tmp_path / "project" / "sub").mkdir(parents=True)
    (tmp_path / "project" / "Pulumi.yaml").write_text("name: envstack\n")
    monkeypatch.chdir(tmp_path / "project" / "sub")
    assert project_root() == tmp_path / "project"
    monkeypatch.chdir(tmp_path)
    assert project_root() == ROOT
    (tmp_path / "elsewhere").mkdir()  # ENVSTACK_ROOT wins over the working directory (a missing one is refused)
    monkeypatch.setenv("ENVSTACK_ROOT", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path / "project")
    assert project_root() == tmp_path / "elsewhere"


@pytest.mark.slow
def test_pip_install_in_a_fresh_virtualenv_gives_an_envctl_that_renders_and_checks_dev(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    _pip_install(python, str(_checkout_copy(tmp_path / "src")), cwd=tmp_path)
    envctl = tmp_path / "venv" / "bin" / "envctl"
    where = subprocess.run(
        [str(python), "-c", "import envctl, components, policies; print(envctl.__file__, components.__file__)"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(p.startswith(str(tmp_path / "venv" / "lib")) for p in where), where  # installed, not the checkout

    def envctl_in_repo(*args: str) -> subprocess.CompletedProcess[str]:
        """`envctl ARGS` from the repository directory, as the README runs it."""
        return subprocess.run(
            [str(envctl), *args], cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False
        )

    plan = envctl_in_repo("plan", "dev", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert "envstack-dev-files" in {r["name"] for r in json.loads(plan.stdout)["resources"]}
    check = envctl_in_repo("check", "dev", "--format", "json")
    assert check.returncode == 0, check.stderr
    found = json.loads(check.stdout)
    assert found["stack"] == "dev" and not [f for f in found["findings"] if f["level"] == "mandatory"]
    # moto is not a dependency, only the `access` extra: the command says so and exits 2.
    evaluated = envctl_in_repo("access", "dev")
    assert evaluated.returncode == 2, evaluated.stderr
    assert evaluated.stderr.count("\n") == 1 and "no module 'moto'" in evaluated.stderr
    assert "pip install '.[access]'" in evaluated.stderr


def test_the_pack_imports_nothing_of_the_project_but_itself() -> None:
    """The copy below is policies/ alone: no module of the pack, the contracts included, imports
    the program, envctl, the tests or the tooling."""
    imported = set()
    for path in sorted((ROOT / "policies").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
    assert "policies.contracts" in imported  # the walk reaches the pack's imports
    assert {m for m in imported if m.split(".")[0] in ("components", "envctl", "tests", "devtools", "scripts")} == set()


@pytest.mark.slow
def test_the_policy_pack_loads_in_a_fresh_virtualenv_from_its_own_requirements(tmp_path: Path) -> None:
    """A copy of policies/ alone in a temporary directory; its virtualenv made from its
    own requirements.txt, with pip run in the pack's folder as the Pulumi CLI runs it; the pack
    started as the Pulumi CLI starts it. It serves every rule, at both levels, over gRPC."""
    folder = tmp_path / "policies"
    shutil.copytree(
        ROOT / "policies", folder, ignore=shutil.ignore_patterns("venv", "__pycache__", "*.egg-info", "build")
    )
    virtualenv = yaml.safe_load((folder / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
    python = _fresh_venv(folder / virtualenv)
    _pip_install(python, "-r", "requirements.txt", cwd=folder)
    proc = subprocess.Popen(
        [str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=folder,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "the policy pack printed no port within 120 s"
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert info.name == pack.PACK_NAME
    served = sorted(p.name for p in info.policies)
    assert served == sorted(name for r in rules.RULES for name in (r.name, f"{r.name}-advisory"))
