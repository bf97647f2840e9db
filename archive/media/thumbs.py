"""Thumbnails: decode a photo once at reduced size, write both sizes, content-addressed.

JPEG "draft" decoding lets libjpeg scale by 1/2, 1/4 or 1/8 while decoding, so
a 24 MP photo is never decoded at full size for a 1280 px thumbnail.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from PIL import Image

from archive import settings
from archive.errors import ArchiveWriteError, MediaError
from archive.modes import share_file

_CANNOT_WRITE = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES}

SIZES = {"small": settings.value("thumbnail_small"), "large": settings.value("thumbnail_large")}
# JPEG, not WebP: encoding a 1280 px WebP costs as much as decoding the 24 MP original
# at 1/4 scale (measured: 45 ms against 3 ms), which would halve ingest speed.
FORMAT, SUFFIX = "JPEG", "jpg"
SAVE_OPTIONS = {"quality": 85, "optimize": False}
BAND = 512  # rows of a large image flattened and reduced at a time
# The decode_budget setting is what decoding one photo may take: the file (held in
# memory, or mapped by libtiff), the decoder's own buffer and the pixels. A worker's own
# ~100 MB (interpreter, libraries, the bands of `_reduced`) comes on top: measured 995 MiB
# for a 511 MB 16-bit RGBA TIFF of 100 MP, estimated at 897 MiB, so a photo stays under
# the README's 1 GB.
MB = settings.MiB

# EXIF orientation -> the transposes that bring the pixels upright.
_UPRIGHT: dict[int, tuple[Image.Transpose, ...]] = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def thumb_relpath(item_id: str, size: int) -> str:
    """Where a thumbnail lives inside the archive: thumbs/<2 hex>/<hash>-<size>.jpg."""
    return f"thumbs/{item_id[:2]}/{item_id}-{size}.{SUFFIX}"


def thumbs_exist(root: Path, item_id: str) -> bool:
    return all((root / thumb_relpath(item_id, px)).is_file() for px in SIZES.values())


def existing(root: Path, item_id: str) -> dict[str, dict[str, object]]:
    """The facts of thumbnails already on disk (content-addressed: same hash, same pixels)."""
    result: dict[str, dict[str, object]] = {}
    for name, px in SIZES.items():
        rel = thumb_relpath(item_id, px)
        with Image.open(root / rel) as im:
            result[name] = {"path": rel, "width": im.width, "height": im.height}
    return result


def upright(image: Image.Image, orientation: int | None) -> Image.Image:
    for step in _UPRIGHT.get(orientation or 1, ()):
        image = image.transpose(step)
    return image


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, longest / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _write_atomic(image: Image.Image, target: Path) -> None:
    """Write via a temporary file and rename, so a killed ingest leaves no half thumbnail."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    except OSError as exc:
        raise ArchiveWriteError(f"cannot write thumbnails in {target.parent.parent}: "
                                f"{exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            share_file(fh.fileno())
            image.save(fh, FORMAT, **SAVE_OPTIONS)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in _CANNOT_WRITE:
            raise ArchiveWriteError(f"cannot write thumbnails in {target.parent.parent}: "
                                    f"{exc.strerror}") from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or L pixels for JPEG; transparency is laid on white, as viewers show it."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "P" and "transparency" not in image.info:
        return image.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "P", "La", "RGBa"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _reduced(image: Image.Image, longest: int) -> Image.Image:
    """The decoded image flattened for JPEG and reduced by a whole factor, to no less
    than `longest` pixels on its long side.

    Large images go a band of rows at a time: flattening a 100 MP RGBA image whole (or
    premultiplying it, as Pillow's reduce does) made three more copies of it, 1.3 GB.
    """
    image.load()
    factor = max(image.size) // longest
    if factor < 2:
        return _flatten(image)
    w, h = image.size
    rows = factor * -(-BAND // factor)  # whole blocks of `factor` rows in each band
    bands = [_flatten(image.crop((0, top, w, min(h, top + rows)))).reduce(factor)
             for top in range(0, h, rows)]
    out = Image.new(bands[0].mode, (-(-w // factor), -(-h // factor)))
    for number, band in enumerate(bands):
        out.paste(band, (0, number * rows // factor))
    return out


def _pixel_bytes(image: Image.Image) -> int:
    """What Pillow allocates for the decoded pixels: 1 byte a pixel for 1, L and P, 2 for
    I;16, 4 for every other mode (RGB included)."""
    per_pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith(
        "I;16") else 4
    return image.width * image.height * per_pixel


def _decoder_bytes(image: Image.Image) -> int:
    """The buffer Pillow's libtiff decoder fills before unpacking into pixels: a whole
    strip or tile at the file's depth. A TIFF written as one compressed strip needs it
    for the whole image: 800 MB for 100 MP of 16-bit RGBA, beside 400 MB of pixels.
    Pillow's other decoders work a few rows at a time."""
    tile = getattr(image, "tile", None)  # only images opened from a file have one
    if not tile or tile[0][0] != "libtiff":
        return 0
    tags = image.tag_v2
    try:
        bits = tags.get(258, 8)
        depth = -(-max(bits if isinstance(bits, tuple) else (bits,)) // 8)
        samples = 1 if tags.get(284, 1) == 2 else int(tags.get(277, 1))
        if tags.get(322) and tags.get(323):
            area = int(tags[322]) * int(tags[323])
        else:
            area = image.width * min(int(tags.get(278) or image.height), image.height)
    except (TypeError, ValueError):
        return 0  # tags libtiff will refuse anyway
    return area * max(samples * depth, 4)  # YCbCr and JPEG are read as RGBA


def decode_problem(image: Image.Image, held: int) -> str | None:
    """Why the image is not decoded for thumbnails (its decoding would take more than
    the decode_budget setting, `held` being the bytes of the file kept meanwhile), or
    None."""
    buffer, pixels = _decoder_bytes(image), _pixel_bytes(image)
    total, budget = held + buffer + pixels, settings.value("decode_budget")
    if total <= budget:
        return None
    part = (f"one strip or tile of {buffer / MB:,.0f} MB decoded whole" if buffer > held
            else f"the file's {held / MB:,.0f} MB")
    return (f"no thumbnail: decoding it would take about {total / MB:,.0f} MB, with {part} "
            f"and {pixels / MB:,.0f} MB of pixels, more than the {budget // MB} MB "
            "a photo may; re-save it with smaller strips or tiles")


def thumbnail_frame(image: Image.Image, orientation: int | None, held: int = 0
                    ) -> Image.Image:
    """The opened image decoded once, reduced and upright, at most `thumbnail_large`
    pixels on its long side: what the thumbnails and the face stage are made from.

    Raises MediaError (stage thumbnail) when decoding would take more memory than a
    photo may (`held`: bytes of the file kept in memory meanwhile), OSError (or a Pillow
    error) when the pixels cannot be decoded.
    """
    largest = max(SIZES.values())
    w, h = image.size
    if image.format == "JPEG":
        # Ask for the smallest decode still at least `largest` on the long side.
        image.draft("RGB", _fit((w, h), largest) if max(w, h) > largest else (w, h))
    problem = decode_problem(image, held)
    if problem:
        raise MediaError("thumbnail", problem)
    frame = upright(_reduced(image, largest), orientation)
    if max(frame.size) > largest:
        # BOX is area averaging: right for downscaling, and 40% cheaper than BILINEAR
        # on the 1/4-scale JPEG decode (measured 7.6 against 12.1 ms at 24 MP).
        frame = frame.resize(_fit(frame.size, largest), Image.Resampling.BOX)
    return frame


def write_thumbnails(frame: Image.Image, root: Path, item_id: str
                     ) -> dict[str, dict[str, object]]:
    """Write the thumbnails of a frame from `thumbnail_frame`; returns name -> facts."""
    result: dict[str, dict[str, object]] = {}
    for name, px in sorted(SIZES.items(), key=lambda kv: -kv[1]):
        if max(frame.size) > px:
            frame = frame.resize(_fit(frame.size, px), Image.Resampling.BOX)
        rel = thumb_relpath(item_id, px)
        _write_atomic(frame, root / rel)
        result[name] = {"path": rel, "width": frame.width, "height": frame.height}
    return result


def make_thumbnails(image: Image.Image, orientation: int | None, root: Path,
                    item_id: str, held: int = 0) -> dict[str, dict[str, object]]:
    """Write the small and large thumbnails of an opened image; returns name -> facts.

    Raises as `thumbnail_frame`.
    """
    return write_thumbnails(thumbnail_frame(image, orientation, held), root, item_id)
