"""The command-line interface: one thin command per feature (arguments, options, --format), calling
the module that owns the logic; every error reaches the one boundary in envctl/console.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from components.config import PROJECT
from envctl import access as access_mod
from envctl import cards as cards_mod
from envctl import comment, formats, pr, terraform_plan
from envctl.console import EXIT_FAILURE, EXIT_USAGE, Boundary, err_console, fail, progress
from envctl.db import db_app
from envctl.diff import diff_plans
from envctl.errors import UsageError
from envctl.manifest import manifest as manifest_of
from envctl.plan import Rendering, read_plan_file
from envctl.render import load_plan, render
from envctl.stackfiles import committed_stacks, project_root, read_json_file

app = typer.Typer(
    name="envctl",
    help="envstack's helper: render, review and check environments offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Boundary,  # the one error boundary: envctl/console.py
)
app.add_typer(db_app, name="db")
T = TypeVar("T")


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    tree = "tree"  # the text format's older name
    terraform_plan = "terraform-plan"  # Terraform's plan JSON, for Terraform-plan scanners


class ViewFormat(StrEnum):
    """The --format values every command shares (cards adds html)."""

    text = "text"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[ViewFormat, typer.Option("--format", "-f", help="text, json or markdown.")]


@app.callback()
def main() -> None:
    """envstack's helper: render, review and check environments offline."""


def guarded(action: Callable[[], T], what: str) -> T:
    """Run one step under a progress spinner; its errors reach the boundary (envctl/console.py)."""
    with progress(what):
        return action()


def rendering_of(stack: str) -> Rendering:
    return guarded(lambda: render(stack), f"rendering {stack}")


def emit(text: str) -> None:
    sys.stdout.write(text)


def show(format: StrEnum, *, json: Callable[[], Any], markdown: Callable[[], str], text: Callable[[], str]) -> None:
    """Print a result in the chosen format: JSON (sorted, stable), Markdown, or text (tree/table)."""
    if format.value == "json":
        emit(formats.to_json(json()))
    elif format.value == "markdown":
        emit(markdown())
    else:
        emit(text())


@app.command()
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


@app.command()
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


@app.command()
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


class CardsFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


@app.command()
def cards(  # noqa: PLR0917 (one parameter per option, as typer wants)
    stacks: Annotated[
        list[str] | None, typer.Argument(help="Stacks to show (default: the committed stacks).", show_default=False)
    ] = None,
    from_files: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Saved `pulumi stack output --json --stack S > S.json` files; repeatable."),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Read the project's environment records from SSM Parameter Store.")
    ] = False,
    project: Annotated[str, typer.Option("--project", help="With --live: the platform project.")] = PROJECT,
    region: Annotated[str | None, typer.Option("--region", help="With --live: default, the AWS SDK's.")] = None,
    format: Annotated[
        CardsFormat, typer.Option("--format", "-f", help="table (text), json, markdown, or html (one page).")
    ] = CardsFormat.text,
) -> None:
    """Show the environment cards: name, type, cloud provider, region, cluster and created-at.

    Reads each stack's outputs with the Pulumi CLI when it is on PATH, saved output files
    given with --from, or with --live the records the stacks keep in SSM (all of the
    project's, or the STACKs named). A stack with no outputs or record is not deployed."""
    if from_files and (stacks or live):
        fail(
            f"--from takes each stack from its file's name; give {'--live' if live else 'STACK arguments'} "
            "or --from files, not both",
            EXIT_USAGE,
        )
    if live:
        from envctl import live as live_mod

        guarded(lambda: live_mod.check_project(project), "checking --project")
        client = guarded(lambda: live_mod.ssm_client(region), "checking --region")
        with progress("reading environment records"):
            records = live_mod.read_records(client, project)
        result = guarded(lambda: live_mod.cards_from_records(records, stacks), "reading records")
    elif from_files:
        result = guarded(lambda: cards_mod.cards_from_files(from_files), "reading saved outputs")
    else:
        cli = cards_mod.pulumi_cli()
        if cli is None:
            fail(
                "the Pulumi CLI is not on PATH; pass saved outputs instead: "
                "`pulumi stack output --json --stack S > S.json`, then `envctl cards --from S.json`",
                EXIT_USAGE,
            )
        names = stacks or committed_stacks()
        result = guarded(lambda: cards_mod.cards_from_cli(names, cli), "reading stack outputs")
    if format is CardsFormat.html:
        from envctl.page import cards_html

        emit(cards_html(result, f"project {project}" if live else ""))
        return
    show(
        format,
        json=lambda: [c.to_json() for c in result],
        markdown=lambda: formats.cards_markdown(result),
        text=lambda: formats.render_text(formats.cards_table(result)),
    )


