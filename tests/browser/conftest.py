"""Fixtures for the browser tests: headless Chromium with no network.

The tests skip, with the reason, where Chromium, Playwright or the bundled
Leaflet files are missing (``apt-get install chromium``, ``pip install
playwright``; never ``playwright install``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chromium import browser, missing_reason


@dataclass
class PageLog:
    """What a page reported while it was open."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    reason = missing_reason()
    if reason:
        pytest.skip(f"browser tests need Chromium and Playwright: {reason}")
    with browser() as b:
        yield b


@pytest.fixture
def map_page(chromium_browser: Any) -> Iterator[tuple[Any, PageLog]]:
    """A fresh 1400x900 page; script errors, console errors and dialogs are recorded."""
    page = chromium_browser.new_page(viewport={"width": 1400, "height": 900})
    log = PageLog()
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    page.on("console",
            lambda msg: log.errors.append(f"console: {msg.text}") if msg.type == "error" else None)

    def on_dialog(dialog: Any) -> None:
        log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield page, log
    finally:
        page.close()
