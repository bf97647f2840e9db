"""The curator's desk (`serve --curate`): logging in, CSRF, fixing items, naming faces, the
"to do" page, the log of changes, two curators at once, hostile input, and that without
--curate nothing of the site writes. Through Flask's test client on two small events
made in code (helpers.curateevent); the real `serve --curate` and a browser are slow."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil
import pytest
import tomli
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect

from archive.catalog import curator_changes, items_by_relpath
from archive.ingest.pipeline import FaceStage, ingest_folder
from archive.locking import write_lock
from archive.outputs.facelist import face_clusters
from archive.store import Archive
from indexer.sync import sync
from web import create_app
from web.curate.access import LoginTokens

from helpers.browser import chromium, screenshot
from helpers.curateevent import CurateEvents, build, keep, restore
from helpers.forms import Form, form_to, forms
from helpers.media import make_exif, make_jpeg
from helpers.processes import LiveServer, poll_until

FIELDS = ("title", "description", "session", "people", "creator", "organisation",
          "project", "copyright", "license", "acquire_license_page", "publish")
EVIL = '<script>alert("x")</script>'


# ---- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[CurateEvents, Path]:
    base = tmp_path_factory.mktemp("curate")
    events = build(base / "work")
    keep(base / "work", base / "kept")
    return events, base / "kept"


@pytest.fixture
def events(pristine: tuple[CurateEvents, Path]) -> CurateEvents:
    """The events and their archive as built: every test writes to its own copy."""
    built, kept = pristine
    return restore(kept, built)


@dataclass
class Desk:
    app: Flask
    tokens: LoginTokens
    events: CurateEvents

    def client(self, logged_in: bool = True) -> FlaskClient:
        client = self.app.test_client()
        if logged_in:
            answer = client.get("/curate/login", query_string={"token": self.tokens.issue()})
            assert answer.status_code == 303, answer.text
        return client


def make_desk(events: CurateEvents, folder: Path, **config: object) -> Desk:
    folder.mkdir(mode=0o700, exist_ok=True)
    app = create_app(events.root, {"TESTING": True, "CURATE": True,
                                   "CURATE_TOKENS": str(folder),
                                   "SECRET_KEY": secrets.token_hex(32), **config})
    return Desk(app, LoginTokens(folder), events)


@pytest.fixture
def desk(events: CurateEvents, tmp_path: Path) -> Desk:
    return make_desk(events, tmp_path / "tokens")


# ---- helpers ----------------------------------------------------------------------------

def item_form(client: FlaskClient, item_id: str, page: str = "/curate/items/{}") -> Form:
    answer = client.get(page.format(item_id))
    assert answer.status_code == 200, answer.text
    return form_to(answer.text, f"/curate/items/{item_id}")


def post_item(client: FlaskClient, item_id: str, form: Form | None = None,
              **changes: str) -> object:
    fields = dict((form or item_form(client, item_id)).fields)
    fields.update(changes)
    return client.post(f"/curate/items/{item_id}", data=fields)


def log(events: CurateEvents) -> list:
    with Archive.open(events.root, create=False, readonly=True) as archive:
        return curator_changes(archive.catalog, 1000)


def entry(events: CurateEvents, stem: str) -> dict:
    data = tomli.loads(events.event_file.read_text(encoding="utf-8"))
    return next((m for m in data.get("media", []) if m["path"] == f"photos/{stem}.jpg"), {})


def comments(path: Path) -> list[str]:
    """The file's comments (a face, `photos/a.jpg#1`, is none)."""
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if re.search(r"(^|\s)#", line)]


