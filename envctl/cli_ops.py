"""The operations commands: pull-request previews (pr-config, disposable, sweep, review-comment),
the access matrix, and the CI roles' IAM policies."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from envctl import access as access_mod
from envctl import comment, formats, pr
from envctl.cli_common import ViewFormat, emit, guarded, show
from envctl.console import EXIT_FAILURE, EXIT_USAGE, err_console, fail
from envctl.render import load_plan
from envctl.stackfiles import committed_stacks, project_root, read_json_file

# --- pull-request environments -------------------------------------------------------------


def pr_config(  # noqa: PLR0917 (one parameter per option, as typer wants)
    number: Annotated[int, typer.Argument(help="The pull request's number.")],
    cluster_stack: Annotated[
        str | None,
        typer.Option(
            "--cluster-stack",
            envvar="ENVSTACK_CLUSTER_STACK",
            help="Fully qualified stack that owns the shared cluster, e.g. acme/envstack/staging.",
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Default: staging's region.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write Pulumi.pr-<NUMBER>.yaml instead of printing.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --write: overwrite a file that differs (e.g. edited by hand).")
    ] = False,
    attachment: Annotated[
        str | None,
        typer.Option(
            "--cluster-attachment", envvar="ENVSTACK_CLUSTER_ATTACHMENT", help="Instead: its clusterAttachment JSON."
        ),
    ] = None,
) -> None:
    """Print the stack config of pull request NUMBER's preview environment.

    Stack pr-NUMBER, type custom, attached to the shared cluster by StackReference or by the
    ARNs of staging's clusterAttachment output; it never creates a cluster."""
    if force and not write:
        fail("--force does nothing without --write; allowed: --write --force", EXIT_USAGE)
    text = guarded(lambda: pr.pr_config_yaml(number, cluster_stack, region, attachment), "generating config")
    if not write:
        emit(text)
        return
    path = project_root() / f"Pulumi.{pr.pr_stack(number)}.yaml"
    if path.is_file() and not force and path.read_bytes() != text.encode():
        fail(
            f"{path.name} exists and differs from what pr-config writes; allowed: --force to overwrite it, "
            "or edit it by hand",
            EXIT_USAGE,
        )
    path.write_text(text)
    err_console.print(f"wrote {path.name}")


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


# --- the access boundary -------------------------------------------------------------------


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


def iam_policy(
    role: Annotated[str, typer.Argument(help="deploy, preview, drift or boundary.", show_default=False)],
    trust: Annotated[bool, typer.Option("--trust", help="Print the role's trust policy instead.")] = False,
    repository: Annotated[
        str | None, typer.Option(envvar="ENVSTACK_GITHUB_REPOSITORY", help="For --trust: OWNER/REPO.")
    ] = None,
    account: Annotated[str | None, typer.Option(envvar="ENVSTACK_AWS_ACCOUNT", help="For --trust.")] = None,
) -> None:
    """Print the IAM policy (JSON) of a CI role (deploy, preview, drift) or the runtime roles' boundary.

    Derived from the resource types the program declares: deploy (pulumi up of the committed
    stacks), preview (pull-request environments), drift (read-only refresh). With --trust, a CI
    role's trust policy: which GitHub environments may assume it. See docs/iam.md."""
    from envctl import iam, iam_trust

    if role not in iam.DOCUMENTS:
        fail(f"unknown role '{role}'; allowed: {', '.join(iam.DOCUMENTS)}", EXIT_USAGE)
    if trust and role not in iam.ROLES:
        fail(f"--trust: '{role}' is a policy, not a role; allowed: {', '.join(iam.ROLES)}", EXIT_USAGE)
    if trust:
        emit(formats.to_json(iam_trust.trust_policy(role, repository, account)))
        return
    # iam.UnmappedTypeError, a program change without its permissions, is a FailureError (exit 1).
    document = guarded(lambda: iam.policy(role), f"deriving the {role} policy")
    emit(formats.to_json(document))
