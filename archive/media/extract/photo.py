"""Photos: EXIF (exifread, Pillow as fallback), XMP and IPTC into one normalised dict.

Which reader serves which format:
- exifread: JPEG, TIFF, camera raw (CR2, NEF, DNG), PNG eXIf, and WebP/HEIC when it can;
- Pillow `getexif()` (with pillow-heif for HEIC/HEIF, Pillow's own AVIF support):
  whatever exifread returns nothing for or raises on;
- XMP: the packet found in the file's bytes, parsed with defusedxml;
- IPTC IIM: Pillow's IptcImagePlugin (JPEG APP13 and TIFF).
"""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

import pillow_heif
from PIL import Image, UnidentifiedImageError

from archive import settings
from archive.errors import MediaError
from archive.media.extract import exif, iptc, xmp
from archive.media.types import MediaType

pillow_heif.register_heif_opener()

# The largest photo we decode, for every format. Pillow refuses past it as well; at the
# limit a 16-bit RGBA PNG decodes to 400 MB, and thumbnails are made from it a band at a
# time (thumbs.py), so one file stays under 1 GB (two 225 MP scans once took 5.7 GB).
Image.MAX_IMAGE_PIXELS = settings.value("max_pixels")
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")

# Errors Pillow raises for files it cannot read; anything else is a bug of ours.
# (Its AVIF plugin reports a broken frame as RuntimeError.)
PIL_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError,
              RuntimeError, Image.DecompressionBombError, Image.DecompressionBombWarning)


def _too_large(pixels: int | None, size: tuple[int, int] | None = None) -> MediaError:
    limit = settings.value("max_pixels")
    shown = f"{pixels / 1e6:.0f} MP" if pixels else f"over {2 * limit / 1e6:.0f} MP"
    if size:
        shown = f"{size[0]} × {size[1]} pixels ({shown})"
    return MediaError("decode", f"image of {shown} is larger than the limit of "
                      f"{limit / 1e6:.0f} MP; not decoded")


def open_image(data: bytes) -> Image.Image:
    """Open (not decode) an image; raises MediaError when Pillow cannot identify it or it
    has more than the max_pixels setting."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Refused before we see the image: its pixel count is only in Pillow's message.
        found = _BOMB_PIXELS.search(str(exc))
        raise _too_large(int(found[1]) if found else None) from None
    except UnidentifiedImageError:
        raise MediaError("decode", "not a readable image: no decoder recognises its data") \
            from None
    except PIL_ERRORS as exc:
        raise MediaError("decode", f"not a readable image: {exc}") from None
    if image.width * image.height > settings.value("max_pixels"):
        raise _too_large(image.width * image.height, image.size)
    return image


def embedded_preview(data: bytes, attempts: int = 8) -> Image.Image | None:
    """The largest decodable JPEG embedded in a camera raw file, or None.

    We never develop raw sensor data; every raw format carries a JPEG preview.
    """
    best: Image.Image | None = None
    start = data.find(b"\xff\xd8\xff", 1)
    while start >= 0 and attempts > 0:
        attempts -= 1
        try:
            candidate = Image.open(io.BytesIO(data[start:]))
            candidate.load()
            if best is None or candidate.width * candidate.height > best.width * best.height:
                best = candidate
        except PIL_ERRORS:
            pass
        start = data.find(b"\xff\xd8\xff", start + 3)
    return best


def _raw_exif(data: bytes, image: Image.Image | None, problems: list[str]) -> exif.RawTags:
    try:
        raw = exif.read_exifread(data)
    except Exception as exc:  # noqa: BLE001 - exifread raises anything on odd files
        problems.append(f"exifread failed ({type(exc).__name__}: {exc}); used Pillow")
        raw = {}
    if not raw and image is not None:
        try:
            raw = exif.read_pillow(image)
        except Exception as exc:  # noqa: BLE001 - Pillow's EXIF parser, same reason
            problems.append(f"EXIF unreadable: {type(exc).__name__}: {exc}")
    return raw


def xmp_of(data: bytes, problems: list[str]) -> dict[str, Any]:
    """The file's XMP facts: its packet's, with what its Extended XMP adds (a JPEG's
    properties too large for the main packet)."""
    packet = xmp.find_packet(data)
    if not packet:
        return {}
    try:
        facts = xmp.parse_packet(packet, problems)
    except xmp.XmpError as exc:
        problems.append(str(exc))
        return {}
    guid = xmp.extended_guid(packet)
    if guid:
        facts = _with_extended(facts, data, guid, problems)
    return facts


def _with_extended(facts: dict[str, Any], data: bytes, guid: str,
                   problems: list[str]) -> dict[str, Any]:
    try:
        extended = xmp.extended_packet(data, guid)
        if extended is None:
            problems.append("XMP names Extended XMP the file does not hold whole; the "
                            "properties moved there are missing")
            return facts
        more = xmp.parse_packet(extended, problems)
    except xmp.XmpError as exc:
        problems.append(f"Extended XMP: {exc}")
        return facts
    return {key: value or more.get(key) for key, value in facts.items()}


def _iptc(image: Image.Image | None, problems: list[str]) -> dict[str, Any]:
    if image is None:
        return {}
    try:
        return iptc.read_iptc(image, problems)
    except Exception as exc:  # noqa: BLE001 - malformed APP13 blocks raise anything
        problems.append(f"IPTC unreadable: {type(exc).__name__}: {exc}")
        return {}


def read_photo(data: bytes, media_type: MediaType,
               image: Image.Image | None) -> tuple[dict[str, Any], list[str]]:
    """The normalised metadata of a photo and the problems met reading it.

    `image` is the opened Pillow image, or None for files Pillow cannot open
    (camera raw); metadata is then read from the bytes alone.
    """
    problems: list[str] = []
    fields, field_problems = exif.normalise(_raw_exif(data, image, problems))
    problems += field_problems
    width, height = image.size if image is not None else (None, None)
    return {
        "width": width, "height": height,
        "orientation": fields["orientation"],
        "taken": fields["taken"],
        "camera": {k: fields[k] for k in ("make", "model", "serial", "lens")},
        "exposure": {k: fields[k] for k in ("iso", "fnumber", "exposure_time",
                                            "focal_length")},
        "gps": fields["gps"],
        "exif": {"artist": fields["artist"], "copyright": fields["copyright"],
                 "description": fields["description"]},
        "xmp": xmp_of(data, problems),
        "iptc": _iptc(image, problems),
    }, problems
