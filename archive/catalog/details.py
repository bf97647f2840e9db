"""What the catalog holds beside each item (tags, credit, thumbnails, its files), read
for many items at once: a few queries a batch, never one per item."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence

from archive.catalog import dialect
from archive.catalog.database import Catalog
from archive.catalog.faces import face_record
from archive.catalog.people import names_in_events
from archive.model import ItemDetails, ItemRecord, ItemTag


def _related(catalog: Catalog, table: str, ids: list[str], where: str = "",
             order: str = "") -> dict[str, list[sqlite3.Row]]:
    """`table`'s rows (a fixed name) of the items `ids`, by item."""
    found: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for chunk in dialect.chunks(ids):
        sql = (f"SELECT * FROM {table} WHERE item_id IN ({dialect.marks(len(chunk))}) "
               f"{where} {order}")
        for row in catalog.db.execute(sql, tuple(chunk)):
            found[row["item_id"]].append(row)
    return found


def item_details(catalog: Catalog, items: Sequence[ItemRecord]) -> list[ItemDetails]:
    """The items with their tags (people named as in their event), credit, thumbnails,
    present media files and faces, in the order given."""
    ids = [item.id for item in items]
    tags = _related(catalog, "tags", ids, order=f"ORDER BY {catalog.dialect.ROW_ID}")
    credits = _related(catalog, "credits", ids)
    thumbs = _related(catalog, "thumbnails", ids)
    files = _related(catalog, "files", ids, "AND role = 'media' AND state = 'present'",
                     "ORDER BY path")
    # A catalog from before faces (schema 4, read-only) has none.
    faces = _related(catalog, "faces", ids, order="ORDER BY item_id, number") \
        if catalog.schema_version >= 4 else {}
    names = names_in_events(catalog, {t["value"] for rows in tags.values() for t in rows
                                      if t["kind"] == "person"})
    return [ItemDetails(
        item,
        [ItemTag(t["kind"], t["value"], t["relation"], t["source"],
                 names.get((item.event_id, t["value"])) if t["kind"] == "person" else None)
         for t in tags.get(item.id, [])],
        {c["field"]: (c["value"], c["source"]) for c in credits.get(item.id, [])},
        {t["name"]: t["path"] for t in thumbs.get(item.id, [])},
        [f["path"] for f in files.get(item.id, [])],
        [face_record(f) for f in faces.get(item.id, [])]) for item in items]
