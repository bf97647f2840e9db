"""Take-away ZIPs and credits sheets on the site, through Flask's test client: what each
ZIP holds (the originals or the 1280-px copies, byte for byte, with CREDITS.csv rows for
exactly those files and the licences), its headers, that it is streamed in flat memory
and read lazily, that withheld items are never in it, and that bad input is never a 500."""

from __future__ import annotations

import csv
import http.client
import io
import random
import re
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from archive.ingest.pipeline import ingest_folder
from archive.outputs.itemjson import items_json, selected_items
from archive.outputs.takeaway import CHUNK
from archive.store import Archive
from indexer.sync import sync
from web import create_app, selections

from helpers.cli import Cli
from helpers.consent import make_event
from helpers.media import make_exif, make_jpeg, make_xmp
from helpers.processes import LiveServer

EVIL = '<script>alert("x")</script>'
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
SESSION = "/events/florence-2019/sessions/s2"
KELLER = "/events/florence-2019/people/peter-keller"


@pytest.fixture(scope="module")
def client(sample_archive: Path) -> FlaskClient:
    return create_app(sample_archive, {"TESTING": True}).test_client()


def catalogued(root: Path, **where: str) -> list[dict[str, Any]]:
    """The item JSON of the archive's published items (the server's own paths)."""
    with Archive.open(root, readonly=True) as archive:
        return items_json(archive.catalog, selected_items(archive.catalog, published=True,
                                                          **where))


def opened(response: TestResponse) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)
    found = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert found.testzip() is None
    return found


def credit_rows(found: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(found.read("CREDITS.csv").decode("utf-8"))))


def files_of(found: zipfile.ZipFile) -> list[str]:
    names = found.namelist()
    assert names[-3:] == ["CREDITS.csv", "CREDITS.html", "LICENSES.txt"]
    return names[:-3]


def test_a_session_zip_holds_its_originals_and_their_credits(client: FlaskClient,
                                                            sample_archive: Path) -> None:
    items = {i["id"]: i for i in catalogued(sample_archive, session="s2")}
    response = client.get(f"{SESSION}/takeaway", query_string={"files": "originals"})
    found = opened(response)
    files = files_of(found)
    assert sorted(files) == sorted(f"florence-2019/{i['relpath']}" for i in items.values())
    for row in credit_rows(found):
        item = items[row["id"]]
        assert row["file"] == f"florence-2019/{item['relpath']}"
        assert found.read(row["file"]) == Path(item["path"]).read_bytes()
        assert row["credit_line"] == item["credit"]["line"]
        assert row["license_url"] == CC_BY
        assert row["item_url"] == ""  # no base URL: no page address to print
    assert [r["file"] for r in credit_rows(found)] == files
    assert CC_BY in found.read("LICENSES.txt").decode()
    assert "Interreg Europe and Industrial Modernisation" in found.read(
        "CREDITS.html").decode()
    # The server's own paths stay on the server.
    assert str(sample_archive.parent) not in found.read("CREDITS.csv").decode()


def test_the_zip_is_a_streamed_attachment_with_a_safe_name(client: FlaskClient) -> None:
    response = client.get("/takeaway", query_string={"q": "Péter Keller", "files": "copies"},
                          buffered=False)
    try:
        assert response.is_streamed and "Content-Length" not in response.headers
        assert response.mimetype == "application/zip"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        disposition = response.headers["Content-Disposition"]
        assert disposition == ('attachment; filename="search P_ter Keller (copies).zip"; '
                               "filename*=UTF-8''search%20P%C3%A9ter%20Keller%20%28copies"
                               "%29.zip")
    finally:
        response.close()


