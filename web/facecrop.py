"""A face cut out of an item's large thumbnail with Pillow, and the disk cache of those
cuts (`thumbs/faces/` in the archive: derived files, like the thumbnails beside them)."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from pathlib import Path

from PIL import Image

from archive.modes import share_file

log = logging.getLogger(__name__)

MARGIN = 0.35  # of the box's width and height, added on each side: hair, chin, ears
LONGEST = 320  # pixels on the long side of a cut, at most (it is never enlarged)
QUALITY = 85
# A large thumbnail is at most 1,280 px a side (thumbnail_large); anything bigger is
# not one of ours, and is refused before it is decoded.
MAX_PIXELS = 4096 * 4096

Box = tuple[int, int, int, int]


class CutError(Exception):
    """The thumbnail could not be read or the box lies outside it."""


def cache_path(root: Path, item_id: str, number: int, box: Box) -> Path:
    """Where the cut of a face is kept. Every part comes from the catalog (a hex id and
    integers), never from the request; the box is in the name, so a face found again
    elsewhere (a new face stage) gets a new file instead of an old cut."""
    x, y, w, h = box
    return root / "thumbs" / "faces" / item_id[:2] / f"{item_id}-{number}-{x}-{y}-{w}-{h}.jpg"


def scaled_region(box: Box, shown: tuple[int, int], picture: tuple[int, int]
                  ) -> tuple[int, int, int, int]:
    """The box, with its margin, in the thumbnail's pixels (left, top, right, bottom),
    clipped to it. `shown` is the size the box is measured in (the displayed original),
    `picture` the thumbnail's.

    Raises CutError when nothing of the box lies inside the thumbnail.
    """
    x, y, w, h = box
    sx, sy = picture[0] / shown[0], picture[1] / shown[1]
    mx, my = w * MARGIN, h * MARGIN
    left, top = max(0, round((x - mx) * sx)), max(0, round((y - my) * sy))
    right = min(picture[0], round((x + w + mx) * sx))
    bottom = min(picture[1], round((y + h + my) * sy))
    if right <= left or bottom <= top:
        raise CutError(f"the box {box} lies outside the picture")
    return left, top, right, bottom


def cut(thumbnail: Path, box: Box, shown: tuple[int, int]) -> bytes:
    """The face as JPEG bytes, cut from the thumbnail.

    Raises CutError when the thumbnail cannot be read.
    """
    try:
        with Image.open(thumbnail) as image:
            if image.width * image.height > MAX_PIXELS:
                raise CutError(f"{thumbnail.name} is too large for a thumbnail")
            face = image.crop(scaled_region(box, shown, image.size)).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CutError(f"{thumbnail.name}: {exc}") from None
    face.thumbnail((LONGEST, LONGEST), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    face.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def cached(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def keep(path: Path, data: bytes) -> None:
    """Write the cut atomically (a temporary file, then a rename: two workers making the
    same cut at once each leave a whole file). A read-only or full archive keeps nothing:
    the cut is made again on the next request, which is all the cache saves."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    except OSError as exc:
        log.debug("face cut not kept: %s: %s", path.parent, exc.strerror)
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            share_file(fh.fileno())
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        log.debug("face cut not kept: %s: %s", path, exc.strerror)
