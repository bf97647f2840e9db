"""Batch ingest, verify, locking and hostile event files."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from archive.catalog import touch_item
from archive.catalog.database import CatalogError
from archive.errors import ManifestError
from archive.locking import ArchiveBusy, write_lock
from archive.resolve.eventfile import load_event
from archive.store import Archive
from web.app import create_app

from helpers.media import make_exif, make_jpeg, make_video
from helpers.processes import EVENT_ARCHIVE, serving

# Slow: the real command in subprocesses, over and over, on damaged archives.
pytestmark = pytest.mark.slow

EVENT = '[event]\nid = "{id}"\ntitle = "Event {id}"\ndate = 2019-03-19\n'


def make_events(root: Path, good: int = 2, bad: int = 1) -> None:
    for n in range(good):
        folder = root / f"2019/event{n}"
        folder.mkdir(parents=True)
        (folder / "event.toml").write_text(EVENT.format(id=f"e{n}"), encoding="utf-8")
        make_jpeg(folder / "photos" / "a.jpg", size=(40 + n, 30), exif=make_exif())
    for n in range(bad):
        folder = root / f"broken{n}"
        folder.mkdir()
        (folder / "event.toml").write_text('[event]\nid = "x"\n', encoding="utf-8")


def test_batch_ingest_goes_past_a_failing_event(cli, tmp_path: Path) -> None:
    make_events(tmp_path / "events")
    out = cli("batch-ingest", str(tmp_path / "events"), code=1)
    assert "3 event(s), 1 failed" in out
    assert "FAILED" in out and "event.title: missing" in out
    assert {i["event"] for i in cli.json("list")} == {"e0", "e1"}
    assert cli.json("search", "kind:photo")["total"] == 2
    (tmp_path / "events" / "broken0" / "event.toml").unlink()
    lines = cli.json("batch-ingest", str(tmp_path / "events"))
    assert [line["ok"] for line in lines] == [True, True]


def test_batch_script_runs_from_a_shell(tmp_path: Path) -> None:
    make_events(tmp_path / "events", good=1, bad=0)
    script = Path(__file__).resolve().parents[1] / "scripts" / "batch-ingest"
    done = subprocess.run([str(script), "--archive", str(tmp_path / "arch"),
                           str(tmp_path / "events")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 event(s), 0 failed" in done.stdout


def _lock_process(lock: Path, then: str) -> subprocess.Popen:
    """A process that takes the write lock, says 'held', then runs `then` (Python)."""
    code = ("import sys\nfrom pathlib import Path\nfrom archive.locking import write_lock\n"
            f"with write_lock(Path({str(lock)!r})):\n    print('held', flush=True)\n"
            f"    {then}\n")
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_second_writer_waits_or_exits_with_a_message(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    with write_lock(lock, wait=False), pytest.raises(ArchiveBusy, match="another ingest"):
        with write_lock(lock, wait=False):
            pass
    # The holder keeps the lock until told to let go; the waiter says it waits (it found
    # the lock taken) and only then can take it.
    with _lock_process(lock, "sys.stdin.readline()") as holder:
        assert holder.stdout.readline().strip() == "held"
        with _lock_process(lock, "pass") as waiter:
            assert "waiting for another ingest" in waiter.stderr.readline()
            holder.stdin.write("release\n")
            holder.stdin.flush()
            assert waiter.stdout.readline().strip() == "held"
            assert waiter.wait(timeout=60) == 0
        assert holder.wait(timeout=60) == 0


def test_verify_repairs_thumbnails_and_index_and_finds_changed_files(cli,
                                                                     event_dir: Path) -> None:
    for n in range(3):
        make_jpeg(event_dir / f"p{n}.jpg", exif=make_exif())
    cli("ingest", "-j", "1", str(event_dir))
    assert cli.json("verify")["ok"] is True
    item = cli.json("list")[0]
    archive_dir = cli.archive_dir
    (archive_dir / item["thumbnails"]["small"]).unlink()
    (archive_dir / "thumbs" / "stray.part").write_bytes(b"half")
    report = cli.json("verify")
    assert report["ok"] is True
    assert any("thumbnails made again" in r for r in report["repaired"])
    assert (archive_dir / item["thumbnails"]["small"]).is_file()
    assert not (archive_dir / "thumbs" / "stray.part").exists()
    with Archive.open(archive_dir) as archive, archive.catalog.transaction():
        touch_item(archive.catalog, item["id"])  # the catalog moves on, the index does not
    report = cli.json("verify")
    assert any("index brought from revision" in r for r in report["repaired"])
    Path(item["path"]).write_bytes(b"edited" + Path(item["path"]).read_bytes())
    report = cli.json("verify", code=1)
    assert report["ok"] is False
    assert any("content changed since ingest" in p for p in report["problems"])


HOSTILE = {
    "deep nesting": "[event]\nid = \"x\"\ntitle = \"X\"\ndescription = " + "[" * 5000
                    + "]" * 5000 + "\n",
    "huge string": '[event]\nid = "x"\ntitle = "' + "A" * 2_000_000 + '"\n',
    "wrong types": '[event]\nid = 42\ntitle = ["a"]\n',
    "sessions as a string": '[event]\nid = "x"\ntitle = "X"\nsessions = "s1"\n',
    "people entry not a table": '[event]\nid = "x"\ntitle = "X"\npeople = [1, 2]\n',
    "date as a number": '[event]\nid = "x"\ntitle = "X"\ndate = 20190319\n',
    "id with a slash": '[event]\nid = "../../etc"\ntitle = "X"\n',
    "nul in a string": '[event]\nid = "x"\ntitle = "a\\u0000b"\ntimezone = "Mars/Base"\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_event_files_are_one_line_errors(tmp_path: Path, name: str) -> None:
    (tmp_path / "event.toml").write_text(HOSTILE[name], encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ManifestError) as caught:
        load_event(tmp_path)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "event.toml"))
    assert len(message) < 600 and "\n" not in message


def test_invalid_utf8_event_file(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_bytes(b'[event]\nid = "x"\ntitle = "\xff\xfe"\n')
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_event(tmp_path)


def test_read_only_archive_is_a_clear_error_and_stays_unharmed(cli, event_dir: Path,
                                                               tmp_path: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    cli("ingest", "-j", "1", str(event_dir))
    before = cli.json("list")
    make_jpeg(event_dir / "b.jpg", exif=make_exif())
    # A read-only bind of the archive, as a full or read-only disk would leave it.
    command = [sys.executable, "-m", "archive", "--archive", str(cli.archive_dir), "ingest",
               "-j", "1", str(event_dir)]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--",
                   *command]
    for path in [cli.archive_dir, *cli.archive_dir.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        for path in [cli.archive_dir, *cli.archive_dir.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 1
    assert "error:" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3
    assert cli.json("list") == before
    assert json.loads(cli("verify", "--json", "--no-hashes"))["ok"] is True


def event_archive(archive_dir: Path, *args: str, max_file_size: int | None = None
                  ) -> subprocess.CompletedProcess:
    """The real command in a process of its own; `max_file_size` (RLIMIT_FSIZE) makes
    every file it or its children write larger than that fail, as a full disk would."""
    def limit() -> None:
        if max_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

    return subprocess.run([sys.executable, "-m", "archive", "--archive", str(archive_dir),
                           *args], capture_output=True, text=True, timeout=120,
                          preexec_fn=limit)


def test_a_poster_that_failed_is_made_by_the_next_ingest(tmp_path: Path,
                                                         event_dir: Path) -> None:
    video = make_video(event_dir / "talk.mp4", seconds=4, size="640x480")
    archive_dir = tmp_path / "archive"
    # ffmpeg's 640x480 frames (900 kB each) do not fit; the catalog and index do.
    run = event_archive(archive_dir, "ingest", "-j", "1", str(event_dir),
                        max_file_size=600_000)
    assert run.returncode == 0, run.stderr
    assert "1 added" in run.stdout and f"{video}: [poster]" in run.stderr
    with Archive.open(archive_dir) as archive:
        revision = archive.catalog.revision
    run = event_archive(archive_dir, "ingest", "-j", "1", str(event_dir),
                        max_file_size=600_000)
    assert "1 unchanged" in run.stdout, run.stdout + run.stderr  # tried, failed alike
    with Archive.open(archive_dir) as archive:
        assert archive.catalog.revision == revision  # ... and nothing written
    run = event_archive(archive_dir, "verify", "--json")
    assert run.returncode == 1
    (problem,) = json.loads(run.stdout)["problems"]
    assert problem.startswith(f"{video}: no poster (") and "run ingest" in problem
    (detail,) = json.loads(run.stdout)["details"]  # the same problem, field by field
    assert (detail["path"], detail["stage"], detail["kind"]) == (str(video), "poster", "error")
    assert problem == f"{detail['path']}: {detail['message']}"

    run = event_archive(archive_dir, "ingest", "-j", "1", str(event_dir))
    assert "1 updated" in run.stdout and run.stderr == "", run.stdout + run.stderr
    item = json.loads(event_archive(archive_dir, "show", str(video), "--json").stdout)
    assert set(item["thumbnails"]) == {"small", "large", "strip"}
    assert all((archive_dir / path).is_file() for path in item["thumbnails"].values())
    assert json.loads(event_archive(archive_dir, "verify", "--json").stdout)["ok"] is True
    assert "1 unchanged" in event_archive(archive_dir, "ingest", str(event_dir)).stdout


def flip_bits(path: Path, every: int = 997) -> None:
    """Flip one bit in every `every` bytes, as failing storage does."""
    data = bytearray(path.read_bytes())
    for at in range(every // 2, len(data), every):
        data[at] ^= 0x10
    path.write_bytes(bytes(data))


def ingested(tmp_path: Path, event_dir: Path, count: int = 6) -> Path:
    for n in range(count):
        make_jpeg(event_dir / f"p{n}.jpg", size=(40 + n, 30), exif=make_exif(artist="Keller"))
    archive_dir = tmp_path / "archive"
    run = event_archive(archive_dir, "ingest", "-j", "1", str(event_dir))
    assert run.returncode == 0, run.stderr
    return archive_dir


def damage_index(archive_dir: Path) -> None:
    segments = list((archive_dir / "index").resolve().glob("*.seg"))
    assert segments
    for segment in segments:
        flip_bits(segment)


def assert_one_line(run: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_damaged_index_is_a_503_on_the_site_and_rebuilt_by_verify(
        tmp_path: Path, event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    damage_index(archive_dir)
    client = create_app(archive_dir).test_client()  # the site starts: its catalog is sound
    for url in ("/?q=keller", "/?q=*&limit=200", "/api/search?q=kind:photo&limit=200",
                "/credits?q=keller", "/api/credits?format=csv&q=*"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert b"event-archive verify" in answer.data
        assert answer.is_json == url.startswith("/api/"), url
    run = event_archive(archive_dir, "verify", "--no-hashes", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    (repaired,) = json.loads(run.stdout)["repaired"]
    assert repaired.startswith("index rebuilt") and "damaged" in repaired
    assert client.get("/api/search?q=keller").get_json()["total"] == 6


def test_a_damaged_index_is_rebuilt_by_search_and_ingest(tmp_path: Path,
                                                         event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    damage_index(archive_dir)
    run = event_archive(archive_dir, "search", "keller")
    assert run.returncode == 0 and "6 result(s)" in run.stdout, run.stdout + run.stderr
    assert_one_line(run)
    assert run.stderr.startswith("rebuilding the search index:")
    damage_index(archive_dir)
    make_jpeg(event_dir / "new.jpg", size=(90, 30), exif=make_exif(artist="Keller"))
    run = event_archive(archive_dir, "ingest", "-j", "1", str(event_dir))
    assert run.returncode == 0 and "1 added" in run.stdout, run.stdout + run.stderr
    assert_one_line(run)
    run = event_archive(archive_dir, "search", "keller", "--json")
    assert json.loads(run.stdout)["total"] == 7 and run.stderr == ""
    assert json.loads(event_archive(archive_dir, "verify", "--no-hashes", "--json").stdout) \
        == {"ok": True, "files_checked": 7, "problems": [], "repaired": [], "details": []}


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def overwritten(path: Path) -> None:
    path.write_bytes(b"\0" * 4096 + path.read_bytes()[4096:])


def a_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def a_device(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize(("damage", "said"), [
    (cut_short, "cut short"), (emptied, "empty (0 bytes)"), (overwritten, "not an SQLite"),
    (a_fifo, "is a FIFO, not a catalog file"),
    (a_device, "is a character device, not a catalog file")])
def test_a_damaged_catalog_is_one_line_everywhere_and_spares_the_index(
        tmp_path: Path, event_dir: Path, damage: object, said: str) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    client = create_app(archive_dir).test_client()
    index = (archive_dir / "index").resolve()
    before = {f.name: f.read_bytes() for f in index.iterdir()}
    damage(archive_dir / "catalog.sqlite3")
    for command in (["list"], ["report"], ["search", "keller"],
                    ["ingest", "-j", "1", str(event_dir)], ["verify"]):
        run = event_archive(archive_dir, *command)
        assert run.returncode == 1, command
        assert_one_line(run)
        assert run.stderr.startswith(f"error: {archive_dir / 'catalog.sqlite3'}: ")
        assert said in run.stderr and "ingest" in run.stderr  # what is wrong, what to do
    assert (archive_dir / "index").resolve() == index  # never rebuilt from the damage
    assert {f.name: f.read_bytes() for f in index.iterdir()} == before
    for url in ("/", "/events", "/api/events", "/credits"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert b"event-archive verify" in answer.data
    with pytest.raises(CatalogError):
        create_app(archive_dir)


def test_verify_reports_a_fifo_or_a_device_in_place_of_a_file(tmp_path: Path,
                                                               event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir, count=3)
    (event_dir / "p0.jpg").unlink()
    os.mkfifo(event_dir / "p0.jpg")
    (event_dir / "p1.jpg").unlink()
    (event_dir / "p1.jpg").symlink_to("/dev/zero")
    # Another file of the same size in the third one's place: only its date tells.
    (event_dir / "p2.jpg").write_bytes(bytes(reversed((event_dir / "p2.jpg").read_bytes())))
    swapped = [f"{event_dir / 'p0.jpg'}: is now a FIFO, not the file catalogued; run ingest",
               f"{event_dir / 'p1.jpg'}: is now a character device, not the file "
               "catalogued; run ingest"]
    for check, last in ((["--no-hashes"], "modified since ingest (its date changed); run "
                         "ingest"), ([], "content changed since ingest; run ingest")):
        # A hang fails on the time-out.
        run = event_archive(archive_dir, "verify", "--json", *check)
        assert run.returncode == 1, run.stdout + run.stderr
        report = json.loads(run.stdout)
        assert sorted(report["problems"]) == [*swapped, f"{event_dir / 'p2.jpg'}: {last}"]
        assert report["files_checked"] == 3


def test_verify_reports_items_an_interrupted_ingest_left_unresolved(cli, event_dir: Path
                                                                    ) -> None:
    (event_dir / "event.toml").write_text(EVENT.format(id="e0"), encoding="utf-8")
    for n in range(2):
        make_jpeg(event_dir / f"p{n}.jpg", size=(40 + n, 30), exif=make_exif())
    cli("ingest", "-j", "1", str(event_dir))
    # What a kill between commit and resolution left before batches were resolved.
    with Archive.open(cli.archive_dir) as archive, archive.catalog.transaction():
        archive.catalog.execute("UPDATE items SET resolved = '{}' WHERE path LIKE '%p0.jpg'")
        archive.catalog.execute("UPDATE meta SET value = '0 older' WHERE key = 'resolved:e0'")
    report = cli.json("verify", "--no-hashes", code=1)
    assert report["problems"] == [
        "event e0: 1 item(s) without their time, sessions and credit; run ingest to finish",
        "event e0: items not yet resolved against its event file; run ingest to finish"]
    cli("ingest", "-j", "1", str(event_dir))
    assert cli.json("verify", "--no-hashes")["ok"] is True


def test_a_fifo_as_the_catalog_of_a_new_archive_is_named_never_waited_on(
        tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    os.mkfifo(archive_dir / "catalog.sqlite3")
    for command in (["list"], ["verify"]):
        run = event_archive(archive_dir, *command)  # a hang fails on the time-out
        assert run.returncode == 1, command
        assert_one_line(run)
        assert "catalog.sqlite3: is a FIFO, not a catalog file" in run.stderr


def _flip_in_file(path: Path, needle: bytes, start: int = 0, end: int | None = None) -> None:
    """Change one byte of the first `needle` in path[start:end], as failing storage does."""
    data = bytearray(path.read_bytes())
    at = data.index(needle, start, end)
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _page_of(catalog: Path, name: str) -> tuple[int, int]:
    """Where the root page of a table or an index lies in the catalog file."""
    with closing(sqlite3.connect(catalog)) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                          (name,)).fetchone()[0]
    return (root - 1) * size, root * size


def test_a_damaged_value_in_the_catalog_is_one_line_and_spares_the_index(
        tmp_path: Path, event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    catalog = archive_dir / "catalog.sqlite3"
    client = create_app(archive_dir).test_client()
    index = (archive_dir / "index").resolve()
    before = {f.name: f.read_bytes() for f in index.iterdir()}
    _flip_in_file(catalog, b'"orientation"')  # SQLite's pages stay sound; the JSON is not
    with closing(sqlite3.connect(catalog)) as db:
        (damaged,) = db.execute("SELECT id FROM items WHERE NOT json_valid(metadata)"
                                ).fetchone()
    for command in (["list"], ["show", damaged], ["export", "credits"], ["reindex"],
                    ["verify"]):
        run = event_archive(archive_dir, *command)
        assert run.returncode == 1, command
        assert_one_line(run)
        assert run.stderr.startswith(f"error: {catalog}: ") or \
            run.stderr.startswith(f"problem: {catalog}: the catalog is damaged"), run.stderr
        assert "verify" in run.stderr or "ingest" in run.stderr
    assert {f.name: f.read_bytes() for f in index.iterdir()} == before
    assert (archive_dir / "index").resolve() == index
    for url in (f"/items/{damaged}", f"/api/items/{damaged}"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert url.startswith("/items") or answer.get_json()["status"] == 503


def test_a_damaged_catalog_index_stops_every_writer(tmp_path: Path, event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    catalog = archive_dir / "catalog.sqlite3"
    index = (archive_dir / "index").resolve()
    before = {f.name: f.read_bytes() for f in index.iterdir()}
    # A path in the files table's own index: reading items never meets it, writing might
    # spread the damage further.
    _flip_in_file(catalog, b"p3.jpg", *_page_of(catalog, "sqlite_autoindex_files_1"))
    for command in (["ingest", "-j", "1", str(event_dir)], ["reindex"], ["verify"]):
        run = event_archive(archive_dir, *command)
        assert run.returncode == 1, command
        assert_one_line(run)
        assert f"{catalog}: the catalog is damaged (" in run.stderr
        assert "ingest" in run.stderr  # what to do
    assert {f.name: f.read_bytes() for f in index.iterdir()} == before
    assert (archive_dir / "index").resolve() == index


# Runs a command as a user who may read the archive but not write it (root keeps its
# other powers but loses the one to ignore file modes).
READER = (["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
          if os.geteuid() == 0 else [])


def _leave_open(catalog: Path, sql: str) -> None:
    """A process that runs `sql` on the catalog (autocommit, never checkpointing) and is
    killed with the catalog open: its write-ahead log stays behind."""
    code = ("import os, signal, sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA wal_autocheckpoint = 0')\n"
            "db.execute(sys.argv[2]).fetchall()\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    run = subprocess.run([sys.executable, "-c", code, str(catalog), sql], timeout=60)
    assert run.returncode == -9


def _chmod_tree(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod((0o755 if path.is_dir() else 0o644) if writable else
                       (0o555 if path.is_dir() else 0o444))


@pytest.mark.parametrize("log_left", [False, True])
def test_a_read_only_copy_of_an_archive_is_read_by_every_command_and_the_site(
        tmp_path: Path, event_dir: Path, log_left: bool) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    catalog = archive_dir / "catalog.sqlite3"
    item = json.loads(event_archive(archive_dir, "list", "--json").stdout)[0]["id"]
    if log_left:
        # A reader killed with the catalog open leaves an empty log and the shared-memory
        # file; a backup leaves the latter out (it is only memory), restored read-only.
        _leave_open(catalog, "SELECT COUNT(*) FROM items")
        Path(f"{catalog}-shm").unlink()
        assert Path(f"{catalog}-wal").stat().st_size == 0
    else:
        # The last writer to close the catalog folds its log in and removes it.
        assert event_archive(archive_dir, "verify", "--no-hashes").returncode == 0
        assert not Path(f"{catalog}-wal").exists()
    wrapper = tmp_path / "event-archive-reader"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(READER)} {EVENT_ARCHIVE} "$@"\n')
    wrapper.chmod(0o755)
    _chmod_tree(archive_dir, writable=False)
    try:
        for command in (["list"], ["show", item], ["report"], ["export", "credits"],
                        ["search", "keller"]):
            run = subprocess.run([str(wrapper), "--archive", str(archive_dir), *command],
                                 capture_output=True, text=True, timeout=120)
            assert run.returncode == 0 and run.stdout, (command, run.stderr)
        with serving(archive_dir, tmp_path / "serve.log", executable=wrapper) as server:
            for url in ("/", "/?q=keller", "/events", f"/items/{item}", f"/api/items/{item}",
                        "/credits"):
                assert server.get(url)[0] == 200, url
    finally:
        _chmod_tree(archive_dir, writable=True)


def test_a_read_only_catalog_with_changes_in_its_log_is_one_line(tmp_path: Path,
                                                                event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    catalog = archive_dir / "catalog.sqlite3"
    _leave_open(catalog, "UPDATE meta SET value = value + 1 WHERE key = 'revision'")
    Path(f"{catalog}-shm").unlink()
    assert Path(f"{catalog}-wal").stat().st_size > 0
    _chmod_tree(archive_dir, writable=False)
    try:
        run = subprocess.run([*READER, str(EVENT_ARCHIVE), "--archive", str(archive_dir),
                              "list"], capture_output=True, text=True, timeout=120)
    finally:
        _chmod_tree(archive_dir, writable=True)
    assert run.returncode == 1
    assert_one_line(run)
    assert run.stderr.startswith(f"error: {catalog}: ") and "write-ahead log" in run.stderr
    assert "writable" in run.stderr  # what to do


def test_an_archive_folder_named_like_a_uri_is_read(tmp_path: Path, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(artist="Keller"))
    archive_dir = tmp_path / "archive #2?mode=rw&x=%41"  # read-only opens go by URI
    assert event_archive(archive_dir, "ingest", "-j", "1", str(event_dir)).returncode == 0
    run = event_archive(archive_dir, "list", "--json")
    assert run.returncode == 0, run.stderr
    assert [i["relpath"] for i in json.loads(run.stdout)] == ["a.jpg"]
    answer = create_app(archive_dir).test_client().get("/api/events")
    assert answer.status_code == 200 and answer.get_json()[0]["items"] == 1


@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["022", "027"])
def test_thumbnails_and_facets_honour_the_umask(tmp_path: Path, event_dir: Path,
                                                umask: int) -> None:
    """A site running as another user (of the archive's group) reads what ingest wrote."""
    make_jpeg(event_dir / "a.jpg")
    make_video(event_dir / "b.mp4", seconds=1)
    archive = tmp_path / "arch"
    before = os.umask(umask)
    try:
        for command in (("ingest", str(event_dir)), ("search", "a")):
            subprocess.run([sys.executable, "-m", "archive", "--archive", str(archive),
                            *command], check=True, capture_output=True, timeout=120)
    finally:
        os.umask(before)
    written = [*(archive / "thumbs").rglob("*.jpg"), *archive.glob("index/facets-*.npz")]
    assert len(written) == 6 and written[-1].suffix == ".npz"  # 2 photo, 3 video, facets
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {oct(0o666 & ~umask)}


def test_a_damaged_index_on_a_read_only_archive_is_an_error_not_a_traceback(
        tmp_path: Path, event_dir: Path) -> None:
    archive_dir = ingested(tmp_path, event_dir)
    damage_index(archive_dir)
    _chmod_tree(archive_dir, writable=False)
    try:
        run = subprocess.run([*READER, str(EVENT_ARCHIVE), "--archive", str(archive_dir),
                              "search", "keller"], capture_output=True, text=True,
                             timeout=120)
    finally:
        _chmod_tree(archive_dir, writable=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    notice, error = run.stderr.strip().splitlines()  # why it must rebuild; why it cannot
    assert notice.startswith("rebuilding the search index:") and "damaged" in notice
    assert error.startswith(f"error: {archive_dir / 'index'}: cannot write the search "
                            "index (Permission denied)")


def test_a_served_archive_reads_on_after_ingests_elsewhere(tmp_path: Path,
                                                           sample: Path) -> None:
    """The site keeps one reader open (its search index) and opens another per request.
    Opening the catalog must not drop the locks SQLite holds for the long-lived reader:
    an ingest in another process then took itself for the last user, deleted the log's
    shared memory, and every later request here read a "malformed" catalog."""
    root, event = tmp_path / "archive", tmp_path / "event"
    shutil.copytree(sample, event)
    ingest = [str(EVENT_ARCHIVE), "--archive", str(root), "ingest", "-j", "1", str(event)]
    subprocess.run(ingest, check=True, capture_output=True, timeout=300)

    def request() -> int:
        with Archive.open(root, create=False, readonly=True) as reader:
            return reader.catalog.query("SELECT COUNT(*) FROM items")[0][0]

    with Archive.open(root, create=False, readonly=True) as long_lived:
        items = long_lived.catalog.query("SELECT COUNT(*) FROM items")[0][0]
        assert request() == items
        toml = event / "event.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            "Péter Keller presents INNOPROVEMENT", "Zanzibar"), encoding="utf-8")
        subprocess.run(ingest, check=True, capture_output=True, timeout=300)  # re-resolves
        assert request() == items
        make_jpeg(event / "photos" / "new.jpg", size=(70, 50), exif=make_exif())
        subprocess.run(ingest, check=True, capture_output=True, timeout=300)
        assert request() == items + 1
        assert long_lived.catalog.query("SELECT COUNT(*) FROM items")[0][0] == items + 1


def test_batch_ingest_follows_links_to_event_folders_and_counts_copies(cli,
                                                                      tmp_path: Path) -> None:
    make_events(tmp_path / "kept", good=1, bad=0)
    event = tmp_path / "kept" / "2019" / "event0"
    shutil.copy(event / "photos" / "a.jpg", event / "copy-of-a.jpg")
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "florence").symlink_to(event, target_is_directory=True)
    (roots / "loop").symlink_to(roots, target_is_directory=True)  # walked once, no loop
    out = cli("batch-ingest", str(roots))
    assert "1 event(s), 0 failed" in out
    assert "copies" in out.splitlines()[0]
    assert out.splitlines()[2].split()[1:7] == ["1", "0", "0", "1", "0", "ok"]
    assert [i["event"] for i in cli.json("list")] == ["e0"]
