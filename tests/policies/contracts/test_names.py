"""The name grammar (policies/contracts/names.py) over every valid environment name: the program
renders it, the policy pack accepts its own names and refuses other environments', and the
diff normaliser replaces it only where the grammar put it.

Names are drawn from the whole grammar (config's NAME_PATTERN, NAME_MAX), weighted toward
names made of the words envstack itself puts into resource names: those are the names that
a reader guessing where a name ends gets wrong (`new-users`, `team-files`, `api-key-test`)."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.config import parse_config
from envctl.diff import diff_plans
from envctl.plan import Rendering, env_name, env_project
from envctl.render import render_config
from envctl.stackfiles import read_stack_config
from policies import rules
from policies.contracts import arns, conventions, names
from policies.contracts.names import NAME_MAX, NAME_PATTERN
from tests.support.program import PROJECT_DEFAULTS, ROOT

# The words envstack puts into names: roles, component children, prefixes, ARN and region
# parts, environment types, and the placeholder the normaliser writes.
WORDS = (
    *names.ROLES,
    *("logs", "writer", "credentials", "password", "token", "version", "client", "policy", "encryption"),
    *("ownership", "versioning", "lifecycle", "logging", "public-access-block", "alias", "final", "id"),
    *("env", "envstack", "environment", "aws", "arn", "ap", "northeast", "rds", "secret", "cluster"),
    *("dev", "staging", "prod", "custom", "pr", "new", "team", "test", "main", "a", "x1"),
)


def _valid(name: str) -> bool:
    return len(name) <= NAME_MAX and NAME_PATTERN.match(name) is not None


word_names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map("-".join)
any_names = st.from_regex(NAME_PATTERN, fullmatch=True)
valid_names = st.one_of(word_names, word_names, word_names, any_names).filter(_valid)


# --- the grammar itself (no rendering: many examples) -----------------------------------------


def grammar_tokens(env: str) -> list[str]:
    """Every kind of text the program forms from an environment's name."""
    logical = [names.logical(env, role) for role in names.ROLES]
    return [
        *logical,
        *(f"{n}-client" for n in logical),
        *(f"{n}-a1b2c3d" for n in logical),  # a physical name: Pulumi's auto-name suffix
        f"arn:aws:s3:::{names.logical(env, 'files')}-a1b2c3d/*",
        f"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:{names.logical(env, 'api-key')}-AbCdEf",
        f"arn:aws:rds:ap-northeast-2:123456789012:cluster:{names.cluster_identifier(env)}",
        f"{names.cluster_identifier(env)}-writer",
        names.kms_alias(env),
        names.pg_identifier(env),
        f"{names.label(env)} (schema {names.pg_identifier(env)})",
    ]


@settings(max_examples=150, deadline=None)
@given(own=valid_names, other=valid_names)
@example(own="new", other="new-users")
@example(own="new-users", other="new")
@example(own="api-key-test", other="api")
@example(own="files", other="team-files")
def test_each_name_reads_back_as_its_own_environment_and_no_other(own: str, other: str) -> None:
    for text in grammar_tokens(own):
        found = list(names.tokens(text))
        assert found, text
        assert all(names.owned_by(t, [own]) for t in found), (own, text)
    for text in grammar_tokens(other):
        for token in (t for t in names.tokens(text) if names.names_a_store(t)):
            if token.ident is not None:  # the PostgreSQL mapping is one-to-one
                assert names.owned_by(token, [own]) == (other == own), (own, text)
                continue
            # The one limit of names that may contain their own separators: a name of another
            # environment that is literally also a name `own` forms (`envstack-new-users` is
            # environment new's pool and environment new-users' cluster), or that begins with
            # `own` itself when `own` starts with `envstack-`, reads as `own`'s.
            ambiguous = any(
                token.text == base or token.text.startswith(base + "-") for base in (f"envstack-{own}", own)
            )
            assert names.owned_by(token, [own]) == ambiguous, (own, text)
            assert ambiguous or other != own


