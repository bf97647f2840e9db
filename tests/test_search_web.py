"""Search on the site and in the CLI: facet links, transcript moments, long transcripts,
the result cache and malformed queries."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive.ingest.pipeline import ingest_folder
from archive.store import Archive
from indexer.search import Page, SearchIndex
from indexer.sync import sync
from web import create_app

from helpers.cli import Cli
from helpers.media import make_exif, make_jpeg, make_video, make_xmp

# Slow: a half-hour video with a 3,000-cue transcript, ingested with the sample.
# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.engines]

CREATOR = 'Anna Rossi (12" prints: Studio Lumière)'
MODEL = 'Cam:1 "Pro"'
CUES = 3000
WORDS = ("regional policy industrial cooperation manufacturing innovation project partners "
         "materials workshop funding region europe programme smes digital skills").split()


def write_transcript(path: Path, cues: int) -> list[str]:
    """A WebVTT transcript of `cues` sentences, 0.6 s apart; 'graphene' is said twice."""
    rng = random.Random(7)
    lines, texts = ["WEBVTT", ""], []
    for n in range(cues):
        words = [rng.choice(WORDS) for _ in range(12)]
        if n in (1500, cues - 1):
            words[5] = "graphene"
        texts.append(" ".join(words).capitalize() + ".")
        lines += [f"{_stamp(n * 600)} --> {_stamp(n * 600 + 600)}", texts[-1], ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return texts


def _stamp(millis: int) -> str:
    whole = millis // 1000
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{millis % 1000:03d}"


@pytest.fixture(scope="module")
def site_root(sample: Path, tmp_path_factory: pytest.TempPathFactory,
              new_archive: Callable[[Path], Path]) -> Path:
    base = tmp_path_factory.mktemp("search-web")
    event = base / "event"
    shutil.copytree(sample, event)
    # The creator as an editor writes it (XMP: EXIF strings are ASCII).
    make_jpeg(event / "photos" / "odd.jpg", exif=make_exif(make="Odd", model=MODEL),
              xmp=make_xmp(creator=[CREATOR]))
    # A half-hour talk (long-GOP x264, as a camera or editor writes it) with a long
    # transcript beside it.
    make_video(event / "talks" / "talk.mp4", seconds=1800, audio=False,
               source="testsrc2=size=64x36:rate=2:duration=1800",
               extra=["-c:v", "libx264", "-preset", "ultrafast", "-g", "250"])
    write_transcript(event / "talks" / "talk.en.vtt", CUES)
    root = new_archive(base / "archive")
    with Archive.open(root) as archive:
        ingest_folder(archive, event, jobs=2, progress=False)
        sync(archive)
    return root


@pytest.fixture(scope="module")
def client(site_root: Path) -> FlaskClient:
    return create_app(site_root, {"TESTING": True}).test_client()


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def anchors(html: str) -> list[dict[str, str | None]]:
    parser = Anchors()
    parser.feed(html)
    return parser.anchors


def html_of(client: FlaskClient, url: str, **query: str) -> str:
    response = client.get(url, query_string=query or None)
    assert response.status_code == 200, (url, query, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["file:odd", "file:odd OR keller", 'file:odd OR "advanced',
                                   "(file:odd OR kind:video", "file:odd NOT"])
def test_every_facet_link_narrows_to_its_count(client: FlaskClient, query: str) -> None:
    html = html_of(client, "/", q=query)
    facets = [a for a in anchors(html) if a.get("class") == "facet"]
    values = {a["data-value"] for a in facets}
    assert {CREATOR, f"Odd {MODEL}"} <= values
    for link in facets:
        count = re.search(re.escape(f'data-value="{_attr(link["data-value"])}"')
                          + r'[^>]*>[^<]*</a> <span class="count">(\d+)', html)
        narrowed = client.get(link["href"])
        assert narrowed.status_code == 200, link
        total = re.search(r"<strong>(\d+)</strong> item", narrowed.get_data(as_text=True))
        assert total[1] == count[1], (link, total[1], count[1])


def test_a_facet_link_keeps_the_chosen_order_and_the_order_shown_is_marked(
        client: FlaskClient) -> None:
    html = html_of(client, "/", q="keller", sort="-date")
    facets = [a["href"] for a in anchors(html) if a.get("class") == "facet"]
    assert facets and all(href.endswith("&sort=-date") for href in facets)
    assert "page=" not in " ".join(facets)  # a narrowed query starts at its first page
    sorts = [a.get("href") for a in anchors(html) if a.get("class") == "sort"]
    assert len(sorts) == 2 and not any("sort=-date" in href for href in sorts)
    assert '<strong class="sort" aria-current="true">newest</strong>' in html
    plain = html_of(client, "/", q="keller")
    assert '<strong class="sort" aria-current="true">relevance</strong>' in plain
    assert not any("sort=" in a["href"] for a in anchors(plain) if a.get("class") == "facet")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&#34;").replace("<", "&lt;").replace(
        ">", "&gt;").replace("'", "&#39;")


def test_a_transcript_hit_links_to_its_moment(client: FlaskClient) -> None:
    html = html_of(client, "/", q="graphene")
    talk = client.get("/api/search", query_string={"q": "graphene"}).json["results"][0]
    assert talk["at"] == 900.0
    links = {a["href"] for a in anchors(html)}
    # With the search it is in, for the item page's previous and next (web/viewer.py).
    assert f"/items/{talk['id']}?q=graphene#t=900.0" in links
    photo = client.get("/api/search", query_string={"q": "file:odd"}).json["results"][0]
    assert f"/items/{photo['id']}?q=file:odd" in {a["href"] for a in anchors(html_of(
        client, "/", q="file:odd"))}


def test_a_result_carries_only_its_matching_cues(client: FlaskClient, site_root: Path
                                                 ) -> None:
    api = client.get("/api/search", query_string={"q": "graphene"})
    talk = api.json["results"][0]
    assert [c["start"] for c in talk["transcript"]] == [900.0, 1799.4]
    assert all("graphene" in c["text"] for c in talk["transcript"])
    assert "<mark" in talk["highlights"]["transcript"]
    whole = client.get(f"/api/items/{talk['id']}").get_data()
    assert len(whole) > 200_000 and len(api.get_data()) < 20_000
    printed = Cli(site_root)("search", "graphene", "--json")
    assert len(printed) < 20_000
    assert json.loads(printed)["results"][0]["transcript"] == talk["transcript"]


def test_a_transcript_time_opens_the_video_at_that_time_without_javascript(
        client: FlaskClient) -> None:
    talk = client.get("/api/search", query_string={"q": "graphene"}).json["results"][0]
    cues = [a["href"] for a in anchors(html_of(client, f"/items/{talk['id']}"))
            if a.get("class") == "cue"]
    assert cues[1] == f"/media/{talk['id']}/original#t=0.6"
    with client.get(cues[1].split("#")[0], headers={"Range": "bytes=0-9"}) as video:
        assert video.status_code == 206


def test_the_item_page_of_a_long_transcript_stays_small(client: FlaskClient) -> None:
    talk = client.get("/api/search", query_string={"q": "graphene"}).json["results"][0]
    first = html_of(client, f"/items/{talk['id']}")
    assert len(first) < 60_000
    assert first.count('class="cue"') == 200
    more = next(a["href"] for a in anchors(first) if a.get("class") == "more")
    second = html_of(client, more.split("#")[0])
    assert second.count('class="cue"') == 200
    assert 'data-start="120.0"' in second and 'data-start="120.0"' not in first
    paged = client.get(f"/api/items/{talk['id']}/transcript",
                       query_string={"offset": CUES - 10}).json
    assert (paged["total"], len(paged["cues"]), paged["next"]) == (CUES, 10, None)
    assert "graphene" in paged["cues"][-1]["text"]


def test_the_result_cache_is_bounded_by_bytes(site_root: Path) -> None:
    budget = 48 * 1024
    with Archive.open(site_root, readonly=True) as archive:
        index = SearchIndex(archive, rebuild_missing=False, persist=False, cache_size=1000,
                            cache_bytes=budget)
        for n in range(80):
            index.search(f"graphene duration:>{n}", Page(limit=24))
        assert 2 <= len(index.cache) < 80
        assert index.cache.nbytes <= budget
        again = index.search("graphene duration:>79", Page(limit=24))
        assert index.cache.hits == 1
        assert again == index.search("graphene duration:>79", Page(limit=24))
        index.close()


MALFORMED = ["NOT )", "(" * 500, "taken:9999-12-31", "taken:>=9999-12-31T23:59",
             "duration:>nan", "(((((((((((((((((((keller"]


@pytest.mark.parametrize("url", ["/", "/api/search", "/credits", "/api/credits"])
@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_queries_are_400_with_a_message_or_200(client: FlaskClient, url: str,
                                                        query: str) -> None:
    response = client.get(url, query_string={"q": query})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        body = response.get_data(as_text=True)
        assert "Bad query" in body and "Traceback" not in body


def _event_with_session(folder: Path, event_id: str, title: str, width: int) -> Path:
    """An event of one morning session `s1` called `title`, with two photos taken in it
    (`width` pixels wide and one more: an event's photos must differ from another's)."""
    folder.mkdir(parents=True)
    (folder / "event.toml").write_text(
        f'[event]\nid = "{event_id}"\ntitle = "{title} day"\ndate = 2019-03-19\n'
        f'timezone = "Europe/Rome"\n\n[[sessions]]\nid = "s1"\ntitle = "{title}"\n'
        'start = 09:30\nend = 11:00\n', encoding="utf-8")
    for n in range(2):
        make_jpeg(folder / f"{event_id}-{n}.jpg", size=(width + n, 48),
                  exif=make_exif(taken=dt.datetime(2019, 3, 19, 10, n)))
    return folder


def test_a_session_facet_is_titled_only_when_its_id_names_one_session(
        tmp_path: Path) -> None:
    """Session ids repeat across events: `s1` of two events gets no title (any one of them
    would be wrong), `s1` of the one event the results are in gets that event's."""
    root = tmp_path / "archive"
    with Archive.open(root) as archive:
        for event_id, title, width in (("porto-2019", "Porto opening", 64),
                                       ("lyon-2019", "Lyon opening", 80)):
            event = _event_with_session(tmp_path / event_id, event_id, title, width)
            ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
    client = create_app(root, {"TESTING": True}).test_client()

    def label(query: str) -> str:
        html = html_of(client, "/", q=query)
        # An active value (the query filters by it) says so to screen readers first.
        return re.search(r'class="facet(?: active)?" data-value="s1" href="[^"]*">'
                         r'(?:<span class="hidden-text">[^<]*</span>)?([^<]*)</a>', html)[1]

    assert label("session:s1") == "s1"
    assert label("session:s1 event:lyon-2019") == "s1: Lyon opening"
    assert label("event:porto-2019") == "s1: Porto opening"
