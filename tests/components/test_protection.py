"""Protection and retention are applied once, by components/protection.py, from the settings."""

from __future__ import annotations

import ast
from typing import cast

import pulumi
import pytest

from components.config import EnvType
from components.protection import options_for, protection
from components.settings import SETTINGS, settings_for
from envctl.plan import Rendering, Resource
from policies.contracts import conventions
from tests.support.checks import each
from tests.support.program import CONFIRMED_PROD, ROOT, STACKS, render_raw


def test_no_component_sets_protect_or_retention_by_hand() -> None:
    found = []
    for path in sorted((ROOT / "components").glob("*.py")):
        if path.name in ("protection.py", "settings.py"):  # the rule, and the values it reads
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg in ("protect", "retain_on_delete"):
                found.append(f"{path.name}:{node.lineno} {node.arg}=")
    assert found == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_gets_exactly_the_options_its_type_and_settings_say(
    rendered: dict[str, Rendering], stack: str
) -> None:
    r = rendered[stack]
    _check(r)


def test_confirmed_prod_deletion_lifts_protect_but_keeps_the_key() -> None:
    r = render_raw(CONFIRMED_PROD, stack="prod")
    _check(r)
    assert only_key(r).retain_on_delete is True and not any(x.protect for x in r.resources)


def only_key(r: Rendering) -> Resource:
    (key,) = r.by_type(conventions.KMS_KEY)
    return key


def _check(r: Rendering) -> None:
    settings = settings_for(r.config)
    stateful = each((x for x in r.resources if options_for(x.type, settings) is not None), "stateful resource")
    for x in r.resources:
        wanted = options_for(x.type, settings)
        assert x.protect is bool(wanted and wanted.protect), (x.type, x.name)
        assert x.retain_on_delete is bool(wanted and wanted.retain_on_delete), (x.type, x.name)
    assert {x.type for x in stateful} >= {conventions.BUCKET, conventions.USER_POOL, conventions.SECRET}


def test_the_transformation_keeps_the_props_and_merges_the_options() -> None:
    transform = protection(SETTINGS[EnvType.PROD])
    props = {"bucket": "b"}
    opts = pulumi.ResourceOptions(ignore_changes=["tags"])
    bucket = transform(
        pulumi.ResourceTransformationArgs(cast("pulumi.Resource", None), conventions.BUCKET, "f", props, opts)
    )
    assert bucket is not None
    assert bucket.props is props
    assert (bucket.opts.protect, bucket.opts.retain_on_delete, bucket.opts.ignore_changes) == (True, None, ["tags"])
    key = transform(
        pulumi.ResourceTransformationArgs(cast("pulumi.Resource", None), conventions.KMS_KEY, "k", props, opts)
    )
    assert key is not None and key.opts.retain_on_delete is True
    assert (
        transform(pulumi.ResourceTransformationArgs(cast("pulumi.Resource", None), conventions.ROLE, "r", props, opts))
        is None
    )