@app.command()
def snapshot(
    check: Annotated[bool, typer.Option("--check", help="Only report drift; write nothing.")] = False,
) -> None:
    """Write tests/snapshots/<stack>.json, the golden rendering, for every committed stack."""
    drifted = []
    snapshots = project_root() / "tests" / "snapshots"
    for stack in committed_stacks():
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
    err_console.print(f"snapshots {'checked' if check else 'written'}: {', '.join(committed_stacks())}")


# --- pull-request environments -------------------------------------------------------------


@app.command("pr-config")
def pr_config(
    number: Annotated[int, typer.Argument(help="The pull request's number.")],
    cluster_stack: Annotated[
        str,
        typer.Option(
            "--cluster-stack",
            envvar="ENVSTACK_CLUSTER_STACK",
            help="Fully qualified stack that owns the shared cluster, e.g. acme/envstack/staging.",
        ),
    ],
    region: Annotated[str | None, typer.Option("--region", help="Default: staging's region.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write Pulumi.pr-<NUMBER>.yaml instead of printing.")] = False,
) -> None:
    """Print the stack config of pull request NUMBER's preview environment.

    Stack pr-NUMBER, type custom, attached to the shared cluster by StackReference; it never
    creates a cluster."""
    text = guarded(lambda: pr.pr_config_yaml(number, cluster_stack, region), "generating config")
    if write:
        path = project_root() / f"Pulumi.{pr.pr_stack(number)}.yaml"
        path.write_text(text)
        err_console.print(f"wrote {path.name}")
    else:
        emit(text)


@app.command()
def disposable(
    stack: Annotated[str, typer.Argument(help="The stack a workflow is about to destroy.")],
    outputs: Annotated[Path, typer.Option("--outputs", help="`pulumi stack output --json --stack S` saved.")],
    config: Annotated[Path | None, typer.Option("--config", help="`pulumi config --json --stack S` saved.")] = None,
) -> None:
    """Exit 0 only if a git event may destroy STACK, else 1 saying why.

    Only a pr-<n> stack whose own type (outputs and config) is custom is disposable."""
    out = guarded(lambda: read_json_file(outputs), "reading outputs")
    cfg = guarded(lambda: read_json_file(config), "reading config") if config else {}
    pr.check_disposable_inputs(out, cfg)
    verdict = pr.check_disposable(stack, out, cfg)
    if not verdict.disposable:
        fail(f"refusing to destroy: {verdict.reason}", EXIT_FAILURE)
    err_console.print(verdict.reason)


@app.command()
def sweep(
    stacks: Annotated[Path, typer.Option("--stacks", help="`pulumi stack ls --json` saved.")],
    open_prs: Annotated[Path, typer.Option("--open-prs", help="`gh pr list --state open --json number` saved.")],
    ttl_hours: Annotated[float, typer.Option("--ttl-hours", min=1, help="Destroy previews idle this long.")] = 168,
    format: Annotated[
        ViewFormat, typer.Option("--format", "-f", help="text (one stack a line), json or markdown.")
    ] = ViewFormat.text,
) -> None:
    """List the pr-* stacks the scheduled sweep destroys: closed pull requests, or idle past the TTL."""
    listed = guarded(lambda: pr.parse_stack_listing(read_json_file(stacks)), "reading stacks")
    numbers = guarded(lambda: pr.parse_open_prs(read_json_file(open_prs)), "reading open pull requests")
    picks = pr.select_for_sweep(listed, numbers, timedelta(hours=ttl_hours), pr.now_utc())
    show(
        format,
        json=lambda: [{"stack": p.stack, "reason": p.reason} for p in picks],
        markdown=lambda: "".join(f"- `{p.stack}`: {p.reason}\n" for p in picks),
        text=lambda: "".join(f"{p.stack}\n" for p in picks),
    )


