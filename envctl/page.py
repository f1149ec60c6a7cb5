"""The Environments page: the cards as the product's console shows them, as one HTML file.

One tab per environment, on the WAI-ARIA tabs pattern (role tablist/tab/tabpanel,
aria-selected, aria-controls; arrow keys, Home and End move between tabs): the selected tab's
panel shows that environment's card, its stores and, from `--live`, its tables, users and files.
Self-contained: inline CSS and one inline script, which the page's Content-Security-Policy
admits by its SHA-256 and nothing else; no font, image or any other fetch, so it opens from
disk or an artifact store exactly as it was written. Every value is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from envctl.cards import NOT_DEPLOYED, Card

if TYPE_CHECKING:
    from envctl.inventory import Live
    from envctl.pagedata import Details

TYPES = ("dev", "staging", "prod", "custom")

_CSS = """
:root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px; background: #f6f7f9; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0 0 24px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 16px;
  list-style: none; margin: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .04); }
.card.not-deployed { background: #fafafa; border-style: dashed; color: var(--muted); }
.card h2 { display: flex; align-items: center; justify-content: space-between; gap: 8px;
  margin: 0 0 12px; font-size: 17px; }
.badge { border-radius: 999px; padding: 2px 10px; font-size: 12px; font-weight: 600; }
.badge.dev { background: #dbeafe; color: #1e40af; }
.badge.staging { background: #fef3c7; color: #92400e; }
.badge.prod { background: #fee2e2; color: #991b1b; }
.badge.custom { background: #ede9fe; color: #5b21b6; }
.badge.unknown, .badge.none { background: #f3f4f6; color: #374151; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.status { margin: 0; font-style: italic; }
[role="tablist"] { display: flex; flex-wrap: wrap; gap: 4px; margin: 0 0 16px; border-bottom: 1px solid var(--line); }
[role="tab"] { font: inherit; border: 1px solid transparent; border-bottom: none; border-radius: 8px 8px 0 0;
  background: none; padding: 8px 14px; cursor: pointer; color: var(--muted); margin-bottom: -1px; }
[role="tab"][aria-selected="true"] { background: #fff; border-color: var(--line); color: var(--ink); font-weight: 600; }
[role="tab"]:focus-visible, [role="tabpanel"]:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
[role="tabpanel"] .cards { max-width: 420px; margin-bottom: 18px; }
section h3 { margin: 18px 0 8px; font-size: 15px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; }
th, td[class^="fate-"] { white-space: nowrap; }
.fate-deleted { color: #991b1b; } .fate-refused { color: #166534; }
.note, .error { color: var(--muted); margin: 4px 0; } .error { color: #991b1b; }
"""

# The tabs' behaviour (WAI-ARIA Authoring Practices, "Tabs with Automatic Activation").
_SCRIPT = """
(() => {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (event) => {
      const last = tabs.length - 1;
      const to = {ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last}[event.key];
      if (to === undefined) return;
      event.preventDefault();
      select(tabs[to], true);
    });
  });
})();
"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()


def created_label(value: str) -> str:
    """An RFC 3339 time as the console shows it, `2026-01-01 09:30 UTC`; anything else as it is."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        return value
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _field(label: str, key: str, value: str) -> str:
    return f'<dt>{escape(label)}</dt><dd data-field="{escape(key)}">{escape(value)}</dd>'


def _card(card: Card) -> str:
    if not card.deployed:
        return (
            f'<li class="card not-deployed" data-stack="{escape(card.stack)}" data-deployed="false">'
            f'<h2><span class="name">{escape(card.stack)}</span></h2>'
            f'<p class="status">{escape(NOT_DEPLOYED.capitalize())}</p></li>'
        )
    kind = card.type if card.type in TYPES else "unknown"
    fields = [
        _field("Cloud provider", "cloudProvider", card.cloudProvider.upper()),
        _field("Region", "region", card.region),
    ]
    if card.type != "dev":  # the console shows a cluster only for non-dev environments
        fields.append(_field("Cluster", "cluster", card.cluster or "—"))
    created = f'<time datetime="{escape(card.createdAt)}">{escape(created_label(card.createdAt))}</time>'
    fields.append(f'<dt>Created at</dt><dd data-field="createdAt">{created}</dd>')
    return (
        f'<li class="card" data-stack="{escape(card.stack)}" data-deployed="true">'
        f'<h2><span class="name">{escape(card.name)}</span>'
        f'<span class="badge {escape(kind)}" data-field="type">{escape(card.type)}</span></h2>'
        f"<dl>{''.join(fields)}</dl></li>"
    )


def _rows(head: tuple[str, ...], rows: list[tuple[str, ...]], kind: str) -> str:
    cells = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(
        f'<tr data-{kind}="{escape(r[0])}">' + "".join(f"<td>{escape(v)}</td>" for v in r) + "</tr>" for r in rows
    )
    return f'<table class="{kind}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def _stores(found: Details) -> str:
    rows = "".join(
        f'<tr data-store="{escape(s.store)}"><td>{escape(s.store)}</td><td>{escape(s.identifier)}</td>'
        f'<td class="fate-{escape(s.fate)}">{escape(s.fate)}</td><td>{escape(s.detail)}</td></tr>'
        for s in found.stores
    )
    note = f'<p class="note">{escape(found.note)}</p>' if found.note else ""
    if not rows:
        return f"<h3>Stores</h3>{note}"
    head = "".join(f'<th scope="col">{h}</th>' for h in ("store", "identifier", "on delete", "what happens"))
    return f'<h3>Stores</h3>{note}<table class="stores"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _error(message: str | None) -> str:
    return f'<p class="error">not read: {escape(message)}</p>' if message else ""


def _live(live: Live) -> str:
    tables = _rows(
        ("table", "rows (estimate)", "from"),
        [(t["table"], str(t["rows"]), t["source"]) for t in live.tables or []],
        "table",
    )
    users = f'<p data-live="users">{live.users["count"]} ({escape(live.users["source"])})</p>' if live.users else ""
    files = ""
    if live.files:
        size = "unknown" if live.files["bytes"] is None else f"{live.files['bytes']} bytes"
        files = f'<p data-live="files">{live.files["objects"]} objects, {size} ({escape(live.files["source"])})</p>'
    return (
        f"<h3>Tables</h3>{_error(live.tables_error)}{tables if live.tables is not None else ''}"
        f"<h3>Users</h3>{_error(live.users_error)}{users}<h3>Files</h3>{_error(live.files_error)}{files}"
    )


def _panel(i: int, card: Card, found: Details | None) -> str:
    extra = (_stores(found) + (_live(found.live) if found.live else "")) if found else ""
    hidden = "" if i == 0 else " hidden"
    return (
        f'<section role="tabpanel" id="panel-{i}" aria-labelledby="tab-{i}" tabindex="0" '
        f'data-stack="{escape(card.stack)}"{hidden}><ul class="cards">{_card(card)}</ul>{extra}</section>'
    )


def _tab(i: int, card: Card) -> str:
    selected = "true" if i == 0 else "false"
    return (
        f'<button type="button" role="tab" id="tab-{i}" aria-selected="{selected}" aria-controls="panel-{i}" '
        f'tabindex="{0 if i == 0 else -1}" data-stack="{escape(card.stack)}">{escape(card.stack)}</button>'
    )


def cards_html(cards: list[Card], subtitle: str = "", details: dict[str, Details] | None = None) -> str:
    """One self-contained page: a tab per environment, in the order given, whose panel shows
    its card and, from `details`, its stores and what it holds."""
    count = f"{len(cards)} environment{'s' if len(cards) != 1 else ''}"
    sub = f"{escape(subtitle)} · {count}" if subtitle else count
    shown: dict[str, Any] = details or {}
    tabs = "".join(_tab(i, c) for i, c in enumerate(cards))
    panels = "\n".join(_panel(i, c, shown.get(c.stack)) for i, c in enumerate(cards))
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No fetch of any kind: only the inline style and the one script of this hash run.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src '{SCRIPT_HASH}'\">"
        f"<title>Environments</title><style>{_CSS}</style></head>\n"
        f'<body><header><h1>Environments</h1><p class="summary">{sub}</p></header>\n'
        f'<div role="tablist" aria-label="Environments">{tabs}</div>\n{panels}\n'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
