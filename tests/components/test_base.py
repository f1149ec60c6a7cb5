"""What every component shares (components/base.py): its type token from the conventions, its provider, and Args that name its inputs."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components.environment import users_args
from components.users import Users
from policies.contracts import conventions
from tests.support.program import DEV, ROOT, TEST_PROVIDER, assert_all_aws_on, build, only


def _children_of(resources: list, component: str) -> list:
    return [r for r in resources if r.parent == component]


def test_components_register_under_their_own_type_token() -> None:
    res = build(lambda o: Users("u", users_args(DEV), o))
    assert only(res, conventions.USERS).name == "u"
    assert _children_of(res, "u")


def test_a_component_outside_any_provider_would_use_the_default_provider() -> None:
    """Guards the assertion helper itself: without the explicit provider, it must fail."""
    from envctl.runtime import record

    resources, _ = record(
        lambda: Users("u", users_args(DEV), pulumi.ResourceOptions()), stack="t", region="ap-northeast-2"
    )
    with pytest.raises(AssertionError):
        assert_all_aws_on(resources, TEST_PROVIDER)


def test_every_component_names_its_inputs_rather_than_taking_the_settings_row() -> None:
    """Each component's Args lists the fields it uses, filled from the settings row in
    environment.py; none takes the whole 23-field TypeSettings, whose use could not be seen, and
    no component module but environment.py reads the settings table at all."""
    import importlib
    import pkgutil

    import components
    from components.base import EnvstackComponent

    seen = []
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"components.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("Args") and dataclasses.is_dataclass(value) and value.__module__ == module.__name__:
                seen.append(name)
                typed = {f.name: str(f.type) for f in dataclasses.fields(value)}
                assert not [f for f, t in typed.items() if "TypeSettings" in t], f"{name} takes the settings row"
    components_with_args = {
        c.__name__ + "Args"
        for m in pkgutil.iter_modules(components.__path__)
        for c in vars(importlib.import_module(f"components.{m.name}")).values()
        if isinstance(c, type) and issubclass(c, EnvstackComponent) and c is not EnvstackComponent
    }
    assert components_with_args <= set(seen), components_with_args - set(seen)
    readers = sorted(
        path.name
        for path in (ROOT / "components").glob("*.py")
        if "from components.settings import" in path.read_text() and path.name not in ("settings.py", "config.py")
    )
    assert readers == ["environment.py", "protection.py"]  # protection applies the row's keep-or-delete
