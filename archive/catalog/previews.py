"""Previews: the items that stand for an event (its cover) or a session (the first few
of its items) on the site. A public reader (the site's) gives published items only, as
`items` holds no other there."""

from __future__ import annotations

from collections.abc import Collection

from archive.catalog.database import Catalog
from archive.catalog.dialect import chunks, marks
from archive.catalog.items import item_record
from archive.model import ItemRecord

# Items with a small thumbnail only: a preview shows a picture, and a raw or a broken
# file has none.
_PICTURED = ("EXISTS (SELECT 1 FROM thumbnails th WHERE th.item_id = i.id "
             "AND th.name = 'small')")
# An item without a capture time goes after those with one, in SQLite as in PostgreSQL
# (which sort NULLs at opposite ends); the path settles ties, so two queries agree.
_BY_TIME = "i.taken IS NULL, i.taken, i.relpath"


def event_covers(catalog: Catalog, event_ids: Collection[str]) -> dict[str, ItemRecord]:
    """Each event's cover: its first photo by time in its first session (by day, start
    and room) that has one; else its first photo outside sessions; else a video's poster.
    Events with no pictured item are left out."""
    covers: dict[str, ItemRecord] = {}
    for chunk in chunks(list(event_ids)):
        rows = catalog.db.execute(
            "SELECT * FROM (SELECT i.*, ROW_NUMBER() OVER (PARTITION BY i.event_id "
            "ORDER BY i.kind <> 'photo', s.day IS NULL, s.day, s.start, "
            f"{catalog.dialect.nulls_first('s.room')}, "
            f"{_BY_TIME}) AS nth FROM items i "
            "LEFT JOIN tags t ON t.item_id = i.id AND t.kind = 'session' "
            "LEFT JOIN sessions s ON s.event_id = i.event_id AND s.id = t.value "
            f"WHERE i.event_id IN ({marks(len(chunk))}) AND {_PICTURED}) AS ranked "
            "WHERE nth = 1", tuple(chunk))
        covers.update((row["event_id"], item_record(row)) for row in rows)
    return covers


def session_previews(catalog: Catalog, event_id: str, most: int
                     ) -> dict[str, list[ItemRecord]]:
    """The first `most` pictured items of each of the event's sessions, in the order
    the session's page lists them (by time); sessions without any are left out."""
    rows = catalog.db.execute(
        "SELECT * FROM (SELECT i.*, t.value AS session_id, ROW_NUMBER() OVER (PARTITION "
        f"BY t.value ORDER BY {_BY_TIME}) AS nth FROM items i JOIN tags t ON "
        "t.item_id = i.id AND t.kind = 'session' "
        f"WHERE i.event_id = ? AND {_PICTURED}) AS ranked WHERE nth <= ? "
        "ORDER BY session_id, nth", (event_id, most))
    previews: dict[str, list[ItemRecord]] = {}
    for row in rows:
        previews.setdefault(row["session_id"], []).append(item_record(row))
    return previews
