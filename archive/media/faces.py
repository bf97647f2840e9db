"""Faces: find them in a frame already decoded for the thumbnails, align and describe
them with dlib (the `faces` extra: dlib-bin and face-recognition-models).

The frame is the upright image of at most `thumbnail_large` pixels that thumbnails and
posters are made from: the original is never decoded again for faces. Detection is
dlib's HOG detector in two passes (`hog`): faces from about 80 px on the frame itself,
then from about 40 px on the frame enlarged by `face_detect_scale`. Measured on the
12 portraits of ../shared/faces pasted 40 px high into 1280 x 853 frames: 1.5 finds
all 12, as 2.0 (dlib's own upsampling, 1.8 times the pixels) does; at 36 px, 9 of the
12 that 2.0 finds. Faces lower than
`face_descriptor_min` get no descriptor (about 80 ms each): shrunk to 60 px, the
portraits' descriptors stay within 0.18 of their full-size ones (median 0.13), against
0.26 at 40 px.

The models load once per process (`load_models`): ingest loads them before its
workers fork, which then share them.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from archive import settings
from archive.media import hog
from archive.media.hog import Found
from archive.model import Face

log = logging.getLogger(__name__)

MODEL_PACKAGE = "face_recognition_models"
PREDICTOR = "shape_predictor_5_face_landmarks.dat"  # 5-point alignment
ENCODER = "dlib_face_recognition_resnet_model_v1.dat"  # 128-d descriptors
INSTALL_HINT = "install event-archive[faces] (scripts/setup does) to find faces"

__all__ = ["Found", "Models", "describe", "detect", "find_faces", "load_models",
           "unavailable"]


@dataclass(frozen=True)
class Models:
    detectors: hog.Detectors
    predictor: Any  # dlib.shape_predictor
    encoder: Any  # dlib.face_recognition_model_v1


# This worker process's models: set once by load_models, never changed after.
_models: Models | None = None


def model_dir() -> Path:
    """Where face-recognition-models keeps its .dat files (found without importing it:
    its __init__ needs pkg_resources, which current setuptools no longer has).

    Raises ImportError when the package is not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"No module named {MODEL_PACKAGE!r}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def unavailable() -> str | None:
    """Why faces cannot be found on this machine, or None when they can."""
    try:
        import dlib  # noqa: F401
    except ImportError as exc:
        return f"dlib is not installed ({exc})"
    try:
        folder = model_dir()
    except ImportError as exc:
        return f"dlib's models are not installed ({exc})"
    missing = [name for name in (PREDICTOR, ENCODER) if not (folder / name).is_file()]
    return f"dlib's model files {', '.join(missing)} are missing" if missing else None


def load_models() -> Models | None:
    """This process's models, loaded on the first call (0.1 s); None without the extra.
    Ingest loads them before its workers fork, which then share their pages."""
    global _models
    if _models is None and unavailable() is None:
        import dlib

        folder = model_dir()
        _models = Models(hog.load_detectors(),
                         dlib.shape_predictor(str(folder / PREDICTOR)),
                         dlib.face_recognition_model_v1(str(folder / ENCODER)))
    return _models


def detect(models: Models, frame: Image.Image, closeup: float | None = None
           ) -> list[Found]:
    """Faces in `frame` from about 40 px high (`hog.detect`), in frame pixels; a
    close-up is one with a face of `closeup` (the face_closeup setting unless given) of
    its shorter side."""
    return hog.detect(models.detectors, frame, settings.value("face_detect_scale"),
                      settings.value("face_closeup") if closeup is None else closeup)


def describe(models: Models, frame: Image.Image, found: list[Found]) -> list[bytes]:
    """The 128-d descriptor of each detection (5-point alignment), as float32 bytes."""
    import dlib

    if not found:
        return []
    rgb = np.asarray(frame.convert("RGB"))
    shapes = dlib.full_object_detections()
    for f in found:
        rect = dlib.rectangle(round(f.left), round(f.top), round(f.right) - 1,
                              round(f.bottom) - 1)
        shapes.append(models.predictor(rgb, rect))
    vectors = models.encoder.compute_face_descriptor(rgb, shapes)
    return [np.asarray(v, dtype="<f4").tobytes() for v in vectors]


def _box(f: Found, frame: tuple[int, int], shown: tuple[int, int]
         ) -> tuple[int, int, int, int]:
    """A detection in the displayed image's pixels, kept inside it."""
    sx, sy = shown[0] / frame[0], shown[1] / frame[1]
    left, top = max(0, round(f.left * sx)), max(0, round(f.top * sy))
    right, bottom = min(shown[0], round(f.right * sx)), min(shown[1], round(f.bottom * sy))
    return left, top, max(0, right - left), max(0, bottom - top)


def find_faces(models: Models, frame: Image.Image, shown: tuple[int, int],
               time: float | None = None) -> list[Face]:
    """The faces of an upright frame, boxed in the pixels of the displayed image of size
    `shown` (the frame is that image reduced), left to right."""
    found = sorted(detect(models, frame), key=lambda f: (f.left, f.top))
    smallest = settings.value("face_descriptor_min")
    large = [n for n, f in enumerate(found) if f.height >= smallest]
    vectors = dict(zip(large, describe(models, frame, [found[n] for n in large]),
                       strict=True))
    return [Face(_box(f, frame.size, shown), round(f.score, 4), vectors.get(n), time)
            for n, f in enumerate(found)]
