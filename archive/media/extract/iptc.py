"""IPTC IIM (the Photoshop APP13 block of JPEG and TIFF) read with Pillow."""

from __future__ import annotations

from typing import Any

from PIL import Image, IptcImagePlugin

from archive.dates import capture_time, iptc_datetime

_FIELDS = {(2, 5): "title", (2, 80): "creator", (2, 110): "credit", (2, 116): "copyright",
           (2, 120): "description", (2, 25): "keywords", (2, 105): "headline",
           (2, 55): "date", (2, 60): "time"}
_REPEATABLE = {"creator", "keywords"}
_UTF8_MARK = b"\x1b%G"


def _decode(raw: bytes, utf8: bool) -> str:
    if utf8:
        return raw.decode("utf-8", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # IIM without a declared character set is, in practice, Latin-1 or cp1252.
        return raw.decode("cp1252", "replace")


def read_iptc(image: Image.Image, notes: list[str] | None = None) -> dict[str, Any]:
    """By-line, Credit, Copyright Notice, Caption, Keywords, Object Name, Date and Time
    Created; {} if none. An absurd date and time are dropped, with a note in `notes`."""
    info = IptcImagePlugin.getiptcinfo(image) or {}
    utf8 = _UTF8_MARK in (info.get((1, 90)) or b"")
    found: dict[str, Any] = {}
    for key, name in _FIELDS.items():
        value = info.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        texts = [t for t in (_decode(v, utf8).strip("\x00 ") for v in values
                             if isinstance(v, bytes)) if t]
        if texts:
            found[name] = texts if name in _REPEATABLE else texts[0]
    stamp = iptc_datetime(found.get("date"), found.get("time"))
    if stamp and not capture_time(stamp, "IPTC Date/Time Created", notes):
        del found["date"], found["time"]
    return found
