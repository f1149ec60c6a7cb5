"""Creating and deleting environments: `envctl env create` and `envctl env delete`.

Create writes `Pulumi.<name>.yaml` only through the contract the program validates with
(components/config.py `parse_config`, with Pulumi.yaml's project defaults, as
envctl/stackfiles.py reads them), renders it offline (envctl/render.py) and runs the policy
pack on the rendering, as `envctl check` does; a refused config or a mandatory finding keeps no
file. Delete writes `envstack:confirmDeletion` into a guarded type's stack file with ruamel.yaml,
which keeps the file's comments, and knows the Pulumi CLI steps that follow.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components import config_keys as keys
from components.config import NAME_ALLOWED, EnvType, StackConfig, parse_config
from components.config_errors import ConfigError
from components.settings import SETTINGS
from envctl.errors import FailureError, UsageError
from envctl.plan import Rendering
from envctl.pr import PR_STACK
from envctl.render import render_config
from envctl.stackfiles import project_root, read_stack_config, stack_file
from policies.contracts.arns import parse_arn
from policies.contracts.conventions import PULUMI_PROJECT
from policies.contracts.names import is_valid_name

# The create options that set a contract key, so a refusal names the option the user typed.
KEY_OPTIONS = {
    keys.REGION: "--region",
    keys.TYPE: "--type",
    keys.CLUSTER: "--cluster-stack/--cluster-arn/--create-cluster",
    keys.PROJECT: "--project",
    keys.PLATFORM_PRINCIPALS: "--platform-principal",
    keys.PERMISSIONS_BOUNDARY: "--permissions-boundary",
}


@dataclass(frozen=True)
class ClusterChoice:
    """The cluster assignment options of `env create`, as typed."""

    stack: str | None = None
    arn: str | None = None
    secret_arn: str | None = None
    endpoint: str | None = None
    create: str | None = None
    name: str | None = None

    @property
    def given(self) -> list[str]:
        return [
            opt
            for opt, value in (
                ("--cluster-stack", self.stack),
                ("--cluster-arn", self.arn),
                ("--create-cluster", self.create),
                ("--cluster-secret-arn", self.secret_arn),
                ("--cluster-endpoint", self.endpoint),
                ("--cluster-name", self.name),
            )
            if value
        ]


@dataclass
class Request:
    """What `env create NAME` was asked for."""

    name: str
    type: EnvType
    region: str | None = None
    cluster: ClusterChoice = field(default_factory=ClusterChoice)
    project: str | None = None
    platform_principals: Sequence[str] = ()
    permissions_boundary: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # --set KEY=VALUE


def check_name(name: str, root: Path | None = None) -> Path:
    """The new stack file's path; refuses an invalid name, a preview's name or an existing file."""
    if not is_valid_name(name):
        raise UsageError(f"NAME: got {name!r}; allowed: {NAME_ALLOWED}")
    if PR_STACK.match(name):
        raise UsageError(
            f"NAME: got {name!r}; allowed: a name outside the preview sweep's namespace "
            "(pr-<number> stacks are destroyed by the sweep; make previews with `envctl pr-config`)"
        )
    path = stack_file(name, root)
    if path.exists():
        raise UsageError(f"NAME: {path.name} already exists; allowed: a name with no stack file yet")
    return path


def parse_set(values: Sequence[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs; each VALUE is read as YAML (a number, true, a list, text)."""
    extra: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or ":" not in key:
            raise UsageError(f"--set: got {item!r}; allowed: NAMESPACE:KEY=VALUE, e.g. envstack:dbConnectionLimit=5")
        try:
            extra[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise UsageError(f"--set {key}: got {text!r}; allowed: a YAML value") from None
    return extra


def _owner_config(ref: str, root: Path | None) -> StackConfig | None:
    """The committed config of the stack a `--cluster-stack ORG/PROJECT/STACK` names, if it is ours."""
    _, project, stack = ref.split("/")
    if project != PULUMI_PROJECT or not stack_file(stack, root).is_file():
        return None
    raw, _ = read_stack_config(stack, root)
    try:
        return parse_config(raw, stack)
    except ConfigError as err:
        raise UsageError(f"--cluster-stack: Pulumi.{stack}.yaml is invalid ({err.problems[0][0]})") from None


def _cluster(request: Request, root: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """The `envstack:cluster` object and the region it implies (a committed owner's)."""
    choice = request.cluster
    ways = [w for w in (choice.stack, choice.arn, choice.create) if w]
    if request.type is EnvType.DEV:
        if choice.given:
            raise UsageError(
                f"{choice.given[0]}: a dev environment has no cluster assignment; allowed: no cluster option "
                "(dev keeps its tables on a private cluster of its own), or --type custom, staging or prod"
            )
        return None, None
    if len(ways) != 1:
        raise UsageError(
            f"cluster: got {len(ways)} of --cluster-stack, --cluster-arn, --create-cluster; allowed: exactly one "
            f"(a {request.type.value} environment needs a cluster assignment)"
        )
    if choice.create:
        return {"name": choice.create, "create": True}, None
    if choice.arn:
        arn = parse_arn(choice.arn)  # a text that is no ARN is refused by the config's rule, by name
        arn_name = choice.name or (arn.resource_id if arn else choice.arn)
        return {"name": arn_name, "arn": choice.arn, "secretArn": choice.secret_arn, "endpoint": choice.endpoint}, None
    ref = str(choice.stack)
    if len(ref.split("/")) != 3:
        raise UsageError(f"--cluster-stack: got {ref!r}; allowed: a fully qualified stack ORG/PROJECT/STACK")
    owner = _owner_config(ref, root)
    if owner is not None and (owner.cluster is None or not owner.cluster.create):
        raise UsageError(f"--cluster-stack: Pulumi.{ref.split('/')[2]}.yaml does not create a cluster to attach to")
    if owner is not None and request.region and request.region != owner.region:
        raise UsageError(
            f"--region: got {request.region!r}; allowed: {owner.region}, the region of the cluster that "
            f"{ref} owns (Pulumi.{ref.split('/')[2]}.yaml)"
        )
    owned = owner.cluster.name if owner is not None and owner.cluster else None
    name = choice.name or owned
    if not name:
        raise UsageError(f"--cluster-name: {ref} is not committed here; allowed: the name of the cluster it owns")
    return {"name": name, "stack": ref}, owner.region if owner is not None else None


def stack_config(request: Request, root: Path | None = None) -> dict[str, Any]:
    """The `config:` mapping of the new stack file (only what the user chose; defaults stay out)."""
    cluster, owner_region = _cluster(request, root)
    config: dict[str, Any] = {}
    region = request.region or owner_region
    if region:
        config[keys.REGION] = region
    config[keys.TYPE] = request.type.value
    if cluster is not None:
        config[keys.CLUSTER] = {k: v for k, v in cluster.items() if v is not None}
    if request.project:
        config[keys.PROJECT] = request.project
    if request.platform_principals:
        config[keys.PLATFORM_PRINCIPALS] = list(request.platform_principals)
    if request.permissions_boundary:
        config[keys.PERMISSIONS_BOUNDARY] = request.permissions_boundary
    return {**config, **request.extra}


def refusal(err: ConfigError) -> UsageError:
    """A contract refusal as one line, naming the option that sets each key."""
    parts = []
    for key, got, allowed in err.problems:
        top = key.split(".")[0]
        where = f"{KEY_OPTIONS[top]} ({key})" if top in KEY_OPTIONS else f"--set {key}"
        parts.append(f"{where}: got {got}; allowed: {allowed}")
    return UsageError("; ".join(parts))


@dataclass
class Created:
    path: Path
    rendering: Rendering
    findings: list[Any]
    mandatory: bool


def create(request: Request, root: Path | None = None) -> Created:
    """Write, validate, render and check the new stack file. The file is kept only when the
    contract accepts it and no mandatory rule is violated (`Created.mandatory` is then False)."""
    from policies import rules

    path = check_name(request.name, root)
    config = stack_config(request, root)
    header = f"# {request.name}: a {request.type.value} environment, written by `envctl env create` (docs/envctl.md).\n"
    with path.open("x") as out:  # never overwrites: another writer in between is refused too
        out.write(header + yaml.safe_dump({"config": config}, sort_keys=False))
    keep = False
    try:
        raw, secret_keys = read_stack_config(request.name, root)  # Pulumi.yaml's defaults, then the file
        try:
            parsed = parse_config(raw, request.name)
        except ConfigError as err:
            raise refusal(err) from None
        rendering = render_config(request.name, raw, secret_keys, parsed, root)
        findings = rules.evaluate(rules.from_plan(rendering.to_json()))
        mandatory = any(f.level == rules.MANDATORY for f in findings)
        keep = not mandatory
        return Created(path=path, rendering=rendering, findings=findings, mandatory=mandatory)
    finally:
        if not keep:
            path.unlink()


def next_steps(name: str) -> list[str]:
    return [
        f"pulumi stack init {name}",
        f"pulumi preview --stack {name} --policy-pack policies",
        f"pulumi up --stack {name}",
    ]


# --- delete ------------------------------------------------------------------------------------


def is_guarded(env_type: EnvType) -> bool:
    """Whether destroying this type waits for `envstack:confirmDeletion` (components/settings.py)."""
    return SETTINGS[env_type].delete_needs_confirmation


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    loader = YAML()  # round-trip mode: comments, order and quoting are kept
    loader.indent(mapping=2, sequence=4, offset=2)
    loader.width = 4096
    return loader


def set_confirmation(stack: str, value: str | None, root: Path | None = None) -> bool:
    """Write (or with None remove) `envstack:confirmDeletion` in the stack file, keeping every
    comment. Returns whether the file changed."""
    path = stack_file(stack, root or project_root())
    loader = _round_trip()
    doc = loader.load(path.read_text())
    config = doc["config"]
    if config.get(keys.CONFIRM_DELETION) == value or (value is None and keys.CONFIRM_DELETION not in config):
        return False
    if value is None:
        del config[keys.CONFIRM_DELETION]
    else:
        config[keys.CONFIRM_DELETION] = value
    with path.open("w") as out:
        loader.dump(doc, out)
    return True


def delete_steps(name: str, guarded: bool) -> list[list[str]]:
    """The Pulumi CLI steps that delete environment `name` (docs/runbooks.md): for a guarded
    type, first `up` to apply the confirmation, then destroy; then remove the stack."""
    steps = [["pulumi", "up", "--stack", name]] if guarded else []
    return [*steps, ["pulumi", "destroy", "--stack", name], ["pulumi", "stack", "rm", name]]


class StepFailedError(FailureError):
    """A Pulumi CLI step of `env delete --run` failed or timed out; later steps did not run."""


def run_steps(steps: list[list[str]], timeout: float, echo: Any) -> None:
    """Run each step non-interactively (`--yes`), stopping at the first failure or timeout."""
    cli = shutil.which("pulumi")
    if cli is None:
        raise UsageError("--run: the Pulumi CLI is not on PATH; allowed: run the printed commands yourself")
    for step in steps:
        shown = " ".join(step)
        echo(f"running: {shown} --yes")
        try:
            done = subprocess.run([cli, *step[1:], "--yes"], timeout=timeout, check=False)  # noqa: S603 (fixed argv)
        except subprocess.TimeoutExpired:
            raise StepFailedError(f"{shown}: timed out after {timeout:g}s; later steps not run") from None
        if done.returncode != 0:
            raise StepFailedError(f"{shown}: exited {done.returncode}; later steps not run")
