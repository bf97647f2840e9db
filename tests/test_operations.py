"""Batch ingest, verify, locking and hostile event files."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media import make_exif, make_jpeg, make_video

from archive.catalog import CatalogError
from archive.errors import ManifestError
from archive.locking import ArchiveBusy, write_lock
from archive.manifest import load_event
from archive.store import Archive
from web.app import create_app

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
        archive.catalog.touch_item(item["id"])  # the catalog moves on, the index does not
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
    for url in ("/?q=keller", "/api/search?q=kind:photo", "/credits?q=keller"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert b"event-archive verify" in answer.data
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
        == {"ok": True, "files_checked": 0, "problems": [], "repaired": []}


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def overwritten(path: Path) -> None:
    path.write_bytes(b"\0" * 4096 + path.read_bytes()[4096:])


@pytest.mark.parametrize("damage", [cut_short, emptied, overwritten])
def test_a_damaged_catalog_is_one_line_everywhere_and_spares_the_index(
        tmp_path: Path, event_dir: Path, damage: object) -> None:
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
        assert run.stderr.startswith("error: ") and "catalog" in run.stderr
        assert "ingest" in run.stderr  # what to do
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
    run = event_archive(archive_dir, "verify", "--json")  # a hang fails on the time-out
    assert run.returncode == 1
    problems = sorted(json.loads(run.stdout)["problems"])
    assert problems == [f"{event_dir / 'p0.jpg'}: is now a FIFO, not the file catalogued; "
                        "run ingest",
                        f"{event_dir / 'p1.jpg'}: is now a character device, not the file "
                        "catalogued; run ingest"]


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
