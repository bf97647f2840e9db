"""Take-away, the credits sheet and "Copy credit" in a real browser (Debian's chromium
driven by Playwright) against the real `event-archive serve` of the sample archive:
the ZIP form downloads a valid ZIP, the sheet prints without the site around it and
with its addresses, and a credit line is copied alone, or selected with the keys to
press where the Clipboard API is refused (plain HTTP on a LAN address)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from helpers.browser import ARTIFACTS, chromium, screenshot, wait_until
from helpers.processes import LiveServer, serving

pytestmark = pytest.mark.slow

SESSION = "/events/florence-2019/sessions/s2"
VIDEO_LINE = "Video: Barry Guckian / Northern and Western Regional Assembly (TRINNO), CC BY 4.0"
# The Clipboard API refusing, as a browser does when the visitor or a policy says no.
REFUSE = """navigator.clipboard.writeText = () =>
    Promise.reject(new DOMException("Write permission denied.", "NotAllowedError"));"""
ON_A_MAC = """Object.defineProperty(Navigator.prototype, "userAgentData",
    {get: () => ({platform: "macOS"})});"""


@pytest.fixture(scope="module")
def server(sample_archive: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    # On every address, so that a test can reach it by a LAN address too.
    with serving(sample_archive, tmp_path_factory.mktemp("credits") / "serve.log",
                 "--host", "0.0.0.0", "--workers", "1") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    """A desktop window allowed to download and to use the clipboard."""
    context = browser.new_context(base_url=server.url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def video_page(page: Page) -> None:
    page.goto("/?q=kind%3Avideo")
    page.locator(".card a").first.click()
    page.wait_for_url("**/items/**")


def downloaded_zip(page: Page, submit: str) -> tuple[zipfile.ZipFile, str]:
    with page.expect_download() as download:
        page.click(submit)
    data = Path(download.value.path()).read_bytes()
    found = zipfile.ZipFile(io.BytesIO(data))
    assert found.testzip() is None
    return found, download.value.suggested_filename


def test_the_session_pages_form_downloads_a_zip_of_copies(page: Page) -> None:
    page.goto(SESSION)
    expect(page.locator("a.credits-for-these")).to_have_attribute("href", f"{SESSION}/credits")
    screenshot(page, "takeaway-session")
    page.check("input[name=files][value=copies]")
    found, name = downloaded_zip(page, "form.takeaway-form button[type=submit]")
    assert name == "florence-2019 s2 (copies).zip"
    files = found.namelist()[:-3]
    assert found.namelist()[-3:] == ["CREDITS.csv", "CREDITS.html", "LICENSES.txt"]
    assert len(files) == 15 and all(f.endswith(".jpg") for f in files)
    assert "https://creativecommons.org/licenses/by/4.0/" in found.read(
        "LICENSES.txt").decode()


def test_the_search_pages_form_downloads_the_originals_it_found(page: Page) -> None:
    page.goto("/?q=Peter+Keller")
    expect(page.locator("p.total")).to_contain_text("16 items")
    found, name = downloaded_zip(page, "form.takeaway-form button[type=submit]")
    assert name == "search Peter Keller (originals).zip"
    assert len(found.namelist()) == 16 + 3
    page.click("a.credits-for-these")
    expect(page.locator("h1")).to_have_text("Credits for Peter Keller")  # <q> draws the quotes
    expect(page.locator(".sheet-entry")).to_have_count(16)


def test_the_sheet_prints_without_the_site_and_with_its_addresses(page: Page) -> None:
    page.goto(f"{SESSION}/credits")
    expect(page.locator("header.top")).to_be_visible()
    expect(page.locator("#print-sheet")).to_be_visible()
    screenshot(page, "credits-sheet-screen")
    page.emulate_media(media="print")
    for hidden in ("header.top", "form.takeaway-form", "#print-sheet", ".exports"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("h1")).to_have_text(
        "Credits: session s2, Interreg Europe and Industrial Modernisation")
    expect(page.locator(".sheet-event")).to_contain_text(
        "Industrial Modernization and Interregional Cooperation")
    after = page.evaluate("getComputedStyle(document.querySelector('a.license'), '::after')"
                          ".content")
    assert after == '" <https://creativecommons.org/licenses/by/4.0/>"'
    # Relative links (no base URL) have no address worth printing.
    assert page.evaluate("getComputedStyle(document.querySelector('a.sheet-title'), "
                         "'::after').content") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('.sheet-entry'))"
                         ".breakInside") == "avoid"
    # Every thumbnail goes on paper: the lazy ones load when printing starts.
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    wait_until(page, "[...document.querySelectorAll('img.sheet-thumb')]"
                     ".every(i => i.complete && i.naturalWidth > 0)")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(page, "credits-sheet-print")
    page.pdf(path=str(ARTIFACTS / "credits-sheet.pdf"))  # as Chromium prints it


def test_copy_credit_copies_the_line_alone(page: Page) -> None:
    page.goto(f"{SESSION}/credits")
    entry = page.locator(".sheet-entry").nth(2)
    line = entry.locator("span.line").inner_text()
    entry.locator("button.copy-credit").click()
    expect(entry.locator(".copy-status")).to_have_text("Credit line copied.")
    assert page.evaluate("navigator.clipboard.readText()") == line
    assert line.startswith("Photo: ") and line.endswith("CC BY 4.0")
    video_page(page)
    page.click("#copy-credit")
    expect(page.locator("#copy-credit")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == VIDEO_LINE


@pytest.mark.parametrize(("platform", "keys"), [(None, "Ctrl+C"), (ON_A_MAC, "⌘C")])
def test_a_refused_clipboard_selects_the_line_and_says_which_keys(
        context: BrowserContext, platform: str | None, keys: str) -> None:
    context.add_init_script(REFUSE + (platform or ""))
    page = context.new_page()
    video_page(page)
    page.click("#copy-credit")
    expect(page.locator("#copy-status")).to_have_text(
        f"Selected: press {keys} to copy the credit line.")
    assert page.evaluate("window.getSelection().toString()") == VIDEO_LINE
    expect(page.locator("#copy-status")).to_have_attribute("role", "status")
    expect(page.locator("#copy-credit")).to_have_text("Copy credit")
    screenshot(page, f"copy-credit-refused-{keys[0] if keys[0] == 'C' else 'mac'}")
    # The visitor's keys copy the selection: the line, nothing around it.
    page.keyboard.press("ControlOrMeta+C")
    assert page.evaluate("navigator.clipboard.readText()") == VIDEO_LINE


def lan_address() -> str | None:
    """An IPv4 address of this machine other than loopback, as a LAN visitor uses."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family.name == "AF_INET" and not address.address.startswith("127."):
                return address.address
    return None


