"""The shared face photographs (../shared/faces beside the checkout, with MANIFEST.tsv),
and the face stage run on a photo as ingest runs it."""

from __future__ import annotations

import csv
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
