"""A video's transcript inside the index, and the cues a query matched.

The `transcript` field is the cue texts joined by newlines, indexed with each
word's characters. The document stores the same cues packed (start and end
times, where each cue's text begins, the joined text): a search reads the
characters of the query's words in its hit and bisects them into cues, so it
never decodes the transcript as JSON nor analyses its text (an 8 MB transcript
took 15 s to scan cue by cue and 59 MB as dicts).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh.reading import IndexReader


def joined(cues: list[dict[str, Any]]) -> str:
    """The text the `transcript` field indexes."""
    return "\n".join(cue["text"] for cue in cues)


def pack(cues: list[dict[str, Any]]) -> tuple[bytes, bytes, bytes, str] | None:
    """The stored form of a transcript: three arrays and the joined text."""
    if not cues:
        return None
    offsets, at = array("q"), 0
    for cue in cues:
        offsets.append(at)
        at += len(cue["text"]) + 1
    return (array("d", (float(c["start"]) for c in cues)).tobytes(),
            array("d", (float(c["end"]) for c in cues)).tobytes(), offsets.tobytes(),
            joined(cues))


@dataclass
class Cues:
    starts: array
    ends: array
    offsets: array
    text: str

    @classmethod
    def unpack(cls, stored: tuple[bytes, bytes, bytes, str] | None) -> Cues | None:
        if not stored:
            return None
        starts, ends, offsets, text = stored
        return cls(array("d", starts), array("d", ends), array("q", offsets), text)

    def __len__(self) -> int:
        return len(self.offsets)

    def cue(self, number: int) -> dict[str, Any]:
        start = self.offsets[number]
        end = self.offsets[number + 1] - 1 if number + 1 < len(self) else len(self.text)
        return {"start": self.starts[number], "end": self.ends[number],
                "text": self.text[start:end]}

    def at_char(self, char: int) -> int:
        return bisect_right(self.offsets, char) - 1


def _chars(reader: IndexReader, docnum: int, word: str) -> list[tuple[int, int, int]]:
    """(position, start, end) of each occurrence of a transcript word in one document."""
    if ("transcript", word) not in reader:
        return []
    matcher = reader.postings("transcript", word)
    matcher.skip_to(docnum)
    if not matcher.is_active() or matcher.id() != docnum:
        return []
    return matcher.value_as("characters")


def matching(reader: IndexReader, docnum: int, cues: Cues, words: Iterable[str],
             pairs: Iterable[tuple[str, str]]) -> list[int]:
    """Numbers of the cues holding one of `words`, or the two words of a pair one after
    the other (a phrase), in transcript order."""
    found: set[int] = set()
    for word in words:
        found.update(cues.at_char(start) for _, start, _ in _chars(reader, docnum, word))
    for first, second in pairs:
        follows = {pos - 1 for pos, _, _ in _chars(reader, docnum, second)}
        found.update(cues.at_char(start) for pos, start, _ in _chars(reader, docnum, first)
                     if pos in follows)
    return sorted(found)