@settings(max_examples=150, deadline=None)
@given(env=valid_names)
@example(env="ap")
@example(env="aws")
@example(env="files")
@example(env="envstack")
@example(env="env")
def test_the_normaliser_replaces_the_name_only_where_the_grammar_put_it(env: str) -> None:
    norm = names.normaliser(env, "<env>")
    reference = names.normaliser("ref", "<env>")
    for mine, theirs in zip(grammar_tokens(env), grammar_tokens("ref"), strict=True):
        assert norm(mine) == reference(theirs), (env, mine)
    untouched = (
        "arn:aws:s3:ap-northeast-2:123456789012:bucket",
        "postgresql",
        "envstack:environment",
        "organization/envstack/dev",
        "X-API-Key",
        "access/",
    )
    for text in untouched:
        assert norm(text) == text, (env, text)


def test_unknown_roles_and_unmappable_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'bucket'"):
        names.logical("dev", "bucket")
    with pytest.raises(names.UnmappableNameError):
        names.pg_identifier("a_b")


# --- rendered (the real program under mocks: a few examples) ----------------------------------


def _json_leaf_changes(path: str, a: object, b: object) -> list[tuple[str, object, object]]:
    """(path, a, b) for each differing leaf; strings holding JSON objects are descended into."""

    def parsed(value: object) -> object:
        if isinstance(value, str) and value.startswith("{"):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    a, b = parsed(a), parsed(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            leaf
            for key in sorted(set(a) | set(b))
            for leaf in _json_leaf_changes(f"{path}.{key}", a.get(key), b.get(key))
        ]
    return [] if a == b else [(path, a, b)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=valid_names, stack=st.sampled_from(["dev", "staging", "prod"]))
@example(name="new-users", stack="dev")
@example(name="team-files", stack="dev")
@example(name="api-key-test", stack="dev")
@example(name="new-users", stack="prod")
@example(name="envstack", stack="staging")
@example(name="ap", stack="dev")  # the region ap-northeast-2 is not the name
@example(name="files", stack="prod")
@example(name="runtime", stack="dev")  # the runtime role's inline policy once read as environment runtime's
def test_every_valid_name_renders_passes_check_and_diffs_only_by_its_name(
    rendered: dict[str, Rendering], name: str, stack: str
) -> None:
    """A committed stack's config with `envstack:name` set to NAME: it renders, `envctl check`
    reports no mandatory finding, and it differs from the committed rendering only where the
    value is exactly the name (the card's name, the environment tag, the table store's env)."""
    raw, secret_keys = read_stack_config(stack)
    reference = rendered[stack].to_json()
    raw = {**raw, "envstack:name": name}
    plan = render_config(stack, raw, secret_keys, parse_config(raw, stack)).to_json()

    mandatory = [f for f in rules.evaluate(rules.from_plan(plan)) if f.level == rules.MANDATORY]
    assert mandatory == [], mandatory

    diff = diff_plans(reference, plan, stack, name)
    assert diff.only_in_a == [] and diff.only_in_b == [], (diff.only_in_a, diff.only_in_b)
    ref_name = env_name(reference)
    changes = [c for r in diff.changed for c in r.changes] + diff.outputs
    # A JSON document in a value (the SSM environment record) is compared leaf by leaf.
    leaves = [leaf for c in changes for leaf in _json_leaf_changes(c.path, c.a, c.b)]
    unexplained = [leaf for leaf in leaves if leaf[1:] != (ref_name, name)]
    assert unexplained == [], unexplained
    assert {c.path for c in diff.outputs} <= {"name"}


def test_the_committed_stacks_hold_only_their_own_names(rendered: dict[str, Rendering]) -> None:
    for stack in ("dev", "staging", "prod"):
        plan = rendered[stack].to_json()
        env = env_name(plan)
        text = json.dumps(plan)
        tokens = [t for t in names.tokens(text) if names.names_a_store(t)]
        assert tokens and all(names.owned_by(t, [env]) for t in tokens), stack


# --- the grammar's edges and messages (each one a mutant the tests above let through) --------

ROLE_LIST = "files, users, api-key, tables, key, cluster, created-at, runtime, registry, provisioner"


