"""Video and audio metadata from ffprobe's JSON.

ffmpeg-python 0.2's `ffmpeg.probe` has no timeout, and a hostile file can keep
ffprobe busy for ever; we run the same ffprobe call through `tools.run`,
which kills it at the deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from archive import settings
from archive.dates import capture_time
from archive.errors import MediaError
from archive.media import tools

_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")
_TAG_KEYS = {
    "make": ("com.apple.quicktime.make", "make", "com.android.manufacturer"),
    "model": ("com.apple.quicktime.model", "model", "com.android.model"),
    "title": ("title", "com.apple.quicktime.title"),
    "artist": ("artist", "com.apple.quicktime.artist", "album_artist", "author"),
    "comment": ("comment", "com.apple.quicktime.comment"),
    "description": ("description", "com.apple.quicktime.description", "synopsis"),
    "copyright": ("copyright", "com.apple.quicktime.copyright"),
    "keywords": ("keywords", "com.apple.quicktime.keywords"),
    "location": ("com.apple.quicktime.location.iso6709", "location", "location-eng"),
}


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON for a file; raises MediaError when ffprobe cannot read it."""
    out = tools.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                     str(path)], "probe", settings.value("probe_timeout"))
    try:
        return json.loads(out.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        raise MediaError("probe", f"ffprobe printed no JSON: {exc}") from None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _rate(value: Any) -> float | None:
    num, _, den = str(value or "").partition("/")
    top, bottom = _float(num), _float(den or 1)
    return round(top / bottom, 3) if top and bottom else None


def _tags(info: dict[str, Any]) -> dict[str, str]:
    """Format tags, then stream tags; keys lower-cased (containers differ in case)."""
    tags: dict[str, str] = {}
    for source in [info.get("format", {})] + info.get("streams", []):
        for key, value in (source.get("tags") or {}).items():
            tags.setdefault(key.lower(), str(value).strip())
    return tags


def _pick(tags: dict[str, str], name: str) -> str | None:
    return next((tags[k] for k in _TAG_KEYS[name] if tags.get(k)), None)


def parse_iso6709(text: str | None) -> dict[str, float | None] | None:
    """'+32.0929+034.8620+028.516/' -> {'lat': 32.0929, 'lon': 34.862, 'alt': 28.516}."""
    match = _ISO6709.match(text or "")
    if not match:
        return None
    lat, lon = float(match[1]), float(match[2])
    if abs(lat) > 90 or abs(lon) > 180:
        return None
    return {"lat": lat, "lon": lon, "alt": float(match[3]) if match[3] else None}


def _creation_time(tags: dict[str, str], notes: list[str] | None = None) -> str | None:
    """QuickTime's creationdate keeps the local offset; creation_time is UTC by the spec.
    The first plausible one; `notes` gets the absurd ones."""
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        text = tags.get(key, "")
        text = re.sub(r"([+-]\d{2})(\d{2})\Z", r"\1:\2", text.replace("Z", "+00:00"))
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            continue
        # 1904/1970 epochs mean "never set" in MP4 and AVI
        if stamp.year > 1970 and capture_time(stamp.isoformat(), f"video {key}", notes):
            return stamp.isoformat()
    return None


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise degrees to turn the frames upright (as the `rotate` tag and exiftool say).

    ffprobe reports the display matrix counter-clockwise, hence the sign change.
    """
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(-(_float(side["rotation"]) or 0)) % 360
    return round(_float((stream.get("tags") or {}).get("rotate")) or 0) % 360


def _video(stream: dict[str, Any] | None, fmt: dict[str, Any]) -> dict[str, Any] | None:
    if stream is None:
        return None
    rotation = _rotation(stream)
    width, height = stream.get("width"), stream.get("height")
    if rotation in (90, 270):
        width, height = height, width
    fps = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
    return {"codec": stream.get("codec_name"), "width": width, "height": height,
            "rotation": rotation, "fps": fps,
            "bitrate": int(_float(stream.get("bit_rate")) or _float(fmt.get("bit_rate")) or 0)
            or None}


def _audio(stream: dict[str, Any] | None) -> dict[str, Any] | None:
    if stream is None:
        return None
    rate = _float(stream.get("sample_rate"))
    return {"codec": stream.get("codec_name"), "channels": stream.get("channels"),
            "sample_rate": int(rate) if rate else None}


def _streams(info: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for stream in info.get("streams", []):
        attached = (stream.get("disposition") or {}).get("attached_pic")
        if stream.get("codec_type") == kind and not attached:
            return stream
    return None


def _duration(info: dict[str, Any]) -> float | None:
    candidates = [_float(info.get("format", {}).get("duration"))]
    candidates += [_float(s.get("duration")) for s in info.get("streams", [])]
    found = [c for c in candidates if c and c > 0]
    return round(max(found), 3) if found else None


def normalise(info: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    """The item fields of a video or audio file from ffprobe's JSON; `notes` gets a line
    for each value ignored (an absurd date).

    Raises MediaError when the file has neither a video nor an audio stream.
    """
    fmt = info.get("format", {})
    video, audio = _streams(info, "video"), _streams(info, "audio")
    if video is None and audio is None:
        raise MediaError("probe", "no video or audio stream")
    tags = _tags(info)
    v = _video(video, fmt)
    return {
        "container": (fmt.get("format_name") or "").split(",")[0] or None,
        "duration": _duration(info),
        "start": _float(fmt.get("start_time")),  # what seeks count from
        "width": v["width"] if v else None, "height": v["height"] if v else None,
        "rotation": v["rotation"] if v else None,
        "video": {k: v[k] for k in ("codec", "fps", "bitrate")} if v else None,
        "audio": _audio(audio),
        "taken": _creation_time(tags, notes),
        "camera": {"make": _pick(tags, "make"), "model": _pick(tags, "model"),
                   "serial": None, "lens": None},
        "gps": parse_iso6709(_pick(tags, "location")),
        "tags": {k: _pick(tags, k) for k in ("title", "artist", "comment", "description",
                                              "copyright", "keywords")},
    }


def packet_duration(path: Path) -> float | None:
    """Duration from the last packet's timestamp, for containers that do not say it."""
    out = tools.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "packet=pts_time,duration_time", "-of", "csv=p=0", str(path)],
                    "probe", settings.value("probe_timeout"))
    ends = []
    for line in out.decode("ascii", "replace").splitlines():
        parts = [_float(p) for p in line.split(",")]
        if parts and parts[0] is not None:
            ends.append(parts[0] + (parts[1] or 0 if len(parts) > 1 else 0))
    return round(max(ends), 3) if ends else None
