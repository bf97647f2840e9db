"""The take-away ZIP: streamed, every file with its credits, nothing outside the items
given, and a file that vanished said rather than failing the whole download."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from archive.outputs.itemjson import items_json, selected_items
from archive.outputs.takeaway import CHUNK, Unavailable, takeaway
from archive.store import Archive


def _items(sample_archive: Path, session: str) -> list[dict]:
    with Archive.open(sample_archive, readonly=True) as archive:
        return items_json(archive.catalog, selected_items(archive.catalog, session=session))


def test_a_session_goes_out_with_its_credits(sample_archive: Path) -> None:
    items = _items(sample_archive, "s2")
    assert len(items) >= 3
    chunks = list(takeaway(items, lambda item: Path(item["path"]), title="Session s2"))
    assert max(len(c) for c in chunks) < CHUNK + 64 * 1024  # streamed, never whole
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[-3:] == ["CREDITS.csv", "CREDITS.html", "LICENSES.txt"]
    files = names[:-3]
    assert sorted(files) == sorted(f"{i['event']}/{i['relpath']}" for i in items)
    for item in items:
        member = f"{item['event']}/{item['relpath']}"
        assert archive.read(member) == Path(item["path"]).read_bytes()
    rows = list(csv.DictReader(io.StringIO(archive.read("CREDITS.csv").decode())))
    assert [r["file"] for r in rows] == files
    assert all(r["credit_line"] for r in rows)
    assert "/" + items[0]["path"].split("/")[1] not in archive.read("CREDITS.csv").decode()
    assert "Session s2" in archive.read("CREDITS.html").decode()
    licences = archive.read("LICENSES.txt").decode()
    assert all(r["license_url"] in licences for r in rows if r["license_url"])


def test_copies_are_renamed_and_a_vanished_file_is_said(sample_archive: Path,
                                                         tmp_path: Path) -> None:
    items = _items(sample_archive, "s2")[:2]
    gone = tmp_path / "gone.jpg"
    small = tmp_path / "small.jpg"
    small.write_bytes(b"\xff\xd8 not really a jpeg")
    files = {items[0]["id"]: small, items[1]["id"]: gone}
    data = b"".join(takeaway(items, lambda item: files[item["id"]], suffix=".jpg"))
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = f"{items[0]['event']}/{items[0]['relpath'].rsplit('.', 1)[0]}.jpg"
    assert archive.read(first) == small.read_bytes()
    assert archive.getinfo(first).compress_type == zipfile.ZIP_STORED
    rows = list(csv.DictReader(io.StringIO(archive.read("CREDITS.csv").decode())))
    assert [r["file"] for r in rows] == [first]  # only what the ZIP holds
    assert "Left out, unreadable" in archive.read("LICENSES.txt").decode()


def test_a_refused_file_and_the_callers_notes_are_said(sample_archive: Path,
                                                        tmp_path: Path) -> None:
    items = _items(sample_archive, "s2")[:2]
    with Archive.open(sample_archive, readonly=True) as archive:
        video = items_json(archive.catalog, [r for r in selected_items(archive.catalog)
                                            if r.kind == "video"])[0]
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(b"\xff\xd8 a poster")

    def file_of(item: dict) -> Path:
        if item is items[1]:
            raise Unavailable("changed since it was catalogued")
        return poster if item is video else Path(item["path"])

    data = b"".join(takeaway([items[0], items[1], video], file_of, suffix=".jpg",
                             notes=["Left out: what the selection holds past its first 2"]))
    archive = zipfile.ZipFile(io.BytesIO(data))
    stem = video["relpath"].rsplit(".", 1)[0]
    assert archive.namelist()[:2] == [
        f"{items[0]['event']}/{items[0]['relpath'].rsplit('.', 1)[0]}.jpg",
        f"{video['event']}/{stem}-poster.jpg"]  # a still, never taken for a photo
    licences = archive.read("LICENSES.txt").decode()
    assert licences.index("past its first 2") < licences.index(
        f"Left out, changed since it was catalogued: {items[1]['event']}/{items[1]['relpath']}")
