"""The shared real-camera corpus (../shared/corpus beside the checkout), and comparing
what we read of it with exiftool (`exiftool -json -n`)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"

FIELDS = ("make", "model", "taken", "orientation", "gps")
TAGS = ["-Make", "-Model", "-DateTimeOriginal", "-CreateDate", "-CreationDate",
        "-Orientation", "-Rotation", "-GPSLatitude", "-GPSLongitude"]


def corpus_or_skip() -> Path:
    """The shared real-camera corpus; a fresh clone has none, and the test says so."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present (fresh clone)")
    return CORPUS


def exiftool(paths: list[Path]) -> dict[str, dict[str, Any]]:
    out = subprocess.run(["exiftool", "-json", "-n", "-q", "-q", *TAGS, *map(str, paths)],
                         capture_output=True, timeout=300, check=False).stdout
    return {row["SourceFile"]: row for row in json.loads(out or b"[]")}


def _exif_time(text: Any) -> str | None:
    if not isinstance(text, str) or text.startswith("0000"):
        return None
    text = text.strip()
    for length, pattern in ((19, "%Y:%m:%d %H:%M:%S"), (16, "%Y:%m:%d %H:%M")):
        try:
            return dt.datetime.strptime(text[:length], pattern).isoformat()
        except ValueError:
            continue
    return None


def theirs(row: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "photo":
        taken = _exif_time(row.get("DateTimeOriginal")) or _exif_time(row.get("CreateDate"))
        orientation = row.get("Orientation")
    else:
        # QuickTime CreationDate keeps local time; CreateDate is UTC.
        local = row.get("CreationDate")
        taken = _exif_time(local) if isinstance(local, str) else (
            _exif_time(row.get("CreateDate")) or _exif_time(row.get("DateTimeOriginal")))
        orientation = row.get("Rotation")
    lat, lon = row.get("GPSLatitude"), row.get("GPSLongitude")
    return {"make": _text(row.get("Make")), "model": _text(row.get("Model")), "taken": taken,
            "orientation": orientation,
            "gps": (round(lat, 4), round(lon, 4)) if isinstance(lat, float | int)
            and isinstance(lon, float | int) else None}


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def ours(item: dict[str, Any]) -> dict[str, Any]:
    camera = item.get("camera") or {}
    gps = item.get("gps")
    taken = item["taken"] if item.get("taken_source") != "file" else None
    return {"make": camera.get("make"), "model": camera.get("model"),
            "taken": taken[:19] if taken else None,
            "orientation": item.get("orientation"),
            "gps": (round(gps["lat"], 4), round(gps["lon"], 4)) if gps else None}


def disagreements(mine: dict[str, Any], other: dict[str, Any]) -> dict[str, list[Any]]:
    found = {}
    for name in FIELDS:
        a, b = mine[name], other[name]
        if name == "orientation" and {a, b} <= {None, 0, 1}:
            continue  # "normal" and "not said" mean the same picture
        if name == "gps" and a and b and all(abs(x - y) < 2e-4 for x, y in zip(a, b,
                                                                               strict=True)):
            continue
        if a != b:
            found[name] = [a, b]
    return found
