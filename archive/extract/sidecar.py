"""Sidecar files: `.xmp` beside a photo, `.srt`/`.vtt` subtitles beside a video."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from ..errors import MediaError
from . import xmp

MAX_SIDECAR = 8 * 1024 * 1024
_TIMING = re.compile(
    r"\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_TAG = re.compile(r"<[^>]*>")


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIDECAR + 1)
    except OSError as exc:
        raise MediaError("sidecar", f"{path.name}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_SIDECAR:
        raise MediaError("sidecar", f"{path.name}: larger than {MAX_SIDECAR} bytes")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older subtitle tools write Windows-1252 without saying so.
        return data.decode("cp1252", "replace")


def read_xmp_sidecar(path: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """The facts of an `.xmp` sidecar (`notes` gets the values ignored); raises MediaError
    when it is not valid XMP."""
    text = _read_text(path)
    try:
        return xmp.parse_packet(text.encode("utf-8"), notes)
    except xmp.XmpError as exc:
        raise MediaError("sidecar", f"{path.name}: {exc}") from None


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    for unit, part in zip((60, 3600), reversed(parts[:-1]), strict=False):
        seconds += unit * int(part)
    return round(seconds, 3)


def _cue_text(lines: list[str]) -> str:
    return html.unescape(_TAG.sub("", " ".join(line.strip() for line in lines))).strip()


def parse_subtitles(text: str, name: str = "subtitles") -> list[dict[str, Any]]:
    """Cues {start, end, text} of SRT or WebVTT text, in file order.

    Raises MediaError when a timing line is malformed or no cue is found.
    """
    cues = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        timing_at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing_at is None:
            continue  # WEBVTT header, NOTE, STYLE, REGION or a stray index
        match = _TIMING.match(lines[timing_at])
        if not match:
            raise MediaError("sidecar", f"{name}: cue {number}: bad timing line "
                             f"{lines[timing_at][:60]!r}")
        start, end = _seconds(match[1]), _seconds(match[2])
        if end < start:
            raise MediaError("sidecar", f"{name}: cue {number}: ends before it starts")
        body = _cue_text(lines[timing_at + 1:])
        if body:
            cues.append({"start": start, "end": end, "text": body})
    if not cues:
        raise MediaError("sidecar", f"{name}: no subtitle cues found")
    return cues


def read_subtitles(path: Path) -> list[dict[str, Any]]:
    return parse_subtitles(_read_text(path), path.name)
