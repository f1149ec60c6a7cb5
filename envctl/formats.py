"""How renderings are shown: a tree for people, JSON for machines, Markdown for pull requests."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from envctl.cards import NOT_DEPLOYED, Card
from envctl.diff import PlanDiff
from envctl.manifest import Manifest, fate
from envctl.plan import Rendering, Resource


def to_json(value: Any) -> str:
    """The one JSON encoding envctl prints: sorted keys, so two runs are byte-identical."""
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def flags(r: Resource) -> str:
    marks = []
    if r.protect:
        marks.append("protected")
    if r.retain_on_delete:
        marks.append("retained on delete")
    return f" [{', '.join(marks)}]" if marks else ""


def children(rendering: Rendering) -> dict[str | None, list[Resource]]:
    """Resources grouped by their parent's URN (None: top level), in rendering order."""
    grouped: dict[str | None, list[Resource]] = {}
    for r in rendering.resources:
        grouped.setdefault(r.parent_urn, []).append(r)
    return grouped


def render_text(renderable: Any, width: int = 120) -> str:
    """Rich output as plain text (no colour codes), for files, pipes and tests."""
    buffer = StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(renderable)
    return buffer.getvalue()


def plan_tree(rendering: Rendering) -> Tree:
    grouped = children(rendering)
    root = Tree(Text(f"stack {rendering.project}/{rendering.stack} ({len(rendering.resources)} resources)"))

    def add(node: Tree, parent: str | None) -> None:
        for r in grouped.get(parent, []):
            add(node.add(Text(f"{r.type}  {r.name}{flags(r)}")), r.urn)

    add(root, None)
    outputs = root.add(Text("outputs"))
    for key, value in sorted(rendering.outputs.items()):
        outputs.add(Text(f"{key}: {json.dumps(value, sort_keys=True)}"))
    return root


def plan_markdown(rendering: Rendering) -> str:
    protected = [r for r in rendering.resources if r.protect or r.retain_on_delete]
    lines = [
        f"### envstack plan: `{rendering.stack}` ({rendering.config.type.value}, {rendering.config.region})",
        "",
        f"{len(rendering.resources)} resources, {len(protected)} protected or retained.",
        "",
        "| resource | type | parent | deletion |",
        "|---|---|---|---|",
    ]
    for r in rendering.resources:
        verdict, detail = fate(r.to_json())  # the manifest's own reading (envctl/manifest.py)
        deletion = verdict if detail == verdict else f"{verdict}: {detail}"
        lines.append(f"| `{r.name}` | `{r.type}` | {f'`{r.parent}`' if r.parent else ''} | {deletion} |")
    lines += ["", "| output | value |", "|---|---|"]
    lines += [f"| `{k}` | `{json.dumps(v, sort_keys=True)}` |" for k, v in sorted(rendering.outputs.items())]
    return "\n".join(lines) + "\n"


def _v(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True)


def diff_text(d: PlanDiff) -> str:
    if d.empty:
        return f"no differences between {d.a} and {d.b}\n"
    lines = [f"--- {d.a}", f"+++ {d.b}"]
    lines += [f"- only in {d.a}: {r['type']}  {r['name']}" for r in d.only_in_a]
    lines += [f"+ only in {d.b}: {r['type']}  {r['name']}" for r in d.only_in_b]
    for r in d.changed:
        lines.append(f"~ {r.type}  {r.name}")
        lines += [f"    {c.path}: {_v(c.a)} -> {_v(c.b)}" for c in r.changes]
    if d.outputs:
        lines.append("~ outputs")
        lines += [f"    {c.path}: {_v(c.a)} -> {_v(c.b)}" for c in d.outputs]
    return "\n".join(lines) + "\n"


def diff_markdown(d: PlanDiff) -> str:
    lines = [f"### envstack diff: `{d.a}` → `{d.b}`", ""]
    if d.empty:
        return "\n".join([*lines, "No differences."]) + "\n"
    if d.only_in_a or d.only_in_b:
        lines += ["| side | type | resource |", "|---|---|---|"]
        lines += [f"| only in `{d.a}` | `{r['type']}` | `{r['name']}` |" for r in d.only_in_a]
        lines += [f"| only in `{d.b}` | `{r['type']}` | `{r['name']}` |" for r in d.only_in_b]
        lines.append("")
    if d.changed or d.outputs:
        lines += [f"| resource | property | `{d.a}` | `{d.b}` |", "|---|---|---|---|"]
        for r in d.changed:
            lines += [f"| `{r.name}` | `{c.path}` | `{_v(c.a)}` | `{_v(c.b)}` |" for c in r.changes]
        lines += [f"| outputs | `{c.path}` | `{_v(c.a)}` | `{_v(c.b)}` |" for c in d.outputs]
    return "\n".join(lines) + "\n"