def digest(*folders: Path) -> dict[str, str]:
    """Every file under the folders by content, but the site's cache of face pictures
    (derived files the public site keeps, as documented) and SQLite's shared-memory
    index of the log (no content: readers write their marks into it)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith("-shm") and "faces" not in p.parent.parts}


def refused_message(html: str) -> str:
    found = re.findall(r'class="curate-refused"[^>]*>(.*?)</p>', html, re.S)
    return " ".join(found)


# ---- access -----------------------------------------------------------------------------

def test_a_login_link_works_once_and_only_once(desk: Desk) -> None:
    token = desk.tokens.issue()
    first, second = desk.app.test_client(), desk.app.test_client()
    answer = first.get("/curate/login", query_string={"token": token})
    assert answer.status_code == 303 and answer.location.endswith("/curate/")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert first.get("/curate/").status_code == 200
    again = second.get("/curate/login", query_string={"token": token})
    assert again.status_code == 403 and "used already" in again.text
    assert second.get("/curate/").status_code == 403
    assert first.get("/curate/login", query_string={"token": "guess"}).status_code == 403


def test_without_a_session_every_desk_route_is_refused_and_says_how_to_log_in(
        desk: Desk) -> None:
    client = desk.client(logged_in=False)
    item = desk.events.ids["keller"]
    before = digest(desk.events.root, desk.events.folder)
    for path in ("/curate/", "/curate/changes", "/curate/faces", "/curate/search?q=keller",
                 f"/curate/items/{item}", f"/curate/media/{item}/large",
                 f"/curate/faces/{item}/1.jpg"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "serve --curate" in answer.text and "login link" in answer.text
    for path in (f"/curate/items/{item}", "/curate/faces/1", "/curate/cameras",
                 "/curate/invite"):
        assert client.post(path, data={"title": "x"}).status_code == 403, path
    assert client.get("/curate/help").status_code == 200
    assert digest(desk.events.root, desk.events.folder) == before
    public = client.get(f"/items/{item}").text
    assert "curate-panel" not in public and "Curator's desk" not in public


def test_a_cookie_signed_by_another_run_is_no_session(desk: Desk, tmp_path: Path) -> None:
    other = make_desk(desk.events, tmp_path / "other-tokens").client()
    cookie = other.get_cookie("event_archive_curator")
    assert cookie is not None
    stranger = desk.app.test_client()
    stranger.set_cookie("event_archive_curator", cookie.value)
    assert stranger.get("/curate/").status_code == 403


@pytest.mark.parametrize("csrf", [None, "", "wrong", "é" * 43, "from-another-session"])
def test_a_post_without_this_sessions_csrf_token_is_refused_and_writes_nothing(
        desk: Desk, csrf: str | None) -> None:
    client = desk.client()
    item = desk.events.ids["keller"]
    fields = dict(item_form(client, item).fields, title="Forged")
    if csrf == "from-another-session":
        csrf = item_form(desk.client(), item).fields["csrf"]
    if csrf is None:
        del fields["csrf"]
    else:
        fields["csrf"] = csrf
    before = digest(desk.events.root, desk.events.folder)
    answer = client.post(f"/curate/items/{item}", data=fields)
    assert answer.status_code == 400 and "security token" in answer.text
    assert digest(desk.events.root, desk.events.folder) == before


def test_logging_out_ends_the_session(desk: Desk) -> None:
    client = desk.client()
    csrf = item_form(client, desk.events.ids["keller"]).fields["csrf"]
    assert client.post("/curate/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/curate/").status_code == 403


def test_a_curator_makes_a_login_link_for_another_which_works_once(desk: Desk) -> None:
    first = desk.client()
    csrf = item_form(first, desk.events.ids["keller"]).fields["csrf"]
    page = first.post("/curate/invite", data={"csrf": csrf})
    link = re.search(r'id="invite-link" value="([^"]+)"', page.text)[1]
    parts = urlsplit(link)
    second = desk.app.test_client()
    assert second.get(f"{parts.path}?{parts.query}").status_code == 303
    assert second.get("/curate/").status_code == 200
    assert desk.app.test_client().get(f"{parts.path}?{parts.query}").status_code == 403
    # Two curators, two names in the log.
    post_item(first, desk.events.ids["keller"], title="By the first")
    post_item(second, desk.events.ids["keller"], title="By the second")
    assert len({change.curator for change in log(desk.events)}) == 2


# ---- fixing an item ---------------------------------------------------------------------

def test_a_fix_goes_into_the_event_file_keeping_its_comments_and_is_logged(
        desk: Desk) -> None:
    events, client = desk.events, desk.client()
    item = events.ids["nikon"]
    kept = comments(events.event_file)
    answer = post_item(client, item, title="Workshop on materials", session="s2a",
                       people="Peter Keller, roberto-pini", creator="Chiara Neri",
                       description="Line one\r\nLine two", publish="")
    assert answer.status_code == 303, refused_message(answer.text)
    assert entry(events, "nikon") == {
        "path": "photos/nikon.jpg", "title": "Workshop on materials",
        "description": "Line one\nLine two", "session": "s2a",
        "people": ["peter-keller", "roberto-pini"], "creator": "Chiara Neri"}
    assert comments(events.event_file) == kept
    data = client.get(f"/api/items/{item}").json
    assert data["title"] == "Workshop on materials"
    assert [s["id"] for s in data["sessions"]] == ["s2a"]
    assert data["credit"]["creator"] == "Chiara Neri"
    changes = {c.field: (c.old, c.new) for c in log(events)}
    assert changes["title"] == (None, "Workshop on materials")
    assert changes["people"] == (None, ["peter-keller", "roberto-pini"])
    page = client.get(f"/curate/items/{item}").text
    assert "Saved title, description, session, people, creator" in page


def test_an_unchanged_form_writes_nothing(desk: Desk) -> None:
    before = desk.events.event_file.read_bytes()
    answer = post_item(desk.client(), desk.events.ids["keller"])
    assert answer.status_code == 303
    assert desk.events.event_file.read_bytes() == before and log(desk.events) == []


def test_a_blank_field_takes_its_key_out(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    post_item(client, item, title="Pinned title", creator="Someone")
    post_item(client, item, title="")
    assert entry(desk.events, "keller") == {"path": "photos/keller.jpg", "creator": "Someone"}
    # The file's own title is the item's again.
    assert client.get(f"/api/items/{item}").json["title"] == "Keller opens the day"
    assert [(c.field, c.old, c.new) for c in log(desk.events)][0] == (
        "title", "Pinned title", None)


def test_the_public_site_shows_a_fix_from_its_next_search(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    public = desk.app.test_client()
    assert public.get("/api/search", query_string={"q": "title:opens"}).json["total"] == 1
    post_item(client, item, title="Péter Keller welcomes everyone")
    assert public.get("/api/search", query_string={"q": "title:opens"}).json["total"] == 0
    found = public.get("/api/search", query_string={"q": "welcomes"}).json
    assert [r["id"] for r in found["results"]] == [item]
    assert "Péter Keller welcomes everyone" in public.get("/", query_string={
        "q": "welcomes"}).text


def test_the_panel_on_the_public_item_page_saves_and_comes_back(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    page = client.get(f"/items/{item}")
    assert page.headers["Cache-Control"] == "no-store"  # it holds the CSRF token
    form = item_form(client, item, page="/items/{}")
    assert form.fields["back"] == "public"
    answer = post_item(client, item, form, title="From the public page")
    assert answer.status_code == 303 and answer.location == f"/items/{item}#curate"
    shown = client.get(f"/items/{item}").text
    assert "<h1>From the public page</h1>" in shown and "Saved title" in shown


def test_a_stale_form_is_refused_with_a_message_and_the_file_is_unchanged(
        desk: Desk) -> None:
    first, second = desk.client(), desk.client()
    item = desk.events.ids["keller"]
    old_form = item_form(second, item)
    assert post_item(first, item, title="First").status_code == 303
    after_first = desk.events.event_file.read_bytes()
    answer = post_item(second, item, old_form, title="Second")
    assert answer.status_code == 409
    assert "changed since this page was loaded" in refused_message(answer.text)
    assert desk.events.event_file.read_bytes() == after_first
    # The page shows the file as it is now, and what they had typed, to redo.
    fresh = form_to(answer.text, f"/curate/items/{item}")
    assert fresh.fields["title"] == "First" and fresh.fields["version"] != \
        old_form.fields["version"]
    assert "<dd>Second</dd>" in answer.text
    assert [c.new for c in log(desk.events)] == ["First"]


def test_an_edit_of_the_event_file_by_hand_makes_open_forms_stale(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    form = item_form(client, item)
    with desk.events.event_file.open("a", encoding="utf-8") as out:
        out.write("\n# edited by hand\n")
    edited = desk.events.event_file.read_bytes()
    assert post_item(client, item, form, title="Late").status_code == 409
    assert desk.events.event_file.read_bytes() == edited


def test_publish_and_withhold_from_the_desk(desk: Desk) -> None:
    client, public = desk.client(), desk.app.test_client()
    backstage, keller = desk.events.ids["backstage"], desk.events.ids["keller"]
    assert public.get(f"/items/{backstage}").status_code == 404
    assert post_item(client, backstage, publish="true").status_code == 303
    assert public.get(f"/items/{backstage}").status_code == 200
    answer = post_item(client, keller, form=item_form(client, keller, "/items/{}"),
                       publish="false")
    # Withheld now: back to the desk's page, since the public one is a 404.
    assert answer.status_code == 303 and answer.location == f"/curate/items/{keller}"
    assert public.get(f"/items/{keller}").status_code == 404
    found = public.get("/api/search", query_string={"q": "keller"}).json["results"]
    assert keller not in [r["id"] for r in found]


def test_curators_see_withheld_items_marked_and_the_public_does_not(desk: Desk) -> None:
    client, public = desk.client(), desk.app.test_client()
    backstage = desk.events.ids["backstage"]
    page = client.get(f"/curate/items/{backstage}")
    assert page.status_code == 200 and "withheld-mark" in page.text
    assert "publish = false" in page.text or "withheld" in page.text
    with client.get(f"/curate/media/{backstage}/large") as thumb:  # a file: closed after
        assert thumb.status_code == 200 and thumb.headers["Cache-Control"] == "no-store"
        assert thumb.mimetype == "image/jpeg" and thumb.data.startswith(b"\xff\xd8")
    assert public.get(f"/media/{backstage}/large").status_code == 404
    assert client.get(f"/curate/media/{backstage}/original").status_code == 404
    found = client.get("/curate/search", query_string={"q": "backstage"}).text
    assert f"/curate/items/{backstage}" in found and "withheld-tag" in found


# ---- two curators at once ---------------------------------------------------------------

def at_once(*posts: Callable[[], object]) -> list:
    """Run the posts in threads released together; their answers in order."""
    gate = threading.Barrier(len(posts))
    answers: list = [None] * len(posts)

    def run(n: int) -> None:
        gate.wait()
        answers[n] = posts[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def titles_at_once(desk: Desk, *changes: tuple[str, str]) -> list:
    """Curators (one per change) each load an item's form, then all save a new title
    (change: item stem, title) at the same moment; their answers in order."""
    curators = [desk.client() for _ in changes]
    ids = [desk.events.ids[stem] for stem, _ in changes]
    forms = [item_form(c, i) for c, i in zip(curators, ids, strict=True)]
    return at_once(*(partial(post_item, c, i, f, title=title) for c, i, f, (_, title)
                     in zip(curators, ids, forms, changes, strict=True)))


def test_two_curators_posting_at_once_on_one_file_lose_no_update(desk: Desk) -> None:
    answers = titles_at_once(desk, ("keller", "By one"), ("nikon", "By two"))
    codes = sorted(a.status_code for a in answers)
    # The lock lets one write; the other's form is then stale: refused, never merged blind.
    assert codes == [303, 409], [refused_message(a.text) for a in answers]
    titles = {entry(desk.events, "keller").get("title"), entry(desk.events, "nikon").get(
        "title")}
    won = "By one" if answers[0].status_code == 303 else "By two"
    assert won in titles and ({"By one", "By two"} - {won}).isdisjoint(titles)
    assert [c.new for c in log(desk.events)] == [won]


def test_two_curators_posting_at_once_on_two_events_both_land(desk: Desk) -> None:
    answers = titles_at_once(desk, ("keller", "Florence"), ("arezzo", "Arezzo"))
    assert [a.status_code for a in answers] == [303, 303]
    assert entry(desk.events, "keller")["title"] == "Florence"
    other = tomli.loads(desk.events.other_file.read_text(encoding="utf-8"))
    assert other["media"] == [{"path": "photos/arezzo.jpg", "title": "Arezzo"}]
    assert sorted(c.new for c in log(desk.events)) == ["Arezzo", "Florence"]


def test_a_change_waits_for_a_writer_holding_the_lock_then_lands(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    form = item_form(client, item)
    caplog.set_level(logging.WARNING, logger="archive.locking")
    answers: list = []
    with write_lock(desk.events.root / "ingest.lock"):  # an ingest, say
        waiting = threading.Thread(target=lambda: answers.append(
            post_item(client, item, form, title="After the ingest")))
        waiting.start()
        poll_until(lambda: "waiting for another" in caplog.text, "the change to wait")
        assert entry(desk.events, "keller").get("title") is None
    waiting.join()
    assert answers[0].status_code == 303
    assert entry(desk.events, "keller")["title"] == "After the ingest"


def test_a_change_is_refused_as_busy_when_the_lock_stays_held(
        events: CurateEvents, tmp_path: Path) -> None:
    desk = make_desk(events, tmp_path / "tokens", CURATE_LOCK_WAIT=0)
    client, item = desk.client(), events.ids["keller"]
    form = item_form(client, item)
    with write_lock(events.root / "ingest.lock"):
        before = digest(events.root, events.folder)
        answer = post_item(client, item, form, title="Too soon")
        assert digest(events.root, events.folder) == before
    assert answer.status_code == 503 and "try again" in refused_message(answer.text).lower()
    # The refused form keeps what was typed and its version: sending it again works.
    again = form_to(answer.text, f"/curate/items/{item}")
    assert again.fields["title"] == "Too soon"
    assert post_item(client, item, again).status_code == 303


# ---- hostile input ----------------------------------------------------------------------

HOSTILE = [
    pytest.param({"title": "x" * 10_001}, 400, "at most 10000", id="huge-title"),
    pytest.param({"description": "y" * 2_000_000}, 413, "", id="over-the-form-limit"),
    pytest.param({"session": "s9"}, 400, "no session of this event", id="unknown-session"),
    pytest.param({"session": '"><script>x</script>'}, 400, "no session", id="markup-session"),
    pytest.param({"people": "Nobody Atall"}, 400, "nobody of this event", id="unknown-person"),
    pytest.param({"title": "bell\x07"}, 400, "one line", id="control-character"),
    pytest.param({"title": "two\nlines"}, 400, "one line", id="title-on-two-lines"),
    pytest.param({"description": "nul\x00"}, 400, "control characters", id="nul"),
    pytest.param({"license": "not a licence"}, 400, "license", id="bad-licence"),
    pytest.param({"acquire_license_page": "javascript:alert(1)"}, 400, "not an http",
                 id="script-url"),
    pytest.param({"publish": "maybe"}, 400, "offered values", id="bad-publish"),
    pytest.param({"title": None}, 400, "missing from the form", id="missing-field"),
    pytest.param({"version": ""}, 400, "missing from the form", id="missing-version"),
]


@pytest.mark.parametrize(("changes", "status", "said"), HOSTILE)
def test_hostile_input_gets_a_clear_refusal_and_writes_nothing(
        desk: Desk, changes: dict, status: int, said: str) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    fields = dict(item_form(client, item).fields)
    for key, value in changes.items():
        if value is None:
            del fields[key]
        else:
            fields[key] = value
    before = digest(desk.events.root, desk.events.folder)
    answer = client.post(f"/curate/items/{item}", data=fields)
    assert answer.status_code == status
    assert said in answer.text
    assert "<script>x" not in answer.text
    assert digest(desk.events.root, desk.events.folder) == before


def test_a_form_that_is_not_utf8_is_refused_clearly(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    answer = client.post(f"/curate/items/{item}", data=b"title=caf\xe9&csrf=x",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400 and "UTF-8" in answer.text


@pytest.mark.parametrize("path", ["/curate/items/zzz", "/curate/items/" + "0" * 64,
                                  "/curate/media/" + "0" * 64 + "/large",
                                  "/curate/faces/" + "0" * 64 + "/1.jpg"])
def test_unknown_or_malformed_items_are_404(desk: Desk, path: str) -> None:
    client = desk.client()
    assert client.get(path).status_code == 404
    if path.startswith("/curate/items/"):
        csrf = item_form(client, desk.events.ids["keller"]).fields["csrf"]
        assert client.post(path, data={"csrf": csrf}).status_code == 404


def test_a_file_whose_name_is_not_utf8_is_fixed_in_one_entry(desk: Desk) -> None:
    events = desk.events
    make_jpeg(events.folder / "photos" / os.fsdecode(b"caf\xe9.jpg"), exif=make_exif())
    with Archive.open(events.root, create=False) as archive:
        ingest_folder(archive, events.folder, jobs=1, progress=False,
                      faces=FaceStage(wanted=False))
        sync(archive)
        item = items_by_relpath(archive.catalog, "photos/caf\udce9.jpg")[0].id
    client = desk.client()
    for title in ("Café", "Café again"):
        assert post_item(client, item, title=title).status_code == 303
        assert client.get(f"/api/items/{item}").json["title"] == title
    # Named as `list` shows it, in one entry: TOML reads "\\xe9" as the four characters.
    assert entry(desk.events, "caf\\xe9") == {"path": "photos/caf\\xe9.jpg",
                                               "title": "Café again"}


def test_markup_in_a_title_is_kept_and_escaped_wherever_shown(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    assert post_item(client, item, title=f"Title {EVIL}").status_code == 303
    assert entry(desk.events, "keller")["title"] == f"Title {EVIL}"
    for page in (f"/curate/items/{item}", f"/items/{item}", "/curate/changes",
                 "/?q=title", "/curate/search?q=title"):
        text = client.get(page).text
        assert EVIL not in text, page
        assert "&lt;script&gt;" in text, page


# ---- faces ------------------------------------------------------------------------------

def test_the_faces_page_shows_crops_withheld_ones_too_but_only_to_curators(
        desk: Desk) -> None:
    client, public = desk.client(), desk.app.test_client()
    page = client.get("/curate/faces").text
    assert 'id="cluster-1"' in page
    backstage, keller = desk.events.ids["backstage"], desk.events.ids["keller"]
    for item in (keller, backstage):
        crop = client.get(f"/curate/faces/{item}/1.jpg")
        assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
        assert crop.headers["Cache-Control"] == "no-store"
        assert f"/curate/faces/{item}/1.jpg" in page
    assert public.get(f"/faces/{backstage}/1.jpg").status_code == 404
    assert public.get(f"/curate/faces/{backstage}/1.jpg").status_code == 403
    assert not (desk.events.root / "thumbs" / "faces").exists()  # never kept on disk


def naming_form(client: FlaskClient, cluster: int, with_select: bool = True) -> Form:
    page = client.get("/curate/faces", query_string={"show": "all"}).text
    found = [f for f in forms(page) if f.action.startswith(f"/curate/faces/{cluster}")]
    return found[-1] if with_select else found[0]


def test_naming_a_cluster_writes_its_faces_into_the_event_file_and_logs_it(
        desk: Desk) -> None:
    client = desk.client()
    kept = comments(desk.events.event_file)
    form = naming_form(client, 1)
    answer = client.post(form.action, data={**form.fields, "person": "peter-keller",
                                            "action": "name"})
    assert answer.status_code == 303, refused_message(answer.text)
    data = tomli.loads(desk.events.event_file.read_text(encoding="utf-8"))
    keller = next(p for p in data["people"] if p["id"] == "peter-keller")
    assert sorted(keller["faces"]) == ["photos/backstage.jpg#1", "photos/keller.jpg#1"]
    assert comments(desk.events.event_file) == kept
    with Archive.open(desk.events.root, readonly=True) as archive:
        assert face_clusters(archive.catalog)[0]["person"] == "peter-keller"
    assert [(c.target, c.field, c.old, c.new) for c in log(desk.events)] == [
        ("cluster 1 (2 faces)", "faces", None, "peter-keller")]
    assert "Cluster 1 named peter-keller" in client.get("/curate/faces").text


def test_rejecting_a_cluster_writes_not_faces(desk: Desk) -> None:
    client = desk.client()
    form = naming_form(client, 1)
    client.post(form.action, data={**form.fields, "person": "roberto-pini",
                                   "action": "reject"})
    data = tomli.loads(desk.events.event_file.read_text(encoding="utf-8"))
    pini = next(p for p in data["people"] if p["id"] == "roberto-pini")
    assert sorted(pini["not_faces"]) == ["photos/backstage.jpg#1", "photos/keller.jpg#1"]


def test_a_cluster_that_changed_since_the_page_is_not_named(desk: Desk) -> None:
    client = desk.client()
    form = naming_form(client, 1)
    before = desk.events.event_file.read_bytes()
    answer = client.post(form.action, data={**form.fields, "state": "old",
                                            "person": "peter-keller", "action": "name"})
    assert answer.status_code == 409 and "changed since this page" in refused_message(
        answer.text)
    assert desk.events.event_file.read_bytes() == before


@pytest.mark.parametrize(("person", "action", "status"), [
    ("nobody-here", "name", 400), ("", "name", 400), ("<b>", "name", 400),
    ("peter-keller", "drop", 400)])
def test_a_naming_form_with_a_bad_choice_is_refused(desk: Desk, person: str, action: str,
                                                    status: int) -> None:
    client = desk.client()
    form = naming_form(client, 1)
    before = desk.events.event_file.read_bytes()
    answer = client.post(form.action, data={**form.fields, "person": person,
                                            "action": action})
    assert answer.status_code == status and "<b>" not in answer.text
    assert desk.events.event_file.read_bytes() == before


# ---- to do, cameras, changes ------------------------------------------------------------

def test_the_to_do_page_lists_what_the_report_says(desk: Desk) -> None:
    page = desk.client().get("/curate/").text
    ids = desk.events.ids
    sections = dict(re.findall(r'<section class="todo" id="(\w+)">(.*?)</section>', page,
                               re.S))
    assert f"/curate/items/{ids['nikon']}" in sections["without_creator"]
    assert f"/curate/items/{ids['guest']}" in sections["third_party"]
    assert "Ian Britton" in sections["third_party"]
    assert f"/curate/items/{ids['nikon']}" in sections["ambiguous"]
    assert "photos/gone.jpg" in sections["unmatched_media"]
    assert "cluster-1" in sections["faces"]
    assert "NIKON D750" in sections["cameras"] and 'name="clock_offset"' in sections["cameras"]


def test_the_to_do_page_marks_withheld_items(desk: Desk) -> None:
    client = desk.client()
    post_item(client, desk.events.ids["nikon"], publish="false")
    page = client.get("/curate/").text
    listed = re.search(r'id="without_creator">(.*?)</section>', page, re.S)[1]
    assert "photos/nikon.jpg" in listed and "withheld-tag" in listed


def camera_form(client: FlaskClient, model: str) -> Form:
    page = client.get("/curate/").text
    found = [f for f in forms(page)
             if f.action == "/curate/cameras" and f.fields.get("model") == model]
    assert len(found) == 1
    return found[0]


def test_adding_an_unknown_camera_with_its_offset_and_room(desk: Desk) -> None:
    client, events = desk.client(), desk.events
    kept = comments(events.event_file)
    form = camera_form(client, "NIKON D750")
    answer = client.post("/curate/cameras", data={**form.fields, "clock_offset": "−3:20",
                                                  "room": "Donatello"})
    assert answer.status_code == 303, refused_message(answer.text)
    cameras = tomli.loads(events.event_file.read_text(encoding="utf-8"))["cameras"]
    assert cameras[-1] == {"serial": "3002718", "make": "NIKON CORPORATION",
                           "model": "NIKON D750", "clock_offset": "-00:03:20",
                           "room": "Donatello"}
    assert comments(events.event_file) == kept
    nikon = client.get(f"/api/items/{events.ids['nikon']}").json
    assert [s["id"] for s in nikon["sessions"]] == ["s2a"]  # the room decides now
    assert nikon["taken_local"] == "2019-03-19T11:33:20"
    assert "NIKON D750" not in re.search(r'id="cameras">(.*?)</section>',
                                         client.get("/curate/").text, re.S)[1]
    assert [(c.target, c.field) for c in log(events)] == [("cameras", "entry")]


@pytest.mark.parametrize(("changes", "said"), [
    ({"clock_offset": "soon"}, "not an offset"), ({"clock_offset": "00:61:00"}, "up to 59"),
    ({"serial": "", "model": ""}, "serial number or its model"),
    ({"room": "a\nb"}, "one line")])
def test_a_camera_form_with_a_mistake_is_refused(desk: Desk, changes: dict, said: str) -> None:
    client = desk.client()
    form = camera_form(client, "NIKON D750")
    before = desk.events.event_file.read_bytes()
    answer = client.post("/curate/cameras", data={**form.fields, **changes})
    assert answer.status_code == 400 and said in answer.text
    assert desk.events.event_file.read_bytes() == before


def test_the_changes_page_shows_old_and_new(desk: Desk) -> None:
    client, item = desk.client(), desk.events.ids["keller"]
    post_item(client, item, title="One")
    post_item(client, item, title="Two", people="roberto-pini")
    page = client.get("/curate/changes").text
    rows = re.findall(r'<td class="old">(.*?)</td><td class="new">(.*?)</td>', page)
    # Newest first: the second save (people, then title), then the first.
    assert rows[:3] == [("—", "roberto-pini"), ("One", "Two"), ("—", "One")]
    assert f'href="/curate/items/{item}">photos/keller.jpg</a>' in page


# ---- without --curate -------------------------------------------------------------------

def sample_url(rule: str, events: CurateEvents) -> str:
    values = {"item_id": events.ids["keller"], "name": "small", "number": "1",
              "event_id": "curate-2019", "session_id": "s1", "person_id": "peter-keller",
              "cluster": "1", "filename": "style.css"}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m[1], "x"), rule)


def test_without_curate_no_route_takes_a_write(events: CurateEvents) -> None:
    app = create_app(events.root, {"TESTING": True})
    client = app.test_client()
    before = digest(events.root, events.folder, events.other)
    rules = list(app.url_map.iter_rules())
    assert not any(r.rule.startswith("/curate") for r in rules)
    for rule in rules:
        url = sample_url(rule.rule, events)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with client.open(url, method=method, data={"title": "x"}) as answer:
                assert answer.status_code in (404, 405), (method, url, answer.status_code)
    for path in ("/curate/", f"/curate/login?token={'x' * 43}", "/curate/help"):
        assert client.get(path).status_code == 404
    page = client.get(f"/items/{events.ids['keller']}").text
    assert "curate-panel" not in page and "/curate/" not in page
    assert digest(events.root, events.folder, events.other) == before


@pytest.mark.slow
def test_without_curate_a_crawl_of_the_site_leaves_the_archive_as_it_was(
        events: CurateEvents) -> None:
    client = create_app(events.root, {"TESTING": True}).test_client()
    before = digest(events.root, events.folder, events.other)
    starts = [sample_url(r.rule, events) for r in client.application.url_map.iter_rules()
              if "GET" in (r.methods or ())]
    crawl(client, ["/", "/events", "/?q=keller", "/credits", *starts])
    assert digest(events.root, events.folder, events.other) == before


def crawl(client: FlaskClient, start: list[str], most: int = 300) -> None:
    """GET every page reachable from `start` on the site (at most `most`)."""
    seen, todo = set(), list(start)
    while todo and len(seen) < most:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with client.get(url) as answer:
            assert answer.status_code < 500, url
            if answer.mimetype == "text/html":
                todo += [link for link in re.findall(r'href="(/[^"#]*)', answer.text)
                         if link not in seen]


# ---- the real `serve --curate` ------------------------------------------------------------

class Visitor:
    """A browser's worth of HTTP: one cookie (the session) kept between requests."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie = port, ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            answer = conn.getresponse()
            given = answer.getheader("Set-Cookie")
            if given:
                self.cookie = given.split(";", 1)[0]
            return answer.status, answer.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def form(self, item_id: str) -> Form:
        status, page = self.request("GET", f"/curate/items/{item_id}")
        assert status == 200, page
        return form_to(page, f"/curate/items/{item_id}")

    def post_item(self, item_id: str, form: Form, **changes: str) -> tuple[int, str]:
        return self.request("POST", f"/curate/items/{item_id}", {**form.fields, **changes})


