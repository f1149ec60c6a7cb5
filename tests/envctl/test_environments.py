"""Creating and deleting environments (envctl/environments.py), its logic without the CLI: the
name checks, `--set` values, the stack config a request writes, the contract's refusal naming
the option, and the confirmation written into a stack file with its comments kept. The
commands themselves are tests/envctl/test_envcmd.py's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from components import config_keys as keys
from components.config import NAME_ALLOWED, EnvType
from components.config_errors import ConfigError
from envctl import environments as env
from envctl.errors import UsageError

pytestmark = pytest.mark.usefixtures("project")  # every test works on a copy of the project
STAGING = "acme/envstack/staging"


def refused(action: Callable[[], object]) -> str:
    with pytest.raises(UsageError) as err:
        action()
    return str(err.value)


def test_a_new_name_is_checked_before_any_file_is_written(project: Path) -> None:
    assert env.check_name("qa") == project / "Pulumi.qa.yaml"
    assert refused(lambda: env.check_name("QA")) == f"NAME: got 'QA'; allowed: {NAME_ALLOWED}"
    assert refused(lambda: env.check_name("pr-3")) == (
        "NAME: got 'pr-3'; allowed: a name outside the preview sweep's namespace "
        "(pr-<number> stacks are destroyed by the sweep; make previews with `envctl pr-config`)"
    )
    assert refused(lambda: env.check_name("dev")) == (
        "NAME: Pulumi.dev.yaml already exists; allowed: a name with no stack file yet"
    )


def test_set_values_are_read_as_yaml_and_need_a_namespace() -> None:
    assert env.parse_set(["envstack:dbConnectionLimit=5", "envstack:x=[a, b]", "n:s=true", "n:t="]) == {
        "envstack:dbConnectionLimit": 5,
        "envstack:x": ["a", "b"],
        "n:s": True,
        "n:t": None,
    }
    allowed = "allowed: NAMESPACE:KEY=VALUE, e.g. envstack:dbConnectionLimit=5"
    assert refused(lambda: env.parse_set(["limit=5"])) == f"--set: got 'limit=5'; {allowed}"
    assert refused(lambda: env.parse_set(["envstack:x"])) == f"--set: got 'envstack:x'; {allowed}"
    assert refused(lambda: env.parse_set(["envstack:x=[a"])) == "--set envstack:x: got '[a'; allowed: a YAML value"


def test_the_stack_config_holds_only_what_was_chosen() -> None:
    dev = env.Request("qa", EnvType.DEV)
    assert env.stack_config(dev) == {"envstack:type": "dev"}
    created = env.Request(
        "qa",
        EnvType.CUSTOM,
        region="eu-west-1",
        cluster=env.ClusterChoice(create="qa-main"),
        project="shop",
        platform_principals=["arn:aws:iam::123456789012:role/p"],
        extra={"envstack:dbConnectionLimit": 5},
    )
    assert env.stack_config(created) == {
        "aws:region": "eu-west-1",
        "envstack:type": "custom",
        "envstack:cluster": {"name": "qa-main", "create": True},
        "envstack:project": "shop",
        "envstack:platformPrincipals": ["arn:aws:iam::123456789012:role/p"],
        "envstack:dbConnectionLimit": 5,
    }
    arn = "arn:aws:rds:ap-northeast-2:123456789012:cluster:shared"
    by_arn = env.Request("qa", EnvType.STAGING, cluster=env.ClusterChoice(arn=arn, endpoint="h"))
    assert env.stack_config(by_arn)["envstack:cluster"] == {"name": "shared", "arn": arn, "endpoint": "h"}


def test_a_committed_owner_gives_the_cluster_name_and_region() -> None:
    attach = env.Request("qa", EnvType.CUSTOM, cluster=env.ClusterChoice(stack=STAGING))
    config = env.stack_config(attach)
    assert config["envstack:cluster"] == {"name": "shared-nonprod", "stack": STAGING}
    assert config["aws:region"] == "ap-northeast-2"  # Pulumi.staging.yaml's
    wrong = env.Request("qa", EnvType.CUSTOM, region="eu-west-1", cluster=env.ClusterChoice(stack=STAGING))
    assert refused(lambda: env.stack_config(wrong)) == (
        "--region: got 'eu-west-1'; allowed: ap-northeast-2, the region of the cluster that "
        "acme/envstack/staging owns (Pulumi.staging.yaml)"
    )


@pytest.mark.parametrize(
    ("type_", "choice", "line"),
    [
        (
            EnvType.DEV,
            env.ClusterChoice(name="x"),
            "--cluster-name: a dev environment has no cluster assignment; allowed: no cluster option "
            "(dev keeps its tables on a private cluster of its own), or --type custom, staging or prod",
        ),
        (
            EnvType.STAGING,
            env.ClusterChoice(),
            "cluster: got 0 of --cluster-stack, --cluster-arn, --create-cluster; allowed: exactly one "
            "(a staging environment needs a cluster assignment)",
        ),
        (
            EnvType.PROD,
            env.ClusterChoice(create="a", arn="b"),
            "cluster: got 2 of --cluster-stack, --cluster-arn, --create-cluster; allowed: exactly one "
            "(a prod environment needs a cluster assignment)",
        ),
        (
            EnvType.CUSTOM,
            env.ClusterChoice(stack="a/b"),
            "--cluster-stack: got 'a/b'; allowed: a fully qualified stack ORG/PROJECT/STACK",
        ),
        (
            EnvType.CUSTOM,
            env.ClusterChoice(stack="acme/envstack/dev"),
            "--cluster-stack: Pulumi.dev.yaml does not create a cluster to attach to",
        ),
        (
            EnvType.CUSTOM,
            env.ClusterChoice(stack="acme/other/staging"),
            "--cluster-name: acme/other/staging is not committed here; allowed: the name of the cluster it owns",
        ),
    ],
)
def test_each_wrong_cluster_choice_is_one_line(type_: EnvType, choice: env.ClusterChoice, line: str) -> None:
    assert refused(lambda: env.stack_config(env.Request("qa", type_, cluster=choice))) == line


def test_a_contract_refusal_names_the_option_that_sets_each_key() -> None:
    err = ConfigError(
        [("aws:region", '"mars"', "a region"), ("envstack:cluster.name", "null", "a name"), ("n:k", "1", "x")]
    )
    assert str(env.refusal(err)) == (
        '--region (aws:region): got "mars"; allowed: a region; '
        "--cluster-stack/--cluster-arn/--create-cluster (envstack:cluster.name): got null; allowed: a name; "
        "--set n:k: got 1; allowed: x"
    )


def test_the_delete_steps_of_a_guarded_type_start_with_up() -> None:
    assert env.is_guarded(EnvType.PROD) and env.is_guarded(EnvType.STAGING)
    assert not env.is_guarded(EnvType.DEV) and not env.is_guarded(EnvType.CUSTOM)
    assert env.delete_steps("qa", guarded=False) == [
        ["pulumi", "destroy", "--stack", "qa"],
        ["pulumi", "stack", "rm", "qa"],
    ]
    assert env.delete_steps("prod", guarded=True)[0] == ["pulumi", "up", "--stack", "prod"]
    assert env.next_steps("qa") == [
        "pulumi stack init qa",
        "pulumi preview --stack qa --policy-pack policies",
        "pulumi up --stack qa",
    ]


def test_the_confirmation_is_written_and_removed_keeping_every_comment(project: Path) -> None:
    path = project / "Pulumi.prod.yaml"
    before = path.read_text()
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and keys.CONFIRM_DELETION not in before
    assert env.set_confirmation("prod", "prod") is True
    written = path.read_text()
    assert "  envstack:confirmDeletion: prod\n" in written
    assert [line for line in written.splitlines() if line.lstrip().startswith("#")] == comments
    assert env.set_confirmation("prod", "prod") is False  # already so: unchanged
    assert env.set_confirmation("prod", None) is True
    assert keys.CONFIRM_DELETION not in path.read_text()
    assert env.set_confirmation("prod", None) is False
