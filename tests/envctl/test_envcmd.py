"""`envctl env create|show|delete`, end to end through the CLI on a copy of the project.

Create and delete are checked on the files they write (and the commands they print); the
Pulumi CLI steps of `delete --run` on a stand-in `pulumi` on PATH, as tests/scripts/test_destroy_preview.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from envctl import envcmd, formats
from envctl import inventory as inv
from envctl.cards import Card
from policies import rules
from policies.model import Finding
from tests.support.program import STAGING_REF, committed, invoke


def create_qa(*extra: str) -> tuple[int, str, str]:
    return invoke("env", "create", "qa", "--type", "custom", "--cluster-stack", STAGING_REF, *extra)


def test_create_show_delete_a_custom_environment_on_stagings_cluster(project: Path) -> None:
    code, out, err = create_qa()
    assert code == 0, err
    assert "wrote Pulumi.qa.yaml: rendered offline; no mandatory policy finding" in err
    assert out == (
        "next:\n  pulumi stack init qa\n  pulumi preview --stack qa --policy-pack policies\n  pulumi up --stack qa\n"
    )
    written = (project / "Pulumi.qa.yaml").read_text()
    assert written.startswith("# qa: a custom environment, written by `envctl env create`")
    assert "aws:region: ap-northeast-2\n" in written  # staging's region, from its committed file
    assert "    name: shared-nonprod\n    stack: acme/envstack/staging\n" in written

    code, out, err = invoke("env", "show", "qa")
    assert code == 0, err
    # The bucket's name as the program forms it; the engine (here the mock) appends its auto-name suffix.
    assert "shared-nonprod" in out and "env_qa" in out and "envstack-qa-files-" in out

    before = written
    code, out, err = invoke("env", "delete", "qa", "--confirm", "qa")
    assert code == 0, err
    assert out.startswith("Deleting an environment permanently removes all tables, data, users, and files")
    assert "would permanently delete 5 item(s); nothing refuses it" in out
    assert out.endswith("delete:\n  pulumi destroy --stack qa\n  pulumi stack rm qa\n")
    assert (project / "Pulumi.qa.yaml").read_text() == before  # custom is not guarded: nothing to confirm


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["qa", "--type", "custom", "--cluster-stack", STAGING_REF, "--region", "us-west-2"],
            "--region: got 'us-west-2'; allowed: ap-northeast-2, the region of the cluster that "
            "acme/envstack/staging owns (Pulumi.staging.yaml)",
        ),
        (
            ["staging", "--type", "custom", "--cluster-stack", STAGING_REF],
            "NAME: Pulumi.staging.yaml already exists; allowed: a name with no stack file yet",
        ),
        (
            ["pr-42", "--type", "custom", "--cluster-stack", STAGING_REF],
            "NAME: got 'pr-42'; allowed: a name outside the preview sweep's namespace",
        ),
        (
            ["sandbox", "--type", "dev", "--cluster-stack", STAGING_REF],
            "--cluster-stack: a dev environment has no cluster assignment",
        ),
        (["sandbox", "--type", "dev", "--create-cluster", "c1"], "--create-cluster: a dev environment has no cluster"),
        (["Sandbox", "--type", "dev"], "NAME: got 'Sandbox'; allowed: lowercase letters"),
        (["qa", "--type", "custom"], "cluster: got 0 of --cluster-stack, --cluster-arn, --create-cluster"),
        (["qa", "--type", "custom", "--cluster-stack", "staging"], "--cluster-stack: got 'staging'; allowed: a fully"),
        (["qa", "--type", "custom", "--cluster-stack", "acme/envstack/prodx"], "--cluster-name: acme/envstack/prodx"),
        (
            ["qa", "--type", "custom", "--cluster-stack", "acme/envstack/dev"],
            "--cluster-stack: Pulumi.dev.yaml does not",
        ),
        (
            ["qa", "--type", "custom", "--create-cluster", "mine", "--region", "us-east-1"],
            "--cluster-stack/--cluster-arn/--create-cluster (envstack:cluster.create): got true; allowed: a custom",
        ),
        (["qa", "--type", "dev"], "--region (aws:region): got nothing (the key is not set); allowed: must be set"),
        (
            ["qa", "--type", "dev", "--region", "us-east-1", "--set", "envstack:nope=1"],
            "--set envstack:nope: got 1; allowed: no such key",
        ),
        (["qa", "--type", "dev", "--set", "nope"], "--set: got 'nope'; allowed: NAMESPACE:KEY=VALUE"),
        (
            ["qa", "--type", "dev", "--region", "us-east-1", "--set", "envstack:foo=1", "--set", "envstack:bar=2"],
            "--set envstack:foo: got 1; allowed: no such key; the envstack keys are envstack:type, envstack:name, "
            "envstack:cluster",
        ),
    ],
)
def test_create_refuses_in_one_line_and_writes_nothing(project: Path, args: list[str], message: str) -> None:
    before = sorted(p.name for p in project.iterdir())
    code, out, err = invoke("env", "create", *args)
    assert (code, out) == (2, ""), err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"envctl: {message}"), err
    if "envstack:foo=1" in args:  # each problem in the one line
        assert "; --set envstack:bar: got 2; allowed: no such key" in err
    assert sorted(p.name for p in project.iterdir()) == before


def test_a_key_neither_the_project_nor_an_option_sets_names_its_option(project: Path) -> None:
    """Without Pulumi.yaml's project-wide principals, staging needs --platform-principal."""
    defaults = project / "Pulumi.yaml"
    text = defaults.read_text()
    start = text.index("  envstack:platformPrincipals:\n")
    end = text.index("  # The CI deploy role", start)
    defaults.write_text(text[:start] + text[end:])
    code, out, err = invoke(
        "env", "create", "st2", "--type", "staging", "--create-cluster", "c2", "--region", "us-east-1"
    )
    assert (code, out) == (2, "")
    assert err.startswith(
        "envctl: --platform-principal (envstack:platformPrincipals): got nothing (the key is not set); allowed:"
    ), err
    assert not (project / "Pulumi.st2.yaml").exists()


