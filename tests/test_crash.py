"""A killed ingest leaves a catalog that opens; a re-run completes it exactly."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media import make_jpeg

from archive.store import Archive

COUNT = 240


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-event")
    for i in range(COUNT):
        make_jpeg(folder / f"d{i % 4}" / f"IMG_{i:04d}.jpg", size=(900 + i, 600))
    return folder


def start_ingest(root: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archive", "--archive", str(root),
                             "ingest", "-j", "2", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def catalogued(root: Path) -> int:
    try:
        with sqlite3.connect(f"file:{root / 'catalog.sqlite3'}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.Error:
        return 0


def snapshot(root: Path) -> dict[str, object]:
    with Archive.open(root) as archive:
        db = archive.catalog
        assert db.query("PRAGMA integrity_check")[0][0] == "ok"
        return {
            "items": sorted((r["id"], r["relpath"]) for r in db.query("SELECT * FROM items")),
            "files": sorted((r["relpath"], r["item_id"], r["state"])
                            for r in db.query("SELECT * FROM files")),
            "thumbs": sorted((r["item_id"], r["name"])
                             for r in db.query("SELECT * FROM thumbnails")),
            "errors": db.query("SELECT COUNT(*) FROM errors")[0][0],
        }


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
    deadline = time.monotonic() + 120
    while catalogued(root) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    partial = catalogued(root)
    assert 0 < partial < COUNT, f"the kill landed outside the run ({partial} items)"
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
