"""Browsing in a real browser (Debian's chromium driven by Playwright, against the real
`event-archive serve`), on a desktop (1280x800) and a phone (390x844): the programme's
timeline, covers, the viewer (previous and next by click, key and swipe, full screen,
back to results), the facets' fold, chips, "More" and sort mark, and no page wider than
a phone. Screenshots go to tests/artifacts/browse-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from helpers.browser import DESKTOP, PHONE, chromium, screenshot, wait_until
from helpers.browsing import CREATORS, make_browsing_events
from helpers.cli import Cli
from helpers.processes import serving

# Slow: a real chromium against the real server.
pytestmark = pytest.mark.slow

SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def server(sample_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(sample_archive, tmp_path_factory.mktemp("browse") / "serve.log") as server:
        yield server.url


@pytest.fixture(scope="module")
def browsing_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """The two browsing events (helpers/browsing.py) served: the URL and the items' ids
    by file stem."""
    base = tmp_path_factory.mktemp("browsing-site")
    cli = Cli(base / "archive")
    cli("ingest", *map(str, make_browsing_events(base / "events")))
    ids = {Path(i["relpath"]).stem: i["id"] for i in cli.json("list")}
    with serving(base / "archive", base / "serve.log") as server:
        yield server.url, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@contextmanager
def opened(browser: Browser, url: str, size: str, **options: Any) -> Iterator[Page]:
    """A page of a fresh browser context at `size` (a phone has touch)."""
    phone = size == "phone"
    context = browser.new_context(base_url=url, viewport=SIZES[size], has_touch=phone,
                                  is_mobile=phone, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def load_images(page: Page) -> None:
    """Load the lazy pictures now: a full-page screenshot does not scroll to them."""
    page.evaluate("document.querySelectorAll('img[loading=lazy]')"
                  ".forEach(img => { img.loading = 'eager'; })")
    wait_until(page, "[...document.images].every(img => img.complete)")


def shot(page: Page, name: str, full_page: bool = True) -> None:
    if full_page:
        load_images(page)
    screenshot(page, f"browse-{name}", full_page)


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def item_ids(page: Page, query: str, **params: str) -> list[str]:
    found = page.request.get("/api/search", params={"q": query, "limit": "200", **params})
    return [hit["id"] for hit in found.json()["results"]]


def count_navigations(page: Page) -> None:
    """Count, in window.navigations, the navigations the page starts from now on (the
    Navigation API's navigate event fires as one starts)."""
    page.evaluate("() => { window.navigations = 0; navigation.addEventListener("
                  "'navigate', () => { window.navigations += 1; }); }")


# ---- the programme and the covers -----------------------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_programme_puts_parallel_rooms_side_by_side(browser: Browser, server: str,
                                                        size: str) -> None:
    with opened(browser, server, size) as page:
        page.goto("/events/florence-2019")
        donatello, michelangelo = box(page, "#session-s3b"), box(page, "#session-s3a")
        plenary = box(page, "#session-s2")
        if size == "desktop":  # side by side, level, each about half the plenary's width
            assert abs(donatello["y"] - michelangelo["y"]) < 2
            assert donatello["x"] + donatello["width"] <= michelangelo["x"]
            assert donatello["width"] < plenary["width"] / 2 + 1
        else:  # one below the other, each the phone's width
            assert michelangelo["y"] >= donatello["y"] + donatello["height"]
            assert abs(donatello["x"] - michelangelo["x"]) < 1
            assert donatello["width"] == pytest.approx(plenary["width"], abs=1)
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        shot(page, f"programme-{size}")
        previews = page.locator("#session-s3a .previews img")
        expect(previews).to_have_count(4)
        wait_until(page, "[...document.querySelectorAll('#session-s3a .previews img')]"
                         ".every(img => img.complete && img.naturalWidth > 0)")
        previews.first.click()
        expect(page).to_have_url(re.compile(r"/items/[0-9a-f]{64}\?in=session(:|%3A)s3a$"))
        expect(page.locator(".viewer .position")).to_have_text("1 of 15")
        page.click("#back-to-results")
        expect(page).to_have_url(re.compile(r"/events/florence-2019/sessions/s3a$"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_home_page_lists_events_newest_first_each_with_its_cover(
        browser: Browser, browsing_site: tuple[str, dict], size: str) -> None:
    url, ids = browsing_site
    with opened(browser, url, size) as page:
        page.goto("/")
        titles = page.locator(".event-card .event-title")
        expect(titles).to_have_text([re.compile("^Newer forum <script>"), "Older meeting"])
        covers = page.locator(".event-card img.cover")
        assert [covers.nth(n).get_attribute("src") for n in range(2)] == [
            f"/media/{ids['p01']}/small", f"/media/{ids['first']}/small"]
        wait_until(page, "[...document.querySelectorAll('.event-card img.cover')]"
                         ".every(img => img.complete && img.naturalWidth > 0)")
        first, second = box(page, ".event-card >> nth=0"), box(page, ".event-card >> nth=1")
        if size == "desktop":  # a row of cards
            assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"]
        else:
            assert second["y"] > first["y"]
        shot(page, f"home-{size}")
        page.locator(".event-card a").first.click()
        expect(page).to_have_url(re.compile(r"/events/newer-2021$"))


# ---- the viewer ----------------------------------------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_previous_and_next_by_click_and_by_keyboard(browser: Browser, server: str,
                                                    size: str) -> None:
    with opened(browser, server, size) as page:
        order = item_ids(page, "keller")
        page.goto("/?q=keller")
        page.locator(".card a").first.click()
        position = page.locator(".viewer .position")
        expect(position).to_have_text("1 of 16")
        expect(page.locator("#previous-item")).to_have_count(0)
        page.click("#next-item")
        expect(position).to_have_text("2 of 16")
        assert page.url.endswith(f"/items/{order[1]}?q=keller")
        page.wait_for_load_state()  # the page's script, which listens for the keys, has run
        page.keyboard.press("ArrowRight")
        expect(position).to_have_text("3 of 16")
        page.wait_for_load_state()
        page.keyboard.press("ArrowLeft")
        expect(position).to_have_text("2 of 16")
        assert page.url.endswith(f"/items/{order[1]}?q=keller")
        shot(page, f"viewer-{size}", full_page=False)


def test_the_arrow_keys_are_left_to_a_field_being_typed_in(browser: Browser,
                                                           server: str) -> None:
    with opened(browser, server, "desktop") as page:
        order = item_ids(page, "keller")
        page.goto(f"/items/{order[1]}?q=keller")
        count_navigations(page)
        page.click("header input[name=q]")
        for key in ("ArrowRight", "ArrowLeft", "End"):
            page.keyboard.press(key)
        page.keyboard.type("s")
        expect(page.locator("header input[name=q]")).to_have_value("kellers")
        # With a modifier the keys are the browser's (Alt+Left is its own "back").
        page.locator("h1").click()
        page.keyboard.press("Shift+ArrowRight")
        assert page.evaluate("window.navigations") == 0
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(re.compile(f"/items/{order[2]}"))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_swipe_steps_through_the_session(browser: Browser, server: str, size: str) -> None:
    with opened(browser, server, size) as page:
        order = page.request.get("/api/sessions/s2").json()["items"]
        page.goto(f"/items/{order[1]}?in=session:s2")
        position = page.locator(".viewer .position")
        expect(position).to_have_text("2 of 15")
        frame = page.locator("#frame")

        def swipe(dx: float, dy: float = 0) -> None:
            area = box(page, "#frame")
            x, y = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2
            for kind, at in (("pointerdown", (x, y)), ("pointerup", (x + dx, y + dy))):
                frame.dispatch_event(kind, {"pointerId": 7, "pointerType": "touch",
                                            "isPrimary": True, "clientX": at[0],
                                            "clientY": at[1]})

        count_navigations(page)
        swipe(-20)  # a wandering tap
        swipe(-80, 120)  # a scroll down, not a swipe
        assert page.evaluate("window.navigations") == 0
        swipe(-150)  # to the left: the next
        expect(position).to_have_text("3 of 15")
        assert page.url.endswith(f"/items/{order[2]}?in=session:s2")
        swipe(150)  # to the right: the previous
        expect(position).to_have_text("2 of 15")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_full_screen_shows_the_large_picture(browser: Browser, server: str,
                                             size: str) -> None:
    with opened(browser, server, size) as page:
        order = item_ids(page, "keller")
        page.goto(f"/items/{order[0]}?q=keller")
        wait_until(page, "document.getElementById('picture').complete")
        page.click("#fullscreen")
        wait_until(page, "document.fullscreenElement === document.getElementById('picture')")
        picture = box(page, "#picture")
        viewport = page.evaluate("[innerWidth, innerHeight]")
        assert (picture["width"], picture["height"]) == (viewport[0], viewport[1])
        assert page.evaluate("document.getElementById('picture').currentSrc").endswith(
            f"/media/{order[0]}/large")
        shot(page, f"fullscreen-{size}", full_page=False)
        page.evaluate("document.exitFullscreen()")
        wait_until(page, "document.fullscreenElement === null")
        expect(page).to_have_url(re.compile(f"/items/{order[0]}"))


def test_without_javascript_full_screen_opens_the_large_picture(browser: Browser,
                                                                server: str) -> None:
    with opened(browser, server, "phone", java_script_enabled=False) as page:
        order = item_ids(page, "keller")
        page.goto(f"/items/{order[0]}?q=keller")
        with page.expect_response(re.compile(f"/media/{order[0]}/large$")) as answer:
            page.click("#fullscreen")
        assert answer.value.status == 200
        assert answer.value.headers["content-type"].startswith("image/")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_back_to_results_keeps_the_query_and_the_page(browser: Browser, server: str,
                                                      size: str) -> None:
    with opened(browser, server, size) as page:
        page.goto("/?q=keller&sort=date&limit=5&page=2")
        expect(page.locator(".pager")).to_contain_text("page 2 of 4")
        page.locator(".card a").last.click()
        expect(page.locator(".viewer .position")).to_have_text("10 of 16")
        expect(page.locator("header input[name=q]")).to_have_value("keller")  # the box keeps it
        page.click("#next-item")  # the first of the next page
        expect(page.locator(".viewer .position")).to_have_text("11 of 16")
        page.click("#back-to-results")
        expect(page.locator(".pager")).to_contain_text("page 3 of 4")
        expect(page.locator("header input[name=q]")).to_have_value("keller")
        expect(page.locator(".sort[aria-current]")).to_have_text("oldest")
        assert page.url.endswith("/?q=keller&sort=date&page=3&limit=5")


# ---- facets ----------------------------------------------------------------------------

@pytest.mark.parametrize("script", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_facets_fold_behind_a_button_on_a_phone_and_stand_beside_on_a_desktop(
        browser: Browser, server: str, size: str, script: bool) -> None:
    with opened(browser, server, size, java_script_enabled=script) as page:
        page.goto("/?q=keller")
        summary, facets = page.locator(".facets-fold > summary"), page.locator("aside.facets")
        first = box(page, ".card >> nth=0")
        if size == "desktop":
            expect(summary).to_be_hidden()
            expect(facets).to_be_visible()
            aside = box(page, "aside.facets")
            assert aside["x"] + aside["width"] <= first["x"] and aside["y"] < first["y"] + 50
        else:  # the first result on the first screen; the facets behind their button
            assert first["y"] + first["height"] <= PHONE["height"]
            expect(facets).to_be_hidden()
            expect(summary).to_be_visible()
            shot(page, f"facets-folded-{size}-{'js' if script else 'nojs'}", full_page=False)
            summary.click()
            expect(facets).to_be_visible()
            expect(page.locator("a.facet[data-value='s2']")).to_be_visible()
            assert box(page, "aside.facets")["y"] < box(page, ".card >> nth=0")["y"]
        shot(page, f"facets-{size}-{'js' if script else 'nojs'}", full_page=False)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_chip_takes_its_filter_off(browser: Browser, server: str, size: str) -> None:
    with opened(browser, server, size) as page:
        page.goto("/?q=kind%3Aphoto+session%3As2&sort=date")
        chips = page.locator("a.chip")
        expect(chips).to_have_count(2)
        expect(page.locator("p.total")).to_contain_text("15 items")
        assert box(page, "ul.chips")["y"] < PHONE["height"]  # on the first screen
        shot(page, f"chips-{size}", full_page=False)
        chips.filter(has_text="Session: Interreg Europe and Industrial Modernisation").click()
        expect(page.locator("header input[name=q]")).to_have_value("kind:photo")
        expect(page.locator("p.total")).to_contain_text("58 items")
        expect(chips).to_have_count(1)
        expect(page.locator(".sort[aria-current]")).to_have_text("oldest")  # kept
        chips.click()
        expect(chips).to_have_count(0)
        expect(page.locator("p.total")).to_contain_text("59 items")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_more_shows_the_rest_of_a_facet(browser: Browser, browsing_site: tuple[str, dict],
                                        size: str) -> None:
    url, _ = browsing_site
    with opened(browser, url, size) as page:
        page.goto("/?q=event%3Anewer-2021")
        if size == "phone":
            page.click(".facets-fold > summary")
        creators = page.locator("#facet-creator a.facet")
        expect(creators).to_have_count(12)
        page.click("#facet-creator a.more")
        expect(page).to_have_url(re.compile(r"more=creator#facet-creator$"))
        expect(creators).to_have_count(CREATORS)
        expect(creators.last).to_contain_text("Creator 14")
        # The page opens at the facet, unfolded on a phone.
        expect(creators.last).to_be_in_viewport()
        shot(page, f"more-{size}", full_page=False)
        page.click("#facet-creator a.more")
        expect(creators).to_have_count(12)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_active_sort_is_marked(browser: Browser, server: str, size: str) -> None:
    with opened(browser, server, size) as page:
        page.goto("/?q=keller")
        current = page.locator(".sorts [aria-current=true]")
        expect(current).to_have_text("relevance")
        marked = current.evaluate("e => getComputedStyle(e).backgroundColor")
        other = page.locator(".sorts a.sort").first.evaluate(
            "e => getComputedStyle(e).backgroundColor")
        assert marked != other  # seen, not only announced
        page.locator(".sorts a.sort", has_text="newest").click()
        expect(current).to_have_text("newest")
        assert "sort=-date" in page.url


# ---- no page wider than a phone ----------------------------------------------------------

PAGES = ["/", "/?q=keller+session%3As2+kind%3Aphoto", "/?q=keller&more=person", "/events",
         "/events/florence-2019", "/events/florence-2019/sessions/s3a",
         "/events/florence-2019/people/peter-keller", "/credits?q=keller", "/no/such/page",
         "photo", "video"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, server: str, path: str) -> None:
    with opened(browser, server, "phone") as page:
        if path in ("photo", "video"):  # reached from a search, with the viewer's bar
            page.goto(f"/?q=kind%3A{path}+keller" if path == "photo" else "/?q=kind%3Avideo")
            page.locator(".card a").first.click()
            page.wait_for_url("**/items/**")
        else:
            page.goto(path)
        if page.locator(".facets-fold > summary").count():
            page.click(".facets-fold > summary")  # the unfolded facets too
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        shot(page, f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"


@pytest.mark.parametrize("path", ["/", "/events/newer-2021", "/?q=event%3Anewer-2021&more=creator"])
def test_long_titles_do_not_widen_a_phone_page(browser: Browser,
                                               browsing_site: tuple[str, dict],
                                               path: str) -> None:
    url, _ = browsing_site
    with opened(browser, url, "phone") as page:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_long_file_name_does_not_widen_an_item_page_on_a_phone(
        browser: Browser, tmp_path: Path) -> None:
    """The details table's file row: a name without spaces once made the page 443 px."""
    from helpers.media import make_jpeg

    event = tmp_path / "event"
    make_jpeg(event / "photos" / "group_obama_biden_2010_official_white_house_photo.jpg")
    cli = Cli(tmp_path / "archive")
    cli("ingest", str(event))
    [item] = cli.json("list")
    with serving(tmp_path / "archive", tmp_path / "serve.log") as server, \
            opened(browser, server.url, "phone") as page:
        page.goto(f"/items/{item['id']}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the item page is {width} px wide"