def test_create_with_every_kind_of_assignment_and_key(project: Path) -> None:
    arn = "arn:aws:rds:us-east-1:123456789012:cluster:outside"
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:outside-master"
    code, _, err = invoke(
        "env", "create", "ext", "--type", "custom", "--region", "us-east-1", "--cluster-arn", arn,
        "--cluster-secret-arn", secret, "--cluster-endpoint", "outside.example", "--set", "envstack:dbConnectionLimit=7",
        "--project", "acme",
        "--permissions-boundary", "arn:aws:iam::123456789012:policy/envstack/runtime-boundary-acme",
    )  # fmt: skip
    assert code == 0, err
    text = (project / "Pulumi.ext.yaml").read_text()
    assert f"    arn: {arn}\n" in text and "    name: outside\n" in text and "envstack:dbConnectionLimit: 7\n" in text
    assert "envstack:project: acme\n" in text
    role = "arn:aws:iam::123456789012:role/platform-api"
    code, _, err = invoke(
        "env", "create", "st2", "--type", "staging", "--create-cluster", "c2", "--region", "us-east-1",
        "--platform-principal", role,
    )  # fmt: skip
    assert code == 0, err
    text = (project / "Pulumi.st2.yaml").read_text()
    assert "    name: c2\n    create: true\n" in text and f"  - {role}\n" in text
    code, _, err = invoke("env", "create", "sandbox", "--type", "dev", "--region", "eu-west-1")
    assert code == 0 and "envstack:cluster" not in (project / "Pulumi.sandbox.yaml").read_text()


