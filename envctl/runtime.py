"""The mock runtime: run a Pulumi program under Pulumi's own mocks and record what it registers.

The only module that uses Pulumi's private runtime names, those with a leading underscore
(`sync_await._sync_await`, `sync_await._ensure_event_loop`). It also drives runtime internals
that `pulumi.runtime` exports but documents for the SDK's own use, not for programs
(`settings.reset_options`, `settings.configure`, `config.set_all_config`, `mocks.MockMonitor`,
`stack.run_in_stack`). It is one of two modules that import `pulumi.runtime` at all: the other,
components/pulumi_runtime.py, is the program's side and uses no private name (it reads the
config bag and the unknown sentinel). A Pulumi upgrade that moves the private names breaks here
and nowhere else. The Policy SDK's private proxies are policies/crossguard.py's alone
(tests/repository/test_layout.py asserts all three, and that the private names above are
exactly the ones used).
Resource registrations go to a recording monitor instead of the Pulumi engine. What AWS would
compute (ARNs, endpoints, generated values) is filled in with labelled, deterministic
placeholders, so a rendering needs no credentials, network, CLI or backend.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import string
import uuid
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings, sync_await
from pulumi.runtime.stack import run_in_stack

from envctl.errors import RenderError
from envctl.plan import Rendering, Resource
from policies.contracts import conventions, names
from policies.contracts.conventions import PULUMI_PROJECT, SECRET_PLACEHOLDER

FAKE_ACCOUNT = "123456789012"


def redact(value: Any) -> Any:
    """Replace every secret-marked value with `[secret]`, recursively, and give back the
    integers that protobuf's Struct carries as floats."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER  # shown instead of every secret value
    if isinstance(value, dict):
        return {k: redact(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key_uuid(name: str) -> str:
    """A deterministic KMS key id (a UUID, as AWS gives one)."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"kms/{name}".encode()).digest()[:16]))


def _token(name: str, length: int, alphabet: str) -> str:
    """A deterministic stand-in for a generated value, of the real length and alphabet."""
    out, counter = "", 0
    while len(out) < length:
        digest = hashlib.sha256(f"{name}/{counter}".encode()).digest()
        out += "".join(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return out[:length]


def _seed(name: str, env: str | None, stack: str, project: str = names.DEFAULT_PROJECT) -> str:
    """What a placeholder for a value AWS or pulumi-random would generate at random (a secret's
    ARN suffix, a key's id, a generated password) is derived from: the stack, and the
    resource's name with the environment's name taken out. Two stacks never share a value, and
    two renderings of one stack that differ only by the environment's name differ only where
    the name itself appears, in any platform project (the environment's names start
    `names.scope(env, project)`)."""
    return f"{stack}/" + (name.replace(names.scope(env, project), names.scope("<env>", project)) if env else name)


def _password_alphabet(inputs: dict[str, Any]) -> str:
    return string.ascii_letters + string.digits + (inputs.get("overrideSpecial") or "")


def generated_password(rendering: Rendering, resource: Resource) -> str:
    """The value the mock runtime generated for a RandomPassword of `rendering`, which every
    plan shows only as `[secret]`: for tests that hunt for it, or that need the real API key."""
    if resource.type != conventions.RANDOM_PASSWORD:
        raise ValueError(f"{resource.name} is a {resource.type}, not a RandomPassword")
    seed = _seed(resource.name, rendering.config.name, rendering.stack, rendering.config.project)
    return _token(seed, int(resource.inputs["length"]), _password_alphabet(resource.inputs))


class _Mocks(pulumi.runtime.Mocks):
    """Fills in what a provider would compute, with labelled, deterministic placeholders."""

    def __init__(self, region: str, stack: str, env: str | None = None, project: str = names.DEFAULT_PROJECT) -> None:
        self.region = region
        self.stack = stack
        self.env = env
        self.project = project

    def _seed(self, name: str) -> str:
        return _seed(name, self.env, self.stack, self.project)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name, typ, inputs = args.name, args.typ, dict(args.inputs)
        service = typ.split(":")[1].split("/")[0] if typ.count(":") == 2 else "mock"
        state: dict[str, Any] = dict(inputs)
        if typ.startswith("aws:"):
            state["arn"] = self._arn(name, typ, service, inputs)
        if typ == conventions.BUCKET:
            state["bucket"] = f"{name}-0000000"
        elif typ == conventions.RANDOM_ID:
            state["hex"] = _token(name, 2 * int(inputs["byteLength"]), "0123456789abcdef")
        elif typ == conventions.ROLE:
            state["name"] = f"{name}-0000000"
        elif typ == conventions.RANDOM_PASSWORD:
            state["result"] = _token(self._seed(name), int(inputs["length"]), _password_alphabet(inputs))
        elif typ == conventions.STATIC_TIME:
            state["rfc3339"] = "2026-01-01T00:00:00Z"
        elif typ == conventions.CLUSTER:
            state["endpoint"] = f"{inputs['clusterIdentifier']}.cluster-mock.{self.region}.rds.amazonaws.com"
            state["port"] = 5432
            state["masterUserSecrets"] = [
                {"secretArn": f"arn:aws:secretsmanager:{self.region}:{FAKE_ACCOUNT}:secret:rds!{name}"}
            ]
        elif typ == conventions.KMS_KEY:
            state["keyId"] = _key_uuid(self._seed(name))
        elif typ == conventions.STACK_REFERENCE:
            state["outputs"] = {"clusterAttachment": self._attachment(inputs["name"])}
        return f"{name}-id", state

    def _arn(self, name: str, typ: str, service: str, inputs: dict[str, Any]) -> str:
        """An ARN of the shape AWS gives the resource type (bucket, pool, secret, key, cluster,
        role), so that the access matrix evaluates documents against realistic ARNs."""
        head = f"arn:aws:{service}:{self.region}:{FAKE_ACCOUNT}"
        shapes: dict[str, Callable[[], str]] = {
            conventions.BUCKET: lambda: f"arn:aws:s3:::{name}-0000000",
            conventions.USER_POOL: lambda: f"arn:aws:cognito-idp:{self.region}:{FAKE_ACCOUNT}:userpool/{name}-id",
            # Secrets Manager appends 6 random characters to the secret's name: the given one, or
            # the auto-name.
            conventions.SECRET: lambda: (
                f"{head}:secret:{inputs.get('name') or name + '-0000000'}-"
                f"{_token(self._seed(name), 6, string.ascii_letters)}"
            ),
            conventions.KMS_KEY: lambda: f"{head}:key/{_key_uuid(self._seed(name))}",
            conventions.CLUSTER: lambda: f"{head}:cluster:{inputs.get('clusterIdentifier') or name}",
            conventions.ROLE: lambda: f"arn:aws:iam::{FAKE_ACCOUNT}:role{inputs.get('path') or '/'}{name}-0000000",
        }
        shape = shapes.get(typ)
        return shape() if shape else f"{head}:{name}"

    def _attachment(self, stack_name: str) -> dict[str, Any]:
        owner = stack_name.rsplit("/", 1)[-1]
        return {
            "name": f"{owner}-cluster",
            "arn": f"arn:aws:rds:{self.region}:{FAKE_ACCOUNT}:cluster:{owner}-cluster",
            "secretArn": f"arn:aws:secretsmanager:{self.region}:{FAKE_ACCOUNT}:secret:rds!{owner}",
            "provisionerSecretArn": (
                f"arn:aws:secretsmanager:{self.region}:{FAKE_ACCOUNT}:secret:"
                f"{names.provisioner_secret_name(owner + '-cluster')}-AbCdEf"
            ),
            "endpoint": f"{owner}-cluster.cluster-mock.{self.region}.rds.amazonaws.com",
            "port": 5432,
            "database": names.DATABASE,
        }

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == conventions.CALLER_IDENTITY:
            deployer = f"arn:aws:iam::{FAKE_ACCOUNT}:user/envstack-deployer"
            return {"accountId": FAKE_ACCOUNT, "arn": deployer, "id": FAKE_ACCOUNT, "userId": "AIDAMOCKDEPLOYER"}, []
        raise RenderError(f"the program called {args.token}, which offline rendering does not fake")


def _decode_provider_value(value: Any) -> Any:
    """Provider config travels as strings; objects (such as default_tags) as JSON text."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _Monitor(mocks.MockMonitor):
    """Pulumi's mock monitor, plus a record of each registration's options and the stack outputs."""

    def __init__(self, mocks_: _Mocks) -> None:
        super().__init__(mocks_)
        self.registrations: list[Resource] = []
        self.names: dict[str, str] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""
        # Event loops the mock monitor creates in executor threads; closed after the run.
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.thread_loops.add(sync_await._ensure_event_loop())  # type: ignore[no-untyped-call]
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.additionalSecretOutputs:
            # The engine marks these outputs secret (e.g. RandomPassword.result); so must we.
            state = rpc.deserialize_properties(response.object, keep_unknowns=True)
            for key in request.additionalSecretOutputs:
                if key in state:
                    state[key] = rpc.wrap_rpc_secret(state[key])
            response.object.CopyFrom(sync_await._sync_await(rpc.serialize_properties(state, {})))
        self.names[response.urn] = request.name
        if request.type == conventions.STACK:
            self.stack_urn = response.urn
        else:
            arn = rpc.deserialize_properties(response.object, keep_unknowns=True).get("arn")
            self._record(request, response.urn, request.object, custom=bool(request.custom), arn=arn)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (a read, such as a StackReference)
        self.thread_loops.add(sync_await._ensure_event_loop())  # type: ignore[no-untyped-call]
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self.names[response.urn] = request.name
        self._record(request, response.urn, request.properties, custom=True)
        return response

    def _record(self, request: Any, urn: str, props: Any, *, custom: bool, arn: Any = None) -> None:
        provider_urn = request.provider.rsplit("::", 1)[0] if request.provider else ""
        inputs = rpc.deserialize_properties(props, keep_unknowns=True)
        if request.type.startswith("pulumi:providers:"):
            inputs = {k: _decode_provider_value(v) for k, v in inputs.items()}
        if "__provider" in inputs:  # a dynamic provider's serialised code: not reviewable input
            inputs["__provider"] = "[dynamic provider code]"
        self.registrations.append(
            Resource(
                urn=urn,
                name=request.name,
                type=request.type,
                parent=None if request.parent == self.stack_urn else self.names.get(request.parent),
                provider=self.names.get(provider_urn),
                inputs=redact(inputs),
                protect=bool(getattr(request, "protect", False)),
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                custom=custom,
                parent_urn=None if request.parent == self.stack_urn else request.parent or None,
                delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
                ignore_changes=sorted(getattr(request, "ignoreChanges", [])),
                depends_on=self._names(getattr(request, "dependencies", [])),
                property_dependencies={
                    key: names
                    for key, deps in sorted(getattr(request, "propertyDependencies", {}).items())
                    if (names := self._names(deps.urns))
                },
                arn=arn if isinstance(arn, str) and request.type.startswith("aws:") else None,
            )
        )

    def _names(self, urns: Any) -> list[str]:
        """Resource names of dependency URNs, sorted and unique, so the plan JSON stays deterministic."""
        return sorted({self.names.get(urn, urn.rsplit("::", 1)[-1]) for urn in urns})

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if request.urn == self.stack_urn:
            self.stack_outputs = redact(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def record(
    program: Callable[[], object],
    *,
    stack: str,
    region: str,
    raw: dict[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    env: str | None = None,
    project: str = names.DEFAULT_PROJECT,
) -> tuple[list[Resource], dict[str, Any]]:
    """Run `program` as a Pulumi program under mocks; return its resources and stack outputs.

    Used for whole stacks and, in the tests, for single components built in isolation. `env`
    and `project` name the environment whose names the placeholders' seeds leave out (`_seed`).
    """
    monitor = _Monitor(_Mocks(region, stack, env, project))
    # The loop must exist before the runtime is configured: registrations are scheduled on it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        # What `pulumi.runtime.set_mocks` does, minus its eager root Stack: `run_in_stack`
        # below creates the stack resource, as the real Python language host does.
        settings.reset_options(project=PULUMI_PROJECT, stack=stack)
        settings.configure(
            mocks.MockSettings(  # type: ignore[no-untyped-call]
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),  # type: ignore[no-untyped-call]
                engine=mocks.MockEngine(None),
                project=PULUMI_PROJECT,
                stack=stack,
                dry_run=False,
                organization="organization",
                callbacks=None,
            )
        )
        runtime_config.set_all_config(
            {k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in (raw or {}).items()},
            secret_keys or [],
        )

        def run() -> None:
            program()

        loop.run_until_complete(run_in_stack(run))
    except pulumi.RunError as err:
        raise RenderError(str(err)) from None
    finally:
        # Pulumi's mock monitor runs in the loop's default executor and gives each worker
        # thread an event loop of its own; end the workers and close those loops now, while
        # the interpreter is whole, rather than leave them to be collected at exit.
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
        for thread_loop in monitor.thread_loops - {loop}:
            thread_loop.close()
    resources = sorted(monitor.registrations, key=lambda r: (r.name, r.type))
    return resources, monitor.stack_outputs
