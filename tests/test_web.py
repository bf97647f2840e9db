"""The site through Flask's test client: every route, every error path, security."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from media import make_exif, make_jpeg, make_xmp

from archive.ingest import ingest_folder
from archive.store import Archive
from indexer.sync import sync
from web import create_app

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def site_archive(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("web")
    event = base / "event"
    shutil.copytree(sample, event)
    make_jpeg(event / "photos" / "evil.jpg", exif=make_exif(artist=EVIL, description=EVIL),
              xmp=make_xmp(title=f"Title {EVIL}"))
    root = base / "archive"
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


def test_did_you_mean_on_the_page(client: FlaskClient) -> None:
    html = client.get("/", query_string={"q": "bramantti"}).get_data(as_text=True)
    assert "Did you mean" in html and "bramanti" in html


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


def test_no_absolute_server_path_leaks(client: FlaskClient, site_archive: Path) -> None:
    body = client.get("/api/search", query_string={"q": "", "limit": "200"}).get_data(
        as_text=True)
    assert str(site_archive.parent) not in body


def fetch(client: FlaskClient, url: str, **headers: str) -> tuple[int, dict, bytes]:
    """GET and close the response (file responses hold the file open until closed)."""
    with client.get(url, headers=headers) as response:
        return response.status_code, dict(response.headers), response.get_data()


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
    assert fetch(client, f"/media/{video}/original", Range="bytes=abc")[0] in (200, 416)


@pytest.mark.parametrize("url", [
    "/media/../../etc/passwd", "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd/original",
    "/media/" + "0" * 64 + "/original", "/media/abc/original", "/items/../../etc/passwd",
    "/items/" + "f" * 64, "/static/../catalog.sqlite3", "/static/%2e%2e/catalog.sqlite3",
    "/events/..%2f..%2fetc", "/events/florence-2019/sessions/nope",
    "/events/florence-2019/people/..", "/api/items/xyz", "/api/sessions/nope",
    "/thumbs/00/x.jpg", "/catalog.sqlite3",
])
def test_traversal_and_unknown_ids_are_4xx(client: FlaskClient, url: str) -> None:
    status, _, body = fetch(client, url)
    assert 400 <= status < 500
    assert b"root:" not in body and b"SQLite format" not in body


def test_bad_queries_are_400_not_500(client: FlaskClient) -> None:
    assert client.get("/", query_string={"q": "taken:2019-13"}).status_code == 400
    assert client.get("/api/search", query_string={"q": "taken:soon"}).status_code == 400
    assert client.get("/api/search", query_string={"q": "x" * 5000}).status_code == 400
    assert client.get("/api/search", query_string={"q": "keller", "page": "x"}).status_code == 400
    assert client.get("/api/search", query_string={"sort": "random"}).status_code == 400
    assert client.get("/api/credits", query_string={"format": "pdf"}).status_code == 400
    assert client.get("/api/search", query_string={"q": '"((unbalanced'}).status_code == 200


def test_every_metadata_string_is_escaped(client: FlaskClient) -> None:
    evil = item_id(client, "file:evil")
    for url in (f"/items/{evil}", "/?q=file:evil", "/credits?q=file:evil"):
        html = client.get(url).get_data(as_text=True)
        assert EVIL not in html, url
        assert "&lt;script&gt;" in html, url
        scripts = parse(html).scripts
        assert all(s.get("src") or s.get("type") == "application/ld+json" for s in scripts)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


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


def test_create_app_without_archive_is_a_clear_error(tmp_path: Path) -> None:
    from archive.errors import ArchiveError

    with pytest.raises(ArchiveError, match="no archive here"):
        create_app(tmp_path / "none")