def test_a_mandatory_finding_keeps_no_file_and_exits_1(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    finding = Finding("s3-no-public-access", "envstack-qa-files", rules.MANDATORY, "the bucket is public")
    monkeypatch.setattr(rules, "evaluate", lambda model: [finding])
    code, out, err = create_qa()
    assert code == 1
    assert "s3-no-public-access" in out and "the bucket is public" in out
    assert err.strip() == "envctl: Pulumi.qa.yaml not written: a mandatory policy rule is violated (above)"
    assert not (project / "Pulumi.qa.yaml").exists()


# --- delete of a guarded type ------------------------------------------------------------


def test_delete_staging_needs_the_typed_name_then_writes_the_confirmation(project: Path) -> None:
    path = project / "Pulumi.staging.yaml"
    original = path.read_text()
    for stdin, typed in (("", None), ("stagin\n", "stagin")):
        code, _, err = invoke("env", "delete", "staging", stdin=stdin)
        assert code == 2 and path.read_text() == original
        expected = f"typed {typed!r}; allowed: exactly" if typed else "no name typed; allowed: the environment's"
        assert err.strip().splitlines()[-1].startswith("Type the environment's name (staging) to delete it:")
        assert f"envctl: {expected}" in err
    code, _, err = invoke("env", "delete", "staging", "--confirm", "prod")
    assert code == 2 and path.read_text() == original and "Nothing was written" in err

    code, out, err = invoke("env", "delete", "staging", stdin="staging\n")
    assert code == 0, err
    assert "would be stopped by 4 guard(s)" in out
    assert out.endswith(
        "step 1 (apply the confirmation), then step 2 (delete):\n"
        "  pulumi up --stack staging\n"
        "  pulumi destroy --stack staging\n"
        "  pulumi stack rm staging\n"
        "to back out: envctl env delete staging --cancel\n"
    )
    assert path.read_text() == original + "  envstack:confirmDeletion: staging\n"  # every comment kept
    code, out, _ = invoke("manifest", "staging")
    assert code == 0 and "REFUSED" not in out  # the confirmed config lifts the guards

    code, out, err = invoke("env", "delete", "staging", "--cancel")
    assert code == 0 and path.read_text() == original
    assert out == "if step 1 was applied, restore the guards with:\n  pulumi up --stack staging\n"
    assert invoke("env", "delete", "staging", "--cancel")[2].strip() == "no confirmation to remove"


STAND_IN = """#!/usr/bin/env bash
# A stand-in for the Pulumi CLI: logs each call; fails or hangs on the step it is told to.
printf '%s\\n' "$*" >> "$PULUMI_LOG"
case "$*" in
  "$FAIL_ON"*) echo "error: $1 failed" >&2; exit 255 ;;
  "$HANG_ON"*) sleep 30 ;;
esac
exit 0
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(STAND_IN)
    (bin_dir / "pulumi").chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_LOG", str(log))
    monkeypatch.setenv("FAIL_ON", "never")
    monkeypatch.setenv("HANG_ON", "never")
    return log


def test_delete_run_runs_the_two_steps_in_order(project: Path, stand_in: Path) -> None:
    code, _, err = invoke("env", "delete", "staging", "--confirm", "staging", "--run")
    assert code == 0, err
    assert stand_in.read_text().splitlines() == [
        "up --stack staging --yes",
        "destroy --stack staging --yes",
        "stack rm staging --yes",
    ]
    assert "deleted staging" in err
    assert "running: pulumi up --stack staging --yes\nrunning: pulumi destroy --stack staging --yes\n" in err


def test_delete_run_stops_at_the_first_failure(project: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIL_ON", "destroy")
    code, _, err = invoke("env", "delete", "staging", "--confirm", "staging", "--run")
    assert code == 1
    assert err.strip().endswith("envctl: pulumi destroy --stack staging: exited 255; later steps not run")
    assert stand_in.read_text().splitlines() == ["up --stack staging --yes", "destroy --stack staging --yes"]


def test_delete_run_times_out(project: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANG_ON", "up")
    code, _, err = invoke("env", "delete", "staging", "--confirm", "staging", "--run", "--timeout", "1")
    assert code == 1
    assert err.strip().endswith("envctl: pulumi up --stack staging: timed out after 1s; later steps not run")
    assert stand_in.read_text().splitlines() == ["up --stack staging --yes"]


def test_delete_run_without_the_pulumi_cli_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = invoke("env", "delete", "qa-x", "--confirm", "qa-x", "--run")
    assert code == 2 and "unknown stack 'qa-x'" in err
    code, _, err = invoke("env", "delete", "dev", "--confirm", "dev", "--run")
    assert code == 2 and err.strip() == (
        "envctl: --run: the Pulumi CLI is not on PATH; allowed: run the printed commands yourself"
    )


def test_delete_options_that_do_nothing_are_refused(project: Path) -> None:
    assert invoke("env", "delete", "dev", "--cancel", "--run")[0] == 2
    code, _, err = invoke("env", "delete", "dev", "--confirm", "dev", "--dsn", "postgresql://x")
    assert code == 2 and "--dsn: only with --live" in err
    code, _, err = invoke("env", "show", "dev", "--dsn", "postgresql://x")
    assert code == 2 and "--dsn: only with --live" in err
    code, _, err = invoke("env", "delete", "nope", "--cancel")
    assert code == 2 and "unknown stack 'nope'" in err


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("exit 1", "pulumi stack output --stack dev: failed"),
        ("echo 'error: no stack' >&2; echo ignored; exit 255", "pulumi stack output --stack dev: error: no stack"),
        ("echo nope", "pulumi stack output --stack dev: malformed JSON (Expecting value)"),
        ("echo '[]'", "stack dev: expected a JSON object of stack outputs, got list"),
    ],
)
def test_cards_through_a_failing_pulumi_cli_say_why_in_one_line(tmp_path: Path, script: str, expected: str) -> None:
    from envctl.cards import cards_from_cli
    from envctl.errors import UsageError

    cli = tmp_path / "pulumi"
    cli.write_text(f"#!/bin/sh\n{script}\n")
    cli.chmod(0o755)
    with pytest.raises(UsageError) as info:
        cards_from_cli(["dev"], str(cli))
    assert str(info.value) == expected


def test_cards_through_a_pulumi_cli_printing_nothing_are_not_deployed(tmp_path: Path) -> None:
    from envctl.cards import cards_from_cli

    cli = tmp_path / "pulumi"
    cli.write_text("#!/bin/sh\nexit 0\n")
    cli.chmod(0o755)
    assert [(c.stack, c.deployed) for c in cards_from_cli(["dev"], str(cli))] == [("dev", False)]


# --- what `env show` prints, exactly -------------------------------------------------------------

CARD = Card(
    stack="qa",
    deployed=True,
    name="qa",
    type="custom",
    cloudProvider="aws",
    region="ap-northeast-2",
    cluster="shared-nonprod",
    createdAt="2026-12-01T00:00:00Z",
)
STORES = [
    inv.Store("files", "envstack-qa-files", "envstack-qa-files-abc", "deleted", "bucket deleted with every file"),
    inv.Store("key secret", "envstack-qa-api-key", "arn:x", "recoverable", "7-day recovery window"),
]
READ = inv.Live(
    record="/envstack/envstack/environments/qa",
    tables=[{"table": "posts", "rows": 120, "source": "pg_class.reltuples"}],
    users={"count": 2, "source": "Cognito"},
    files={"objects": 3, "bytes": None, "source": "CloudWatch"},
)
REFUSED = inv.Live(record="/r", tables=[], users_error="AWS refused: X: y", files_error="cannot reach AWS")
STORES_TEXT = (
    "                                                  Stores                                                   \n"
    "┏━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
    "┃ store      ┃ resource            ┃ identifier            ┃ on delete   ┃ detail                         ┃\n"
    "┡━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
    "│ files      │ envstack-qa-files   │ envstack-qa-files-abc │ DELETED     │ bucket deleted with every file │\n"
    "│ key secret │ envstack-qa-api-key │ arn:x                 │ RECOVERABLE │ 7-day recovery window          │\n"
    "└────────────┴─────────────────────┴───────────────────────┴─────────────┴────────────────────────────────┘\n"
)
STORES_MARKDOWN = (
    "\n| store | resource | identifier | on delete | detail |\n|---|---|---|---|---|\n"
    "| files | `envstack-qa-files` | `envstack-qa-files-abc` | **deleted** | bucket deleted with every file |\n"
    "| key secret | `envstack-qa-api-key` | `arn:x` | **recoverable** | 7-day recovery window |\n"
)


def test_show_text_is_the_card_then_the_stores_then_what_was_read() -> None:
    head = formats.render_text(formats.cards_table([CARD]))
    assert envcmd.show_text(CARD, STORES, None) == head + STORES_TEXT
    assert envcmd.show_text(CARD, STORES, READ) == head + STORES_TEXT + (
        "Tables (schema, row estimates from the catalogue's statistics; record /envstack/envstack/environments/qa):\n"
        "  posts: ~120 rows (pg_class.reltuples)\n"
        "Users: 2 (Cognito)\n"
        "Files: 3 objects, unknown (CloudWatch)\n"
    )
    assert envcmd.show_text(CARD, STORES, REFUSED) == head + STORES_TEXT + (
        "Tables (schema, row estimates from the catalogue's statistics; record /r):\n"
        "  no tables\n"
        "Users: not read: AWS refused: X: y\n"
        "Files: not read: cannot reach AWS\n"
    )


def test_show_markdown_is_the_card_then_the_stores_then_what_was_read() -> None:
    head = formats.cards_markdown([CARD])
    assert envcmd.show_markdown(CARD, STORES, None) == head + STORES_MARKDOWN
    assert envcmd.show_markdown(CARD, STORES, READ) == head + STORES_MARKDOWN + (
        "\nTables (schema, row estimates from the catalogue's statistics; record "
        "`/envstack/envstack/environments/qa`):\n\n- `posts`: ~120 rows (pg_class.reltuples)\n\n"
        "Users: 2 (Cognito)\n\nFiles: 3 objects, unknown (CloudWatch)\n"
    )
    assert envcmd.show_markdown(CARD, STORES, REFUSED).endswith(
        "record `/r`):\n\n- no tables\n\nUsers: not read: AWS refused: X: y\n\nFiles: not read: cannot reach AWS\n"
    )


def test_show_json_holds_the_card_the_stores_and_only_then_what_was_read() -> None:
    assert envcmd.show_json(CARD, STORES, None) == {
        "card": CARD.to_json(),
        "stores": [
            {
                "store": "files",
                "resource": "envstack-qa-files",
                "identifier": "envstack-qa-files-abc",
                "fate": "deleted",
                "detail": "bucket deleted with every file",
            },
            {
                "store": "key secret",
                "resource": "envstack-qa-api-key",
                "identifier": "arn:x",
                "fate": "recoverable",
                "detail": "7-day recovery window",
            },
        ],
    }
    assert envcmd.show_json(CARD, [], REFUSED)["live"] == {
        "record": "/r",
        "tables": [],
        "tables_error": None,
        "users": None,
        "users_error": "AWS refused: X: y",
        "files": None,
        "files_error": "cannot reach AWS",
    }


def test_a_files_line_gives_the_bytes_when_they_are_known() -> None:
    assert envcmd.live_lines(
        inv.Live(
            record="/r",
            tables_error="e",
            users={"count": 0, "source": "s"},
            files={"objects": 1, "bytes": 7, "source": "c"},
        ),
        "  ",
        "",
    )[1:] == [
        "  not read: e",
        "Users: 0 (s)",
        "Files: 1 objects, 7 bytes (c)",
    ]


def test_show_names_the_card_by_its_stack_and_a_rendering_without_card_outputs_by_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = invoke("env", "show", "dev", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["card"]["stack"] == "dev"
    bare = dataclasses.replace(committed("dev"), outputs={"name": "dev"})
    monkeypatch.setattr(envcmd, "rendering_of", lambda name: bare)
    code, _, err = invoke("env", "show", "dev")
    assert code == 2 and err.startswith("envctl: rendering of dev: not envstack outputs (missing ")
