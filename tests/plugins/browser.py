"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, for the HTML report.

Playwright never downloads a browser here: it is pointed at ``/usr/bin/chromium`` (installed
by ``scripts/setup``), started with a fresh user-data dir and the flags that keep it off the
network. :func:`open_page` records every console error and every request the page makes, so a
test can assert the report is self-contained. Screenshots land in ``$SOPHIA_TEST_ARTIFACTS``
(default ``build/test-artifacts``), kept for CI to upload.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SOPHIA_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("SOPHIA_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class OpenedPage:
    """A page and what it did while loading."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests other than the report file itself."""
        return [r for r in self.requests if r != self.url]


@dataclass
class Browser:
    """A running Chromium with one persistent context."""

    context: Any

    def open(self, path: Path, *, color_scheme: str = "light") -> OpenedPage:
        page = self.context.new_page()
        page.emulate_media(color_scheme=color_scheme)
        opened = OpenedPage(page, path.resolve().as_uri())
        page.on("console", lambda m: m.type == "error" and opened.console_errors.append(m.text))
        page.on("pageerror", lambda e: opened.page_errors.append(str(e)))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.goto(opened.url, wait_until="load")
        return opened


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the session (skipped, loudly, where it is not installed; CI has it)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: scripts/setup installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (scripts/setup installs it)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="sophia-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=ARGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield Browser(context)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
