"""A real browser for the Environments page: Debian's `chromium`, headless.

`.ci/run` installs it. Without it a test skips on a developer machine and fails under
CI=true, so a missing browser can never pass for a green run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",  # the suite runs as root in CI; the page is our own file
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(*args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(page: Path) -> str:
    """The DOM as chromium parsed and laid it out."""
    return _run("--dump-dom", page.resolve().as_uri())


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 720) -> None:
    _run(f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page.resolve().as_uri())


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class Cards(HTMLParser):
    """The cards of a dumped DOM: per card its data attributes, name, badge and fields."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, Any]] = []
        self.external: list[str] = []  # every src/href: the page must have none
        self._into: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        for attr in ("src", "href"):
            if a.get(attr):
                self.external.append(str(a[attr]))
        if tag == "li" and "card" in classes:
            self.cards.append(
                {"stack": a["data-stack"], "deployed": a["data-deployed"], "fields": {}, "classes": classes}
            )
            return
        if not self.cards:
            return
        if "name" in classes:
            self._into = "name"
        elif "badge" in classes:
            self._into = "badge"
        elif "status" in classes:
            self._into = "status"
        elif a.get("data-field"):
            self._into = f"field:{a['data-field']}"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "dd", "p"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is None or not self.cards:
            return
        card = self.cards[-1]
        if self._into.startswith("field:"):
            key = self._into[len("field:") :]
            card["fields"][key] = card["fields"].get(key, "") + data
        else:
            card[self._into] = card.get(self._into, "") + data


def parse_cards(dom: str) -> Cards:
    parser = Cards()
    parser.feed(dom)
    return parser
