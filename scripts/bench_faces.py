"""Faces: the face stage against a naive pipeline, and ingest with faces on against off.

On the photographs of ../shared/faces and on 24 MP copies of them (6000 x 4000), in
one run:
(a) the face stage as ingest runs it (the frame decoded once for the thumbnails, then
    detection and descriptors of faces large enough to identify), against a naive
    pipeline: the original decoded at full size with Pillow, resized to the same
    1280 px, the same dlib detection and a descriptor for every face. Target: <= 0.6x.
    The stage's own cost is timed on the frame the thumbnails need anyway.
(b) full ingest (`--jobs 2`) files/s with faces on against `--no-faces`. Target:
    >= 0.25x.
Also faces/s and the peak memory (RSS) of the stage.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from archive.media import faces, thumbs  # noqa: E402

SHARED = ROOT.parent / "shared" / "faces"
CLI = [str(ROOT / ".venv" / "bin" / "event-archive")]
EVENT = '[event]\nid = "bench-faces"\ntitle = "Faces bench"\n'


def big_copies(sources: list[Path], folder: Path) -> list[Path]:
    """24 MP copies (6000 px on the long side), as a camera writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in sources:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
        scale = 6000 / max(upright.size)
        target = folder / f"24mp_{path.name}"
        upright.resize((round(upright.width * scale), round(upright.height * scale)),
                       Image.Resampling.BICUBIC).save(target, quality=92)
        out.append(target)
    return out


def stage(models: faces.Models, path: Path) -> tuple[float, float, int]:
    """(seconds to make the frame, seconds of the face stage on it, faces found)."""
    started = time.perf_counter()
    with Image.open(path) as image:
        w, h = image.size
        frame = thumbs.thumbnail_frame(image, image.getexif().get(0x0112))
    decoded = time.perf_counter()
    found = faces.find_faces(models, frame, (w, h))
    return decoded - started, time.perf_counter() - decoded, len(found)


def naive(models: faces.Models, path: Path) -> tuple[float, int]:
    """Full-size decode, resize, the same detection, a descriptor for every face."""
    started = time.perf_counter()
    with Image.open(path) as image:
        full = ImageOps.exif_transpose(image).convert("RGB")
    full.thumbnail((1280, 1280), Image.Resampling.BILINEAR)
    found = faces.detect(models, full)
    faces.describe(models, full, found)
    return time.perf_counter() - started, len(found)


def compare(models: faces.Models, paths: list[Path], label: str) -> None:
    frame_s = stage_s = naive_s = 0.0
    found = 0
    for path in paths:
        f, s, n = stage(models, path)
        t, _ = naive(models, path)
        frame_s, stage_s, naive_s, found = frame_s + f, stage_s + s, naive_s + t, found + n
    print(f"{label}: {len(paths)} photos, {found} faces; naive {naive_s / len(paths):.3f} "
          f"s/photo; stage {stage_s / len(paths):.3f} s/photo (+{frame_s / len(paths):.3f} "
          f"frame, made for thumbnails anyway) = {stage_s / naive_s:.2f}x naive "
          f"(target <= 0.6); {found / stage_s:.1f} faces/s")


def ingest_rate(paths: list[Path], work: Path, with_faces: bool) -> float:
    event, archive = work / f"event-{with_faces}", work / f"archive-{with_faces}"
    shutil.rmtree(event, ignore_errors=True)
    shutil.rmtree(archive, ignore_errors=True)
    event.mkdir(parents=True)
    (event / "event.toml").write_text(EVENT, encoding="utf-8")
    for path in paths:
        shutil.copy(path, event / path.name)
    flag = "--faces" if with_faces else "--no-faces"
    started = time.perf_counter()
    subprocess.run([*CLI, "-q", "--archive", str(archive), "ingest", "--jobs", "2", flag,
                    str(event)], check=True, timeout=1800)
    return len(paths) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    if not SHARED.is_dir() or faces.load_models() is None:
        sys.exit("bench faces: needs ../shared/faces and the faces extra (scripts/setup)")
    models = faces.load_models()
    assert models is not None
    sources = sorted(SHARED.glob("*.jpg"))
    with tempfile.TemporaryDirectory(prefix="bench-faces-") as tmp:
        copies = big_copies(sources, Path(tmp) / "24mp")
        compare(models, sources, "originals")
        compare(models, copies, "24 MP copies")
        print(f"peak memory of this process (stage and naive): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        for label, paths in (("originals", sources), ("24 MP copies", copies)):
            off = ingest_rate(paths, Path(tmp), False)
            on = ingest_rate(paths, Path(tmp), True)
            print(f"ingest {label}: faces off {off:.2f} files/s, on {on:.2f} files/s = "
                  f"{on / off:.2f}x (target >= 0.25)")


if __name__ == "__main__":
    main()
