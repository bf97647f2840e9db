"""Browsing through Flask's test client: the programme as a timeline, events with covers,
the viewer's previous and next, the facets' chips, "More" and sort mark; bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from archive import settings
from web import create_app
from web.programme import _slots

from helpers.browsing import CREATORS, EVIL, make_browsing_events
from helpers.cli import Cli
from helpers.html import Element, parse_html

# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def client(sample_archive: Path) -> FlaskClient:
    return create_app(sample_archive, {"TESTING": True}).test_client()


@pytest.fixture(scope="module")
def browsing(tmp_path_factory: pytest.TempPathFactory, new_archive: Callable[[Path], Path]
             ) -> tuple[FlaskClient, dict[str, str]]:
    """The two browsing events (helpers/browsing.py) served: a client and the items' ids
    by file stem."""
    base = tmp_path_factory.mktemp("browsing")
    cli = Cli(new_archive(base / "archive"))
    cli("ingest", *map(str, make_browsing_events(base / "events")))
    ids = {Path(i["relpath"]).stem: i["id"] for i in cli.json("list")}
    return create_app(base / "archive", {"TESTING": True}).test_client(), ids


def page(client: FlaskClient, url: str, status: int = 200) -> Element:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return parse_html(response.get_data(as_text=True))


def item_of(href: str) -> str:
    return urlsplit(href).path.rsplit("/", 1)[-1]


def params(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# ---- the programme -------------------------------------------------------------------

def test_the_event_page_is_the_programme_by_day_slot_and_room(client: FlaskClient) -> None:
    html = page(client, "/events/florence-2019")
    day = html.one("section", "day")
    assert day.one("h3").text == "Tuesday 19 March 2019"
    slots = day.all("li", "slot")
    assert [s.one("p", "slot-time").text for s in slots] == [
        "09:30–11:00", "11:15–13:00", "14:30–17:00"]
    assert [[a.attrs["id"] for a in s.all("article", "session")] for s in slots] == [
        ["session-s1"], ["session-s2"], ["session-s3b", "session-s3a"]]
    # The parallel workshops: a column each, named by its room.
    parallel = slots[2]
    assert "parallel" in parallel.classes and not {"parallel"} & slots[0].classes
    assert [r.one("p", "room-name").text for r in parallel.all("div", "room")] == [
        "Sala Donatello", "Sala Michelangelo"]
    # A plenary says its room in its own block; every session its count and people.
    s2 = html.one("article", ident="session-s2")
    assert "Plenary" in s2.text and "Péter Keller" in s2.text
    assert s2.one("p", "session-count").text.startswith("15 items")


def test_each_session_shows_its_first_photos_linked_in_the_session(
        client: FlaskClient) -> None:
    html = page(client, "/events/florence-2019")
    for session in ("s1", "s2", "s3a", "s3b"):
        order = client.get(f"/api/sessions/{session}").json["items"]
        links = html.one("article", ident=f"session-{session}").one("ul", "previews").all("a")
        assert len(links) == settings.value("programme_previews")
        assert [item_of(a.attrs["href"]) for a in links] == order[:len(links)]
        assert all(params(a.attrs["href"]) == {"in": f"session:{session}"} for a in links)
        for a in links:
            assert a.one("img").attrs["src"] == f"/media/{item_of(a.attrs['href'])}/small"
            assert a.one("img").attrs["alt"]


def test_the_programme_lays_overlapping_sessions_side_by_side_a_room_a_column() -> None:
    def session(ident: str, start: str, end: str, room: str | None) -> dict:
        return {"id": ident, "start": start, "end": end, "room": room}

    day = [session("a", "09:00", "10:00", "Hall"), session("b", "09:30", "11:00", "Annex"),
           session("c", "10:00", "11:00", "Hall"), session("d", "11:00", "12:00", "Hall"),
           session("e", "11:30", "12:00", None)]
    slots = _slots(day)
    assert [(s.start, s.end) for s in slots] == [("09:00", "11:00"), ("11:00", "12:00")]
    assert [(c.room, [x["id"] for x in c.sessions]) for c in slots[0].columns] == [
        ("Hall", ["a", "c"]), ("Annex", ["b"])]
    assert [(c.room, [x["id"] for x in c.sessions]) for c in slots[1].columns] == [
        ("Hall", ["d"]), (None, ["e"])]


def test_the_programme_shows_titles_and_names_as_text(
        browsing: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = browsing
    body = client.get("/events/newer-2021").get_data(as_text=True)
    assert EVIL not in body
    assert "Opening &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


# ---- events with covers ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/events"])
def test_events_are_listed_newest_first_each_with_its_cover(
        browsing: tuple[FlaskClient, dict[str, str]], path: str) -> None:
    client, ids = browsing
    response = client.get(path)
    body = response.get_data(as_text=True)
    cards = parse_html(body).one("ul", "event-cards").all("li", "event-card")
    assert [item_of(c.one("a").attrs["href"]) for c in cards] == ["newer-2021", "older-2018"]
    # The first published photo of the first session: not the withheld one before it, nor
    # the one taken before the sessions began.
    assert [c.one("img", "cover").attrs["src"] for c in cards] == [
        f"/media/{ids['p01']}/small", f"/media/{ids['first']}/small"]
    assert ids["refused"] not in body
    assert EVIL not in body and "Newer forum &lt;script&gt;" in body


def test_the_sample_events_cover_is_its_first_photo_of_its_first_session(
        client: FlaskClient) -> None:
    first = client.get("/api/sessions/s1").json["items"][0]
    cover = page(client, "/").one("img", "cover")
    assert cover.attrs["src"] == f"/media/{first}/small"


@pytest.mark.parametrize("url", ["/?q=keller", "/?page=2"])
def test_only_the_home_page_lists_the_events(client: FlaskClient, url: str) -> None:
    assert not page(client, url).all("ul", "event-cards")


# ---- the viewer: previous, next, back ------------------------------------------------

def walk(client: FlaskClient, start: str, direction: str) -> list[str]:
    """Follow an item page's `direction` link (previous-item, next-item) to the end: the
    ids on the way, the first one's included."""
    seen, url = [], start
    while url:
        html = page(client, url)
        seen.append(item_of(url.split("#")[0]))
        found = html.all("a", ident=direction)
        url = found[0].attrs["href"] if found else None
        assert len(seen) < 100
    return seen