def test_over_plain_http_on_a_lan_the_line_is_selected_to_copy(
        browser: Browser, server: LiveServer) -> None:
    """No Clipboard API at all: http:// on an address other than localhost is no secure
    context, so the browser leaves `navigator.clipboard` out."""
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to be a LAN host")
    context = browser.new_context(base_url=f"http://{address}:{server.port}")
    try:
        page = context.new_page()
        video_page(page)
        assert page.evaluate("[window.isSecureContext, typeof navigator.clipboard]") == [
            False, "undefined"]
        page.click("#copy-credit")
        expect(page.locator("#copy-status")).to_have_text(
            "Selected: press Ctrl+C to copy the credit line.")
        assert page.evaluate("window.getSelection().toString()") == VIDEO_LINE
        screenshot(page, "copy-credit-lan")
    finally:
        context.close()


def test_without_javascript_the_sheet_has_no_button_that_does_nothing(
        browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{SESSION}/credits")
        expect(page.locator("span.line").first).to_be_visible()
        expect(page.locator("button.copy-credit").first).to_be_hidden()
        expect(page.locator("#print-sheet")).to_be_hidden()
        expect(page.locator("form.takeaway-form button[type=submit]")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("path", [f"{SESSION}/credits", SESSION,
                                  "/events/florence-2019/people/peter-keller/credits"])
def test_the_sheet_and_forms_fit_a_phone(browser: Browser, server: LiveServer,
                                         path: str) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        assert page.goto(path).status == 200
        screenshot(page, "phone" + path.replace("/", "-"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
    finally:
        context.close()
