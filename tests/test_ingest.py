from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from archive.catalog import get_item
from archive.ingest.pipeline import ingest_folder
from archive.outputs.itemjson import items_json
from archive.store import Archive

from helpers.media import make_exif, make_jpeg, make_xmp

# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = pytest.mark.engines

TAKEN = dt.datetime(2019, 3, 19, 11, 42, 7)


def ingest(archive: Archive, folder: Path, **kw: object) -> object:
    return ingest_folder(archive, folder, jobs=kw.pop("jobs", 1), progress=False, **kw)


def items(archive: Archive) -> list[dict]:
    rows = archive.catalog.query("SELECT id FROM items ORDER BY relpath")
    return items_json(archive.catalog, [get_item(archive.catalog, r["id"]) for r in rows])


def errors(archive: Archive) -> dict[str, tuple[str, str]]:
    return {Path(r["path"]).name: (r["stage"], r["level"])
            for r in archive.catalog.query("SELECT * FROM errors")}


def photos(folder: Path, count: int, prefix: str = "IMG_") -> list[Path]:
    return [make_jpeg(folder / f"{prefix}{i:04d}.jpg", image=None, size=(40 + i, 30),
                      exif=make_exif(taken=TAKEN + dt.timedelta(minutes=i)))
            for i in range(count)]


def test_first_ingest_catalogues_items(archive: Archive, event_dir: Path) -> None:
    photos(event_dir / "photos", 3)
    summary = ingest(archive, event_dir)
    assert (summary.added, summary.failed, summary.unchanged) == (3, 0, 0)
    found = items(archive)
    assert [i["relpath"] for i in found] == [f"photos/IMG_{i:04d}.jpg" for i in range(3)]
    first = found[0]
    assert first["taken"] == "2019-03-19T11:42:07+00:00"  # no event file: UTC
    assert first["taken_source"] == "exif"
    assert first["path"] == str(event_dir / "photos" / "IMG_0000.jpg")
    for size in ("small", "large"):
        assert (archive.root / first["thumbnails"][size]).is_file()
    assert archive.catalog.revision > 0


def test_unchanged_files_are_skipped_without_reading(archive: Archive, event_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    photos(event_dir, 4)
    ingest(archive, event_dir)
    revision = archive.catalog.revision
    import archive.ingest.pipeline as pipeline

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("an unchanged file was examined")

    monkeypatch.setattr(pipeline, "run_tasks", lambda fn, tasks, *a: iter(
        [refuse() for _ in tasks]))
    summary = ingest(archive, event_dir)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 4)
    assert archive.catalog.revision == revision  # nothing written, nothing to re-index


def test_modified_file_replaces_its_item(archive: Archive, event_dir: Path) -> None:
    (photo,) = photos(event_dir, 1)
    ingest(archive, event_dir)
    old_id = items(archive)[0]["id"]
    make_jpeg(photo, size=(99, 33), exif=make_exif(model="Other"))
    os.utime(photo, ns=(1, 2_000_000_000_000_000_000))
    summary = ingest(archive, event_dir)
    assert summary.added == 1
    (item,) = items(archive)
    assert item["id"] != old_id
    assert item["camera"]["model"] == "Other"
    deleted = archive.catalog.query("SELECT item_id FROM deletions")
    assert [r["item_id"] for r in deleted] == [old_id]


def test_moved_file_keeps_its_identity(archive: Archive, event_dir: Path) -> None:
    (photo,) = photos(event_dir / "day1", 1)
    ingest(archive, event_dir)
    (before,) = items(archive)
    (event_dir / "renamed").mkdir()
    photo.rename(event_dir / "renamed" / "keller.jpg")
    summary = ingest(archive, event_dir)
    assert (summary.moved, summary.added, summary.missing) == (1, 0, 0)
    (after,) = items(archive)
    assert after["id"] == before["id"]
    assert after["relpath"] == "renamed/keller.jpg"
    assert after["duplicates"] == []


