"""envctl/page.py: the Environments page's markup, asserted exactly for each part a user or a
browser reads (the card, the stores, what the environment holds, the tabs). The page in a real
browser: tests/envctl/test_records_cli.py and tests/envctl/test_env_live.py."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest

from envctl.cards import Card
from envctl.inventory import Live, Store
from envctl.page import SCRIPT_HASH, cards_html, created_label
from envctl.pagedata import Details

QA = Card(
    stack="pr-9",
    deployed=True,
    name="qa",
    type="custom",
    cloudProvider="aws",
    region="eu-west-1",
    cluster="",
    createdAt="2026-03-04T05:06:07+09:00",
)
QA_CARD = (
    '<li class="card" data-stack="pr-9" data-deployed="true"><h2><span class="name">qa</span>'
    '<span class="badge custom" data-field="type">custom</span></h2><dl>'
    '<dt>Cloud provider</dt><dd data-field="cloudProvider">AWS</dd>'
    '<dt>Region</dt><dd data-field="region">eu-west-1</dd>'
    '<dt>Cluster</dt><dd data-field="cluster">—</dd>'  # no cluster: a dash, not an empty cell
    '<dt>Created at</dt><dd data-field="createdAt">'
    '<time datetime="2026-03-04T05:06:07+09:00">2026-03-03 20:06 UTC</time></dd></dl></li>'
)


def _panels(html: str) -> list[str]:
    return re.findall(r"<section role=\"tabpanel\".*?</section>", html)


def test_a_deployed_card_shows_each_field_as_the_console_does() -> None:
    assert QA_CARD in cards_html([QA])


def test_a_dev_card_has_no_cluster_and_an_unknown_type_a_neutral_badge() -> None:
    dev = Card(stack="dev", deployed=True, name="dev", type="dev", cloudProvider="aws", region="r", createdAt="later")
    odd = Card(stack="x", deployed=True, name="n", type="weird", cloudProvider="Aws", region="r", cluster="c1")
    html = cards_html([dev, odd])
    assert (
        '<li class="card" data-stack="dev" data-deployed="true"><h2><span class="name">dev</span>'
        '<span class="badge dev" data-field="type">dev</span></h2><dl>'
        '<dt>Cloud provider</dt><dd data-field="cloudProvider">AWS</dd><dt>Region</dt><dd data-field="region">r</dd>'
        '<dt>Created at</dt><dd data-field="createdAt"><time datetime="later">later</time></dd></dl></li>'
    ) in html
    assert (
        '<span class="badge unknown" data-field="type">weird</span></h2><dl>'
        '<dt>Cloud provider</dt><dd data-field="cloudProvider">AWS</dd><dt>Region</dt><dd data-field="region">r</dd>'
        '<dt>Cluster</dt><dd data-field="cluster">c1</dd>'
        '<dt>Created at</dt><dd data-field="createdAt"><time datetime=""></time></dd></dl></li>'
    ) in html
    for kind in ("staging", "prod"):
        card = Card(stack=kind, deployed=True, name=kind, type=kind, cluster="main")
        assert f'<span class="badge {kind}" data-field="type">{kind}</span>' in cards_html([card])
        assert '<dd data-field="cluster">main</dd>' in cards_html([card])


def test_a_card_not_deployed_says_so_and_escapes_its_stack() -> None:
    html = cards_html([Card(stack="s<1>", deployed=False)])
    assert (
        '<li class="card not-deployed" data-stack="s&lt;1&gt;" data-deployed="false">'
        '<h2><span class="name">s&lt;1&gt;</span></h2><p class="status">Not deployed</p></li>'
    ) in html


STORES = Details(
    [
        Store("bucket", "files", "b-1", "deleted", "gone <for good>"),
        Store("schema", "tables", "env_qa", "refused", "kept"),
    ],
    note="a note",
)


def test_the_stores_table_names_each_store_and_what_deletion_does() -> None:
    html = cards_html([QA], details={"pr-9": STORES})
    assert (
        '<h3>Stores</h3><p class="note">a note</p><table class="stores"><thead><tr>'
        '<th scope="col">store</th><th scope="col">identifier</th><th scope="col">on delete</th>'
        '<th scope="col">what happens</th></tr></thead><tbody>'
        '<tr data-store="bucket"><td>bucket</td><td>b-1</td><td class="fate-deleted">deleted</td>'
        "<td>gone &lt;for good&gt;</td></tr>"
        '<tr data-store="schema"><td>schema</td><td>env_qa</td><td class="fate-refused">refused</td><td>kept</td></tr>'
        "</tbody></table></section>"
    ) in html


def test_without_stores_the_panel_shows_its_note_or_only_the_heading() -> None:
    with_note = cards_html([QA], details={"pr-9": Details([], "no Pulumi.pr-9.yaml here")})
    assert '</ul><h3>Stores</h3><p class="note">no Pulumi.pr-9.yaml here</p></section>' in with_note
    assert "</ul><h3>Stores</h3></section>" in cards_html([QA], details={"pr-9": Details([])})
    assert "<h3>" not in cards_html([QA], details={"other": STORES})  # details of another stack: none here


TABLE_HEAD = (
    '<table class="table"><thead><tr><th scope="col">table</th><th scope="col">rows (estimate)</th>'
    '<th scope="col">from</th></tr></thead>'
)


def test_what_an_environment_holds_tables_users_and_files() -> None:
    live = Live(
        record="r",
        tables=[{"table": "posts", "rows": 120, "source": "pg<"}, {"table": "notes", "rows": 2, "source": "pg"}],
        users={"count": 2, "source": "cognito<"},
        files={"objects": 3, "bytes": None, "source": "s3<"},
    )
    html = cards_html([QA], details={"pr-9": Details([], live=live)})
    assert (
        f'</ul><h3>Stores</h3><h3>Tables</h3>{TABLE_HEAD}<tbody><tr data-table="posts"><td>posts</td><td>120</td>'
        "<td>pg&lt;</td></tr>"
        '<tr data-table="notes"><td>notes</td><td>2</td><td>pg</td></tr></tbody></table><h3>Users</h3><p data-live="users">2 (cognito&lt;)</p>'
        '<h3>Files</h3><p data-live="files">3 objects, unknown (s3&lt;)</p></section>'
    ) in html
    sized = Live(record="r", tables=[], files={"objects": 0, "bytes": 5, "source": "s3"})
    html = cards_html([QA], details={"pr-9": Details([], live=sized)})
    assert (
        f"<h3>Tables</h3>{TABLE_HEAD}<tbody></tbody></table><h3>Users</h3>"
        '<h3>Files</h3><p data-live="files">0 objects, 5 bytes (s3)</p></section>'
    ) in html


def test_a_section_not_read_says_why() -> None:
    live = Live(record="r", tables_error="denied <x>", users_error="u-err", files_error="f-err")
    html = cards_html([QA], details={"pr-9": Details([], live=live)})
    assert (
        '<h3>Tables</h3><p class="error">not read: denied &lt;x&gt;</p>'
        '<h3>Users</h3><p class="error">not read: u-err</p>'
        '<h3>Files</h3><p class="error">not read: f-err</p></section>'
    ) in html


def test_one_tab_per_environment_in_the_order_given_and_only_the_first_shown() -> None:
    other = Card(stack="b&c", deployed=False)
    html = cards_html([QA, other, QA])
    tabs = re.search(r'<div role="tablist" aria-label="Environments">(.*?)</div>', html)
    assert tabs is not None and tabs.group(1) == (
        '<button type="button" role="tab" id="tab-0" aria-selected="true" aria-controls="panel-0" tabindex="0" '
        'data-stack="pr-9">pr-9</button>'
        '<button type="button" role="tab" id="tab-1" aria-selected="false" aria-controls="panel-1" tabindex="-1" '
        'data-stack="b&amp;c">b&amp;c</button>'
        '<button type="button" role="tab" id="tab-2" aria-selected="false" aria-controls="panel-2" tabindex="-1" '
        'data-stack="pr-9">pr-9</button>'
    )
    assert [p[: p.index("><ul")] for p in _panels(html)] == [
        '<section role="tabpanel" id="panel-0" aria-labelledby="tab-0" tabindex="0" data-stack="pr-9"',
        '<section role="tabpanel" id="panel-1" aria-labelledby="tab-1" tabindex="0" data-stack="b&amp;c" hidden',
        '<section role="tabpanel" id="panel-2" aria-labelledby="tab-2" tabindex="0" data-stack="pr-9" hidden',
    ]
    assert (
        _panels(html)[0]
        == f'{_panels(html)[0][: _panels(html)[0].index("><ul")]}><ul class="cards">{QA_CARD}</ul></section>'
    )


def test_the_page_says_how_many_environments_and_from_where() -> None:
    assert '<p class="summary">1 environment</p>' in cards_html([QA])
    assert '<p class="summary">0 environments</p>' in cards_html([])
    assert '<p class="summary">project a&lt;b · 2 environments</p>' in cards_html([QA, QA], "project a<b")


def test_the_page_is_one_self_contained_file_whose_only_script_is_admitted_by_its_hash() -> None:
    html = cards_html([QA])
    assert html.startswith(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src '{SCRIPT_HASH}'\"><title>Environments</title><style>"
    )
    assert '</style></head>\n<body><header><h1>Environments</h1><p class="summary">1 environment</p></header>\n' in html
    script = re.search(r"<script>(.*)</script></body></html>\n$", html, re.S)
    assert script is not None
    assert "sha256-" + base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode() == SCRIPT_HASH
    assert html.count("<script") == 1 and "src=" not in html.replace("script-src", "").replace("default-src", "")
    assert f"</div>\n{_panels(html)[0]}\n<script>" in html


def test_a_time_is_shown_in_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        assert created_label("2026-03-04T05:06:07+09:00") == "2026-03-03 20:06 UTC"
    finally:
        monkeypatch.undo()
        time.tzset()
