"""Faces on the site and in search: boxes over an item's picture with names, a person's face,
"Shown in" before "In sessions", `person:` ranking and facets, and withheld items' faces
nowhere. The faces are written into the catalog as the face stage and resolution write
them (helpers.facelabels), so these tests need neither dlib nor ../shared/faces."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image

from archive.media.posters import poster_time
from web import create_app
from web.facecrop import keep

from helpers.cli import Cli
from helpers.faceevent import GROUP, PORTRAIT, make_faces_event
from helpers.facelabels import item_id, label_face, put_faces
from helpers.media import make_exif, make_jpeg, make_video

EVIL = '<script>alert("x")</script>'
EVENT = """
[event]
id = "faces-2019"
title = "Faces workshop"
date = 2019-03-19
timezone = "Europe/Rome"

[[people]]
id = "peter-keller"
name = "Péter Keller"

[[people]]
id = "p7"
name = "Ester Silva"

[[people]]
id = "evil"
name = "<script>alert(\\"x\\")</script>"

[[sessions]]
id = "s1"
title = "Opening"
start = 11:00
end = 13:00
speakers = ["peter-keller", "p7", "evil"]

[[media]]
path = "photos/withheld.jpg"
publish = false
"""
SIZE = (800, 600)
# Faces by file: boxes in the displayed picture's pixels, and who each one is.
KELLER_BOX = (100, 150, 160, 200)
WITHHELD_BOX = (0, 0, 600, 500)  # the largest of Keller's faces, in a withheld photo
PHOTOS = ("recognised", "session", "withheld", "silva", "evil", "turned")


def _photo(folder: Path, name: str, minute: int, orientation: int | None = None) -> None:
    taken = dt.datetime(2019, 3, 19, 11, minute)
    make_jpeg(folder / "photos" / f"{name}.jpg", size=SIZE,
              exif=make_exif(taken=taken, orientation=orientation))


@pytest.fixture(scope="module")
def faces_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An event of six photos in session s1, its faces written and named: Keller
    recognised in `recognised` (and in `withheld`, withheld), Silva in `silva`, the person
    named like a script in `evil`; `session` has an unnamed face; `turned` is stored
    on its side (EXIF orientation 6). Returns the archive and the items' ids by name."""
    base = tmp_path_factory.mktemp("faces-site")
    folder = base / "event"
    folder.mkdir()
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    for minute, name in enumerate(PHOTOS, 10):
        _photo(folder, name, minute, 6 if name == "turned" else None)
    root = base / "archive"
    Cli(root)("ingest", "--no-faces", str(folder))
    ids = {name: put_faces(root, f"photos/{name}.jpg", boxes) for name, boxes in (
        ("recognised", [KELLER_BOX, (500, 100, 80, 100)]), ("session", [(10, 10, 50, 60)]),
        ("withheld", [WITHHELD_BOX]), ("silva", [(300, 200, 100, 120)]),
        ("evil", [(600, 450, 120, 140)]), ("turned", [(300, 100, 150, 200)]))}
    for name, person in (("recognised", "peter-keller"), ("withheld", "peter-keller"),
                         ("silva", "p7"), ("evil", "evil")):
        label_face(root, ids[name], 1, person)
    return root, ids


@pytest.fixture(scope="module")
def client(faces_archive: tuple[Path, dict[str, str]]) -> FlaskClient:
    return create_app(faces_archive[0], {"TESTING": True}).test_client()


class Faces(HTMLParser):
    """The face boxes of an item page (id, classes, the name's text and link), and the
    stylesheets and images it links."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: dict[str, dict] = {}
        self.current: str | None = None
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "li" and "face" in (attrs.get("class") or "").split():
            self.current = attrs["id"]
            self.boxes[self.current] = {"class": attrs["class"], "text": "", "href": None}
        elif tag == "a" and self.current:
            self.boxes[self.current]["href"] = attrs.get("href")
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            self.links.append(attrs["href"])
        elif tag == "img":
            self.images.append(attrs.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current:
            self.boxes[self.current]["text"] += data


def parsed(html: str) -> Faces:
    parser = Faces()
    parser.feed(html)
    return parser


def placements(css: str) -> dict[str, tuple[float, float, float, float]]:
    """#face-N -> left, top, width, height in percent, as faces.css gives them."""
    found = re.findall(r"#(face-\d+)\{left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;"
                       r"height:([\d.]+)%\}", css)
    return {face: tuple(float(v) for v in values) for face, *values in found}


# ---- the item page -------------------------------------------------------------------

