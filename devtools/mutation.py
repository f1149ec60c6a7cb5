"""The driver behind `scripts/mutation`: run mutmut over modules and tabulate the result.

mutmut names each mutant `<module>.<function>__mutmut_<n>` (methods as `xǁClassǁmethod`).
A survivor counts against a module unless `tests/mutation-equivalents.txt` lists it with a
reason: one `mutant-name  # why it cannot change behaviour` per line.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.txt"
MUTMUT = Path(sys.executable).parent / "mutmut"

# The modules that guard data: config contract, the name grammar, per-type settings, the SQL plan and
# its executors, the table store provider, the policy pack's model, offline adapter and rules,
# and the PR guard and sweep; then the modules whose output a user acts on: the review
# commands (plan, diff, the data-loss manifest, the PR comment, the stack files), the access
# reports and the runtime role, the CI roles' IAM policies, the key resolver and its records,
# and the Environments page (cards, page and its data).
DEFAULT_MODULES = (
    "components/config.py",  # its validators are measured by tests/components/test_config.py EXACT_MESSAGES
    "components/config_errors.py",
    "components/aws_facts.py",
    "policies/contracts/names.py",  # the name grammar
    "policies/contracts/arns.py",  # the one ARN parser
    "policies/contracts/conventions.py",
    "components/settings.py",
    "components/sql.py",
    "components/executors.py",
    "components/tables.py",
    "components/protection.py",
    "policies/model.py",
    "policies/plan_adapter.py",
    "policies/rules_s3.py",
    "policies/rules_kms.py",
    "policies/rules_rds.py",
    "policies/rules_cognito.py",
    "policies/rules_secrets.py",
    "policies/rules_isolation.py",
    "policies/rules_lifecycle.py",
    "policies/rules_access.py",
    "policies/rules.py",
    "envctl/pr.py",
    "envctl/plan.py",
    "envctl/diff.py",
    "envctl/manifest.py",
    "envctl/comment.py",
    "envctl/stackfiles.py",
    "envctl/access.py",
    "components/access.py",
    "envctl/iam.py",
    "components/resolver.py",
    "components/records.py",
    "envctl/cards.py",
    "envctl/page.py",
    "envctl/pagedata.py",
)


class UsageError(Exception):
    """A bad argument: one line that says what is allowed."""


def module_name(path: str) -> str:
    """`components/sql.py` -> `components.sql`; refuses anything that is not a source module."""
    p = Path(path)
    if p.suffix != ".py" or p.is_absolute() or not (ROOT / p).is_file():
        raise UsageError(f"{path}: not a Python module of this repository (give a path such as components/sql.py)")
    if p.parts[0] not in ("components", "envctl", "policies"):
        raise UsageError(f"{path}: mutmut mutates only components/, envctl/ and policies/ (see [tool.mutmut])")
    return ".".join(p.with_suffix("").parts)


def defines_functions(path: str) -> bool:
    """Whether the module defines a function or method: mutmut mutates only their bodies, so a
    module of constants and re-exports (components/__init__.py, empty) rightly has no mutants."""
    tree = ast.parse((ROOT / path).read_text())
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(tree))


def read_equivalents(text: str) -> dict[str, str]:
    """`name  # reason` lines; blank lines and lines starting with `#` are ignored. A listed
    mutant without a reason is refused: an equivalent must say why it is one."""
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, reason = line.partition("#")
        if not reason.strip():
            raise UsageError(f"{EQUIVALENTS.name}:{number}: '{name.strip()}' needs a reason after '#'")
        listed[name.strip()] = reason.strip()
    return listed


def parse_results(text: str) -> dict[str, str]:
    """`mutmut results --all true` lines (`    name: status`) -> {name: status}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            out[name] = status.strip()
    return out


@dataclass(frozen=True)
class Row:
    module: str
    mutants: int
    killed: int
    survived: int
    unexplained: tuple[str, ...]
    other: dict[str, int]

    @property
    def score(self) -> str:
        """Killed share with the listed equivalents left out."""
        considered = self.mutants - (self.survived - len(self.unexplained))
        return f"{100 * self.killed / considered:.1f}%" if considered else "n/a"


# mutmut's verdicts that mean a test noticed the mutant. Every other verdict ("survived",
# "no tests", "suspicious", "skipped", "not checked", ...) leaves the mutant alive: it counts as
# a survivor, and must be killed or listed as an equivalent.
KILLED = frozenset({"killed", "timeout", "segfault", "caught by type check"})


def tabulate(modules: list[str], results: dict[str, str], equivalents: dict[str, str]) -> list[Row]:
    rows = []
    for module in modules:
        mine = {n: s for n, s in results.items() if n.startswith(module + ".")}
        counts = Counter(mine.values())
        survivors = [n for n, s in mine.items() if s not in KILLED]
        rows.append(
            Row(
                module=module,
                mutants=len(mine),
                killed=sum(c for s, c in counts.items() if s in KILLED),
                survived=len(survivors),
                unexplained=tuple(sorted(n for n in survivors if n not in equivalents)),
                # Verdicts other than plain "killed" and "survived", shown beside the count they are in.
                other={s: c for s, c in counts.items() if s not in ("killed", "survived")},
            )
        )
    return rows


def render_table(rows: list[Row]) -> str:
    lines = [
        "| module | mutants | killed | survived | survivors not listed as equivalent | killed, equivalents excluded |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        dead = "".join(f" ({c} {s})" for s, c in sorted(r.other.items()) if s in KILLED)
        alive = "".join(f" ({c} {s})" for s, c in sorted(r.other.items()) if s not in KILLED)
        counts = f"{r.mutants} | {r.killed}{dead} | {r.survived}{alive} | {len(r.unexplained)}"
        lines.append(f"| `{r.module}` | {counts} | {r.score} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="modules to mutate (default: the modules that guard data)")
    parser.add_argument("--fresh", action="store_true", help="discard mutmut's cache (mutants/) first")
    args = parser.parse_args(argv)
    try:
        modules = [module_name(p) for p in (args.paths or DEFAULT_MODULES)]
        equivalents = read_equivalents(EQUIVALENTS.read_text() if EQUIVALENTS.is_file() else "")
    except UsageError as err:
        print(f"scripts/mutation: {err}", file=sys.stderr)
        return 2
    if args.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    patterns = [f"{m}.*" for m in modules]
    run = subprocess.run([str(MUTMUT), "run", *patterns], cwd=ROOT, check=False)
    if run.returncode != 0:  # e.g. the suite failed under mutmut: nothing it printed can be trusted
        print(f"scripts/mutation: mutmut run exited {run.returncode}; see its output above", file=sys.stderr)
        return 1
    listing = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    rows = tabulate(modules, parse_results(listing), equivalents)
    print(render_table(rows))
    unexplained = [n for r in rows for n in r.unexplained]
    paths = dict(zip(modules, args.paths or DEFAULT_MODULES, strict=True))
    if any(r.mutants == 0 and defines_functions(paths[r.module]) for r in rows):
        print("scripts/mutation: a module produced no mutants; is it covered by [tool.mutmut] source_paths?")
        return 1
    for name in unexplained:
        print(f"survived, not listed as equivalent: {name}  (see: .venv/bin/mutmut show {name})")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
