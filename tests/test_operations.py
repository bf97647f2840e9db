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

from archive.errors import ManifestError
from archive.locking import ArchiveBusy, write_lock
from archive.manifest import load_event
from archive.store import Archive

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


def test_second_writer_waits_or_exits_with_a_message(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    with write_lock(lock, wait=False), pytest.raises(ArchiveBusy, match="another ingest"):
        with write_lock(lock, wait=False):
            pass
    with subprocess.Popen([sys.executable, "-c", (
            "import sys, time\nfrom pathlib import Path\nfrom archive.locking import "
            f"write_lock\nwith write_lock(Path({str(lock)!r})):\n    print('held', flush=True)"
            "\n    time.sleep(1.5)\n")], stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with write_lock(lock, quiet=True):
            waited = time.monotonic() - started
    assert waited > 0.5


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
                           *args], capture_output=True, text=True, timeout=300,
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
