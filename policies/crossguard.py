"""The CrossGuard adapter: Pulumi CrossGuard's StackValidationArgs become the rules' model.

This module owns how CrossGuard's resources map onto `Res` (policies/model.py): its
unknown-value sentinels become UNKNOWN, a `default*` provider counts as the default provider,
and links between resources are the engine's property dependencies. CrossGuard is told
protect, delete_before_replace and ignore_changes, never retain_on_delete (left None).
pack.py registers the rules with CrossGuard. Imports pulumi_policy, which the pack's
virtualenv holds (policies/requirements.txt); nothing else outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import proxy

from policies.model import UNKNOWN, Res, Stack, provider_tags, stack_of


def plain(value: Any) -> Any:
    """CrossGuard's props, with its unknown-value sentinels turned into UNKNOWN."""
    if isinstance(value, Mapping):
        target = value["__target"] if isinstance(value, proxy._DictProxy) else value
        return {k: plain(v) for k, v in target.items()}
    if isinstance(value, list | tuple | proxy._ListProxy):
        target = value["__target"] if isinstance(value, proxy._ListProxy) else value
        return [plain(v) for v in target]
    if proxy._is_unknown(value):
        return UNKNOWN
    return value


def _res(r: Any) -> Res:
    provider = r.provider
    default = provider is None or provider.name.startswith("default")
    props = plain(r.props)
    return Res(
        type=r.resource_type,
        name=r.name,
        props=props,
        protect=bool(r.opts.protect),
        provider=None if default else provider.name,
        provider_tags=None if default else provider_tags(plain(provider.props)),
        urn=r.urn,
        links={k: [d.name for d in deps] for k, deps in (r.property_dependencies or {}).items()},
        delete_before_replace=r.opts.delete_before_replace,
        ignore_changes=list(r.opts.ignore_changes or []),
        arn=UNKNOWN if props.get("arn") is None else props["arn"],
    )


def from_policy_args(args: Any) -> Stack:
    """The model of CrossGuard's StackValidationArgs."""
    return stack_of([_res(r) for r in args.resources])