@app.command("review-comment")
def review_comment(
    base_dir: Annotated[
        Path | None,
        typer.Option("--base-dir", help="The base branch's tests/snapshots, to show what this change does."),
    ] = None,
) -> None:
    """Print the Markdown of the pull request's offline review comment.

    Per committed stack: the diff from the base branch's snapshot to this change's rendering,
    and the data-loss manifest."""
    stacks = committed_stacks()
    snapshots = comment.base_snapshots(base_dir)
    sections = {stack: guarded(partial(comment.section, stack, snapshots / f"{stack}.json"), stack) for stack in stacks}
    emit(comment.review_comment(stacks, base_dir, sections))


# --- policies ------------------------------------------------------------------------------


@app.command()
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


@app.command("rules")
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


# --- the access boundary -------------------------------------------------------------------


@app.command("access")
def access_matrix(
    stacks: Annotated[list[str], typer.Argument(help="Committed stacks or saved plan JSON files, e.g. a preview's.")],
    format: Annotated[ViewFormat, typer.Option("--format", "-f", help="table (text), json or markdown.")] = (
        ViewFormat.text
    ),
) -> None:
    """Show the access matrix: what each runtime role can do to each environment's resources.

    Offline: moto's IAM policy engine evaluates the rendered documents."""
    plans = [guarded(lambda s=s: load_plan(s), f"rendering {s}") for s in stacks]  # type: ignore[misc]
    result = access_mod.matrix(plans)
    show(
        format,
        json=result.to_json,
        markdown=lambda: access_mod.matrix_markdown(result),
        text=lambda: formats.render_text(access_mod.matrix_table(result), width=200),
    )


# --- IAM -----------------------------------------------------------------------------------


@app.command("iam-policy")
def iam_policy(
    role: Annotated[str, typer.Argument(help="deploy, preview or drift.", show_default=False)],
) -> None:
    """Print the least-privilege IAM policy (JSON) of a CI role: deploy, preview or drift.

    Derived from the resource types the program declares: deploy (pulumi up of the committed
    stacks), preview (pull-request environments) or drift (read-only refresh). See docs/iam.md."""
    from envctl import iam

    if role not in iam.ROLES:
        fail(f"unknown role '{role}'; allowed: {', '.join(iam.ROLES)}", EXIT_USAGE)
    # iam.UnmappedTypeError, a program change without its permissions, is a FailureError (exit 1).
    document = guarded(lambda: iam.policy(role), f"deriving the {role} policy")
    emit(formats.to_json(document))


# --- the platform's lookup: X-API-Key -> environment record ---------------------------------


@app.command()
def resolve(
    key: Annotated[str, typer.Argument(help="The publishable key (pk_...), or - to read it from stdin.")],
    region: Annotated[str | None, typer.Option("--region", help="Default: the AWS SDK's.")] = None,
    project: Annotated[str, typer.Option("--project", help="The platform project.")] = PROJECT,
    format: FormatOption = ViewFormat.text,
) -> None:
    """Print the environment record of an API key, from the project's key index in SSM.

    What the platform's API does for each X-API-Key header. A malformed key is refused before
    any AWS call (exit 2); a key no environment has exits 1."""
    from components.records import KEY_ALLOWED, well_formed
    from components.resolver import UnknownKeyError
    from envctl import live as live_mod

    if key == "-":
        key = sys.stdin.readline().strip()
    if not well_formed(key):  # before anything touches AWS; the key itself is never echoed
        fail(f"KEY: not an envstack API key; allowed: {KEY_ALLOWED}", EXIT_USAGE)
    guarded(lambda: live_mod.check_project(project), "checking --project")
    client = guarded(lambda: live_mod.ssm_client(region), "checking --region")
    try:
        with progress("resolving"):
            record = live_mod.resolve_key(client, key, project)
    except UnknownKeyError as err:  # components/resolver.py's: a key no environment has
        fail(str(err), EXIT_FAILURE)
    show(
        format,
        json=lambda: record,
        markdown=lambda: "".join(f"- {k}: `{v}`\n" for k, v in sorted(record.items())),
        text=lambda: "".join(f"{k}: {v}\n" for k, v in sorted(record.items())),
    )