def test_copies_are_the_large_thumbnails_and_a_videos_is_its_poster(
        client: FlaskClient, sample_archive: Path) -> None:
    wanted = [i for i in catalogued(sample_archive)
              if i["kind"] == "video" or "s2" in {s["id"] for s in i["sessions"]}]
    found = opened(client.get("/takeaway", query_string={
        "q": "kind:video OR session:s2", "files": "copies"}))
    by_id = {row["id"]: row for row in credit_rows(found)}
    assert set(by_id) == {i["id"] for i in wanted}
    for item in wanted:
        name = by_id[item["id"]]["file"]
        stem = item["relpath"].rsplit(".", 1)[0]
        poster = "-poster" if item["kind"] == "video" else ""
        assert name == f"florence-2019/{stem}{poster}.jpg"
        large = sample_archive / item["thumbnails"]["large"]
        assert found.read(name) == large.read_bytes()
    assert by_id[next(i["id"] for i in wanted if i["kind"] == "video")][
        "credit_line"].startswith("Video: Barry Guckian")


def test_a_persons_zip_holds_the_items_showing_them(client: FlaskClient,
                                                   sample_archive: Path) -> None:
    shown = [i for i in catalogued(sample_archive, person="peter-keller")
             if any(p["id"] == "peter-keller" and p["relation"] == "shown"
                    for p in i["people"])]
    found = opened(client.get(f"{KELLER}/takeaway"))
    assert len(shown) == 3
    assert {r["id"] for r in credit_rows(found)} == {i["id"] for i in shown}
    assert "the items showing Péter Keller" in found.read("CREDITS.html").decode()


def test_an_events_zip_and_sheet(client: FlaskClient) -> None:
    found = opened(client.get("/events/florence-2019/takeaway"))
    assert len(files_of(found)) == 59
    page = client.get("/events/florence-2019/credits").get_data(as_text=True)
    assert "59 items, grouped by creator" in page


def test_a_selection_past_export_items_is_capped_and_says_so(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selections, "cap", lambda: 5)
    found = opened(client.get("/takeaway", query_string={"q": ""}))
    assert len(files_of(found)) == 5
    assert "past its first 5 items (export_items)" in found.read("LICENSES.txt").decode()
    for url in ("/?q=", "/credits", f"{SESSION}/credits", SESSION):
        page = client.get(url).get_data(as_text=True)
        assert "Only the first 5 items" in page, url
    assert len(opened(client.get(f"{SESSION}/takeaway")).namelist()) == 5 + 3
    # Three showing Keller: not capped, and not said.
    assert "Only the first" not in client.get(KELLER).get_data(as_text=True)


@pytest.mark.parametrize(("url", "code"), [
    ("/takeaway?files=all", 400),
    ("/takeaway?files=", 400),
    ("/takeaway?q=taken:2019-13-45", 400),
    ("/takeaway?q=" + "x" * 3000, 400),
    ("/takeaway?q=nothingmatchesthisword", 404),
    (f"{SESSION}/takeaway?files=../../etc/passwd", 400),
    ("/events/florence-2019/sessions/s99/takeaway", 404),
    ("/events/florence-2019/people/nobody/takeaway", 404),
    ("/events/nowhere/takeaway", 404),
    ("/events/..%2F..%2Fetc/takeaway", 404),
    ("/events/florence-2019/sessions/s99/credits", 404),
    ("/events/nowhere/credits", 404),
    (f"{SESSION}/credits?format=pdf", 400),
    ("/credits?format=exe", 400),
    # Massimo Innocenti is shown in photos; Chiara Neri takes them and is shown in none.
    ("/events/florence-2019/people/chiara-neri/takeaway", 404),
])
def test_bad_input_is_a_4xx_never_a_500(client: FlaskClient, url: str, code: int) -> None:
    response = client.get(url)
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.mimetype == "text/html"  # our error page, not a broken ZIP


