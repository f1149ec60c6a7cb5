"""How renderings are shown: a tree for people, JSON for machines, Markdown for pull requests."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from envctl.render import Rendering, Resource


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
        deletion = flags(r).strip(" []") or "deleted by destroy"
        lines.append(f"| `{r.name}` | `{r.type}` | {f'`{r.parent}`' if r.parent else ''} | {deletion} |")
    lines += ["", "| output | value |", "|---|---|"]
    lines += [f"| `{k}` | `{json.dumps(v, sort_keys=True)}` |" for k, v in sorted(rendering.outputs.items())]
    return "\n".join(lines) + "\n"
