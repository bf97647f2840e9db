"""Ingest speed: event-archive against vipsthumbnail, in the same run.

Prints files/second of a full ingest with --jobs 2 and --no-faces (hash, EXIF/XMP/IPTC,
both thumbnails, catalog; the face stage is `scripts/bench faces`'s) as a ratio of
`vipsthumbnail -s 512` run as 2 batch processes over the same 24 MP JPEGs; the
re-ingest of the unchanged folder as a share of the first; and the peak memory of an
ingest of 2,000 files.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from helpers.media import add_iptc, make_exif, make_xmp  # noqa: E402

CLI = [str(ROOT / ".venv" / "bin" / "event-archive")]


def photo_like(size: tuple[int, int], seed: int) -> Image.Image:
    """Smooth gradients plus fine texture: compresses (and decodes) like a real photo."""
    w, h = size
    base = Image.linear_gradient("L").resize((w, h))
    coarse = Image.effect_noise((w // 4, h // 4), 30 + seed % 20).resize(
        (w, h), Image.Resampling.BICUBIC)
    fine = Image.effect_noise((w, h), 10 + seed % 7)
    bands = (base, coarse, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    return Image.merge("RGB", [Image.blend(b, fine, 0.25) for b in bands])


def unique_copy(data: bytes, target: Path, tag: str) -> None:
    """The same picture under a new identity: a JPEG comment makes the hash unique."""
    comment = tag.encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    target.write_bytes(data[:2] + segment + data[2:])


def make_photos(folder: Path, count: int, size: tuple[int, int], bases: int = 8
                ) -> list[Path]:
    """`count` distinct 24 MP JPEGs made from `bases` generated pictures (generation is
    slow; decoding cost is the same for a copy as for a new picture)."""
    folder.mkdir(parents=True, exist_ok=True)
    base_dir = folder.parent / "bases"
    base_dir.mkdir(exist_ok=True)
    pictures = []
    for i in range(bases):
        path = base_dir / f"base{i}.jpg"
        if not path.exists():
            exif = make_exif(serial="0123456", lens="EF 24-70mm", iso=800, focal=35.0)
            photo_like(size, i).save(path, "JPEG", quality=90, exif=exif,
                                     xmp=make_xmp(creator=["Bench Photographer"],
                                                  persons=["Péter Keller"]))
            add_iptc(path, {(2, 80): "Bench Photographer", (2, 25): ["bench", "ingest"]})
        pictures.append(path.read_bytes())
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        if not path.exists():
            unique_copy(pictures[i % bases], path, f"bench photo {i}")
        paths.append(path)
    return paths


def run_vips(paths: list[Path], out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    halves = [paths[0::2], paths[1::2]]
    started = time.perf_counter()
    procs = [subprocess.Popen(["vipsthumbnail", "-s", "512", "-o", f"{out}/%s.jpg",
                               *map(str, half)]) for half in halves]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit("vipsthumbnail failed")
    return time.perf_counter() - started


class PeakRss:
    """Samples the resident memory of a process and all its children."""

    def __init__(self, pid: int) -> None:
        self.proc, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running())
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join()
        return self.peak


def run_ingest(archive: Path, folder: Path, jobs: int = 2) -> tuple[float, int]:
    started = time.perf_counter()
    # Without the face stage: its cost against this ingest is `scripts/bench faces`'s.
    proc = subprocess.Popen([*CLI, "--archive", str(archive), "-q", "ingest", "--no-faces",
                             "--jobs", str(jobs), str(folder)])
    meter = PeakRss(proc.pid)
    if proc.wait() != 0:
        raise SystemExit("event-archive ingest failed")
    return time.perf_counter() - started, meter.stop()


def many_small(folder: Path, count: int) -> None:
    """2,000 distinct 2 MP JPEGs for the memory check."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.parent / "base-small.jpg"
    if not base.exists():
        photo_like((1600, 1200), 1).save(base, "JPEG", quality=88, exif=make_exif())
    data = base.read_bytes()
    for i in range(count):
        path = folder / f"P{i:05d}.jpg"
        if not path.exists():
            unique_copy(data, path, f"copy {i}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=200, help="24 MP photos (default 200)")
    parser.add_argument("--memory-files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating runs of each, of which the medians count")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-out" / "ingest")
    args = parser.parse_args()
    if shutil.which("vipsthumbnail") is None:
        raise SystemExit("vipsthumbnail not found: run scripts/setup (apt libvips-tools)")
    photos = make_photos(args.work / "photos24mp", args.files, (6000, 4000))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmpdir = Path(tmp)
        # Alternating rounds, medians: one run of each swings by 10% on a shared machine.
        vips_runs, first_runs = [], []
        for n in range(args.rounds):
            vips_runs.append(run_vips(photos, tmpdir / f"vips{n}"))
            shutil.rmtree(tmpdir / "archive", ignore_errors=True)
            first_runs.append(run_ingest(tmpdir / "archive", photos[0].parent)[0])
        vips, first = statistics.median(vips_runs), statistics.median(first_runs)
        # The median of three no-op runs: one run is a process start-up, which a busy
        # machine can double.
        again = statistics.median(run_ingest(tmpdir / "archive", photos[0].parent)[0]
                                  for _ in range(3))
        many_small(args.work / "small2000", args.memory_files)
        _, peak = run_ingest(tmpdir / "archive-mem", args.work / "small2000")
    n = len(photos)
    ratio = (n / first) / (n / vips)
    print(f"ingest, {n} x 24 MP JPEG, --jobs 2, median of {args.rounds}: {n / first:.2f} "
          f"files/s; "
          f"vipsthumbnail -s 512 x2 processes: {n / vips:.2f} files/s")
    print(f"  ratio ingest / vipsthumbnail = {ratio:.2f}  (target >= 0.90: "
          f"{'met' if ratio >= 0.9 else 'MISSED'})")
    share = again / first
    print(f"  re-ingest unchanged (median of 3): {again:.2f} s = {share:.1%} of first ingest "
          f"({first:.2f} s)  (target < 3%: {'met' if share < 0.03 else 'MISSED'})")
    mb = peak / 2**20
    print(f"  peak memory, ingest of {args.memory_files} files: {mb:.0f} MB "
          f"(target < 400 MB: {'met' if mb < 400 else 'MISSED'})")


if __name__ == "__main__":
    main()
