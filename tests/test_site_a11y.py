"""The site for keyboards, screen readers and a video's captions, in Debian's chromium
(Playwright) against the real `event-archive serve` of the sample archive: the captions
track and the transcript that follows it, the frame strip by keyboard, the skip link,
focus rings, one tab stop per card, alt texts, and axe-core on every page type at
desktop and phone sizes. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from archive.model import Cue
from archive.outputs.webvtt import webvtt
from web.alttext import alt_text

from helpers.browser import DESKTOP, PHONE, chromium, screenshot, wait_until
from helpers.processes import serving

# Slow: a real chromium against the real server.
pytestmark = pytest.mark.slow

SIZES = {"desktop": DESKTOP, "phone": PHONE}
# What a keyboard user may Tab through on one page, at most (the item page has ~40).
MOST_STOPS = 200
# The focused element, how it draws its ring, and where it is: read after each Tab.
FOCUSED = """() => {
  const e = document.activeElement;
  const ring = (style) => ({style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                            color: style.outlineColor});
  return {tag: e.tagName, cls: e.className, href: e.getAttribute('href'),
          name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
          visible: e.matches(':focus-visible'), ring: ring(getComputedStyle(e)),
          after: ring(getComputedStyle(e, '::after')),
          card: e.closest('.card') ? [...document.querySelectorAll('.card')]
                                       .indexOf(e.closest('.card')) : null};
}"""


@pytest.fixture(scope="module")
def server(sample_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(sample_archive, tmp_path_factory.mktemp("a11y") / "serve.log") as server:
        yield server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sized(browser: Browser, server: str, size: str) -> Iterator[Page]:
    """A page at the `size` of the test: desktop, then phone."""
    context = browser.new_context(base_url=server, viewport=SIZES[size])
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport=DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def ids(browser: Browser, server: str) -> dict[str, str]:
    """The sample's video and its titled photo, by the API."""
    context = browser.new_context(base_url=server)
    try:
        video = context.request.get("/api/search?q=kind%3Avideo").json()["results"][0]
        photo = context.request.get("/api/search?q=innoprovement+kind%3Aphoto").json()
        return {"video": video["id"], "photo": photo["results"][0]["id"]}
    finally:
        context.close()


# The numbers (from 1) of the transcript's lines marked as being played.
MARKED = ("[...document.querySelectorAll('#transcript li')].flatMap((li, i) =>"
          " li.classList.contains('current') ? [i + 1] : [])")


def open_video(page: Page, ids: dict[str, str]) -> None:
    page.goto(f"/items/{ids['video']}")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.evaluate("document.getElementById('player').muted = true")


def seek(page: Page, seconds: float) -> None:
    page.evaluate(f"document.getElementById('player').currentTime = {seconds}")


