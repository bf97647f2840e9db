"""Proof under faults: random kills, mutated files, a full disk."""

from __future__ import annotations

import datetime as dt
import random
import resource
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.ingest.pipeline import ingest_folder
from archive.store import Archive

from helpers.archives import snapshot
from helpers.corpus import CORPUS
from helpers.media import add_iptc, make_exif, make_jpeg, make_video, make_xmp, pattern
from helpers.processes import catalogued, stopped_when, thumbnails

# Slow: hundreds of mutated files, killed ingests, a full disk.
pytestmark = pytest.mark.slow

SEED = 20261126
PHOTOS = 150


def cli(root: Path, *args: str, **kw: object) -> list[str]:
    return [sys.executable, "-m", "archive", "--archive", str(root), *args]


@pytest.fixture(scope="module")
def photo_event(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fault-event")
    (folder / "event.toml").write_text(EVENT_TOML, encoding="utf-8")
    for i in range(PHOTOS):
        make_jpeg(folder / f"d{i % 3}" / f"IMG_{i:04d}.jpg", size=(700 + i, 500),
                  exif=make_exif(serial=str(i), taken=dt.datetime(2019, 3, 19, 10, i % 60),
                                 artist="Anna Rossi" if i % 2 else None))
    return folder


# Sessions and credits, so a resumed run must also reproduce tags and credits.
EVENT_TOML = """
[event]
id = "faults"
title = "Faults"
date = 2019-03-19
timezone = "Europe/Rome"
[credit]
organisation = "ASEV"
license = "CC-BY-4.0"
[[people]]
id = "anna"
name = "Anna Rossi"
[[sessions]]
id = "morning"
title = "Morning"
start = 09:00
end = 10:30
speakers = ["anna"]
"""


# Where each kill lands, in the order an ingest gets there: after some finished thumbnails
# (work not yet committed), at a committed batch, with every item committed (resolving),
# and after the summary line (syncing the index).
LIFE = ("thumbnails", "batch", "thumbnails", "batch", "thumbnails", "resolving", "syncing")


def kill_at(moment: str, rng: random.Random, root: Path, event: Path) -> int:
    """Run an ingest, SIGKILL it at `moment` of its run (seen while it is stopped, so the
    kill lands there) and return the items it left committed."""
    made, items = thumbnails(root), catalogued(root) or 0
    wanted = min(made + rng.randint(1, 60), 2 * PHOTOS)  # < a batch of new files
    proc = subprocess.Popen(cli(root, "ingest", "-j", "2", str(event)),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = {"thumbnails": lambda: thumbnails(root) >= wanted,
            "batch": lambda: (catalogued(root) or 0) > items,
            "resolving": lambda: catalogued(root) == PHOTOS,
            "syncing": lambda: select.select([proc.stdout], [], [], 0)[0]}[moment]
    with proc:
        try:
            assert stopped_when(proc, seen, moment), f"the ingest ended before {moment}"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.send_signal(signal.SIGCONT)
    return catalogued(root, mode="rw") or 0


def test_kills_along_an_ingest_then_verify_and_complete(tmp_path: Path, photo_event: Path
                                                        ) -> None:
    reference = tmp_path / "reference"
    done = subprocess.run(cli(reference, "ingest", "-j", "2", str(photo_event)),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rng = random.Random(SEED)
    root = tmp_path / "killed"
    left = []
    for moment in LIFE:
        left.append(kill_at(moment, rng, root, photo_event))
        check = subprocess.run(cli(root, "verify", "--no-hashes"), capture_output=True,
                               text=True, timeout=300)
        assert check.returncode == 0, check.stdout + check.stderr
    assert left[:5] == sorted(left[:5]) and 0 < left[4] < PHOTOS, left
    final = subprocess.run(cli(root, "ingest", "-j", "2", str(photo_event)),
                           capture_output=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert snapshot(root) == snapshot(reference)
    search = subprocess.run(cli(root, "search", "kind:photo", "--json"), capture_output=True,
                            text=True, timeout=120)
    assert f'"total": {PHOTOS}' in search.stdout


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_full_disk_is_a_clear_error_and_the_catalog_survives(tmp_path: Path,
                                                             photo_event: Path) -> None:
    root = tmp_path / "archive"
    full = subprocess.run(cli(root, "ingest", "-j", "2", str(photo_event)),
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: _limit_file_size(96 * 1024))
    assert full.returncode == 1, full.stdout + full.stderr
    assert "error:" in full.stderr and "Traceback" not in full.stderr
    with Archive.open(root) as archive:
        assert archive.catalog.query("PRAGMA integrity_check")[0][0] == "ok"
    again = subprocess.run(cli(root, "ingest", "-j", "2", str(photo_event)),
                           capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr
    reference = tmp_path / "reference"
    subprocess.run(cli(reference, "ingest", "-j", "2", str(photo_event)),
                   capture_output=True, timeout=300, check=True)
    assert snapshot(root) == snapshot(reference)


# ---- fuzz ------------------------------------------------------------------------------

def _seeds(folder: Path) -> list[bytes]:
    """Real files to mutate: the shared corpus when present, plus media made here."""
    made = [make_jpeg(folder / "a.jpg", size=(300, 200), exif=make_exif(
        gps=(43.7, 11.2, 50.0), artist="A", copyright="C"), xmp=make_xmp(
        creator=["X"], persons=["Péter Keller"]))]
    add_iptc(made[0], {(2, 80): "By", (2, 25): ["k1", "k2"]})
    for fmt in ("PNG", "WEBP", "TIFF"):
        path = folder / f"b.{fmt.lower()}"
        pattern((120, 90)).save(path, fmt, exif=make_exif())
        made.append(path)
    made.append(make_video(folder / "c.mp4", seconds=1, size="160x120"))
    seeds = [p.read_bytes() for p in made]
    if CORPUS.is_dir():
        seeds += [p.read_bytes() for p in sorted((CORPUS / "photos").glob("*"))[:25]
                  if p.stat().st_size < 400_000]
    return seeds


def _huge_dimensions(data: bytes) -> bytes:
    """Declare an enormous picture: JPEG SOF0/SOF2 or PNG IHDR sizes set to the maximum."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at > 0:
            return data[:at + 5] + b"\xff\xff\xff\xff" + data[at + 9:]
    if data.startswith(b"\x89PNG"):
        return data[:16] + struct.pack(">II", 2**31 - 1, 2**31 - 1) + data[24:]
    return data


def _absurd_exif(data: bytes) -> bytes:
    """Claim 65,535 entries in the first EXIF directory."""
    at = data.find(b"Exif\x00\x00")
    if at < 0:
        return data
    tiff = at + 6
    big = data[tiff:tiff + 2] == b"MM"
    offset = struct.unpack(">I" if big else "<I", data[tiff + 4:tiff + 8])[0]
    where = tiff + offset
    return data[:where] + b"\xff\xff" + data[where + 2:]


BOMB = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";")
                                          * 10) for i in range(8))
        + b']><x:xmpmeta xmlns:x="adobe:ns:meta/">&i;</x:xmpmeta>')


def _xmp_bomb(data: bytes) -> bytes:
    at = data.find(b"<x:xmpmeta")
    if at < 0:
        return data[:2] + b"\xff\xe1" + struct.pack(">H", len(BOMB) + 31) + \
            b"http://ns.adobe.com/xap/1.0/\x00" + BOMB + data[2:]
    end = data.find(b"</x:xmpmeta>", at)
    return data[:at] + BOMB + data[end + 12:] if end > 0 else data


def mutate(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return data[:rng.randrange(1, max(2, len(data)))]
    if kind == 1:
        out = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(16)) + data[16:]
    if kind == 3:
        return _huge_dimensions(data)
    if kind == 4:
        return _absurd_exif(data)
    if kind == 5:
        return _xmp_bomb(data)
    start = rng.randrange(len(data))
    return data[:start] + data[start:start + rng.randint(1, 4096)] * rng.randint(2, 50)


def test_five_hundred_mutated_files(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    seeds = _seeds(tmp_path / "seeds")
    event = tmp_path / "event"
    event.mkdir()
    suffixes = (".jpg", ".png", ".webp", ".tif", ".mp4", ".heic", ".mov", ".dat")
    for n in range(500):
        (event / f"f{n:03d}{rng.choice(suffixes)}").write_bytes(mutate(rng, rng.choice(seeds)))
    started = time.monotonic()
    with Archive.open(tmp_path / "archive") as archive:
        summary = ingest_folder(archive, event, jobs=2, progress=False, timeout=30)
        assert summary.added + summary.duplicate + summary.failed + summary.updated == 500
        items = {r["path"] for r in archive.catalog.query(
            "SELECT path FROM files WHERE state = 'present' AND role = 'media'")}
        errors = {r["path"] for r in archive.catalog.query(
            "SELECT path FROM errors WHERE level = 'error'")}
        failed = {r["path"] for r in archive.catalog.query(
            "SELECT path FROM files WHERE state = 'failed'")}
    every = {str(p) for p in event.iterdir()}
    assert items | failed == every
    assert failed <= errors
    assert time.monotonic() - started < 600
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert children < 3 * 1024, f"a worker reached {children:.0f} MB"
