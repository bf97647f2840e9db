"""The site in a real browser: Debian's chromium driven by Playwright, against the real
`event-archive serve`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from archive.media.posters import poster_time

from helpers.browser import chromium, screenshot, wait_until
from helpers.cli import Cli
from helpers.consent import PUBLISHED, WITHHELD, make_event
from helpers.faceevent import GROUP, PORTRAIT, make_faces_event
from helpers.processes import serving

# Slow: a real chromium against the real server.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sample_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("browser")
    # The site never writes to the archive it serves.
    with serving(sample_archive, base / "serve.log") as server:
        yield server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    yield page
    context.close()


def test_search_without_accents_then_narrow_by_facet(page: Page) -> None:
    page.goto("/")
    page.fill("header input[name=q]", "Peter Keller")
    page.click("header button[type=submit]")
    expect(page.locator("p.total")).to_contain_text("16 items")
    screenshot(page, "search")
    page.click("a.facet[data-value='s2']")
    expect(page).to_have_url(re.compile(r"session(%3A|:)s2"))
    expect(page.locator("p.total")).to_contain_text("15 items")
    page.locator(".card a").first.click()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#credit-line")).to_contain_text("Photo:")


def test_video_plays_past_its_middle_with_ranges(page: Page) -> None:
    ranges: list[tuple[str | None, int]] = []
    page.on("response", lambda r: ranges.append((r.request.headers.get("range"), r.status))
            if "/original" in r.url else None)
    page.goto("/?q=kind%3Avideo")
    page.locator(".card a").first.click()
    player = page.locator("#player")
    expect(player).to_be_visible()
    wait_until(page, "document.getElementById('player').readyState >= 1")
    duration = page.evaluate("document.getElementById('player').duration")
    page.evaluate(f"""() => {{ const v = document.getElementById('player');
                       v.muted = true; v.currentTime = {duration * 0.6}; return v.play(); }}""")
    wait_until(page, f"document.getElementById('player').currentTime > {duration / 2}")
    assert any(status == 206 for _, status in ranges), ranges
    screenshot(page, "item-video")


def test_transcript_time_seeks_the_player(page: Page) -> None:
    page.goto("/?q=kind%3Avideo")
    page.locator(".card a").first.click()
    page.wait_for_url("**/items/**")  # the click only starts the navigation
    wait_until(page, "document.getElementById('player') !== null && "
                     "document.getElementById('player').readyState >= 1")
    page.evaluate("document.getElementById('player').muted = true")
    page.set_viewport_size({"width": 1280, "height": 400})
    page.locator("a.cue[data-start='6.0']").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 2000)")  # the player out of sight above
    page.click("a.cue[data-start='6.0']")
    wait_until(page, "document.getElementById('player').currentTime >= 6.0")
    current = page.evaluate("document.getElementById('player').currentTime")
    assert 6.0 <= current < 9.0
    # The player is brought back into sight.
    wait_until(page, "(() => { const box = document.getElementById('player')"
               ".getBoundingClientRect(); return box.bottom > 0 && box.top < innerHeight; })()")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_frame_strip_spans_the_player_no_wider(browser: Browser, server: str,
                                                    width: int) -> None:
    context = browser.new_context(base_url=server, viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        page.goto("/?q=kind%3Avideo")
        page.locator(".card a").first.click()
        page.wait_for_url("**/items/**")  # the click only starts the navigation
        wait_until(page, "document.getElementById('player') !== null && "
                         "document.getElementById('player').readyState >= 1")
        wait_until(page, "Math.abs(document.getElementById('strip').getBoundingClientRect()"
                         ".width - document.getElementById('player').getBoundingClientRect()"
                         ".width) < 1")
        player = page.locator("#player").bounding_box()
        strip = page.locator("#strip").bounding_box()
        assert player["width"] < width  # the player does not fill the page at 1280
        assert strip["x"] == pytest.approx(player["x"], abs=1)
        screenshot(page, f"video-strip-{width}")
    finally:
        context.close()


def test_a_transcript_hit_opens_the_video_at_its_moment(page: Page) -> None:
    page.goto("/?q=materials+kind%3Avideo")
    page.locator(".card a").first.click()
    expect(page).to_have_url(re.compile(r"/items/[0-9a-f]{64}\?q=[^#]+#t=9\.0$"))
    wait_until(page, "document.getElementById('player').currentTime >= 9.0")
    assert 9.0 <= page.evaluate("document.getElementById('player').currentTime") < 12.0
    # A moment chosen once the metadata is in (the event has passed) still seeks.
    page.evaluate("window.location.hash = '#t=3'")
    wait_until(page, "Math.abs(document.getElementById('player').currentTime - 3) < 0.5")


def test_copy_the_credit_line(page: Page) -> None:
    page.goto("/?q=kind%3Avideo")
    page.locator(".card a").first.click()
    page.click("#copy-credit")
    expect(page.locator("#copy-credit")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == ("Video: Barry Guckian / Northern and Western Regional Assembly "
                      "(TRINNO), CC BY 4.0")


def test_without_javascript_no_copy_button_that_does_nothing(browser: Browser,
                                                            server: str) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/?q=kind%3Avideo")
        page.locator(".card a").first.click()
        page.wait_for_url("**/items/**")
        expect(page.locator("#credit-line")).to_be_visible()  # the line itself, to copy
        expect(page.locator("#copy-credit")).to_be_hidden()
    finally:
        context.close()


def test_download_credits_csv(page: Page) -> None:
    page.goto("/credits?q=session%3As2")
    with page.expect_download() as download:
        page.click("a.export:text-is('CSV')")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 15
    assert {r["session"] for r in rows} == {"s2"}
    assert all(r["credit_line"].startswith("Photo: ") for r in rows)
    screenshot(page, "credits")


@pytest.mark.parametrize("path", ["/events/florence-2019",
                                  "/events/florence-2019/sessions/s2", "/credits",
                                  "/events/florence-2019/people/chiara-neri", "item"])
def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, server: str, path: str) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        if path == "item":  # its address (the credit's source) once widened the page
            page.goto("/?q=by:neri")
            page.locator(".card a").first.click()
            page.wait_for_url("**/items/**")
        else:
            assert page.goto(path).status == 200  # the page itself, not a narrow 404
        screenshot(page, "phone" + path.replace("/", "-"))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
        # Nor is anything cut off inside a box that scrolls (the programme's columns were).
        hidden = page.evaluate("() => [...document.querySelectorAll('.wide')]"
                               ".filter(b => b.scrollWidth > b.clientWidth + 1).length")
        assert hidden == 0, f"{path} has content cut off at the right"
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/events", "/events/florence-2019",
                                  "/events/florence-2019/sessions/s2",
                                  "/events/florence-2019/people/peter-keller", "/credits",
                                  "item"])
def test_a_page_loads_with_no_failed_request_or_console_error(page: Page, path: str) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    if path == "item":  # a photo's page, reached as a visitor reaches it
        page.goto("/?q=keller")
        page.locator(".card a").first.click()
        page.wait_for_url("**/items/**")
    else:
        page.goto(path)
    page.wait_for_load_state("networkidle")
    assert failed == []  # the icon too: a 404 for /favicon.ico was logged on every page


# ---- consent and takedown --------------------------------------------------------------

@pytest.fixture(scope="module")
def withheld_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """A site whose archive holds two withheld items (a person who refused consent is
    shown; a takedown glob) and two published ones: its URL and the items' ids by name."""
    base = tmp_path_factory.mktemp("withheld")
    cli = Cli(base / "archive")
    cli("ingest", str(make_event(base / "event")))
    ids = {Path(i["relpath"]).stem: i["id"] for i in cli.json("list")}
    with serving(base / "archive", base / "serve.log") as server:
        yield server.url, ids