def test_copies_are_duplicates_of_one_item(archive: Archive, event_dir: Path) -> None:
    (photo,) = photos(event_dir, 1, prefix="b_")
    shutil.copy2(photo, event_dir / "a_copy.jpg")
    shutil.copy2(photo, event_dir / "c_copy.jpg")
    summary = ingest(archive, event_dir, jobs=2)
    assert summary.added == 1
    assert summary.duplicate == 2
    (item,) = items(archive)
    assert item["relpath"] == "a_copy.jpg"  # the smallest path is the primary, always
    assert item["duplicates"] == [str(event_dir / "b_0000.jpg"), str(event_dir / "c_copy.jpg")]


def test_missing_files_are_kept_until_prune(archive: Archive, event_dir: Path, cli) -> None:
    first, second = photos(event_dir, 2)
    ingest(archive, event_dir)
    second.unlink()
    summary = ingest(archive, event_dir)
    assert summary.missing == 1
    assert len(items(archive)) == 2
    report = cli.json("report")
    assert [m["path"] for m in report["missing"]] == [str(second)]
    summary = ingest(archive, event_dir, prune=True)
    assert summary.pruned == 1
    assert [i["relpath"] for i in items(archive)] == [first.name]


BAD_FILES = {
    "empty.jpg": b"",
    "truncated.jpg": None,  # filled below: a real JPEG cut in half
    "corrupt.jpg": b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50,
    "notes.txt": b"speaker notes, not media",
    "fake.mp4": b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200,
}


def test_bad_files_are_recorded_and_the_batch_goes_on(archive: Archive, event_dir: Path,
                                                      cli) -> None:
    good = photos(event_dir, 2)
    for name, data in BAD_FILES.items():
        if data is None:
            data = make_jpeg(event_dir / "tmp.jpg", size=(400, 300)).read_bytes()
            (event_dir / "tmp.jpg").unlink()
            data = data[: len(data) // 2]
        (event_dir / name).write_bytes(data)
    # A real JPEG named .png is catalogued by its content, with a warning.
    shutil.copy(good[0], event_dir / "mislabelled.png")
    os.utime(event_dir / "mislabelled.png", (0, 0))
    make_jpeg(event_dir / "renamed.png", size=(50, 50))
    summary = ingest(archive, event_dir, jobs=2)
    assert summary.added == 3
    assert summary.failed == len(BAD_FILES)
    found = errors(archive)
    assert found["empty.jpg"] == ("identify", "error")
    assert found["truncated.jpg"] == ("decode", "error")
    assert found["corrupt.jpg"][1] == "error"
    assert found["notes.txt"] == ("identify", "error")
    assert found["fake.mp4"] == ("probe", "error")
    assert found["renamed.png"] == ("identify", "warning")
    report = cli.json("report")
    assert {Path(e["path"]).name for e in report["errors"]} == set(BAD_FILES)
    assert all(e["message"] and e["stage"] for e in report["errors"])


def test_failed_files_are_not_retried_until_they_change(archive: Archive,
                                                        event_dir: Path) -> None:
    bad = event_dir / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"\x00" * 10)
    assert ingest(archive, event_dir).failed == 1
    again = ingest(archive, event_dir)
    assert (again.failed, again.unchanged) == (0, 1)
    assert "bad.jpg" in errors(archive)
    make_jpeg(bad)
    os.utime(bad, ns=(1, 1_600_000_000_000_000_000))  # another time, but a plausible one
    fixed = ingest(archive, event_dir)
    assert fixed.added == 1
    assert "bad.jpg" not in errors(archive)


def test_sidecar_xmp_is_paired_and_change_triggers_re_read(archive: Archive,
                                                           event_dir: Path) -> None:
    (photo,) = photos(event_dir, 1)
    sidecar = event_dir / "IMG_0000.xmp"
    sidecar.write_bytes(make_xmp(title="From the sidecar", creator=["Anna Rossi"]))
    (event_dir / "lonely.xmp").write_bytes(make_xmp(title="nobody's"))
    ingest(archive, event_dir)
    (item,) = items(archive)
    assert item["title"] == "From the sidecar"
    assert errors(archive)["lonely.xmp"] == ("scan", "warning")
    sidecar.write_bytes(make_xmp(title="Edited title"))
    os.utime(sidecar, ns=(1, 3_000_000_000_000_000_000))
    summary = ingest(archive, event_dir)
    assert summary.updated == 1
    assert items(archive)[0]["title"] == "Edited title"


