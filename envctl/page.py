"""The Environments page: the cards as the product's console shows them, as one HTML file.

Self-contained: inline CSS, no script, no font, image or any other fetch, so it opens from
disk or an artifact store exactly as it was written. Every value is escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from envctl.cards import NOT_DEPLOYED, Card

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
"""


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


def cards_html(cards: list[Card], subtitle: str = "") -> str:
    """One self-contained page with a card per environment, in the order given."""
    count = f"{len(cards)} environment{'s' if len(cards) != 1 else ''}"
    sub = f"{escape(subtitle)} · {count}" if subtitle else count
    body = "\n".join(_card(c) for c in cards)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No fetch of any kind: scripts, styles, fonts, images and frames are all refused.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Environments</title><style>{_CSS}</style></head>\n"
        f'<body><header><h1>Environments</h1><p class="summary">{sub}</p></header>\n'
        f'<ul class="cards">\n{body}\n</ul></body></html>\n'
    )