def test_previous_and_next_walk_the_search_across_its_pages(client: FlaskClient) -> None:
    order = [i["id"] for i in client.get("/api/search", query_string={
        "q": "keller", "sort": "date", "limit": 50}).json["results"]]
    assert len(order) == 16
    cards = page(client, "/?q=keller&sort=date&limit=5").one("ul", "grid").all("li", "card")
    first = cards[0].all("a")[0].attrs["href"]
    assert params(first) == {"q": "keller", "sort": "date", "limit": "5"}
    forward = walk(client, first, "next-item")
    assert forward == order
    last = f"/items/{order[-1]}?q=keller&sort=date&limit=5&page=4"
    assert walk(client, last, "previous-item") == order[::-1]
    # On the second page: its place, and the way back to that page with the same query.
    html = page(client, f"/items/{order[6]}?q=keller&sort=date&limit=5&page=2")
    assert html.one("span", "position").text == "7 of 16"
    back = html.one("a", ident="back-to-results").attrs["href"]
    assert params(back) == {"q": "keller", "sort": "date", "page": "2", "limit": "5"}
    assert params(html.one("a", ident="next-item").attrs["href"])["page"] == "2"
    assert item_of(html.one("a", ident="previous-item").attrs["href"]) == order[5]


@pytest.mark.parametrize(("context", "api"), [
    ("session:s2", "/api/sessions/s2"),
    ("person:peter-keller", "/api/people/peter-keller"),
    ("by:chiara-neri", "/api/people/chiara-neri")])
def test_previous_and_next_walk_a_session_a_persons_items_or_work(
        client: FlaskClient, context: str, api: str) -> None:
    found = client.get(api).json
    order = found["created"] if context.startswith("by:") else [
        i if isinstance(i, str) else i["id"] for i in found["items"]]
    assert len(order) > 2
    assert walk(client, f"/items/{order[0]}?in={context}", "next-item") == order
    html = page(client, f"/items/{order[1]}?in={context}")
    assert html.one("span", "position").text == f"2 of {len(order)}"
    back = html.one("a", ident="back-to-results").attrs["href"]
    assert back.startswith("/events/florence-2019/")


def test_the_lists_pages_link_their_items_in_their_context(client: FlaskClient) -> None:
    session = page(client, "/events/florence-2019/sessions/s2").one("ul", "grid")
    assert {params(a.attrs["href"])["in"] for a in session.all("a")} == {"session:s2"}
    person = page(client, "/events/florence-2019/people/chiara-neri")
    made = person.one("section", ident="photos-by").one("ul", "grid")
    assert {params(a.attrs["href"])["in"] for a in made.all("a")} == {"by:chiara-neri"}


@pytest.mark.parametrize("query", [
    "in=", "in=session", "in=session:", "in=session:nope", "in=session:../../etc",
    "in=session:s1", "in=person:%3Cscript%3E", "in=bogus:s2", "in=person:paolo-martinez%00",
    "q=keller&page=abc", "q=keller&limit=abc", "q=keller&sort=bogus",
    "q=taken:2019-99-99", "q=" + "x" * 3000])