def test_event_timezone_applies_to_camera_local_time(archive: Archive,
                                                     event_dir: Path) -> None:
    (event_dir / "event.toml").write_text(
        '[event]\nid = "florence-2019"\ntitle = "Florence"\ndate = 2019-03-19\n'
        'timezone = "Europe/Rome"\n', encoding="utf-8")
    photos(event_dir, 1)
    ingest(archive, event_dir)
    (item,) = items(archive)
    assert item["event"] == "florence-2019"
    assert item["taken"] == "2019-03-19T11:42:07+01:00"


@pytest.mark.slow
def test_unreadable_file_is_recorded(tmp_path: Path, event_dir: Path) -> None:
    """Permission denied, made real even as root: the ingest runs without the
    capabilities that let root read any file (setpriv drops them from the bounding set)."""
    import subprocess
    import sys

    photos(event_dir, 1)
    secret = make_jpeg(event_dir / "secret.jpg")
    secret.chmod(0)
    command = [sys.executable, "-m", "archive", "--archive", str(tmp_path / "archive"),
               "ingest", "-j", "1", str(event_dir)]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--",
                   *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with Archive.open(tmp_path / "archive") as again:
        rows = again.catalog.query("SELECT * FROM errors WHERE path = ?", (str(secret),))
        assert [(r["stage"], r["level"]) for r in rows] == [("read", "error")]
        assert "Permission denied" in rows[0]["message"]
        assert len(again.catalog.query("SELECT id FROM items")) == 1


def event_folder(folder: Path, event_id: str, creator: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "event.toml").write_text(
        f'[event]\nid = "{event_id}"\ntitle = "{event_id}"\n\n[credit]\ncreator = "{creator}"\n',
        encoding="utf-8")
    return folder


def test_a_copy_in_another_event_never_takes_the_item_over(cli, tmp_path: Path) -> None:
    first = event_folder(tmp_path / "z-first", "first", "Anna Rossi")
    (photo,) = photos(first / "photos", 1)
    # The copy's path sorts before the original's: within one event it would be primary.
    second = event_folder(tmp_path / "a-second", "second", "Bruno Bianchi")
    copy = second / "from-first.jpg"
    shutil.copy2(photo, copy)
    cli("ingest", str(first))
    summary = cli.json("ingest", str(second))["events"][0]
    assert (summary["added"], summary["duplicate"], summary["moved"]) == (0, 1, 0)
    (item,) = cli.json("list")
    assert (item["event"], item["path"]) == ("first", str(photo))
    assert item["credit"]["creator"] == "Anna Rossi"
    assert item["duplicates"] == [str(copy)]
    report = cli.json("report", "--event", "second")
    assert [(d["path"], d["original"]) for d in report["duplicates"]] == [
        (str(copy), str(photo))]
    assert cli.json("report", "--event", "first")["duplicates"] == []
    again = cli.json("ingest", str(first), str(second))["events"]
    assert [(s["unchanged"], s["added"], s["updated"]) for s in again] == [(1, 0, 0),
                                                                            (1, 0, 0)]
    assert cli.json("list") == [item]


def test_an_item_leaving_its_event_is_not_moved_to_a_copy_elsewhere(cli,
                                                                    tmp_path: Path) -> None:
    first = event_folder(tmp_path / "z-first", "first", "Anna Rossi")
    kept, gone = photos(first, 2)
    second = event_folder(tmp_path / "a-second", "second", "Bruno Bianchi")
    for photo in (kept, gone):
        shutil.copy2(photo, second / photo.name)
    cli("ingest", str(first), str(second))
    make_jpeg(kept, size=(99, 33))  # new content: its old item has a copy in `second` only
    gone.unlink()
    cli("ingest", "--prune", str(first))
    assert {(i["event"], i["path"]) for i in cli.json("list")} == {("first", str(kept))}
    summary = cli.json("ingest", str(second))["events"][0]
    assert summary["added"] == 2  # the copies are the second event's own items now
    assert {(i["event"], i["relpath"], i["credit"]["creator"]) for i in cli.json("list")} == {
        ("first", kept.name, "Anna Rossi"), ("second", kept.name, "Bruno Bianchi"),
        ("second", gone.name, "Bruno Bianchi")}


