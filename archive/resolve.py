"""Resolve: decide each item's time, descriptive fields, sessions, people and credit.

Every answer keeps its source, so the report and the site can say where a
fact came from. Works from the stored extraction and the event file alone,
so editing `event.toml` re-resolves without reading any media again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .model import Event, MediaEntry


@dataclass
class ItemFacts:
    """What resolution needs of one catalogued item."""

    id: str
    kind: str
    relpath: str
    metadata: dict[str, Any]
    mtime_ns: int = 0


@dataclass
class Resolution:
    taken: str | None = None
    taken_source: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"taken": self.taken, "taken_source": self.taken_source, "title": self.title,
                "description": self.description, "keywords": self.keywords}


# Camera firmware fills ImageDescription with its own name; such text is no description.
_BOILERPLATE = {"OLYMPUS DIGITAL CAMERA", "SONY DSC", "DIGITAL CAMERA", "DCIM", "KONICA MINOLTA",
                "SAMSUNG", "PANASONIC", "DEFAULT", "IMAGE"}


def _embedded(meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Embedded metadata blocks in precedence order, each with its source name."""
    return [("xmp", meta.get("sidecar_xmp") or {}), ("xmp", meta.get("xmp") or {}),
            ("iptc", meta.get("iptc") or {}), ("exif", meta.get("exif") or {}),
            ("video", meta.get("tags") or {})]


def _first_text(meta: dict[str, Any], key: str) -> str | None:
    for _source, block in _embedded(meta):
        value = block.get(key)
        if isinstance(value, str) and value.strip() and \
                value.strip().upper() not in _BOILERPLATE:
            return value.strip()
    return None


def _keywords(meta: dict[str, Any], entry: MediaEntry | None) -> list[str]:
    words: list[str] = list(entry.keywords) if entry else []
    for _source, block in _embedded(meta):
        value = block.get("keywords") or []
        words += [value] if isinstance(value, str) else value
    return list(dict.fromkeys(w.strip() for w in words if w and w.strip()))


def localise(stamp: str, event: Event) -> str:
    """An ISO time without offset is the camera's local time: the event's zone."""
    parsed = dt.datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=event.tz)
    return parsed.isoformat()


def _iptc_taken(iptc: dict[str, Any]) -> str | None:
    """IPTC 2:55 Date Created (CCYYMMDD) with 2:60 Time Created (HHMMSS±HHMM)."""
    date, clock = iptc.get("date") or "", iptc.get("time") or ""
    try:  # a date without a time is not a capture time; inventing midnight would mislead
        day = dt.datetime.strptime(date, "%Y%m%d")
        at = dt.datetime.strptime(clock[:6], "%H%M%S").time()
    except ValueError:
        return None
    stamp = dt.datetime.combine(day.date(), at)
    offset = clock[6:]
    if len(offset) == 5 and offset[0] in "+-" and offset[1:].isdigit():
        sign = -1 if offset[0] == "-" else 1
        delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        stamp = stamp.replace(tzinfo=dt.timezone(sign * delta))
    return stamp.isoformat()


def resolve_taken(facts: ItemFacts, event: Event) -> tuple[str | None, str | None]:
    """The capture time and its source: exif/video > xmp > iptc > file time."""
    meta = facts.metadata
    own = "exif" if facts.kind == "photo" else "video"
    for source, value in ((own, meta.get("taken")),
                          ("xmp", (meta.get("sidecar_xmp") or {}).get("taken")),
                          ("xmp", (meta.get("xmp") or {}).get("taken")),
                          ("iptc", _iptc_taken(meta.get("iptc") or {}))):
        if value:
            return localise(value, event), source
    if facts.mtime_ns:
        stamp = dt.datetime.fromtimestamp(facts.mtime_ns / 1e9, tz=event.tz)
        return stamp.replace(microsecond=0).isoformat(), "file"
    return None, None


def media_entry(event: Event, relpath: str) -> MediaEntry | None:
    return next((m for m in event.media if m.path == relpath), None)


def resolve(facts: ItemFacts, event: Event) -> Resolution:
    entry = media_entry(event, facts.relpath)
    taken, source = resolve_taken(facts, event)
    meta = facts.metadata
    return Resolution(
        taken=taken, taken_source=source,
        title=(entry.title if entry else None) or _first_text(meta, "title"),
        description=(entry.description if entry else None) or _first_text(meta, "description")
        or _first_text(meta, "comment"),
        keywords=_keywords(meta, entry))
