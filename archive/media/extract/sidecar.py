"""Sidecar files: `.xmp` beside a photo, `.srt`/`.vtt` subtitles beside a video."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from archive import settings
from archive.errors import MediaError
from archive.media.extract import xmp

MAX_NOTES = 5  # malformed cues named one by one; the rest are counted
_TIMING = re.compile(
    r"\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_TAG = re.compile(r"<[^>]*>")


def _read_text(path: Path) -> str:
    largest = settings.value("sidecar_bytes")
    try:
        with open(path, "rb") as fh:
            data = fh.read(largest + 1)
    except OSError as exc:
        raise MediaError("sidecar", f"{path.name}: cannot read: {exc.strerror}") from None
    if len(data) > largest:
        raise MediaError("sidecar", f"{path.name}: larger than {largest} bytes")
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


def _cue(lines: list[str], timing_at: int) -> dict[str, Any] | str | None:
    """One cue's {start, end, text}; None when it has no text; what is wrong with it
    when its timing is malformed or runs backwards."""
    match = _TIMING.match(lines[timing_at])
    if not match:
        return f"bad timing line {lines[timing_at][:60]!r}"
    start, end = _seconds(match[1]), _seconds(match[2])
    if end < start:
        return "ends before it starts"
    body = _cue_text(lines[timing_at + 1:])
    return {"start": start, "end": end, "text": body} if body else None


def parse_subtitles(text: str, name: str = "subtitles",
                    notes: list[str] | None = None) -> list[dict[str, Any]]:
    """Cues {start, end, text} of SRT or WebVTT text, in file order.

    A malformed cue is skipped, and `notes` gets why, naming it by its place among the
    cues (the header, NOTE and STYLE blocks are not cues); the first MAX_NOTES are
    named, the rest counted. Raises MediaError when no cue is left.
    """
    cues, skipped = [], []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    number = 0
    for block in blocks:
        lines = block.split("\n")
        timing_at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing_at is None:
            continue  # WEBVTT header, NOTE, STYLE, REGION or a stray index
        number += 1
        cue = _cue(lines, timing_at)
        if isinstance(cue, str):
            skipped.append(f"cue {number}: {cue}")
        elif cue:
            cues.append(cue)
    if not cues:
        found = f" ({len(skipped)} malformed, the first {skipped[0]})" if skipped else ""
        raise MediaError("sidecar", f"{name}: no subtitle cues found{found}")
    if notes is not None and skipped:
        notes += [f"{problem}; skipped" for problem in skipped[:MAX_NOTES]]
        if len(skipped) > MAX_NOTES:
            notes.append(f"{len(skipped) - MAX_NOTES} more malformed cues skipped")
    return cues


def read_subtitles(path: Path, notes: list[str] | None = None) -> list[dict[str, Any]]:
    """The cues of a subtitle file; `notes` gets the malformed cues skipped."""
    return parse_subtitles(_read_text(path), path.name, notes)
