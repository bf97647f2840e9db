"""Video speed: metadata + poster + strip against a bare ffprobe + one ffmpeg poster.

Makes a 60 s 1080p H.264 clip, then times, in alternation, what ingest does
for a video (examine: hash, ffprobe, poster, 10-frame strip, thumbnails) and
the reference: one bare `ffprobe` plus one `ffmpeg -ss T -i … -frames:v 1` at
the same poster time. Prints the median of each and their ratio (target <= 3),
and the ratio of CPU time (this process and its children), which other work on a
shared machine disturbs less. The clip has x264's default GOP (a key frame every
10 s), as cameras write: the strip's moments are far from key frames.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from archive.ingest.examine import Task, examine  # noqa: E402
from archive.media.extract.video import normalise, probe  # noqa: E402
from archive.media.posters import poster_time  # noqa: E402

from helpers.media import make_video  # noqa: E402


def clip(work: Path) -> Path:
    path = work / "clip-60s-1080p.mp4"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        tmp = work / "clip.part.mp4"
        make_video(tmp, seconds=60, size="1920x1080",
                   extra=["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                          "-c:a", "aac"])
        tmp.rename(path)
    return path


def cpu_seconds() -> float:
    """CPU time of this process and its finished children."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def ours(path: Path, root: Path) -> tuple[float, float]:
    shutil.rmtree(root, ignore_errors=True)
    st = path.stat()
    started, cpu = time.perf_counter(), cpu_seconds()
    out = examine(Task(str(path), path.name, st.st_size, st.st_mtime_ns, (), str(root)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if out.problems or set(out.thumbnails) != {"small", "large", "strip"}:
        raise SystemExit(f"examine failed: {out.problems}")
    return elapsed, cpu


def reference(path: Path, at: float, out: Path) -> tuple[float, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                    str(path)], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(at), "-i", str(path),
                    "-frames:v", "1", str(out)], check=True, capture_output=True)
    return time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "bench-out" / "video")
    args = parser.parse_args()
    path = clip(args.work)
    at = poster_time(normalise(probe(path))["duration"])
    mine, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        for _ in range(args.rounds):
            mine.append(ours(path, Path(tmp) / "archive"))
            theirs.append(reference(path, at, Path(tmp) / "poster.jpg"))
    a, b = (statistics.median(m[0] for m in runs) for runs in (mine, theirs))
    cpu = statistics.median(m[1] for m in mine) / statistics.median(m[1] for m in theirs)
    print(f"video, 60 s 1080p H.264, poster at {at:g} s, median of {args.rounds}:")
    print(f"  metadata + poster + 10-frame strip + thumbnails: {a * 1000:.0f} ms")
    print(f"  bare ffprobe + one ffmpeg -ss poster:           {b * 1000:.0f} ms")
    print(f"  ratio = {a / b:.2f}  (target <= 3.00: {'met' if a / b <= 3 else 'MISSED'}); "
          f"CPU time ratio = {cpu:.2f}")


if __name__ == "__main__":
    main()