class Sheet(HTMLParser):
    """The entries of a credits sheet: per entry its thumbnail, title link, credit line
    and licence link; and every stylesheet and script the page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "link" and found.get("rel") == "stylesheet":
            self.styles.append(found["href"] or "")
        if tag == "script":
            self.scripts.append(found.get("src") or "inline")
        if tag == "li" and "sheet-entry" in classes:
            self.entries.append({"line": ""})
        if not self.entries:
            return
        entry = self.entries[-1]
        if tag == "img" and "sheet-thumb" in classes:
            entry["thumb"] = found["src"]
        elif tag == "a" and "sheet-title" in classes:
            entry["href"], self._in = found["href"], "title"
        elif tag == "a" and "license" in classes:
            entry["license_url"], self._in = found["href"], "license"
            assert found["rel"] == "license"
        elif tag == "span" and "line" in classes:
            self._in = "line"

    def handle_data(self, data: str) -> None:
        if self._in:
            self.entries[-1][self._in] = self.entries[-1].get(self._in, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "span"):
            self._in = None


def test_a_session_sheet_has_thumbnails_titles_lines_licences_and_the_event(
        client: FlaskClient, sample_archive: Path) -> None:
    items = {i["id"]: i for i in catalogued(sample_archive, session="s2")}
    page = client.get(f"{SESSION}/credits").get_data(as_text=True)
    sheet = Sheet()
    sheet.feed(page)
    assert "Credits: session s2, Interreg Europe and Industrial Modernisation" in page
    assert "Industrial Modernization and Interregional Cooperation" in page  # the event
    assert len(sheet.entries) == len(items) == 15
    for entry in sheet.entries:
        item_id = entry["href"].rsplit("/", 1)[1]
        item = items[item_id]
        assert entry["thumb"] == f"/media/{item_id}/small"
        assert entry["title"] == (item["title"] or item["relpath"].rsplit("/", 1)[1])
        assert entry["line"] == item["credit"]["line"]
        assert entry["license"] == "CC BY 4.0" and entry["license_url"] == CC_BY
    assert "/static/credits.css" in sheet.styles and "inline" not in sheet.scripts
    # Its exports are of the same items.
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"{SESSION}/credits", query_string={"format": "csv"}).get_data(as_text=True))))
    assert {r["id"] for r in rows} == set(items)
    # The page itself offers them, the ZIP and (with JavaScript) printing.
    assert f'href="{SESSION}/credits?format=csv"' in page
    assert f'action="{SESSION}/takeaway"' in page and 'id="print-sheet"' in page


def test_the_print_styles_hide_the_site_and_write_out_addresses(client: FlaskClient) -> None:
    response = client.get("/static/credits.css")
    css = response.get_data(as_text=True)
    response.close()  # a static file is sent from an open file
    printed = css[css.index("@media print"):]
    hidden = re.search(r"\*/\s*([^{}]+)\{ display: none !important; \}", printed)
    assert hidden is not None
    selectors = {s.strip() for s in hidden.group(1).split(",")}
    assert {"header.top", "nav", "form", "button", ".takeaway"} <= selectors
    assert re.search(r'\.credit-sheet a\[href\^="http"\]::after[^{]*\{ content: " <" '
                     r'attr\(href\) ">"', printed)
    assert "break-inside: avoid" in printed


def test_a_base_url_puts_item_addresses_on_the_sheet(sample_archive: Path) -> None:
    site = create_app(sample_archive, {"TESTING": True,
                                       "BASE_URL": "https://archive.example.org/"})
    page = site.test_client().get(f"{KELLER}/credits").get_data(as_text=True)
    sheet = Sheet()
    sheet.feed(page)
    assert len(sheet.entries) == 3
    assert all(e["href"].startswith("https://archive.example.org/items/")
               for e in sheet.entries)
    found = opened(site.test_client().get(f"{KELLER}/takeaway"))
    assert all(r["item_url"].startswith("https://archive.example.org/items/")
               for r in credit_rows(found))


@pytest.mark.parametrize(("url", "sheet", "zip_url", "query"), [
    ("/?q=keller", "/credits?q=keller", "/takeaway", "keller"),
    (SESSION, f"{SESSION}/credits", f"{SESSION}/takeaway", None),
    (KELLER, f"{KELLER}/credits", f"{KELLER}/takeaway", None),
])
def test_search_session_and_person_pages_offer_credits_and_a_zip(
        client: FlaskClient, url: str, sheet: str, zip_url: str, query: str | None) -> None:
    page = client.get(url).get_data(as_text=True)
    assert f'<a class="credits-for-these" href="{sheet}">Credits for these</a>' in page
    form = page[page.index('<form class="takeaway-form"'):]
    form = form[:form.index("</form>")]
    assert f'method="get" action="{zip_url}"' in form
    assert 'name="files" value="originals" checked' in form
    assert 'name="files" value="copies"' in form
    assert ("name=\"q\" value=\"keller\"" in form) == (query is not None)
    assert "Download (ZIP)" in form


def test_no_form_for_nothing(client: FlaskClient) -> None:
    page = client.get("/", query_string={"q": "nothingmatchesthisword"}).get_data(
        as_text=True)
    assert "takeaway-form" not in page and "Credits for these" not in page


# ---- an archive of its own: withheld items, odd metadata, files that change -------------

@pytest.fixture(scope="module")
def consent_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlaskClient, dict]:
    """The consent event (Keller refuses; a video under `publish = false`) with a photo
    whose metadata is markup: the site's client and every item by file stem."""
    base = tmp_path_factory.mktemp("takeaway-consent")
    folder = make_event(base / "event")
    make_jpeg(folder / "photos" / "evil.jpg", exif=make_exif(artist=EVIL),
              xmp=make_xmp(title=f"Title {EVIL}"))
    cli = Cli(base / "archive")
    cli("ingest", str(folder))
    items = {Path(i["relpath"]).stem: i for i in cli.json("list")}
    return create_app(base / "archive", {"TESTING": True}).test_client(), items