def manifest_table(m: Manifest) -> Table:
    table = Table(title=f"pulumi destroy of {m.stack} ({m.type}): {m.verdict}", title_justify="left")
    for column in ("category", "resource", "fate", "detail"):
        table.add_column(column)
    for x in m.items:
        table.add_row(Text(x.category), Text(x.resource), Text(x.fate.upper()), Text(x.detail))
    return table


def manifest_text(m: Manifest) -> str:
    return m.warning + "\n\n" + render_text(manifest_table(m), width=160)


def manifest_markdown(m: Manifest) -> str:
    lines = [
        f"### Data-loss manifest: `{m.stack}` ({m.type})",
        "",
        f"> {m.warning}",
        "",
        f"**{m.verdict}.**",
        "",
        "| what | resource | fate | detail |",
        "|---|---|---|---|",
    ]
    lines += [f"| {x.category} | `{x.resource}` | **{x.fate}** | {x.detail} |" for x in m.items]
    return "\n".join(lines) + "\n"


def cards_table(cards: list[Card]) -> Table:
    table = Table(title="Environments", title_justify="left")
    for column in ("stack", "name", "type", "cloud provider", "region", "cluster", "created at"):
        table.add_column(column)
    for c in cards:
        if not c.deployed:
            table.add_row(Text(c.stack), Text(NOT_DEPLOYED), "", "", "", "", "")
        else:
            table.add_row(
                *(Text(v or "—") for v in (c.stack, c.name, c.type, c.cloudProvider, c.region, c.cluster, c.createdAt))
            )
    return table


def cards_markdown(cards: list[Card]) -> str:
    lines = [
        "| stack | name | type | cloud provider | region | cluster | created at |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cards:
        if not c.deployed:
            lines.append(f"| `{c.stack}` | _{NOT_DEPLOYED}_ | | | | | |")
        else:
            lines.append(
                f"| `{c.stack}` | {c.name} | {c.type} | {c.cloudProvider} | {c.region} | {c.cluster or '—'} | "
                f"{c.createdAt} |"
            )
    return "\n".join(lines) + "\n"


def findings_text(stack: str, env_type: str | None, findings: list[Any]) -> str:
    mandatory = sum(f.level == "mandatory" for f in findings)
    head = f"policy check of {stack} ({env_type or 'unknown type: held to prod'}): "
    head += f"{mandatory} mandatory, {len(findings) - mandatory} advisory finding(s)"
    if not findings:
        return head + "\n"
    table = Table(title=head, title_justify="left")
    for column in ("rule", "resource", "level", "message"):
        table.add_column(column)
    for f in findings:
        table.add_row(Text(f.rule), Text(f.resource), Text(f.level.upper()), Text(f.message))
    return render_text(table, width=160)


def findings_markdown(stack: str, env_type: str | None, findings: list[Any]) -> str:
    lines = [f"### envstack policy check: `{stack}` ({env_type})", ""]
    if not findings:
        return "\n".join([*lines, "No findings."]) + "\n"
    lines += ["| rule | resource | level | message |", "|---|---|---|---|"]
    lines += [f"| `{f.rule}` | `{f.resource}` | **{f.level}** | {f.message} |" for f in findings]
    return "\n".join(lines) + "\n"


def rules_markdown(rows: list[dict[str, str]], types: tuple[str, ...]) -> str:
    lines = ["| rule | " + " | ".join(types) + " | what it checks | scanner IDs |", "|---" * (len(types) + 3) + "|"]
    for row in rows:
        levels = " | ".join(row[t] for t in types)
        lines.append(f"| `{row['rule']}` | {levels} | {row['checks']} | {row['ids']} |")
    return "\n".join(lines) + "\n"


def rules_table(rows: list[dict[str, str]], types: tuple[str, ...]) -> Table:
    table = Table(title="policy rules: level per environment type", title_justify="left")
    for column in ("rule", *types, "what it checks", "scanner IDs"):
        table.add_column(column)
    for row in rows:
        table.add_row(Text(row["rule"]), *(Text(row[t]) for t in types), Text(row["checks"]), Text(row["ids"]))
    return table