def test_an_unusable_context_costs_the_item_page_only_its_neighbours(
        client: FlaskClient, query: str) -> None:
    photo = client.get("/api/search", query_string={"q": "session:s2 keller"}).json[
        "results"][0]["id"]
    html = page(client, f"/items/{photo}?{query}")
    assert html.one("h1").text
    assert not html.all("a", ident="next-item") and not html.all("a", ident="previous-item")


@pytest.mark.parametrize("item", ["nothex", "0" * 64, "A" * 64, "%3Cscript%3E", "0" * 65])
def test_an_item_that_is_not_there_is_404_whatever_the_context(client: FlaskClient,
                                                               item: str) -> None:
    assert client.get(f"/items/{item}?in=session:s2&q=keller").status_code == 404


def test_the_search_box_keeps_the_query(client: FlaskClient) -> None:
    photo = client.get("/api/search", query_string={"q": "keller"}).json["results"][0]["id"]
    for url in ("/?q=keller", f"/items/{photo}?q=keller", "/credits?q=keller"):
        # The header's box (a take-away form carries the query in a hidden field too).
        [box] = [i for i in page(client, url).all("input")
                 if i.attrs.get("name") == "q" and i.attrs.get("type") != "hidden"]
        assert box.attrs["value"] == "keller", url


# ---- facets: chips, More, the sort ---------------------------------------------------

def test_active_filters_are_chips_each_linking_to_the_query_without_it(
        client: FlaskClient) -> None:
    html = page(client, "/?q=keller+session:s2+-kind:video")
    chips = html.one("ul", "chips").all("a", "chip")
    assert [c.text for c in chips] == [
        "Remove the filter Session: Interreg Europe and Industrial Modernisation ×",
        "Remove the filter not Kind: video ×"]
    assert [params(c.attrs["href"])["q"] for c in chips] == [
        "keller -kind:video", "keller session:s2"]
    assert "negated" in chips[1].classes
    # The facet value already filtered by is marked; its link takes the filter off.
    active = [a for a in html.all("a", "facet") if "active" in a.classes]
    assert [(a.attrs["data-value"], params(a.attrs["href"])["q"]) for a in active] == [
        ("s2", "keller -kind:video")]
    assert not page(client, "/?q=keller+OR+session:s2").all("ul", "chips")


def test_chips_keep_the_sort_and_show_names_as_text(
        browsing: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = browsing
    body = client.get("/?q=person:marked&sort=-date").get_data(as_text=True)
    chip = parse_html(body).one("a", "chip")
    assert chip.text == f"Remove the filter Person: Marked {EVIL} ×"
    assert params(chip.attrs["href"]) == {"sort": "-date"}  # q= is empty, so dropped
    assert EVIL not in body


def test_more_shows_the_values_past_the_first(
        browsing: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = browsing
    shown = settings.value("facet_values")
    html = page(client, "/?q=event:newer-2021")
    creators = html.one("section", ident="facet-creator")
    assert len(creators.all("a", "facet")) == shown
    more = creators.one("a", "more")
    assert more.text == f"More creator values ({CREATORS - shown})"
    assert params(more.attrs["href"]) == {"q": "event:newer-2021", "more": "creator"}
    assert urlsplit(more.attrs["href"]).fragment == "facet-creator"
    assert "open" not in html.one("details", "facets-fold").attrs
    opened = page(client, more.attrs["href"].split("#")[0])
    creators = opened.one("section", ident="facet-creator")
    assert len(creators.all("a", "facet")) == CREATORS
    assert creators.one("a", "more").text == "Fewer creator values"
    assert "open" in opened.one("details", "facets-fold").attrs  # folded on a phone: open
    assert not html.one("section", ident="facet-kind").all("a", "more")


@pytest.mark.parametrize("more", ["bogus", "", "%3Cscript%3E", "creator&more=person"])
def test_a_more_that_names_no_facet_opens_none(
        browsing: tuple[FlaskClient, dict[str, str]], more: str) -> None:
    client, _ = browsing
    html = page(client, f"/?q=event:newer-2021&more={more}")
    assert len(html.one("section", ident="facet-creator").all("a", "facet")) == (
        CREATORS if more.startswith("creator") else settings.value("facet_values"))


@pytest.mark.parametrize(("sort", "marked"), [
    ("relevance", "relevance"), ("date", "oldest"), ("-date", "newest")])
def test_the_active_sort_is_marked(client: FlaskClient, sort: str, marked: str) -> None:
    html = page(client, f"/?q=keller&sort={sort}")
    current = [e for e in html.one("p", "sorts").all(cls="sort") if "aria-current" in e.attrs]
    assert [e.text for e in current] == [marked]
    assert current[0].tag == "strong"  # not a link to the page itself


@pytest.mark.parametrize("query", ["page=abc", "sort=bogus", "limit=x", "q=taken:2019-99-99"])
def test_bad_search_parameters_are_400_not_500(client: FlaskClient, query: str) -> None:
    assert client.get(f"/?{query}").status_code == 400