def test_an_unknown_role_is_refused_with_the_roles_allowed() -> None:
    with pytest.raises(ValueError) as err:
        names.logical("dev", "bucket")
    assert (
        str(err.value) == f"unknown role 'bucket': add it to ROLES in policies/contracts/names.py (one of {ROLE_LIST})"
    )


def test_a_logical_name_fits_at_exactly_55_characters_and_is_refused_at_56() -> None:
    # `envstack-10-bbbbbbbbbb-<env>-files` is 29 characters plus the environment's name
    assert len(names.logical("a" * 26, "files", project="b" * 10)) == 55
    with pytest.raises(names.UnmappableNameError) as err:
        names.logical("a" * 27, "files", project="b" * 10)
    assert str(err.value) == f"'envstack-10-{'b' * 10}-{'a' * 27}-files' is 56 characters; at most 55 fit AWS's limits"


def test_parse_stem_reads_the_project_length_and_refuses_what_is_not_a_stem() -> None:
    assert names.parse_stem("2-ab-c") == ("ab", "c")
    assert names.parse_stem("10-bbbbbbbbbb-dev-x") == ("b" * 10, "dev-x")
    assert names.parse_stem("dev") == ("envstack", "dev")
    for bad in ("2-ab-", "2-abxc", "9-a-b"):
        with pytest.raises(names.UnmappableNameError) as err:
            names.parse_stem(bad)
        assert str(err.value) == f"{bad!r} is not an environment stem"


def test_is_valid_stem_needs_a_stem_of_two_valid_names() -> None:
    assert names.is_valid_stem("2-ab-c") and names.is_valid_stem("dev")
    assert not names.is_valid_stem("9-a-b")  # not a stem at all
    assert not names.is_valid_stem("2-a_-c")  # the project is no valid name
    assert not names.is_valid_stem("2-ab-C")  # the environment is no valid name
    assert not names.is_valid_stem("Dev")


def _token(text: str) -> names.Token:
    (token,) = names.tokens(text)
    return token


def test_owned_by_looks_at_every_owner_of_each_kind_of_token() -> None:
    owners = ("other", "dev")
    assert names.owned_by(_token("envstack environment dev"), owners)
    assert names.owned_by(_token("env_dev"), owners)
    assert names.owned_by(_token("envstack-dev-files"), owners)
    assert names.owned_by(_token("envstack-dev"), owners)
    assert not names.owned_by(_token("envstack environment devx"), owners)
    assert not names.owned_by(_token("env_devx"), owners)
    assert not names.owned_by(_token("envstack-devx-files"), owners)
    # a label or a PostgreSQL name is never read as a bare `envstack-` owner name
    assert not names.owned_by(_token("envstack environment dev"), ("envstack-environment",))
    assert not names.owned_by(_token("env_dev"), ("env",))


def test_names_a_store_splits_the_run_at_every_hyphen() -> None:
    assert names.names_a_store(_token("envstack-dev-files-logs"))
    assert names.names_a_store(_token("envstack-new-users-files"))
    assert names.names_a_store(_token("envstack-2-ab-c-api-key"))
    assert names.names_a_store(_token("env_dev"))
    assert not names.names_a_store(_token("envstack-dev"))
    assert not names.names_a_store(_token("envstack-dev-filesx"))
    assert not names.names_a_store(_token("envstack-dev-"))
    assert not names.names_a_store(_token("envstack environment dev"))


def test_the_normaliser_of_another_project_replaces_its_stem_everywhere() -> None:
    norm = names.normaliser("dev", "<env>", project="other")
    assert norm("envstack-5-other-dev-files") == "envstack-<env>-files"
    assert norm("env_5_other_dev") == "env_<env>"
    assert norm("envstack environment dev") == "envstack environment <env>"
    assert norm("/envstack/other/environments/dev") == "/envstack/other/environments/<env>"
    assert norm("envstack-dev-files /envstack/envstack/environments/dev") == (
        "envstack-dev-files /envstack/envstack/environments/dev"
    )