def test_an_event_id_held_by_another_folder_is_refused(cli, tmp_path: Path) -> None:
    first = event_folder(tmp_path / "first", "florence-2019", "Anna Rossi")
    photos(first, 2)
    cli("ingest", str(first))
    before, revision = cli.json("list"), cli.json("report")
    second = event_folder(tmp_path / "second", "florence-2019", "Bruno Bianchi")
    photos(second, 1, prefix="DSC_")
    out = cli("ingest", str(second), code=1)
    assert out.count("\n") == 1, out
    assert f"{second / 'event.toml'}: event.id: 'florence-2019'" in out
    assert str(first) in out
    assert cli.json("list") == before and cli.json("report") == revision
    # Nothing was taken over: the first event's files are neither missing nor pruned.
    summary = cli.json("ingest", "--prune", str(first))["events"][0]
    assert (summary["unchanged"], summary["missing"], summary["pruned"]) == (2, 0, 0)


def test_a_moved_event_folder_is_a_move(cli, tmp_path: Path) -> None:
    old = event_folder(tmp_path / "old", "florence-2019", "Anna Rossi")
    photos(old / "photos", 2)
    cli("ingest", str(old))
    before = cli.json("list")
    new = tmp_path / "new"
    old.rename(new)
    summary = cli.json("ingest", str(new))["events"][0]
    assert (summary["moved"], summary["missing"], summary["added"]) == (2, 0, 0)
    after = cli.json("list")
    assert [i["id"] for i in after] == [i["id"] for i in before]
    assert all(i["path"].startswith(f"{new}/") for i in after)
    assert cli.json("report")["missing"] == []
    assert cli.json("ingest", "--prune", str(new))["events"][0]["pruned"] == 0


def test_a_media_entry_naming_a_copy_says_so(cli, tmp_path: Path) -> None:
    first = event_folder(tmp_path / "first", "first", "Anna Rossi")
    (photo,) = photos(first, 1)
    second = event_folder(tmp_path / "second", "second", "Bruno Bianchi")
    shutil.copy2(photo, second / "from-first.jpg")
    shutil.copy2(photo, first / "0-copy.jpg")  # a copy in its own event, sorting first
    for folder, name in ((first, photo.name), (second, "from-first.jpg")):
        with (folder / "event.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[[media]]\npath = "{name}"\ntitle = "Named"\n')
    cli("ingest", str(first))
    out = cli("ingest", str(second))
    assert "matches no file" not in out
    assert (f"media[path='from-first.jpg']: names a copy of {first / '0-copy.jpg'}, which is "
            "the item") in out
    entries = cli.json("report")["unmatched_media"]
    assert [(e["event"], e["path"], e["duplicate_of"]) for e in entries] == [
        ("first", photo.name, str(first / "0-copy.jpg")),
        ("second", "from-first.jpg", str(first / "0-copy.jpg"))]


def test_a_file_dated_past_2262_and_a_name_not_utf8_ingest_and_show(
        archive: Archive, event_dir: Path) -> None:
    """A modification time past what 64 bits of nanoseconds hold, and a name whose bytes
    are not UTF-8, ingest like any file; the event page shows the name as `\\xff`."""
    from web.app import create_app

    make_jpeg(event_dir / "future.jpg", exif=make_exif(taken=TAKEN))
    os.utime(event_dir / "future.jpg", (0, 10_500_000_000))  # in the year 2302
    odd = os.fsdecode(b"DSC\xff_0100.jpg")
    make_jpeg(event_dir / odd, size=(44, 30), exif=make_exif(taken=TAKEN))
    (event_dir / "event.toml").write_text(
        '[event]\nid = "e"\ntitle = "E"\ndate = 2019-03-19\n\n[[sessions]]\nid = "s"\n'
        'title = "S"\ndate = 2019-03-19\nstart = "11:00"\nend = "12:30"\n', encoding="utf-8")
    summary = ingest(archive, event_dir)
    assert summary.added == 2 and not [e for e in summary.errors if e["level"] == "error"]
    assert ingest(archive, event_dir).unchanged == 2  # the time it keeps is its own
    from indexer.sync import sync

    sync(archive)
    page = create_app(archive.root, {"TESTING": True}).test_client().get("/events/e")
    assert page.status_code == 200 and "DSC\\xff_0100.jpg" in page.text