def test_a_withheld_item_is_404_and_no_page_lists_or_links_to_it(
        browser: Browser, withheld_site: tuple[str, dict]) -> None:
    url, ids = withheld_site
    context = browser.new_context(base_url=url)
    page = context.new_page()
    try:
        for name in WITHHELD:
            for path in (f"/items/{ids[name]}", *(f"/media/{ids[name]}/{size}" for size in
                                                  ("small", "large", "strip", "original"))):
                assert page.goto(path).status == 404, path
        for path in ("/", "/?q=keller", "/?q=kind%3Avideo", "/events/consent-2019",
                     "/events/consent-2019/sessions/s2",
                     "/events/consent-2019/people/peter-keller", "/credits"):
            assert page.goto(path).status == 200, path
            links = page.eval_on_selector_all(
                "a[href], img[src]", "els => els.map(e => e.href || e.src)")
            html = page.content()
            for name in WITHHELD:
                assert not [link for link in links if ids[name] in link], (path, name)
                assert ids[name] not in html, (path, name)
        page.goto("/")
        expect(page.locator("p.total")).to_contain_text("2 items")
        shown = page.eval_on_selector_all(".card img", "els => els.map(e => e.src)")
        assert sorted(shown) == sorted(f"{url}/media/{ids[n]}/small" for n in PUBLISHED)
        screenshot(page, "withheld-search")
    finally:
        context.close()


# ---- faces -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faces_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """The real face stage and resolution on two of the shared photographs (Obama alone,
    Obama with Biden, named by the event file's reference faces), a photo of nobody and a
    video of Obama's portrait: the site's URL and the items' JSON by name."""
    base = tmp_path_factory.mktemp("faces")
    root = base / "archive"
    cli = Cli(root)
    cli("ingest", str(make_faces_event(base / "event", video=True)))
    items = {Path(i["relpath"]).stem: i for i in cli.json("list")}
    with serving(root, base / "serve.log") as server:
        yield server.url, {"portrait": items[Path(PORTRAIT).stem],
                           "group": items[Path(GROUP).stem], "video": items["still"]}


