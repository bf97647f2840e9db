"""A killed ingest leaves a catalog that opens; a re-run completes it exactly."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from archive.store import Archive

from helpers.archives import snapshot
from helpers.media import make_exif, make_jpeg, make_video
from helpers.processes import catalogued, poll_until, stopped_when

# Slow: real ingests of 240 photos, killed and resumed.
pytestmark = pytest.mark.slow

COUNT = 240


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-event")
    for i in range(COUNT):
        make_jpeg(folder / f"d{i % 4}" / f"IMG_{i:04d}.jpg", size=(900 + i, 600))
    return folder


def _default_sigint() -> None:
    # As a terminal's Ctrl-C finds it: a suite run in the background (cron, `&`, nohup)
    # ignores SIGINT, and an ignored SIGINT is inherited, so the ingest would never see it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_ingest(root: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archive", "--archive", str(root),
                             "ingest", "-j", "2", str(folder)], preexec_fn=_default_sigint,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_ingest_resumes_to_the_same_catalog(tmp_path: Path, many_photos: Path,
                                                   sig: signal.Signals) -> None:
    reference = tmp_path / "reference"
    done = subprocess.run([sys.executable, "-m", "archive", "--archive", str(reference),
                           "ingest", "-j", "2", str(many_photos)], capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr

    root = tmp_path / "killed"
    proc = start_ingest(root, many_photos)
    try:
        assert stopped_when(proc, lambda: catalogued(root), "a committed batch"), \
            "the ingest ended before a batch was seen committed"
        proc.send_signal(sig)
    finally:
        proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=120)
    partial = catalogued(root, mode="rw")
    assert partial is not None and 0 < partial < COUNT, f"{partial} items after the kill"
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert b"interrupted" in stderr

    again = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "ingest",
                            "-j", "2", str(many_photos)], capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == snapshot(reference)
    with Archive.open(root) as archive:
        for row in archive.catalog.query("SELECT path FROM thumbnails"):
            assert (root / row["path"]).stat().st_size > 0


def test_crash_between_commit_and_resolution_is_completed_by_the_rerun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.ingest.resolution as resolution
    from archive.ingest.pipeline import ingest_folder

    event = tmp_path / "event"
    event.mkdir()
    (event / "event.toml").write_text('[event]\nid = "e"\ntitle = "E"\n[credit]\n'
                                      'organisation = "ASEV"\n', encoding="utf-8")
    for i in range(3):
        make_jpeg(event / f"p{i}.jpg", size=(50 + i, 40))
    with Archive.open(tmp_path / "reference") as archive:
        ingest_folder(archive, event, jobs=1, progress=False)

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the process dies after the commit, before resolving

    with monkeypatch.context() as patch:
        patch.setattr(resolution, "resolve_event", killed)
        with Archive.open(tmp_path / "crashed") as archive, pytest.raises(KeyboardInterrupt):
            ingest_folder(archive, event, jobs=1, progress=False)
    with Archive.open(tmp_path / "crashed") as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
    assert snapshot(tmp_path / "crashed") == snapshot(tmp_path / "reference")


def _busy_worker(ingest: subprocess.Popen, path: Path) -> psutil.Process | None:
    """The ingest's worker that is running ffprobe or ffmpeg on `path`, if any (another
    worker may run one on another file)."""
    try:
        workers = psutil.Process(ingest.pid).children()
    except psutil.NoSuchProcess:
        return None
    for worker in workers:
        try:
            if any(str(path) in child.cmdline() for child in worker.children()):
                return worker
        except psutil.Error:
            continue
    return None


def test_a_file_whose_worker_was_killed_is_read_again_by_the_next_ingest(
        tmp_path: Path) -> None:
    event = tmp_path / "event"
    video = make_video(event / "talk.mp4", seconds=4, size="640x480")
    corrupt = event / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    root = tmp_path / "archive"
    first = subprocess.Popen([sys.executable, "-m", "archive", "--archive", str(root), "ingest",
                              "-j", "2", str(event)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    with first:
        worker = poll_until(lambda: _busy_worker(first, video), "a worker reading the video",
                            interval=0.002)
        worker.kill()  # as the kernel's OOM killer or an operator would
        out, err = first.communicate(timeout=120)
    assert "2 failed" in out and f"{video}: [worker] worker died (exit code -9)" in err, err
    check = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "verify",
                            "--json"], capture_output=True, text=True, timeout=120)
    (problem,) = json.loads(check.stdout)["problems"]
    assert problem.startswith(f"{video}: not read (worker died") and "run ingest" in problem

    again = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "ingest",
                            "-j", "2", str(event)], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    # The killed worker's file is read again; the corrupt one is not.
    assert "1 added, 0 updated, 1 unchanged" in again.stdout, again.stdout + again.stderr
    assert "worker died" not in again.stderr and f"{corrupt}: [" in again.stderr
    with Archive.open(root) as archive:
        assert archive.catalog.query("SELECT state FROM files WHERE path = ?",
                                     (str(video),))[0][0] == "present"


RESOLVED_EVENT = """
[event]
id = "resolved"
title = "Resolved"
date = 2019-03-19
timezone = "Europe/Rome"
[credit]
organisation = "ASEV"
[[sessions]]
id = "morning"
title = "Morning"
start = 09:00
end = 12:00
"""


def _listed(root: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "list",
                           "--json"], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_a_killed_ingest_leaves_no_item_half_made(tmp_path: Path) -> None:
    event = tmp_path / "event"
    event.mkdir()
    (event / "event.toml").write_text(RESOLVED_EVENT, encoding="utf-8")
    for i in range(COUNT // 2):
        make_jpeg(event / f"IMG_{i:04d}.jpg", size=(60 + i, 40),
                  exif=make_exif(taken=dt.datetime(2019, 3, 19, 10, i % 60)))
    root = tmp_path / "archive"
    proc = start_ingest(root, event)
    try:
        assert stopped_when(proc, lambda: catalogued(root), "a committed batch")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.send_signal(signal.SIGCONT)
    proc.communicate(timeout=120)
    items = _listed(root)
    assert 0 < len(items) < COUNT // 2
    # Each committed item has its whole answer: time, session and credit.
    assert [i["relpath"] for i in items if not (
        i["taken"] and i["sessions"] and i["credit"]["line"])] == []
    check = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "verify",
                            "--no-hashes"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
