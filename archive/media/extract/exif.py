"""EXIF: read with exifread, or with Pillow where exifread cannot (some WebP, HEIC, AVIF).

Both readers are turned into one flat {tag name: value} dict, and `normalise`
makes the item's fields from it; each field is parsed on its own, so one odd
tag spoils only that field.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import exifread
from PIL import ExifTags, Image

from archive.dates import capture_time

# exifread logs every malformed tag at WARNING; a file's problems are ours to report.
logging.getLogger("exifread").setLevel(logging.CRITICAL)

RawTags = dict[str, Any]
_SKIP_PREFIXES = ("Thumbnail ", "IFD ", "MakerNote ", "Interoperability ")
_DATE = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\Z")


def read_exifread(data: bytes) -> RawTags:
    """EXIF tags by name as exifread reads them; empty when it finds none.

    Raises whatever exifread raises on a malformed file; the caller falls back.
    """
    tags = exifread.process_file(io.BytesIO(data), details=False)
    raw: RawTags = {}
    for key, tag in tags.items():
        if key.startswith(_SKIP_PREFIXES) or not hasattr(tag, "values"):
            continue
        name = key.split(" ", 1)[-1]
        raw.setdefault(name, tag.values)
    return raw


def read_pillow(image: Image.Image) -> RawTags:
    """EXIF tags by name as Pillow reads them (IFD0, Exif IFD and GPS IFD)."""
    exif = image.getexif()
    raw: RawTags = {ExifTags.TAGS.get(k, str(k)): v for k, v in exif.items()}
    for ifd, names in ((ExifTags.IFD.Exif, ExifTags.TAGS),
                       (ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS)):
        try:
            sub = exif.get_ifd(ifd)
        except (KeyError, ValueError, OSError, TypeError):
            continue
        raw.update({names.get(k, str(k)): v for k, v in sub.items()})
    return raw


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if value is None:
        return None
    value = str(value).replace("\x00", "").strip()
    return value or None


def _number(value: Any) -> float | None:
    value = _first(value)
    if value is None:
        return None
    number = float(Fraction(value.numerator, value.denominator)) if hasattr(
        value, "denominator") and value.denominator else float(value)
    return round(number, 6)


def _dms(value: Any, ref: Any) -> float | None:
    if not isinstance(value, list | tuple) or len(value) != 3:
        return None
    if any(getattr(v, "denominator", 1) == 0 for v in value):
        return None  # 0/0 is how cameras write "no fix"
    d, m, s = (_number(v) for v in value)
    if d is None or m is None or s is None:
        return None
    degrees = d + m / 60 + s / 3600
    if (_text(ref) or "").upper()[:1] in ("S", "W"):
        degrees = -degrees
    return round(degrees, 7)


def parse_exif_datetime(value: str | None, subsec: Any = None,
                        offset: Any = None) -> str | None:
    """'2019:03:19 11:42:07' + sub-seconds + offset -> ISO 8601; None if absent or invalid."""
    match = _DATE.match(value or "")
    if not match:
        return None
    try:
        stamp = dt.datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    digits = re.sub(r"\D", "", _text(subsec) or "")[:6]
    if digits:
        stamp = stamp.replace(microsecond=int(digits.ljust(6, "0")))
    off = _OFFSET.match(_text(offset) or "")
    if off and int(off[2]) < 24 and int(off[3]) < 60:  # else no offset: local time
        sign = -1 if off[1] == "-" else 1
        delta = dt.timedelta(hours=int(off[2]), minutes=int(off[3]))
        stamp = stamp.replace(tzinfo=dt.timezone(sign * delta))
    return stamp.isoformat()


def _exposure_time(value: Any) -> str | None:
    seconds = _first(value)
    number = _number(seconds)
    if not number or number <= 0:
        return None
    if number < 1:
        return f"1/{round(1 / number)}"
    return f"{number:g}"


def _gps(raw: RawTags) -> dict[str, float | None] | None:
    lat = _dms(raw.get("GPSLatitude"), raw.get("GPSLatitudeRef"))
    lon = _dms(raw.get("GPSLongitude"), raw.get("GPSLongitudeRef"))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    alt = _number(raw.get("GPSAltitude"))
    if alt is not None and _first(raw.get("GPSAltitudeRef")) in (1, b"\x01"):
        alt = -alt
    return {"lat": lat, "lon": lon, "alt": alt}


def _orientation(raw: RawTags) -> int | None:
    value = _first(raw.get("Orientation"))
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _taken(raw: RawTags, notes: list[str]) -> str | None:
    """The first plausible of DateTimeOriginal and DateTimeDigitized; notes the absurd."""
    for name, sub, off in (("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal"),
                           ("DateTimeDigitized", "SubSecTimeDigitized", "OffsetTimeDigitized")):
        written = _text(raw.get(name))
        parsed = parse_exif_datetime(written, raw.get(sub), raw.get(off))
        if parsed is None and _unreadable_date(written):
            notes.append(f"EXIF {name} {written!r} is not a date and time; ignored as the "
                         "capture time")
        taken = capture_time(parsed, f"EXIF {name}", notes)
        if taken:
            return taken
    return None


def _unreadable_date(written: str | None) -> bool:
    """Text that says a date but none that exists (2019:02:30): cameras that know no date
    write blanks or zeros, which say nothing and are no mistake."""
    return bool(written) and re.search(r"[1-9]", written or "") is not None


_FIELDS: dict[str, Callable[[RawTags], Any]] = {
    "make": lambda r: _text(r.get("Make")),
    "model": lambda r: _text(r.get("Model")),
    "serial": lambda r: _text(r.get("BodySerialNumber") or r.get("SerialNumber")),
    "lens": lambda r: _text(r.get("LensModel")),
    "orientation": _orientation,
    "iso": lambda r: _number(r.get("ISOSpeedRatings") or r.get("PhotographicSensitivity")),
    "fnumber": lambda r: _number(r.get("FNumber")),
    "exposure_time": lambda r: _exposure_time(r.get("ExposureTime")),
    "focal_length": lambda r: _number(r.get("FocalLength")),
    "gps": _gps,
    "artist": lambda r: _text(r.get("Artist")),
    "copyright": lambda r: _text(r.get("Copyright")),
    "description": lambda r: _text(r.get("ImageDescription")),
}


def normalise(raw: RawTags) -> tuple[dict[str, Any], list[str]]:
    """The item fields found in raw tags, and a note for each field that failed to parse."""
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse in _FIELDS.items():
        try:
            fields[name] = parse(raw)
        except (ValueError, TypeError, ZeroDivisionError, AttributeError,
                OverflowError) as exc:
            fields[name] = None
            problems.append(f"EXIF {name}: {exc}")
    fields["taken"] = _taken(raw, problems)
    if fields["iso"] is not None:
        fields["iso"] = int(fields["iso"])
    return fields, problems
