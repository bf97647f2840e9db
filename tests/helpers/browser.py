"""Debian's chromium under Playwright, as the browser tests drive it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
# Screenshots to look at after a run; tests/artifacts/ is kept out of git.
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's own probe does: no background traffic on a network that refuses it.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless; fails the test when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed; scripts/setup installs it (apt chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_until(page: Page, expression: str, timeout: float = 20.0) -> object:
    """Poll a JavaScript expression with evaluate() until it is truthy, and return its
    value: wait_for_function would need eval, which the site's Content-Security-Policy
    rightly forbids."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(f"() => ({expression})")):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)
    return value


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