def test_each_face_is_boxed_in_percent_of_the_picture_with_its_name_linked(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    ids = faces_archive[1]
    page = client.get(f"/items/{ids['recognised']}")
    assert page.status_code == 200
    html = parsed(page.get_data(as_text=True))
    assert set(html.boxes) == {"face-1", "face-2"}
    keller = html.boxes["face-1"]
    assert keller["text"].strip() == "Péter Keller"
    assert keller["href"] == "/events/faces-2019/people/peter-keller"
    assert "named" in keller["class"].split()
    # The unnamed face has a box and words for screen readers, and no link.
    assert html.boxes["face-2"]["href"] is None
    assert "not named" in html.boxes["face-2"]["text"]
    css_url = f"/items/{ids['recognised']}/faces.css"
    assert css_url in html.links
    css = client.get(css_url)
    assert css.status_code == 200 and css.mimetype == "text/css"
    x, y, w, h = KELLER_BOX
    assert placements(css.get_data(as_text=True)) == {
        "face-1": pytest.approx((100 * x / 800, 100 * y / 600, 100 * w / 800, 100 * h / 600),
                                abs=0.001),
        "face-2": pytest.approx((62.5, 100 / 6, 10.0, 100 / 6), abs=0.001)}
    assert css.headers["Cache-Control"] == "no-cache" and css.headers["ETag"]
    again = client.get(css_url, headers={"If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304


def test_a_photo_stored_on_its_side_is_boxed_in_its_displayed_size(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    ident = faces_archive[1]["turned"]
    css = client.get(f"/items/{ident}/faces.css").get_data(as_text=True)
    # Displayed 600 x 800 (orientation 6 turns the stored 800 x 600).
    assert placements(css) == {"face-1": pytest.approx((50.0, 12.5, 25.0, 25.0), abs=0.001)}


def test_the_boxes_show_and_hide_with_a_checkbox_checked_at_first(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    html = client.get(f"/items/{faces_archive[1]['recognised']}").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" id="show-faces" class="show-faces" checked>',
                     html)
    assert '<label for="show-faces"' in html and "Show faces (2)" in html
    with client.get("/static/style.css") as response:
        css = response.get_data(as_text=True)
    assert ".show-faces:not(:checked) ~ .frame .faces" in css


def test_an_item_without_faces_has_no_boxes_no_checkbox_and_no_stylesheet(
        client: FlaskClient, tmp_path: Path) -> None:
    page = client.get("/")
    assert page.status_code == 200
    folder = tmp_path / "event"
    folder.mkdir()
    (folder / "event.toml").write_text('[event]\nid = "plain"\ntitle = "Plain"\n',
                                       encoding="utf-8")
    make_jpeg(folder / "a.jpg", size=(300, 200))
    root = tmp_path / "archive"
    Cli(root)("ingest", "--no-faces", str(folder))
    plain = create_app(root, {"TESTING": True}).test_client()
    html = plain.get(f"/items/{item_id(root, 'a.jpg')}").get_data(as_text=True)
    assert "show-faces" not in html and "faces.css" not in html and 'class="face' not in html


def test_a_name_like_a_script_is_text_everywhere_faces_appear(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    ident = faces_archive[1]["evil"]
    pages = [client.get(f"/items/{ident}"), client.get("/events/faces-2019/people/evil")]
    for page in pages:
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert EVIL not in body and "&lt;script&gt;alert(" in body
    box = parsed(pages[0].get_data(as_text=True)).boxes["face-1"]
    assert box["text"].strip() == EVIL  # the parser reads the escaped text back
    # A box near the bottom right has its name above it, running leftwards.
    assert {"low", "right"} <= set(box["class"].split())


# ---- the person page and the face picture ---------------------------------------------

def test_the_person_page_shows_their_face_and_shown_in_before_in_sessions(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    ids = faces_archive[1]
    body = client.get("/events/faces-2019/people/peter-keller").get_data(as_text=True)
    # The largest face of a published item (the withheld photo's is larger).
    face_url = f"/faces/{ids['recognised']}/1.jpg"
    assert face_url in parsed(body).images
    assert "Shown in: 1 item with Péter Keller" in body
    assert "In sessions: 4 items of Péter Keller's sessions" in body
    shown, sessions = body.index('id="shown-in"'), body.index('id="in-sessions"')
    assert shown < sessions
    assert body.index(ids["recognised"]) < sessions
    for name in ("session", "silva", "evil", "turned"):
        assert body.index(ids[name]) > sessions, name
    assert ids["withheld"] not in body


def test_shown_items_with_their_face_come_first(
        tmp_path: Path, faces_archive: tuple[Path, dict[str, str]]) -> None:
    root = tmp_path / "archive"
    shutil.copytree(faces_archive[0], root, symlinks=True)
    ids = faces_archive[1]
    # `session` comes to show Silva as well, by XMP (no face of hers there), and earlier
    # than `silva`, where her face is: the page lists `silva` first all the same.
    label_face(root, ids["session"], 1, "p7", source="xmp")
    client = create_app(root, {"TESTING": True}).test_client()
    body = client.get("/events/faces-2019/people/p7").get_data(as_text=True)
    assert "Shown in: 2 items with Ester Silva" in body
    assert body.index(ids["silva"]) < body.index(ids["session"]) < body.index(
        'id="in-sessions"')


def test_the_face_picture_is_cut_from_the_large_thumbnail_and_kept(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    root, ids = faces_archive
    url = f"/faces/{ids['recognised']}/1.jpg"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-cache"
    with Image.open(io.BytesIO(response.data)) as face:
        # The box (160 x 200) and its margin (272 x 340, from a thumbnail of the picture's
        # own size), made 320 pixels high.
        assert face.size == (256, 320)
    kept = list((root / "thumbs" / "faces").rglob("*.jpg"))
    assert [p.name for p in kept if p.name.startswith(ids["recognised"])] == [
        f"{ids['recognised']}-1-100-150-160-200.jpg"]
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}
                      ).status_code == 304


def test_a_face_picture_is_made_when_the_archive_cannot_keep_it(
        tmp_path: Path, faces_archive: tuple[Path, dict[str, str]]) -> None:
    blocked = tmp_path / "file"
    blocked.write_bytes(b"")
    keep(blocked / "faces" / "x.jpg", b"data")  # its folder cannot be made: nothing kept
    assert blocked.read_bytes() == b""
    root = tmp_path / "archive"
    shutil.copytree(faces_archive[0], root, symlinks=True)
    shutil.rmtree(root / "thumbs" / "faces", ignore_errors=True)
    (root / "thumbs" / "faces").write_bytes(b"")  # a file where the folder would go
    client = create_app(root, {"TESTING": True}).test_client()
    response = client.get(f"/faces/{faces_archive[1]['silva']}/1.jpg")
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"


@pytest.mark.parametrize("path", [
    "/faces/{withheld}/1.jpg", "/items/{withheld}/faces.css", "/faces/{recognised}/3.jpg",
    "/faces/{recognised}/0.jpg", "/faces/{recognised}/-1.jpg",
    "/faces/{recognised}/99999999999999999999999.jpg", "/faces/{recognised}/1.png",
    "/faces/{recognised}/one.jpg", "/faces/{recognised}/1.jpg/..", "/faces/abc/1.jpg",
    "/faces/{upper}/1.jpg", "/faces/..%2F..%2Fcatalog.sqlite3/1.jpg",
    "/faces/{unknown}/1.jpg", "/items/{unknown}/faces.css", "/faces//1.jpg"])
def test_a_face_picture_of_no_published_face_is_404(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]], path: str) -> None:
    ids = faces_archive[1]
    url = path.format(withheld=ids["withheld"], recognised=ids["recognised"],
                      upper=ids["recognised"].upper(), unknown="0" * 64)
    assert client.get(url).status_code == 404, url


def test_withheld_faces_appear_nowhere(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    withheld = faces_archive[1]["withheld"]
    for path in ("/", "/?q=person:peter-keller", "/events/faces-2019/people/peter-keller",
                 "/api/people/peter-keller", "/api/search?q=keller",
                 f"/items/{faces_archive[1]['recognised']}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert withheld not in response.get_data(as_text=True), path
    assert client.get(f"/items/{withheld}").status_code == 404


def test_the_api_names_the_persons_face_and_lists_shown_first(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    ids = faces_archive[1]
    person = client.get("/api/people/peter-keller").json
    assert person["face"] == {"item": ids["recognised"], "number": 1,
                              "url": f"/faces/{ids['recognised']}/1.jpg"}
    assert person["items"][0] == {"id": ids["recognised"], "relation": "shown"}
    assert [i["relation"] for i in person["items"][1:]] == ["session"] * 4
    assert client.get("/api/people/p7").json["face"]["item"] == ids["silva"]


# ---- search --------------------------------------------------------------------------

@pytest.mark.parametrize(("person", "item"), [("peter-keller", "recognised"),
                                               ("p7", "silva"), ("evil", "evil")])
def test_person_search_ranks_a_recognised_face_above_session_items(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]], person: str,
        item: str) -> None:
    """`p7` is unlike Ester Silva's name: the id alone must find her relation too."""
    ids = faces_archive[1]
    result = client.get("/api/search", query_string={"q": f"person:{person}"}).json
    order = [r["id"] for r in result["results"]]
    assert order[0] == ids[item]
    assert sorted(order[1:]) == sorted(v for k, v in ids.items()
                                       if k not in (item, "withheld"))
    # The facet counts the recognised item with the session's: every published photo.
    assert result["facets"]["person"][person] == 5


def test_the_search_page_facet_counts_the_recognised_item(
        client: FlaskClient, faces_archive: tuple[Path, dict[str, str]]) -> None:
    shown = client.get("/api/search", query_string={"q": "session:s1"}).json
    assert shown["facets"]["person"] == {"evil": 5, "p7": 5, "peter-keller": 5}
    assert shown["total"] == 5


# ---- a video: the faces of its poster frame only ----------------------------------------

@pytest.mark.slow  # encodes a video
def test_a_video_is_boxed_with_the_faces_of_its_poster_frame_only(tmp_path: Path) -> None:
    folder = tmp_path / "event"
    folder.mkdir()
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    make_video(folder / "talk.mp4", seconds=2, size="320x240")
    root = tmp_path / "archive"
    cli = Cli(root)
    cli("ingest", "--no-faces", str(folder))
    video = cli.json("list")[0]
    poster = poster_time(video["duration"])
    ident = put_faces(root, "talk.mp4", [(10, 20, 40, 48), (160, 120, 80, 96)],
                      [poster, 1.5])
    label_face(root, ident, 2, "peter-keller")
    client = create_app(root, {"TESTING": True}).test_client()
    html = parsed(client.get(f"/items/{ident}").get_data(as_text=True))
    assert set(html.boxes) == {"face-1"}
    css = client.get(f"/items/{ident}/faces.css").get_data(as_text=True)
    assert placements(css) == {"face-1": pytest.approx((3.125, 8.333, 12.5, 20.0),
                                                       abs=0.001)}
    assert client.get(f"/faces/{ident}/1.jpg").status_code == 200
    assert client.get(f"/faces/{ident}/2.jpg").status_code == 404  # a strip frame's
    # Keller's only face is in a strip frame, which the site never shows: no face of his.
    assert client.get("/api/people/peter-keller").json["face"] is None


# ---- faces found and named by the ingest itself (dlib and ../shared/faces) ---------------

@pytest.fixture(scope="module")
def named_by_resolution(tmp_path_factory: pytest.TempPathFactory
                        ) -> tuple[FlaskClient, dict[str, dict]]:
    """The real face stage and resolution: Obama's portrait and the group with Biden, named
    by the event file's reference faces, and a photo of nobody, all in session s1."""
    base = tmp_path_factory.mktemp("named")
    root = base / "archive"
    cli = Cli(root)
    cli("ingest", str(make_faces_event(base / "event")))
    items = {Path(i["relpath"]).name: i for i in cli.json("list")}
    return create_app(root, {"TESTING": True}).test_client(), items


@pytest.mark.parametrize(("person", "shown"), [("barack-obama", {PORTRAIT, GROUP}),
                                               ("joe-biden", {GROUP})])
def test_faces_named_by_resolution_rank_above_the_session_and_are_counted(
        named_by_resolution: tuple[FlaskClient, dict[str, dict]], person: str,
        shown: set[str]) -> None:
    client, _ = named_by_resolution
    result = client.get("/api/search", query_string={"q": f"person:{person}"}).json
    names = [Path(r["relpath"]).name for r in result["results"]]
    assert set(names[:len(shown)]) == shown and len(names) == 3
    assert result["facets"]["person"][person] == 3


def test_the_person_page_with_faces_named_by_resolution(
        named_by_resolution: tuple[FlaskClient, dict[str, dict]]) -> None:
    client, items = named_by_resolution
    group = items[GROUP]
    assert [(f["person"], f["source"]) for f in group["faces"]] == [
        ("barack-obama", "face"), ("joe-biden", "face")]
    body = client.get("/events/faces-2010/people/joe-biden").get_data(as_text=True)
    assert f"/faces/{group['id']}/2.jpg" in parsed(body).images
    assert "Shown in: 1 item with Joe Biden" in body
    assert "In sessions: 2 items of Joe Biden's sessions" in body
    face = client.get(f"/faces/{group['id']}/2.jpg")
    assert face.status_code == 200 and face.mimetype == "image/jpeg"
