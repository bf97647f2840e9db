"""File names that are not UTF-8 (an old zip's `caf\\xe9.jpg`): kept exactly, shown readably."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.catalog import get_item, record_problem
from archive.catalog.database import Catalog
from archive.fsnames import exact, readable
from archive.model import Problem
from archive.store import Archive
from indexer.sync import sync
from web import create_app

from helpers.media import make_jpeg, make_xmp

SHOWN = "caf\\xe9"  # how the byte 0xE9 that is not UTF-8 is shown: a backslash, x, e, 9


def write_raw(folder: Path, name: bytes, data: bytes) -> bytes:
    """A file named by bytes, as unzip writes the names of an old Windows zip."""
    path = os.path.join(os.fsencode(folder), name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


@pytest.fixture
def latin1(event_dir: Path, tmp_path: Path) -> dict[str, bytes]:
    (event_dir / "event.toml").write_text('[event]\nid = "old-zip"\ntitle = "Old zip"\n',
                                          encoding="utf-8")
    make_jpeg(event_dir / "ok.jpg")
    photo = make_jpeg(tmp_path / "photo.jpg", size=(70, 50)).read_bytes()
    other = make_jpeg(tmp_path / "other.jpg", size=(71, 50)).read_bytes()
    return {"photo": write_raw(event_dir, b"caf\xe9.jpg", photo), "photo_bytes": photo,
            "sidecar": write_raw(event_dir, b"caf\xe9.xmp", make_xmp(title="Terrasse")),
            # named .png, a JPEG inside: a warning naming the file in the report
            "mislabelled": write_raw(event_dir, b"caf\xe9-2.png", other)}


def test_names_are_stored_exactly_and_shown_readably(cli, event_dir: Path,
                                                     latin1: dict[str, bytes]) -> None:
    summary = cli.json("ingest", str(event_dir))["events"][0]
    assert (summary["added"], summary["failed"]) == (3, 0)
    items = {i["relpath"]: i for i in cli.json("list")}
    assert sorted(items) == [f"{SHOWN}-2.png", f"{SHOWN}.jpg", "ok.jpg"]
    item = items[f"{SHOWN}.jpg"]
    assert item["path"] == f"{event_dir}/{SHOWN}.jpg"
    assert item["title"] == "Terrasse"  # its sidecar, paired by its bytes
    with Archive.open(cli.archive_dir) as archive:
        stored = get_item(archive.catalog, item["id"]).path
        assert os.fsencode(stored) == latin1["photo"]  # lossless: the same bytes again
        assert Path(stored).read_bytes() == latin1["photo_bytes"]
        sidecars = archive.catalog.query("SELECT path FROM files WHERE role = 'sidecar'")
        assert [os.fsencode(r["path"]) for r in sidecars] == [latin1["sidecar"]]
    for ref in (item["path"], os.fsdecode(latin1["photo"]), item["id"][:8]):
        assert cli.json("show", ref)["id"] == item["id"]
    report = cli.json("report")
    assert [w["path"] for w in report["warnings"]] == [f"{event_dir}/{SHOWN}-2.png"]
    assert SHOWN in cli("list") and SHOWN in cli("report") and SHOWN in cli("show", item["id"])
    again = cli.json("ingest", str(event_dir))["events"][0]
    assert (again["unchanged"], again["added"], again["updated"]) == (3, 0, 0)


def test_the_site_shows_and_serves_them(cli, event_dir: Path, latin1: dict[str, bytes]) -> None:
    cli("ingest", str(event_dir))
    with Archive.open(cli.archive_dir) as archive:
        sync(archive)
    client = create_app(cli.archive_dir, {"TESTING": True}).test_client()
    found = client.get("/api/search", query_string={"q": "terrasse"}).json["results"]
    (item_id,) = [r["id"] for r in found]
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200 and f"{SHOWN}.jpg" in page.get_data(as_text=True)
    assert client.get(f"/api/items/{item_id}").json["path"] == f"{SHOWN}.jpg"
    with client.get(f"/media/{item_id}/original") as original:
        assert original.status_code == 200
        assert original.get_data() == latin1["photo_bytes"]
        assert "caf%EF%BF%BD.jpg" in original.headers["Content-Disposition"]


@pytest.mark.slow
def test_batch_ingest_and_text_output_of_the_real_command(tmp_path: Path, event_dir: Path,
                                                          latin1: dict[str, bytes]) -> None:
    base = [sys.executable, "-m", "archive", "--archive", str(tmp_path / "arch")]
    done = subprocess.run([*base, "batch-ingest", str(event_dir)], capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("list", "report"):
        shown = subprocess.run([*base, command], capture_output=True, timeout=60, check=True)
        assert SHOWN.encode() in shown.stdout


LITERAL = "caf\\\\xe9"  # how a name holding a backslash, x, e, 9 is shown: told apart


def test_a_byte_and_a_backslash_are_told_apart(cli, event_dir: Path, tmp_path: Path) -> None:
    """`caf\\xe9.jpg` (a byte) and a name holding those characters never look alike; a
    [[media]] entry and a `file:` search name either as `list` shows it."""
    (event_dir / "event.toml").write_text(
        '[event]\nid = "e"\ntitle = "E"\n\n[[media]]\npath = \'caf\\xe9.jpg\'\n'
        'title = "Byte"\n\n[[media]]\npath = \'caf\\\\xe9.jpg\'\ntitle = "Backslash"\n',
        encoding="utf-8")
    write_raw(event_dir, b"caf\xe9.jpg", make_jpeg(tmp_path / "a.jpg").read_bytes())
    make_jpeg(event_dir / "caf\\xe9.jpg", size=(70, 50))
    summary = cli.json("ingest", str(event_dir))["events"][0]
    assert (summary["added"], summary["unmatched_media"]) == (2, [])
    shown = {i["relpath"]: i for i in cli.json("list")}
    assert sorted(shown) == [f"{LITERAL}.jpg", f"{SHOWN}.jpg"]
    byte, literal = shown[f"{SHOWN}.jpg"], shown[f"{LITERAL}.jpg"]
    assert (byte["title"], literal["title"]) == ("Byte", "Backslash")
    text = cli("list")
    assert f"  {SHOWN}.jpg  " in text and f"  {LITERAL}.jpg  " in text
    for item in (byte, literal):
        assert cli.json("show", item["relpath"])["id"] == item["id"]
        assert cli.json("show", item["path"])["id"] == item["id"]
        found = cli.json("search", f"file:{item['relpath']}")["results"]
        assert [r["id"] for r in found] == [item["id"]]
    assert cli.json("report")["unmatched_media"] == []


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    opened = Catalog(tmp_path_factory.mktemp("catalog") / "c.sqlite3")
    yield opened
    opened.close()


@settings(deadline=None)  # a disk write per example, on a shared machine
@given(st.text(st.one_of(st.characters(exclude_categories=()),
                         st.sampled_from(["\U0010fffd", "\udce9", "\ud800", "f"]))))
def test_the_catalog_gives_back_any_text_it_was_given(catalog: Catalog, text: str) -> None:
    """Lone surrogates (a name's bytes that are not UTF-8) and the escape character too."""
    with catalog.transaction():
        catalog.set_meta("name", text)
        record_problem(catalog, "e", Problem(text, "scan", "error", text))
    assert catalog.get_meta("name") == text
    (row,) = catalog.query("SELECT path, message FROM errors WHERE path = ?", (text,))
    assert (row["path"], row["message"]) == (text, text)


@given(st.text(st.sampled_from(["\\", "x", "e", "9", "8", "\udce9", "\udc80", "é", "/"])))
def test_every_name_is_shown_its_own_way(name: str) -> None:
    shown = readable(name)
    shown.encode("utf-8")  # raises if a lone surrogate is left: printable anywhere
    assert exact(shown) == name  # so no two names are shown alike
