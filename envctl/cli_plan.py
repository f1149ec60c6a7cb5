"""The offline review commands: plan, diff, manifest, snapshot, check and rules. Each renders or
reads a plan and prints it in the chosen format (envctl/cli_common.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from envctl import formats, terraform_plan
from envctl.cli_common import FormatOption, PlanFormat, ViewFormat, emit, guarded, rendering_of, show
from envctl.console import EXIT_FAILURE, EXIT_USAGE, err_console, fail
from envctl.diff import diff_plans
from envctl.errors import UsageError
from envctl.manifest import manifest as manifest_of
from envctl.plan import read_plan_file
from envctl.render import load_plan
from envctl.stackfiles import committed_stacks, project_root


def plan(
    stack: Annotated[str, typer.Argument(help="A committed stack: Pulumi.<STACK>.yaml.")],
    format: Annotated[
        PlanFormat,
        typer.Option("--format", "-f", help="text (the resource tree; also: tree), json, markdown or terraform-plan."),
    ] = PlanFormat.text,
) -> None:
    """Render what STACK declares, offline: no credentials, network, Pulumi CLI or backend."""
    rendering = rendering_of(stack)
    if format is PlanFormat.terraform_plan:
        result = terraform_plan.export(rendering.to_json())
        err_console.print(terraform_plan.left_out_line(result.left_out), markup=False, highlight=False, soft_wrap=True)
        emit(formats.to_json(result.plan))
        return
    show(
        format,
        json=rendering.to_json,
        markdown=lambda: formats.plan_markdown(rendering),
        text=lambda: formats.render_text(formats.plan_tree(rendering)),
    )


def diff(
    a: Annotated[str, typer.Argument(help="A committed stack, or a saved plan JSON file (e.g. a snapshot).")],
    b: Annotated[str, typer.Argument(help="The stack or plan file to compare with.")],
    format: FormatOption = ViewFormat.text,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when there are differences.")] = False,
) -> None:
    """Show what differs between two renderings or saved plans.

    E.g. `diff dev prod` (what prod has that dev doesn't), or `diff tests/snapshots/prod.json
    prod` (the program against its snapshot)."""
    plan_a = guarded(lambda: load_plan(a), f"rendering {a}")
    plan_b = guarded(lambda: load_plan(b), f"rendering {b}")
    result = diff_plans(plan_a, plan_b, a, b)
    show(
        format,
        json=result.to_json,
        markdown=lambda: formats.diff_markdown(result),
        text=lambda: formats.diff_text(result),
    )
    if exit_code and not result.empty:
        raise typer.Exit(EXIT_FAILURE)


def manifest(
    stack: Annotated[str, typer.Argument(help="A committed stack, or a saved plan JSON file.")],
    format: FormatOption = ViewFormat.text,
) -> None:
    """Show what `pulumi destroy` of STACK would permanently delete: the data-loss manifest.

    Tables, data, users, API keys and files, and what is protected or retained."""
    result = manifest_of(guarded(lambda: load_plan(stack), f"rendering {stack}"))
    show(
        format,
        json=result.to_json,
        markdown=lambda: formats.manifest_markdown(result),
        text=lambda: formats.manifest_text(result),
    )


def snapshot(
    check: Annotated[bool, typer.Option("--check", help="Only report drift; write nothing.")] = False,
) -> None:
    """Write tests/snapshots/<stack>.json, the golden rendering, for every committed stack."""
    drifted = []
    root = project_root()
    snapshots = root / "tests" / "snapshots"
    stacks = committed_stacks(root)
    if not stacks:  # a wrong ENVSTACK_ROOT must never pass as "no drift"
        fail(
            f"no committed stacks (Pulumi.<stack>.yaml) in {root}: nothing to {'check' if check else 'write'}",
            EXIT_USAGE,
        )
    for stack in stacks:
        text = formats.to_json(rendering_of(stack).to_json())
        path = snapshots / f"{stack}.json"
        if path.is_file() and path.read_text() == text:
            continue
        drifted.append(stack)
        if not check:
            snapshots.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if check and drifted:
        fail(f"snapshots drifted for {', '.join(drifted)}; review, then run `python -m envctl snapshot`")
    err_console.print(f"snapshots {'checked' if check else 'written'}: {', '.join(stacks)}")


def check(
    stack: Annotated[str | None, typer.Argument(help="A committed stack to render and check.")] = None,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="A saved plan JSON (`envctl plan STACK --format json`).")
    ] = None,
    format: FormatOption = ViewFormat.text,
) -> None:
    """Run the policy pack's rules offline on STACK's rendering or on a saved plan.

    Exits 1 when a mandatory rule is violated; advisory findings are printed but do not fail."""
    from policies import rules

    if (stack is None) == (plan_file is None):
        fail("give either a STACK or --plan FILE", EXIT_USAGE)
    if plan_file is not None:
        plan = guarded(lambda: read_plan_file(plan_file), "reading the plan")
    else:
        plan = guarded(lambda: load_plan(str(stack)), f"rendering {stack}")
    try:
        model = rules.from_plan(plan)
    except rules.PlanVersionError as err:
        raise UsageError(f"{plan_file or stack}: {err}") from None
    findings = rules.evaluate(model)
    show(
        format,
        json=lambda: {
            "stack": plan["stack"],
            "type": model.env_type,
            "findings": [
                {"rule": f.rule, "resource": f.resource, "level": f.level, "message": f.message} for f in findings
            ],
        },
        markdown=lambda: formats.findings_markdown(plan["stack"], model.env_type, findings),
        text=lambda: formats.findings_text(plan["stack"], model.env_type, findings),
    )
    if any(f.level == rules.MANDATORY for f in findings):
        raise typer.Exit(EXIT_FAILURE)


def list_rules(
    format: FormatOption = ViewFormat.text,
) -> None:
    """List every policy rule: its level per environment type, what it checks, and scanner IDs."""
    from policies import rules

    types = ("dev", "custom", "staging", "prod")
    rows = [
        {"rule": r.name, **{t: r.level(t) for t in types}, "checks": r.description, "ids": r.ids} for r in rules.RULES
    ]
    show(
        format,
        json=lambda: rows,
        markdown=lambda: formats.rules_markdown(rows, types),
        text=lambda: formats.render_text(formats.rules_table(rows, types), width=160),
    )