CONSENT_ROUTES = ["/takeaway", "/takeaway?q=keller", "/takeaway?q=kind:video",
                  "/events/consent-2019/takeaway", "/events/consent-2019/sessions/s2/takeaway",
                  "/events/consent-2019/people/peter-keller/takeaway",
                  "/events/consent-2019/people/roberto-pini/takeaway"]


@pytest.mark.slow
@pytest.mark.parametrize("files", ["originals", "copies"])
def test_withheld_items_are_never_in_a_zip_or_on_a_sheet(
        consent_site: tuple[FlaskClient, dict], files: str) -> None:
    client, items = consent_site
    withheld = {i["id"] for i in items.values() if not i["published"]}
    assert {n for n, i in items.items() if not i["published"]} == {"keller", "backstage"}
    for url in CONSENT_ROUTES:
        response = client.get(f"{url}{'&' if '?' in url else '?'}files={files}")
        if url.endswith("q=kind:video"):  # the one video is withheld: nothing to take
            assert response.status_code == 404
            continue
        found = opened(response)
        ids = {row["id"] for row in credit_rows(found)}
        assert ids and not ids & withheld, url
        for name in found.namelist():
            assert not any(w in found.read(name).decode("utf-8", "replace")
                           for w in withheld), (url, name)
            assert "keller.jpg" not in name and "backstage" not in name, (url, name)
        sheet = client.get(url.replace("/takeaway", "/credits"))
        assert not any(w in sheet.get_data(as_text=True) for w in withheld), url
    keller = opened(client.get(CONSENT_ROUTES[5], query_string={"files": files}))
    assert [Path(n).stem for n in files_of(keller)] == ["together"]


@pytest.mark.slow
def test_metadata_is_escaped_on_the_sheet_and_in_the_zips_credits(
        consent_site: tuple[FlaskClient, dict]) -> None:
    client, _ = consent_site
    page = client.get("/credits", query_string={"q": "evil"}).get_data(as_text=True)
    assert "Title &lt;script&gt;" in page and EVIL not in page
    found = opened(client.get("/takeaway", query_string={"q": "evil"}))
    assert EVIL not in found.read("CREDITS.html").decode()
    assert "&lt;script&gt;" in found.read("CREDITS.html").decode()
    assert credit_rows(found)[0]["title"] == f"Title {EVIL}"  # CSV keeps the text itself


# ---- streaming: many large files in flat memory, each checked as it is reached ---------

