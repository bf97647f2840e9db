"""Symbolic links in an event folder: followed inside it, never out of it, loops cut."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from archive.catalog import get_item
from archive.store import Archive
from indexer.sync import sync
from web import create_app

from helpers.media import make_exif, make_jpeg, make_xmp


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """An event folder whose links lead inside it, out of it and round in circles."""
    outside = tmp_path / "private"
    make_jpeg(outside / "secret.jpg", size=(90, 60), exif=make_exif(artist="Not for the site"))
    make_jpeg(outside / "dir" / "other.jpg", size=(91, 60))
    (outside / "secret.xmp").write_bytes(make_xmp(title="Private notes"))
    event = tmp_path / "event"
    make_jpeg(event / "photos" / "a.jpg", size=(64, 48))
    make_jpeg(event / "photos" / "b.jpg", size=(65, 48))
    make_jpeg(event / "photos" / "d.jpg", size=(66, 48))
    (event / "notes").mkdir()
    (event / "notes" / "d-edit.xmp").write_bytes(make_xmp(title="Edited inside"))
    links = {
        "photos/link-in.jpg": "a.jpg",                      # a file, inside
        "photos/d.xmp": "../notes/d-edit.xmp",              # a sidecar, inside
        "sessions": "photos",                               # a folder, inside
        "leak.jpg": "../private/secret.jpg",                # a file, out
        "photos/b.xmp": "../../private/secret.xmp",         # a sidecar, out
        "leakdir": str(outside / "dir"),                    # a folder, out (absolute)
        "photos/loop": "..",                                # a loop to the event folder
    }
    for name, target in links.items():
        os.symlink(target, event / name)
    return event


def test_links_leaving_the_event_folder_are_not_followed(cli, linked: Path,
                                                         tmp_path: Path) -> None:
    summary = cli.json("ingest", str(linked))["events"][0]
    assert summary["failed"] == 0
    items = {Path(i["path"]).relative_to(linked).as_posix(): i for i in cli.json("list")}
    assert sorted(items) == ["photos/a.jpg", "photos/b.jpg", "photos/d.jpg"]
    assert items["photos/a.jpg"]["duplicates"] == [
        str(linked / "photos" / "link-in.jpg"), str(linked / "sessions" / "a.jpg"),
        str(linked / "sessions" / "link-in.jpg")]
    assert items["photos/d.jpg"]["title"] == "Edited inside"   # the sidecar inside is read
    assert items["photos/b.jpg"]["title"] is None              # the one outside is not
    secret = hashlib.sha256((tmp_path / "private" / "secret.jpg").read_bytes()).hexdigest()
    every_path = {p for i in items.values() for p in [i["path"], *i["duplicates"]]}
    assert all(str(tmp_path / "private") not in p and "leak" not in p for p in every_path)
    warned = {Path(w["path"]).relative_to(linked).as_posix(): w["message"]
              for w in cli.json("report")["warnings"] if w["stage"] == "scan"}
    for name in ("leak.jpg", "photos/b.xmp", "leakdir"):
        assert "leaves the event folder" in warned[name], warned
        assert "not followed" in warned[name]
    assert str(tmp_path / "private" / "secret.jpg") in warned["leak.jpg"]
    for name in ("photos/loop", "sessions/loop"):  # the second one through another link
        assert "loops back" in warned[name], warned
    with Archive.open(cli.archive_dir) as archive:
        assert get_item(archive.catalog, secret) is None
        sync(archive)
    client = create_app(cli.archive_dir, {"TESTING": True}).test_client()
    assert client.get(f"/media/{secret}/original").status_code == 404


def test_a_link_swapped_to_the_outside_after_ingest_is_not_served(cli, linked: Path,
                                                                  tmp_path: Path) -> None:
    cli("ingest", str(linked))
    (item,) = [i for i in cli.json("list") if i["relpath"] == "photos/a.jpg"]
    original = linked / "photos" / "a.jpg"
    original.unlink()
    original.symlink_to(tmp_path / "private" / "secret.jpg")
    with Archive.open(cli.archive_dir) as archive:
        sync(archive)
    client = create_app(cli.archive_dir, {"TESTING": True}).test_client()
    assert client.get(f"/media/{item['id']}/original").status_code == 404


def test_dangling_links_fifos_and_devices_are_warnings(cli, event_dir: Path,
                                                       tmp_path: Path) -> None:
    make_jpeg(event_dir / "a.jpg")
    os.symlink("gone.jpg", event_dir / "inside.jpg")           # dangling, inside
    os.symlink(tmp_path / "nowhere" / "x.jpg", event_dir / "outside.jpg")  # dangling, out
    os.mkfifo(event_dir / "pipe.jpg")
    os.symlink("loop2.jpg", event_dir / "loop1.jpg")  # each leads to the other
    os.symlink("loop1.jpg", event_dir / "loop2.jpg")
    specials = {"inside.jpg": "symbolic link to gone.jpg, which does not exist (dangling)",
                "loop1.jpg": "symbolic link to loop2.jpg, which leads back to itself",
                "loop2.jpg": "symbolic link to loop1.jpg, which leads back to itself",
                "outside.jpg": f"symbolic link to {tmp_path / 'nowhere' / 'x.jpg'}, which "
                               "does not exist (dangling)",
                "pipe.jpg": "a FIFO (named pipe), not a media file; skipped"}
    if os.geteuid() == 0:  # making a device node needs root
        os.mknod(event_dir / "null.jpg", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        specials["null.jpg"] = "a character device, not a media file; skipped"
    summary = cli.json("ingest", str(event_dir))["events"][0]
    assert (summary["added"], summary["failed"]) == (1, 0)
    found = {Path(w["path"]).name: (w["stage"], w["message"])
             for w in cli.json("report")["warnings"]}
    assert cli.json("report")["errors"] == []
    assert set(found) == set(specials)
    for name, said in specials.items():
        assert found[name][0] == "scan" and found[name][1].startswith(said), found[name]


def _task(folder: Path, name: str, root: Path):
    from archive.ingest.tasks import Task

    path = folder / name
    st = path.stat() if path.exists() and not stat.S_ISFIFO(os.lstat(path).st_mode) else None
    return Task(str(path), name, st.st_size if st else 100, st.st_mtime_ns if st else 0, (),
                str(root))


@pytest.mark.parametrize("replacement", ["link out", "fifo"])
def test_a_file_replaced_after_the_scan_is_not_read(tmp_path: Path, replacement: str) -> None:
    """Between the scan and a worker's turn, a file became a link out of the folder (its
    content must not enter the archive) or a FIFO (an open would wait for ever)."""
    from archive.ingest.examine import examine

    folder, outside = tmp_path / "event", tmp_path / "secret"
    folder.mkdir()
    outside.mkdir()
    make_jpeg(outside / "secret.jpg", size=(40, 30), exif=make_exif())
    make_jpeg(folder / "photo.jpg", size=(40, 30), exif=make_exif())
    task = _task(folder, "photo.jpg", tmp_path / "archive")
    (folder / "photo.jpg").unlink()
    if replacement == "fifo":
        os.mkfifo(folder / "photo.jpg")
    else:
        (folder / "photo.jpg").symlink_to(outside / "secret.jpg")
    out = examine(task)
    assert out.item_id is None
    assert [p.stage for p in out.problems] == ["read"]
    said = out.problems[0].message
    assert ("no longer a regular file" if replacement == "fifo" else "out of the event") in said
    assert not (tmp_path / "archive").exists()  # no thumbnail of it either


def test_a_link_inside_the_folder_is_still_read_by_its_worker(tmp_path: Path) -> None:
    from archive.ingest.examine import examine

    folder = tmp_path / "event"
    (folder / "real").mkdir(parents=True)
    make_jpeg(folder / "real" / "photo.jpg", size=(40, 30), exif=make_exif())
    (folder / "alias.jpg").symlink_to(folder / "real" / "photo.jpg")
    out = examine(_task(folder, "alias.jpg", tmp_path / "archive"))
    expected = hashlib.sha256((folder / "real" / "photo.jpg").read_bytes()).hexdigest()
    assert out.item_id == expected and not out.problems
