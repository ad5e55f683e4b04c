"""Fixtures shared by every test folder. None is autouse.

Browser tests (@pytest.mark.browser) drive Debian's Chromium through Playwright's sync API:
never a downloaded browser. If Chromium is missing they fail and say how to install it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM
# calls from that thread (SynchronousOnlyOperation) although nothing is really async there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}

_screenshot_dirs: list[Path] = []


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's with "
            "`apt-get install -y chromium fonts-noto-cjk` (./dev test does it). "
            "Browser tests never download a browser.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_factory(browser):
    """Open pages in fresh contexts (own cookies): page_factory(viewport=..., locale=...)."""
    contexts = []

    def make(*, viewport: dict | None = None, locale: str = "zh-CN", **options):
        context = browser.new_context(viewport=viewport or DESKTOP_VIEWPORT, locale=locale, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_factory):
    """A desktop-sized page (1280×900, Chinese browser locale)."""
    return page_factory()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """A folder for screenshots (YIWANG_SCREENSHOT_DIR, else a new temporary folder); its path
    is printed at the end of the run."""
    configured = os.environ.get("YIWANG_SCREENSHOT_DIR")
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="yiwang-screenshots-"))
    path.mkdir(parents=True, exist_ok=True)
    _screenshot_dirs.append(path)
    print(f"\nscreenshots: {path}")
    return path


def pytest_terminal_summary(terminalreporter):
    for path in _screenshot_dirs:
        terminalreporter.write_line(f"screenshots: {path}")