FILES, PADDING = 12, 4 << 20


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(archive, event folder): twelve photos of 4 MiB each (a small JPEG followed by
    random bytes, which decoders ignore), ingested and indexed."""
    base = tmp_path_factory.mktemp("takeaway-big")
    folder = base / "event"
    folder.mkdir()
    (folder / "event.toml").write_text('[event]\nid = "big"\ntitle = "Big"\n'
                                       '[credit]\ncreator = "Ann"\nlicense = "CC0-1.0"\n')
    rng = random.Random(14)
    for n in range(FILES):
        path = make_jpeg(folder / f"p{n:02d}.jpg")
        with path.open("ab") as out:
            out.write(rng.randbytes(PADDING))
    root = base / "archive"
    with Archive.open(root) as archive:
        ingest_folder(archive, folder, jobs=2, progress=False)
        sync(archive)
    return root, folder


def _chunks(response: TestResponse) -> Iterator[bytes]:
    try:
        yield from response.response
    finally:
        response.close()


@pytest.mark.slow
def test_a_big_zip_streams_in_flat_memory(big_archive: tuple[Path, Path]) -> None:
    client = create_app(big_archive[0], {"TESTING": True}).test_client()
    tracemalloc.start()
    try:
        response = client.get("/events/big/takeaway", buffered=False)
        assert response.is_streamed
        total, most = 0, 0
        for chunk in _chunks(response):
            total, most = total + len(chunk), max(most, len(chunk))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > FILES * PADDING
    assert most < CHUNK + 64 * 1024  # chunk by chunk, never the whole
    assert peak < 8 * CHUNK, f"{peak:,} bytes held to send {total:,}"


@pytest.mark.slow
def test_files_are_checked_and_read_only_as_the_zip_reaches_them(
        big_archive: tuple[Path, Path], tmp_path: Path) -> None:
    """The generator is consumed lazily: files changed after the first chunk was sent are
    found changed, vanished or swapped for a link out of the event folder, and left out
    with the reason, while the others go in whole."""
    root, folder = big_archive
    client = create_app(root, {"TESTING": True}).test_client()
    response = client.get("/events/big/takeaway", buffered=False)
    chunks = _chunks(response)
    first = next(chunks)
    names = sorted(p.name for p in folder.glob("*.jpg"))
    changed, gone, swapped = (folder / n for n in names[-3:])
    kept = {n: (folder / n).read_bytes() for n in names}
    outside = tmp_path / "outside.jpg"
    try:
        with changed.open("ab") as out:
            out.write(b"more")
        gone.rename(tmp_path / "gone.jpg")
        outside.write_bytes(swapped.read_bytes())  # the same size: only its place differs
        swapped.unlink()
        swapped.symlink_to(outside)
        found = zipfile.ZipFile(io.BytesIO(first + b"".join(chunks)))
    finally:
        changed.write_bytes(kept[changed.name])
        (tmp_path / "gone.jpg").rename(gone)
        swapped.unlink()
        swapped.write_bytes(kept[swapped.name])
    assert found.testzip() is None
    assert files_of(found) == [f"big/{n}" for n in names[:-3]]
    for name in names[:-3]:
        assert found.read(f"big/{name}") == kept[name]
    licences = found.read("LICENSES.txt").decode()
    assert f"Left out, changed since it was catalogued: big/{changed.name}" in licences
    assert f"Left out, missing from its folder: big/{gone.name}" in licences
    assert f"Left out, missing from its folder: big/{swapped.name}" in licences
    assert "https://creativecommons.org/publicdomain/zero/1.0/" in licences


@pytest.mark.slow
def test_the_server_sends_a_zip_chunked(big_archive: tuple[Path, Path],
                                        live_server: Callable[..., LiveServer]) -> None:
    """Through the real `serve` (waitress): no length announced, the body chunked; a
    client that goes away halfway, or asks only for the head, costs no traceback (the
    fixture fails on one in the server's log)."""
    server = live_server(big_archive[0], "--workers", "1")
    for method in ("HEAD", "GET"):
        gone = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        gone.request(method, "/events/big/takeaway")
        assert gone.getresponse().status == 200
        gone.close()  # a GET's body left unread
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", "/events/big/takeaway?files=originals")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        found = zipfile.ZipFile(io.BytesIO(response.read()))
    finally:
        conn.close()
    assert found.testzip() is None and len(files_of(found)) == FILES