def _face_rects(page: Page, item: dict, picture_id: str = "picture",
                faces: list[dict] | None = None) -> list[tuple[dict, dict]]:
    """Each face's box as drawn, beside where it must be: the picture's rectangle times
    the face's fraction of the displayed original."""
    picture = page.locator(f"#{picture_id}").bounding_box()
    width, height = ((item["height"], item["width"]) if item["orientation"] in (5, 6, 7, 8)
                     else (item["width"], item["height"]))
    pairs = []
    for number, face in enumerate(item["faces"], 1):
        if faces is not None and face not in faces:
            continue
        x, y, w, h = face["box"]
        expected = {"x": picture["x"] + picture["width"] * x / width,
                    "y": picture["y"] + picture["height"] * y / height,
                    "width": picture["width"] * w / width,
                    "height": picture["height"] * h / height}
        pairs.append((page.locator(f"#face-{number}").bounding_box(), expected))
    return pairs


# A short desktop window (the picture limited by its height) and a phone (by its width).
@pytest.mark.parametrize(("width", "height"), [(1280, 600), (390, 844)])
def test_face_boxes_are_drawn_over_the_faces_at_the_rendered_size(
        browser: Browser, faces_site: tuple[str, dict], width: int, height: int) -> None:
    url, items = faces_site
    group = items["group"]
    # Named by resolution: Biden by his reference face, Obama recognised from his portrait.
    assert [(f["person"], f["source"]) for f in group["faces"]] == [
        ("barack-obama", "face"), ("joe-biden", "face")]
    context = browser.new_context(base_url=url, viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"/items/{group['id']}")
        wait_until(page, "document.getElementById('picture').complete && "
                         "document.getElementById('picture').naturalWidth > 0")
        picture = page.locator("#picture").bounding_box()
        natural = page.evaluate("document.getElementById('picture').naturalWidth")
        assert picture["width"] < natural - 100  # drawn smaller than the thumbnail
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for drawn, expected in _face_rects(page, group):
            for key in ("x", "y", "width", "height"):
                assert drawn[key] == pytest.approx(expected[key], abs=1.5), (key, width)
        names = page.locator(".face .face-name")
        expect(names).to_have_count(2)
        assert sorted(names.all_inner_texts()) == ["Barack Obama", "Joe Biden"]
        for index in range(2):
            expect(names.nth(index)).to_be_visible()  # not only on hover
        shot = f"faces-item-{width}"
        screenshot(page, shot)
        # The list itself has no size (its boxes are placed absolutely): look at a box.
        page.click("label[for=show-faces]")
        expect(page.locator("#face-1")).to_be_hidden()
        page.click("label[for=show-faces]")
        expect(page.locator("#face-1")).to_be_visible()
        page.locator(".face-name", has_text="Joe Biden").click()
        expect(page).to_have_url(re.compile(r"/events/faces-2010/people/joe-biden$"))
    finally:
        context.close()


def test_face_boxes_show_and_hide_without_javascript(browser: Browser,
                                                     faces_site: tuple[str, dict]) -> None:
    url, items = faces_site
    context = browser.new_context(base_url=url, java_script_enabled=False,
                                  viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"/items/{items['group']['id']}")
        page.locator("#picture").scroll_into_view_if_needed()
        expect(page.locator("#face-1")).to_be_visible()
        for drawn, expected in _face_rects(page, items["group"]):
            assert drawn["x"] == pytest.approx(expected["x"], abs=1.5)
            assert drawn["width"] == pytest.approx(expected["width"], abs=1.5)
        page.click("label[for=show-faces]")
        expect(page.locator("#face-1")).to_be_hidden()
    finally:
        context.close()


def test_the_person_page_shows_the_face_then_shown_in(page: Page,
                                                      faces_site: tuple[str, dict]) -> None:
    url, items = faces_site
    page.goto(f"{url}/events/faces-2010/people/joe-biden")
    portrait = page.locator(".portrait img")
    expect(portrait).to_be_visible()
    wait_until(page, "document.querySelector('.portrait img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('.portrait img').naturalWidth") > 40
    expect(page.locator("#shown-in h2")).to_have_text("Shown in: 1 item with Joe Biden")
    assert page.locator("#shown-in .card a").first.get_attribute("href") == (
        f"/items/{items['group']['id']}?in=person:joe-biden")
    screenshot(page, "faces-person")


def test_a_video_shows_the_boxes_of_its_poster_until_it_plays(
        page: Page, faces_site: tuple[str, dict]) -> None:
    url, items = faces_site
    video = items["video"]
    # The face stage read the poster's frame and the strip's ten: one face in each.
    assert len(video["faces"]) == 11
    poster = [f for f in video["faces"] if abs(f["time"] - poster_time(video["duration"]))
              < 0.001]
    assert len(poster) == 1
    page.goto(f"{url}/items/{video['id']}")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    boxes = page.locator("li.face")
    expect(boxes).to_have_count(1)  # the poster's face, not the strip frames'
    for drawn, expected in _face_rects(page, video, "player", poster):
        for key in ("x", "y", "width", "height"):
            assert drawn[key] == pytest.approx(expected[key], abs=1.5), key
    screenshot(page, "faces-video-poster")
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; "
                  "return v.play(); }")
    expect(boxes.first).to_be_hidden()  # another frame than the poster's: no boxes
    expect(page.locator("label[for=show-faces]")).to_be_hidden()
