"""The shared face photographs (../shared/faces beside the checkout, with MANIFEST.tsv),
and the face stage run on a photo as ingest runs it."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
from PIL import Image

from archive.media import thumbs
from archive.media.faces import Models, find_faces, load_models
from archive.model import Face

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT.parent / "shared" / "faces"
# First on PYTHONPATH, this makes `import dlib` fail: a machine without the extra.
WITHOUT_FACES = ROOT / "tests" / "data" / "without_faces"


def faces_or_skip() -> Path:
    """The shared face photographs; a fresh clone has none, and the test says so."""
    if not (FACES / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/faces is not present (fresh clone)")
    return FACES


def manifest() -> list[dict[str, str]]:
    """MANIFEST.tsv's rows (file, identity, faces_detected, licence…); [] without it."""
    if not (FACES / "MANIFEST.tsv").is_file():
        return []
    with open(FACES / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def models_or_skip() -> Models:
    """The face models, or a skip on a machine without the `faces` extra."""
    pytest.importorskip("dlib", reason="the faces extra is not installed")
    models = load_models()
    assert models is not None, "dlib is installed but its models are not"
    return models


def stage_faces(path: Path, orientation: int | None = None) -> list[Face]:
    """What the face stage finds in a photo file: the frame made as for thumbnails."""
    models = models_or_skip()
    with Image.open(path) as image:
        exif_orientation = image.getexif().get(0x0112) if orientation is None else orientation
        w, h = image.size
        frame = thumbs.thumbnail_frame(image, exif_orientation)
    shown = (h, w) if exif_orientation in (5, 6, 7, 8) else (w, h)
    return find_faces(models, frame, shown)


PORTRAITS = ("obama_2012_oval_office.jpg", "lisa_01.jpg", "lisa_03.jpg",
             "lisa_zoom15cm.jpg", "susan_helms_portrait.jpg", "james_voss_portrait.jpg",
             "william_shepherd_portrait.jpg", "peggy_whitson_portrait.jpg",
             "london_006_neutral.jpg", "london_025_neutral.jpg", "london_030_neutral.jpg",
             "london_042_neutral.jpg")  # the shared photographs of one person each


def frame_of(path: Path) -> Image.Image:
    """The frame the face stage reads of a photo (as made for thumbnails)."""
    with Image.open(path) as image:
        return thumbs.thumbnail_frame(image, image.getexif().get(0x0112)).convert("RGB")


@functools.cache
def _face(name: str) -> tuple[int, int, int]:
    """The centre and height of dlib's box of a portrait's face in its frame, found
    with one upsampling step, as dlib's examples do."""
    import numpy as np

    frame = frame_of(faces_or_skip() / name)
    box = max(models_or_skip().detectors.every_level(np.asarray(frame), 1),
              key=lambda r: r.height())
    return box.center().x, box.center().y, box.height()


def head(name: str, height: int) -> Image.Image:
    """A portrait's head and shoulders, scaled so that its face is `height` px high."""
    x, y, h = _face(name)
    crop = frame_of(faces_or_skip() / name).crop((x - h, y - h, x + h, round(y + 1.2 * h)))
    scale = height / h
    return crop.resize((round(crop.width * scale), round(crop.height * scale)),
                       Image.Resampling.LANCZOS)


def crowd(height: int, background: str = "noface_great_sandy_desert.jpg") -> Image.Image:
    """A 1280 x 853 frame with the twelve portraits' faces `height` px high, in three
    rows, on a photograph without people."""
    frame = frame_of(faces_or_skip() / background).resize((1280, 853),
                                                          Image.Resampling.BICUBIC)
    for n, name in enumerate(PORTRAITS):
        frame.paste(head(name, height), (60 + (n % 4) * 300 + (n // 4) * 40,
                                         60 + (n // 4) * 260))
    return frame