def login_link(server: LiveServer) -> str:
    """The path and query of the login URL `serve --curate` printed."""
    link = urlsplit(re.search(r"curator's desk: (\S+)", server.output())[1])
    assert (link.hostname, link.port) == ("127.0.0.1", server.port)
    return f"{link.path}?{link.query}"


def logged_in(server: LiveServer, link: str) -> Visitor:
    visitor = Visitor(server.port)
    status, _ = visitor.request("GET", link)
    assert status == 303 and visitor.cookie
    return visitor


def invite(curator: Visitor, csrf: str) -> str:
    status, page = curator.request("POST", "/curate/invite", {"csrf": csrf})
    assert status == 200
    link = urlsplit(re.search(r'id="invite-link" value="([^"]+)"', page)[1])
    return f"{link.path}?{link.query}"


@pytest.mark.slow
def test_serve_curate_listens_on_this_machine_and_its_login_link_works_once(
        events: CurateEvents, live_server: Callable[..., LiveServer]) -> None:
    server = live_server(events.root, "--curate", "--workers", "2")
    link = login_link(server)
    listening = [c.laddr for c in psutil.Process(server.proc.pid).net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN]
    assert [a.ip for a in listening] == ["127.0.0.1"]
    curator = logged_in(server, link)
    assert curator.request("GET", "/curate/")[0] == 200
    # Spent, in whichever worker process the next requests land.
    for _ in range(4):
        stranger = Visitor(server.port)
        status, page = stranger.request("GET", link)
        assert status == 403 and "used already" in page
        assert stranger.request("GET", "/curate/")[0] == 403


