"""Text alternatives for an item's pictures: what a screen reader says of a thumbnail,
a poster or a photo, made from the item's title and the people it shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.resolve.names import fold

# A group photo can show dozens: past this many names the rest are counted.
MOST_NAMES = 5


def alt_text(item: Mapping[str, Any]) -> str:
    """"Opening words — Péter Keller, Ana Silva": the title, then the people shown
    (those the title names already left out). Without a title the people alone; the file
    name only when the item has neither, as it is then all that names the picture."""
    title = " ".join((item.get("title") or "").split())
    names = _shown(item, f" {fold(title)} ")
    people = ", ".join(names)
    if len(names) > MOST_NAMES:
        people = f"{', '.join(names[:MOST_NAMES - 1])} and {len(names) - MOST_NAMES + 1} more"
    if title and people:
        return f"{title} — {people}"
    return title or people or str(item.get("relpath") or "").rsplit("/", 1)[-1]


def _shown(item: Mapping[str, Any], folded_title: str) -> list[str]:
    """The names of the people the item shows, each once, in the item's order, less
    those the title already gives (a face is not named twice)."""
    names: dict[str, str] = {}
    for person in item.get("people") or []:
        name = " ".join((person.get("name") or person.get("id") or "").split())
        key = fold(name)
        if person.get("relation") == "shown" and key and f" {key} " not in folded_title:
            names.setdefault(key, name)
    return list(names.values())
