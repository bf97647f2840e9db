"""Resolutions: what resolution reads of each item, and where its answer is kept (the
item's `resolved` JSON, its session and person tags, its credit)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

from archive.catalog.blobs import stored_json, to_json
from archive.catalog.database import Catalog
from archive.catalog.decoded import Decoded
from archive.catalog.dialect import marks
from archive.model import ItemToResolve

# The tag kinds resolution decides (the others are kept as they are).
_RESOLVED_TAGS = ("session", "person")


def sortable_time(taken: str | None) -> str | None:
    """UTC ISO text, so that ORDER BY sorts items of any offset by the instant."""
    if not taken:
        return None
    return dt.datetime.fromisoformat(taken).astimezone(dt.UTC).isoformat()


def _to_resolve(row: sqlite3.Row) -> ItemToResolve:
    return ItemToResolve(row["id"], row["kind"], row["path"], row["relpath"],
                         stored_json(row["metadata"]), stored_json(row["resolved"]),
                         row["revision"], row["mtime_ns"] or 0)


def items_to_resolve(catalog: Catalog, event_id: str, revision: int | None = None
                     ) -> Sequence[ItemToResolve]:
    """The event's items (those written at `revision`, if given), with their file's
    modification time: decoded one by one as they are taken."""
    sql = ("SELECT i.id, i.kind, i.path, i.relpath, i.metadata, i.resolved, i.revision, "
           "f.mtime_ns FROM items i LEFT JOIN files f ON f.path = i.path WHERE i.event_id = ?")
    params: tuple[Any, ...] = (event_id,)
    if revision is not None:
        sql, params = sql + " AND i.revision = ?", (event_id, revision)
    return Decoded(catalog.db.execute(sql, params).fetchall(), _to_resolve)


def store_resolution(catalog: Catalog, item_id: str, answer: dict[str, Any]) -> None:
    """Keep an item's answer (Resolution.as_dict()): the JSON itself, its time in UTC
    for sorting, why it is withheld (for the site's queries), its sessions and people
    as tags and its credit, field by field."""
    catalog.db.execute("UPDATE items SET taken = ?, resolved = ?, withheld = ?, revision = ? "
                       "WHERE id = ?", (sortable_time(answer["taken"]), to_json(answer),
                                        answer.get("withheld"), catalog.tx_revision(),
                                        item_id))
    tags = [("session", s["id"], "", s["source"]) for s in answer["sessions"]]
    tags += [("person", p["id"], p["relation"] or "", p["source"]) for p in answer["people"]]
    catalog.db.execute(f"DELETE FROM tags WHERE item_id = ? AND kind IN "
                       f"({marks(len(_RESOLVED_TAGS))})", (item_id, *_RESOLVED_TAGS))
    catalog.db.executemany(
        "INSERT INTO tags (item_id, kind, value, relation, source) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (item_id, kind, value, relation) DO NOTHING",
        [(item_id, *tag) for tag in tags])
    catalog.db.execute("DELETE FROM credits WHERE item_id = ?", (item_id,))
    catalog.db.executemany(
        "INSERT INTO credits (item_id, field, value, source) VALUES (?, ?, ?, ?)",
        [(item_id, name, value, source) for name, (value, source) in answer["credit"].items()])


def unresolved_per_event(catalog: Catalog) -> dict[str, int]:
    """How many items of each event have no answer yet (an ingest cut short before
    batches were resolved as they were committed), by event id."""
    return dict(catalog.db.execute(
        "SELECT event_id, COUNT(*) FROM items WHERE resolved = '{}' GROUP BY event_id "
        "ORDER BY event_id").fetchall())