@pytest.mark.slow
def test_serve_curate_two_curators_at_once(events: CurateEvents,
                                           live_server: Callable[..., LiveServer]) -> None:
    server = live_server(events.root, "--curate", "--workers", "2")
    first = logged_in(server, login_link(server))
    keller, nikon, arezzo = (events.ids[k] for k in ("keller", "nikon", "arezzo"))
    second = logged_in(server, invite(first, first.form(keller).fields["csrf"]))
    # One event file: the lock lets one in, the other's form is then stale.
    forms = first.form(keller), second.form(nikon)
    answers = at_once(lambda: first.post_item(keller, forms[0], title="One"),
                      lambda: second.post_item(nikon, forms[1], title="Two"))
    assert sorted(status for status, _ in answers) == [303, 409]
    assert len(log(events)) == 1
    # Two event files: both land.
    forms = first.form(keller), second.form(arezzo)
    answers = at_once(lambda: first.post_item(keller, forms[0], title="Florence"),
                      lambda: second.post_item(arezzo, forms[1], title="Arezzo"))
    assert [status for status, _ in answers] == [303, 303]
    assert entry(events, "keller")["title"] == "Florence"
    assert "Arezzo" in events.other_file.read_text(encoding="utf-8")
    status, page = Visitor(server.port).request("GET", "/api/search?q=title:florence")
    assert status == 200 and keller in page