def test_pg_identifier_takes_63_bytes_and_refuses_64() -> None:
    assert names.pg_identifier("a" * 23, project="b" * 32) == f"env_32_{'b' * 32}_{'a' * 23}"
    assert len(names.pg_identifier("a" * 23, project="b" * 32)) == 63
    with pytest.raises(names.UnmappableNameError) as err:
        names.pg_identifier("a" * 24, project="b" * 32)
    assert str(err.value) == (
        f"environment name {'a' * 24!r} cannot be mapped to a PostgreSQL identifier: allowed are lowercase "
        "letters, digits and '-', starting with a letter, mapping to at most 63 bytes"
    )
    for env, project in (("A", "envstack"), ("dev", "B"), ("a" * 33, "envstack")):
        with pytest.raises(names.UnmappableNameError):
            names.pg_identifier(env, project=project)


def test_envstack_names_three_things_each_with_a_name_of_its_own(rendered: dict[str, Rendering]) -> None:
    """The Pulumi project (Pulumi.yaml's name, the config namespace), the physical-name prefix and
    the default platform project are spelled alike but are three facts, each used for its own."""
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"] == conventions.PULUMI_PROJECT
    plan = rendered["dev"].to_json()
    assert plan["project"] == conventions.PULUMI_PROJECT
    assert env_project(plan) == names.DEFAULT_PROJECT  # the envstack:project tag of dev's provider
    assert all(r["name"].startswith(f"{names.PREFIX}-") for r in plan["resources"] if r["type"].startswith("aws:"))
    assert (
        parse_config({**PROJECT_DEFAULTS, "aws:region": "us-east-1", "envstack:type": "dev"}, "dev").project
        == names.DEFAULT_PROJECT
    )
    raw, _ = read_stack_config("dev")
    assert {key.split(":")[0] for key in raw} == {"aws", conventions.PULUMI_PROJECT}


@pytest.mark.parametrize(
    ("arn", "env", "project", "expected"),
    [
        ("arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-a1b2c3d", "prod", "envstack", True),
        ("arn:aws-cn:iam::123456789012:role/envstack/envstack-prod-runtime-a1b2c3d", "prod", "envstack", True),
        ("arn:aws:iam::123456789012:role/envstack/envstack-4-acme-prod-runtime-a1b2c3d", "prod", "acme", True),
        ("arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-a1b2c3d", "pr-42", "envstack", False),
        ("arn:aws:iam::123456789012:role/envstack/envstack-pr-42-runtime-a1b2c3d", "prod", "envstack", False),
        ("arn:aws:iam::123456789012:role/envstack-prod-runtime-a1b2c3d", "prod", "envstack", False),  # no path
        ("arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-a1b2c3d-x", "prod", "envstack", False),
        ("arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-A1B2C3D", "prod", "envstack", False),
        ("arn:aws:iam::12345678901:role/envstack/envstack-prod-runtime-a1b2c3d", "prod", "envstack", False),
        ("arn:aws:iam::123456789012:role/envstack/envstack-prod-runtime-a1b2c3d", "Prod", "envstack", False),
        # A name too long for any logical name: no role can carry it, whatever the text says.
        (f"arn:aws:iam::123456789012:role/envstack/envstack-{'a' * 60}-runtime-a1b2c3d", "a" * 60, "envstack", False),
    ],
)
def test_a_runtime_role_arn_is_one_environments_own(arn: str, env: str, project: str, expected: bool) -> None:
    assert arns.is_runtime_role_arn(arn, env, project) is expected


def test_scope_role_suffix_and_final_snapshots_are_the_forms_logical_names_take() -> None:
    assert names.scope("dev") == "envstack-dev-"
    assert names.scope("dev", "acme") == "envstack-4-acme-dev-"
    assert names.logical("dev", "runtime", "acme") == names.scope("dev", "acme") + "runtime"
    assert names.role_suffix("runtime") == "-runtime"
    assert names.logical("dev", "runtime").endswith(names.role_suffix("runtime"))
    with pytest.raises(ValueError, match=r"^unknown role 'runtimes': add it to ROLES in policies/contracts/names.py"):
        names.role_suffix("runtimes")
    assert names.final_snapshots("envstack-dev") == "envstack-dev-final-*"
