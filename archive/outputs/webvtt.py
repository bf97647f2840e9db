"""A transcript as WebVTT (https://www.w3.org/TR/webvtt1/), the one caption format a
<track> element reads: what the site serves for a video's `.vtt` or `.srt` sidecar.

It is written from the cues the ingest stored, not from the sidecar file: the site
then opens no file for it, an SRT needs no second parser, and a sidecar changed since
the ingest cannot disagree with the transcript the page lists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from archive.model import Cue

# The least a cue lasts: WebVTT wants each cue to end after it starts; a sidecar may
# give one that ends as it starts, which SRT players show for a frame.
SHORTEST = 0.001
# Cue text is markup in WebVTT: '&' and '<' start escapes and tags, and '>' is escaped
# too so that no text can hold the "-->" that starts a timing line.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                          # A line break would end the cue (or, twice, the block);
                          # NUL the parser itself turns into U+FFFD.
                          "\r": " ", "\n": " ", "\x00": "\ufffd"})


def timestamp(seconds: float) -> str:
    """`hh:mm:ss.ttt`, the hours as many digits as they need (at least two)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def cue_text(text: str) -> str:
    """The plain text of a cue as WebVTT cue text: one line, its markup characters
    escaped, so that it shows exactly as it reads (never as a tag or an entity)."""
    return text.translate(_ESCAPES).strip()


def webvtt(cues: Iterable[Cue]) -> str:
    """The WebVTT file of `cues`. Each cue's identifier is its number in the transcript
    (from 1), as the item page numbers them, so that a cue read from the track names
    its line of the page. A cue with no text or a time that is no finite number is left
    out (its number with it)."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(cues, 1):
        text = cue_text(cue.text)
        if not text or not (math.isfinite(cue.start) and math.isfinite(cue.end)):
            continue
        start = max(0.0, cue.start)
        end = max(cue.end, start + SHORTEST)
        blocks.append(f"{number}\n{timestamp(start)} --> {timestamp(end)}\n{text}")
    return "\n\n".join(blocks) + "\n"