@pytest.mark.slow
def test_serve_without_curate_has_no_desk(events: CurateEvents,
                                          live_server: Callable[..., LiveServer]) -> None:
    server = live_server(events.root)
    assert "curator's desk" not in server.output()
    visitor = Visitor(server.port)
    for path in ("/curate/", "/curate/login?token=x", "/curate/help"):
        assert visitor.request("GET", path)[0] == 404
    assert visitor.request("POST", f"/curate/items/{events.ids['keller']}", {})[0] == 404


@pytest.mark.slow
def test_in_a_browser_a_curator_logs_in_and_fixes_a_title(
        events: CurateEvents, live_server: Callable[..., LiveServer]) -> None:
    server = live_server(events.root, "--curate")
    link, keller = login_link(server), events.ids["keller"]
    with chromium() as browser:
        context = browser.new_context(base_url=server.url,
                                      viewport={"width": 1280, "height": 900})
        page = context.new_page()
        refused: list[str] = []  # a script or style the CSP refused says so on the console
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        page.goto(link)
        expect(page).to_have_url(re.compile(r"/curate/$"))
        expect(page.locator("h1")).to_have_text("Curator's desk: to do")
        screenshot(page, "curate-todo")
        page.goto(f"/items/{keller}")
        expect(page.locator(".curate-link")).to_be_visible()
        page.fill("#f-title", "Péter Keller opens the workshop")
        screenshot(page, "curate-item-form")
        page.click("#curate-save")
        expect(page).to_have_url(re.compile(f"/items/{keller}#curate$"))
        expect(page.locator("h1")).to_have_text("Péter Keller opens the workshop")
        expect(page.locator(".curate-saved")).to_contain_text("Saved title")
        screenshot(page, "curate-item-saved")
        page.goto("/?q=workshop")
        expect(page.locator(".card").first).to_contain_text("Péter Keller opens the workshop")
        page.goto("/curate/changes")
        expect(page.locator("td.new").first).to_have_text("Péter Keller opens the workshop")
        screenshot(page, "curate-changes")
        page.goto("/curate/faces")
        expect(page.locator("#cluster-1 img")).to_have_count(2)
        screenshot(page, "curate-faces")
        page.goto(f"/curate/items/{events.ids['backstage']}")
        expect(page.locator(".withheld-mark")).to_contain_text("Withheld")
        screenshot(page, "curate-withheld")
        assert refused == []
        stranger = browser.new_context(base_url=server.url).new_page()
        stranger.goto(link)
        expect(stranger.locator(".curate-refused")).to_contain_text("used already")
        assert "curate-panel" not in stranger.goto(f"/items/{keller}").text()
    assert "opens the workshop" in events.event_file.read_text(encoding="utf-8")
