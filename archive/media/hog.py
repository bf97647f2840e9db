"""dlib's frontal face detector (HOG, five filters: front, left, right and front turned
either way), and how the face stage runs it: in two passes, the second only where it
can find something.

The detector finds faces from about 80 px high, at every level of an image pyramid
(each level 5/6 of the one above, down to 64 px). Faces of about 40 px need the frame
enlarged (`face_detect_scale`, 1.5), which costs 2.25 times the pixels; but only the two
finest levels of that enlarged pyramid find anything the frame's own pyramid does not.
So the first pass runs on the frame as it is (every level), the second on the enlarged
frame with its two finest levels only: the same faces for the same work as one pass on
the enlarged frame (measured on ../shared/faces and on their faces pasted at 32 to
120 px into 1280-px frames). In a close-up (a face at least `face_closeup` of the
frame's shorter side found by the first pass) the second pass is left out: its faces
would be people at least three times farther than the subject, too small to identify.

dlib builds the detector from text compiled into it (0.3 s, most of loading the face
models); the copy `save` wrote into archive/data reads in 1 ms. dlib's Python interface
has no setting for the pyramid's depth: the saved copy's `max_pyramid_levels` is
rewritten in its bytes for the second pass.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

# dlib's get_frontal_face_detector() as its `save` writes it (dlib's Boost licence).
SAVED = Path(__file__).resolve().parents[1] / "data" / "frontal_face_detector.svm"
# Where the saved detector holds max_pyramid_levels, 1000 (every level) as dlib packs an
# integer: its byte count, then the bytes, least significant first.
LEVELS_AT, EVERY_LEVEL = 16, b"\x02\xe8\x03"
FINEST_LEVELS = 2  # of the enlarged frame: faces from about 40 to 70 px
# The detector's own test of two detections of one face (its boxes_overlap, as saved).
SAME_FACE_IOU, SAME_FACE_COVERED = 0.33, 0.79


@dataclass(frozen=True)
class Detectors:
    every_level: Any  # dlib.fhog_object_detector
    finest_levels: Any  # the same, scanning the two finest levels of its pyramid


@dataclass(frozen=True)
class Found:
    """A detection in frame pixels."""

    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def same_face(self, other: Found) -> bool:
        """dlib's test: much overlap, or one box mostly inside the other."""
        w = max(0.0, min(self.right, other.right) - max(self.left, other.left))
        h = max(0.0, min(self.bottom, other.bottom) - max(self.top, other.top))
        inter, mine, theirs = w * h, self.area, other.area
        return (inter / (mine + theirs - inter) > SAME_FACE_IOU
                or inter > SAME_FACE_COVERED * min(mine, theirs))

    @property
    def area(self) -> float:
        return max(1e-9, (self.right - self.left) * (self.bottom - self.top))


def _read(data: bytes) -> Any:
    """A detector from bytes as `save` writes them (dlib reads only files)."""
    import dlib

    with tempfile.NamedTemporaryFile(suffix=".svm") as fh:
        fh.write(data)
        fh.flush()
        return dlib.fhog_object_detector(fh.name)


def load_detectors() -> Detectors:
    """The saved detector and its finest-levels variant; dlib's own, built in 0.3 s,
    for both passes (as slow, as good) when the saved copy cannot be read as expected."""
    import dlib

    try:
        data = SAVED.read_bytes()
        if data[LEVELS_AT:LEVELS_AT + len(EVERY_LEVEL)] != EVERY_LEVEL:
            raise ValueError("not the detector this code was written for")
        finest = data[:LEVELS_AT] + bytes([1, FINEST_LEVELS]) + \
            data[LEVELS_AT + len(EVERY_LEVEL):]
        return Detectors(_read(data), _read(finest))
    except (OSError, RuntimeError, ValueError) as exc:  # dlib: RuntimeError
        log.debug("saved face detector not read (%s); dlib's own is built", exc)
        detector = dlib.get_frontal_face_detector()
        return Detectors(detector, detector)


def run(detector: Any, grey: Image.Image, scale: float) -> list[Found]:
    """`detector`'s detections in the grey frame enlarged by `scale`, in frame pixels."""
    if scale != 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    rects, scores, _kinds = detector.run(np.asarray(grey), 0, 0.0)
    return [Found(r.left() / scale, r.top() / scale, (r.right() + 1) / scale,
                  (r.bottom() + 1) / scale, float(score))
            for r, score in zip(rects, scores, strict=True)]


def distinct(found: list[Found]) -> list[Found]:
    """One detection per face, the best scored, as dlib keeps within one pass."""
    kept: list[Found] = []
    for f in sorted(found, key=lambda f: -f.score):
        if not any(f.same_face(k) for k in kept):
            kept.append(f)
    return kept


def detect(detectors: Detectors, frame: Image.Image, scale: float, closeup: float
           ) -> list[Found]:
    """Faces from about 80 px at the frame's own scale; then, unless one of them makes
    the frame a close-up (`closeup` of its shorter side; 0: never), those from about
    80 / `scale` px on the frame enlarged by `scale`. In frame pixels."""
    grey = frame.convert("L")  # fhog reads colour for nothing here; grey is 30% cheaper
    found = run(detectors.every_level, grey, 1.0)
    if closeup and any(f.height >= closeup * min(frame.size) for f in found):
        return found
    return distinct(found + run(detectors.finest_levels, grey, scale))
