"""The platform's SSM parameters as a rendering declares them, and `pulumi up` of them into an SSM
client (moto's, in the tests): every name and value taken from the rendering, never re-typed."""

from __future__ import annotations

from typing import Any

from components.records import KEY_PREFIX
from envctl.plan import Rendering
from envctl.runtime import generated_password
from policies.contracts import conventions
from tests.support.program import STAGING_REF

PARAMETER = conventions.SSM_PARAMETER


PREVIEW = {"envstack:type": "custom", "envstack:cluster": {"name": "shared-nonprod", "stack": STAGING_REF}}


def generated_keys(r: Rendering) -> dict[int, str]:
    """The API keys the mock runtime generated for `r`, by key version."""
    keys = {}
    for res in r.by_type(conventions.RANDOM_PASSWORD):
        if res.parent and res.parent.endswith("-api-key"):
            keys[int(res.inputs["keepers"]["version"])] = KEY_PREFIX + generated_password(r, res)
    assert keys, f"no API key in {r.stack}"
    return keys


def parameters(r: Rendering) -> dict[str, dict[str, Any]]:
    """The SSM parameters `r` declares, by parameter name, with the inputs `pulumi up` sends."""
    found = {p.inputs["name"]: p.inputs for p in r.by_type(PARAMETER)}
    assert found, f"no SSM parameter in {r.stack}"
    return found


def deploy(ssm: Any, r: Rendering, before: Rendering | None = None) -> None:
    """What `pulumi up` does to the parameters: create or update what `r` declares, delete what
    `before` declared and `r` no longer does."""
    now = parameters(r)
    for name in parameters(before) if before else {}:
        if name not in now:
            ssm.delete_parameter(Name=name)
    for name, i in now.items():
        ssm.put_parameter(
            Name=name, Value=i["insecureValue"], Type=i["type"], Tier=i["tier"], DataType=i["dataType"], Overwrite=True
        )