def tab_stops(page: Page) -> Iterator[dict[str, Any]]:
    """What each press of Tab focuses, from the top of a page just loaded to its end."""
    for _ in range(MOST_STOPS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "BODY":  # past the last stop: the browser's own UI
            return
        yield focused
    raise AssertionError(f"more than {MOST_STOPS} tab stops")


# ---- video: captions, transcript, frame strip ---------------------------------------------

def test_the_captions_track_loads_and_shows_the_cue_being_played(sized: Page, size: str,
                                                                  ids: dict) -> None:
    open_video(sized, ids)
    track = "document.getElementById('player').textTracks[0]"
    assert sized.evaluate(f"{track}.kind") == "captions"
    assert sized.evaluate(f"{track}.mode") == "showing"  # captions on, as `default` asks
    count = wait_until(sized, f"{track}.cues && {track}.cues.length")
    assert count == sized.locator("#transcript li").count() == 4
    seek(sized, 4.0)
    shown = wait_until(sized, f"{track}.activeCues.length && {track}.activeCues[0].text")
    assert shown == ("Péter Keller presented the INNOPROVEMENT project of the Hungarian "
                     "Ministry of Finance.")
    assert sized.evaluate(f"{track}.activeCues[0].id") == "2"  # the transcript's cue 2
    screenshot(sized, f"a11y-video-captions-{size}")


def test_the_transcript_marks_the_cue_being_played(sized: Page, size: str, ids: dict) -> None:
    open_video(sized, ids)
    for seconds, cue in ((1.0, 1), (7.5, 3), (3.2, 2), (11.0, 4)):
        seek(sized, seconds)
        wait_until(sized, f"JSON.stringify({MARKED}) === '[{cue}]'")
        expect(sized.locator(f"#transcript li:nth-child({cue})")).to_have_attribute(
            "aria-current", "true")
    assert sized.locator("#transcript [aria-current]").count() == 1
    # Captions turned off in the player: none shown, the transcript still follows.
    track = "document.getElementById('player').textTracks[0]"
    sized.evaluate(f"{track}.mode = 'disabled'")
    wait_until(sized, f"{track}.mode === 'hidden'")
    seek(sized, 4.0)
    wait_until(sized, f"JSON.stringify({MARKED}) === '[2]'")


def test_a_later_stretch_of_the_transcript_marks_its_own_lines(page: Page,
                                                              ids: dict) -> None:
    page.goto(f"/items/{ids['video']}?cues=2")  # cues 3 and 4 of the transcript
    wait_until(page, "document.getElementById('player').readyState >= 1")
    assert page.locator("#transcript ol").get_attribute("start") == "3"
    seek(page, 10.0)  # cue 4: the second line here
    wait_until(page, f"JSON.stringify({MARKED}) === '[2]'")
    seek(page, 4.0)  # cue 2, not on this stretch: no line marked
    wait_until(page, f"JSON.stringify({MARKED}) === '[]'")


def test_following_the_video_scrolls_the_transcript_never_the_page(page: Page,
                                                                    ids: dict) -> None:
    open_video(page, ids)
    # A box two lines high, so that the last cue is out of its sight.
    page.evaluate("document.querySelector('#transcript ol').style.maxHeight = '3em'")
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.querySelector('#transcript ol').scrollTop") == 0
    seek(page, 10.0)
    wait_until(page, f"JSON.stringify({MARKED}) === '[4]'")
    wait_until(page, """(() => { const box = document.querySelector('#transcript ol')
        .getBoundingClientRect(); const cue = document.querySelector('#transcript li.current')
        .getBoundingClientRect(); return cue.top >= box.top - 1 && cue.bottom <= box.bottom + 1;
        })()""")
    assert page.evaluate("window.scrollY") == 0  # the visitor's page stayed where it was


def test_the_frame_strip_is_reached_by_tab_and_enter_seeks(sized: Page, size: str,
                                                           ids: dict) -> None:
    open_video(sized, ids)
    wait_until(sized, "Math.abs(document.getElementById('strip').getBoundingClientRect().width"
                      " - document.getElementById('player').getBoundingClientRect().width) < 1")
    frames = sized.locator("a.strip-frame")
    expect(frames).to_have_count(10)
    stops = []
    for focused in tab_stops(sized):
        stops.append(focused)
        if focused["cls"] == "strip-frame" and len(
                [s for s in stops if s["cls"] == "strip-frame"]) == 8:
            break
    strip_stops = [s for s in stops if s["cls"] == "strip-frame"]
    assert [s["name"] for s in strip_stops] == [
        "Play from 0:00", "Play from 0:01", "Play from 0:03", "Play from 0:04",
        "Play from 0:05", "Play from 0:06", "Play from 0:07", "Play from 0:09"]
    assert all(s["visible"] and s["ring"]["style"] == "solid" and s["ring"]["width"] >= 2
               for s in strip_stops)
    # The focused frame is in sight inside the strip (a phone's strip scrolls sideways).
    frame, strip = frames.nth(7).bounding_box(), sized.locator("#strip").bounding_box()
    assert strip["x"] - 1 <= frame["x"] and frame["x"] + frame["width"] <= (
        strip["x"] + strip["width"] + 1)
    screenshot(sized, f"a11y-video-strip-focus-{size}")
    start = float(frames.nth(7).get_attribute("data-start"))
    sized.keyboard.press("Enter")
    wait_until(sized, f"Math.abs(document.getElementById('player').currentTime - {start})"
                      " < 0.5")
    assert sized.url.endswith(f"/items/{ids['video']}")  # seeks in place, no navigation


def test_hostile_cue_text_reads_back_exactly_in_chromium(browser: Browser) -> None:
    """What webvtt() writes, read by the browser's own WebVTT parser: the text shows as
    the transcript has it, with no tag and no cue made from it."""
    texts = ["Tom & Jerry <b>bold</b>", "a --> b", "&amp; <c.x>y</c>", "x<3 &lt;", "two\n\nlines"]
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content("<video id=v></video>")
        page.evaluate("""vtt => { const track = document.createElement('track');
            track.kind = 'captions'; track.default = true;
            track.src = URL.createObjectURL(new Blob([vtt], {type: 'text/vtt'}));
            document.getElementById('v').appendChild(track); }""",
                      webvtt([Cue(i, i + 1.0, t) for i, t in enumerate(texts)]))
        track = "document.getElementById('v').textTracks[0]"
        wait_until(page, f"{track}.cues && {track}.cues.length")
        read = page.evaluate(f"""[...{track}.cues].map(c => [c.id, c.startTime,
            c.getCueAsHTML().textContent, c.getCueAsHTML().querySelectorAll('*').length])""")
        assert read == [[str(i + 1), float(i), t.replace("\n", " "), 0]
                        for i, t in enumerate(texts)]
    finally:
        context.close()


# ---- keyboard: skip link, focus rings, cards ------------------------------------------------

def test_the_skip_link_is_the_first_tab_stop_and_skips_to_the_content(sized: Page,
                                                                      size: str) -> None:
    sized.goto("/?q=keller")
    expect(sized.locator(".skip-link")).not_to_be_in_viewport()  # out of sight until used
    sized.keyboard.press("Tab")
    focused = sized.evaluate(FOCUSED)
    assert (focused["cls"], focused["name"], focused["href"]) == (
        "skip-link", "Skip to content", "#content")
    expect(sized.locator(".skip-link")).to_be_in_viewport()
    screenshot(sized, f"a11y-skip-link-{size}")
    sized.keyboard.press("Enter")
    assert sized.evaluate("document.activeElement.id") == "content"
    sized.keyboard.press("Tab")  # on from the content: past the header's stops
    assert sized.evaluate("document.getElementById('content').contains("
                          "document.activeElement)")


@pytest.mark.parametrize("path", ["/?q=keller", "/events/florence-2019",
                                  "/events/florence-2019/people/peter-keller", "photo",
                                  "video", "/credits?q=session%3As2", "/nowhere"])
def test_every_tab_stop_draws_a_focus_ring(page: Page, ids: dict, path: str) -> None:
    page.goto(f"/items/{ids[path]}" if path in ids else path)
    seen = 0
    for focused in tab_stops(page):
        if focused["tag"] == "VIDEO" and not focused["visible"]:
            continue  # inside the player's own controls, which chromium rings itself
        ring = focused["after"] if focused["cls"] == "cardlink" else focused["ring"]
        assert focused["visible"] and ring["style"] != "none" and ring["width"] >= 2 and (
            ring["color"] not in ("transparent", "rgba(0, 0, 0, 0)")), focused
        seen += 1
    assert seen >= 5


def test_one_tab_stop_per_result_card_covering_the_card(sized: Page, size: str) -> None:
    sized.goto("/?q=keller")
    cards = sized.locator(".card")
    count = cards.count()
    assert count == 16
    stops = [s for s in tab_stops(sized) if s["card"] is not None]
    assert [s["card"] for s in stops] == list(range(count))  # each card once, in order
    assert {s["cls"] for s in stops} == {"cardlink"}
    # Nothing else in a card takes the focus or links to the item a second time.
    assert sized.evaluate("""[...document.querySelectorAll('.card')].every(card =>
        card.querySelectorAll('a[href], button, input, [tabindex]').length === 1)""")
    # The card's one link is what a click anywhere on it reaches, the picture included.
    first = cards.first
    first.locator("a.cardlink").focus()
    sized.keyboard.press("Shift+Tab")
    sized.keyboard.press("Tab")  # by keyboard, so that the ring shows
    screenshot(sized, f"a11y-card-focus-{size}")
    box = first.locator("img").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    href = first.locator("a.cardlink").get_attribute("href")
    assert sized.evaluate(f"document.elementFromPoint({x}, {y}).closest('a')"
                          ".getAttribute('href')") == href
    sized.mouse.click(x, y)
    expect(sized).to_have_url(re.compile(re.escape(href) + "$"))


@pytest.mark.parametrize("path", ["/?q=keller", "/?q=", "/events/florence-2019/sessions/s2",
                                  "/events/florence-2019/people/peter-keller", "photo"])
def test_alt_texts_are_titles_and_the_people_shown(page: Page, ids: dict, path: str) -> None:
    page.goto(f"/items/{ids[path]}" if path in ids else path)
    pictures = page.eval_on_selector_all(
        ".card img, img#picture",
        "els => els.map(e => [e.getAttribute('src'), e.getAttribute('alt')])")
    assert pictures
    for src, alt in pictures:
        item_id = src.split("/")[2]
        item = page.request.get(f"/api/items/{item_id}").json()
        assert alt == alt_text(item), src
        assert alt, f"{src} has an empty alt text but is no decoration"
        if item["title"]:  # never the file name alone when there is a title
            assert alt.startswith(item["title"]) and alt != item["relpath"].rsplit("/")[-1]
    titled = page.locator("img[alt='Péter Keller presents INNOPROVEMENT']")
    untitled = page.locator("img[alt='Péter Keller']")  # DSC_0107.jpg shows him, untitled
    if path == "/?q=keller":
        expect(titled).to_have_count(1)  # his name is in the title: not said twice
        expect(untitled).to_have_count(2)


def test_the_video_page_pictures_alt_texts(page: Page, ids: dict) -> None:
    open_video(page, ids)
    # The strip's picture is a decoration: each frame's link names its moment.
    assert page.locator("#strip img").get_attribute("alt") == ""
    expect(page.locator("a.strip-frame[aria-label]")).to_have_count(10)


# ---- axe-core on every page type ---------------------------------------------------------

PAGES = {"home": "/", "events": "/events", "event": "/events/florence-2019",
         "session": "/events/florence-2019/sessions/s2",
         "person": "/events/florence-2019/people/peter-keller",
         "item-photo": "photo", "item-video": "video",
         "search": "/?q=keller", "search-none": "/?q=nothing-matches-this-zzq",
         "search-facets": "/?q=keller+session%3As2+kind%3Aphoto",
         "search-more-pages": "/?q=&page=2", "credits": "/credits",
         "404": "/no-such-page", "400": "/?q=taken%3A2019-13"}
STATUS = {"404": 404, "400": 400}
BLOCKING = ("serious", "critical")


def violations_text(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(
            f"    {node['target']}: {node.get('failureSummary', '')}" for node in v["nodes"])
        for v in violations)


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violation(sized: Page, size: str, ids: dict,
                                                    name: str) -> None:
    path = PAGES[name]
    response = sized.goto(f"/items/{ids[path]}" if path in ids else path)
    assert response.status == STATUS.get(name, 200)
    if name == "item-video":  # its captions loaded: axe then sees the track
        wait_until(sized, "document.getElementById('player').textTracks[0].cues")
    sized.wait_for_load_state("networkidle")
    results = Axe().run(sized).response
    screenshot(sized, f"a11y-{name}-{size}")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{name} at {size}:\n{violations_text(blocking)}"
    # Lesser ones too: each was fixed once, and stays fixed.
    assert not results["violations"], violations_text(results["violations"])
