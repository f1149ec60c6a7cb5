"""The config contract's error text: every refusal as one line `key: got <value>; allowed: <what>`.

pydantic reports errors by location and type in its own words; this module rewrites each
into the contract's words (components/config.py owns the models it reads the descriptions of).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from components import config_keys as keys

NOT_SET = object()  # marks a key that is not set, as opposed to one set to null


class KeyRuleError(ValueError):
    """A cross-key rule failed: carries the key at fault, since pydantic cannot know it."""

    def __init__(self, key: str, got: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.key, self.got, self.allowed = key, got, allowed


class ConfigError(Exception):
    """A stack config was refused. `problems` holds (key, got, allowed) per problem."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        lines = [f"{key}: got {got}; allowed: {allowed}" for key, got, allowed in problems]
        super().__init__("invalid stack config\n  " + "\n  ".join(lines))

    @property
    def keys(self) -> list[str]:
        return [key for key, _, _ in self.problems]


def show(value: Any) -> str:
    """A value as a refusal quotes it."""
    if value is NOT_SET:
        return "nothing (the key is not set)"
    return json.dumps(value, sort_keys=True, default=str)


# What each of pydantic's type errors means, in the contract's words (never pydantic's own).
_SHAPES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


class Contract:
    """The models a refusal describes: the stack's model, the object-valued keys' models (key ->
    what the object is called, its model) and the envstack keys."""

    def __init__(
        self, root: type[BaseModel], objects: Mapping[str, tuple[str, type[BaseModel]]], known_keys: tuple[str, ...]
    ) -> None:
        self.root, self.objects, self.known_keys = root, objects, known_keys

    def field(self, loc: list[str]) -> Any:
        """The model field at `loc` (a top-level key, or a key of an object-valued key), or None."""
        model = self.root if len(loc) == 1 else self.objects.get(loc[0], (None, None))[1]
        if model is None or len(loc) > 2:  # a key, or a key inside an object; not an item of a list
            return None
        return next((f for n, f in model.model_fields.items() if (f.alias or n) == loc[-1]), None)

    def allowed_for(self, loc: list[str], error: Any, types: Iterable[str]) -> str:
        """What `loc` allows, for pydantic's `error` there; `types` are the environment types."""
        key, kind, message = loc[0], error["type"], error["msg"]
        if key == keys.TYPE and len(loc) == 1:
            return "one of " + ", ".join(types)
        if kind == "missing":
            return f"must be set ({self.field(loc).description})"
        if kind == "extra_forbidden":
            if len(loc) == 1:
                known = self.known_keys
                return f"no such key{_did_you_mean(key, known)}; the envstack keys are " + ", ".join(known)
            what, model = self.objects[key]
            fields = [f.alias or n for n, f in model.model_fields.items()]
            return f"no such key{_did_you_mean(loc[-1], fields)}; the {what}'s keys are " + ", ".join(fields)
        ctx = error.get("ctx") or {}
        if kind in {"greater_than_equal", "less_than_equal"}:
            shape = f"a whole number {'>=' if 'ge' in ctx else '<='} {ctx.get('ge', ctx.get('le'))}"
        elif kind in _SHAPES:
            shape = _SHAPES[kind]
        else:
            return str(message).removeprefix("Value error, ")
        field = self.field(loc)
        return f"{shape} ({field.description})" if field is not None and field.description else shape

    def problems(
        self, err: ValidationError, types: Iterable[str], *, stack: str, defaulted_name: bool
    ) -> list[tuple[str, str, str]]:
        """Each of pydantic's errors as (key, got, allowed)."""
        problems: list[tuple[str, str, str]] = []
        for e in err.errors():
            loc = [str(p) for p in e["loc"]]
            exc = (e.get("ctx") or {}).get("error")
            if isinstance(exc, KeyRuleError):
                problems.append((exc.key, show(exc.got), exc.allowed))
                continue
            key = loc[0] + "".join(f".{p}" for p in loc[1:])
            got = e["input"] if e["type"] != "missing" else NOT_SET
            allowed = self.allowed_for(loc, e, types)
            if key == keys.NAME and defaulted_name:
                allowed += f" (it defaulted to the stack name '{stack}'; set envstack:name)"
            problems.append((key, show(got), allowed))
        return problems


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    """A close key, judged on the part after the namespace that every key shares (`envstack:foo`
    is not close to `envstack:type`), else nothing."""
    names = {key.rpartition(":")[2]: key for key in known}
    close = difflib.get_close_matches(word.rpartition(":")[2], list(names), n=1)
    return f" (did you mean {names[close[0]]}?)" if close else ""


def decode_json(key: str, value: Any, *, is_list: bool) -> Any:
    """An object- or list-valued key's value, which Pulumi hands to the program as JSON text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        shape = "a list" if is_list else "an object"
        raise ConfigError([(key, show(value), f"{shape}; set it with `pulumi config set --path`")]) from None
