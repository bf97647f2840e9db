"""Items: reading them as records, finding them by id, path or id prefix, and writing
what ingest found of their files."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection, Iterable
from typing import Any

from archive.catalog.blobs import stored_json, to_json
from archive.catalog.database import Catalog
from archive.catalog.dialect import chunks, marks
from archive.catalog.errors import DamagedValue
from archive.model import Cue, ItemPlace, ItemRecord, ThumbnailRecord


def item_record(row: sqlite3.Row) -> ItemRecord:
    """An item from its row (all of its columns), its JSON decoded.

    Raises DamagedValue when the stored JSON no longer parses.
    """
    return ItemRecord(row["id"], row["event_id"], row["kind"], row["mime"], row["size"],
                      row["path"], row["relpath"], row["taken"],
                      stored_json(row["metadata"]), stored_json(row["resolved"]),
                      row["revision"], row["added"])


def _records(rows: Iterable[sqlite3.Row]) -> list[ItemRecord]:
    return [item_record(row) for row in rows]


def get_item(catalog: Catalog, item_id: str) -> ItemRecord | None:
    row = catalog.db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    return item_record(row) if row else None


def item_place(catalog: Catalog, item_id: str) -> ItemPlace | None:
    """Where the item's file is, without reading its metadata."""
    row = catalog.db.execute("SELECT id, event_id, mime, size, path, relpath FROM items "
                             "WHERE id = ?", (item_id,)).fetchone()
    return ItemPlace(*row) if row else None


def transcript_of(catalog: Catalog, item_id: str) -> list[Cue] | None:
    """The item's transcript cues in their file's order (empty when it has none); None
    for an unknown item. Reads only the transcript, not the rest of the metadata.

    A stored cue that is not {start, end, text} with numbers and text is left out, and so
    is a transcript that is no list: neither stops a page that shows the rest.
    """
    transcript = catalog.dialect.json_value("metadata", "transcript")
    row = catalog.db.execute(f"SELECT {transcript} FROM items WHERE id = ?",
                             (item_id,)).fetchone()
    if row is None:
        return None
    try:
        stored = stored_json(row[0]) if isinstance(row[0], str) else None
    except DamagedValue:  # json_extract gives a stored string as it is, not as JSON
        stored = None
    return [Cue(float(c["start"]), float(c["end"]), c["text"])
            for c in stored if _is_cue(c)] if isinstance(stored, list) else []


def _is_cue(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("text"), str)
            and all(isinstance(value.get(k), int | float) and not isinstance(value.get(k), bool)
                    for k in ("start", "end")))


def item_by_file(catalog: Catalog, paths: Iterable[str]) -> ItemRecord | None:
    """The item whose media file (its own or a copy) has one of `paths`."""
    wanted = tuple(dict.fromkeys(paths))
    row = catalog.db.execute(
        "SELECT i.* FROM items i JOIN files f ON f.item_id = i.id "
        f"WHERE f.path IN ({marks(len(wanted))}) AND f.role = 'media'", wanted).fetchone()
    return item_record(row) if row else None


def items_by_relpath(catalog: Catalog, relpath: str, most: int = 2) -> list[ItemRecord]:
    """Items whose path relative to their event folder is `relpath` (one per event)."""
    return _records(catalog.db.execute("SELECT * FROM items WHERE relpath = ? LIMIT ?",
                                       (relpath, most)))


def items_by_prefix(catalog: Catalog, prefix: str, most: int = 2) -> list[ItemRecord]:
    """Items whose id starts with `prefix` (lower-case hex)."""
    return _records(catalog.db.execute("SELECT * FROM items WHERE id >= ? AND id < ? "
                                       "LIMIT ?", (prefix, prefix + "g", most)))


def select_items(catalog: Catalog, event: str | None = None, session: str | None = None,
                 person: str | None = None, published: bool = False,
                 limit: int | None = None) -> list[ItemRecord]:
    """Items filtered by event, session and person ids (all optional), in time order;
    with `published`, only those not withheld (exports); at most `limit` of them."""
    # A read-only catalog from before consent (schema 3) withholds nothing.
    withholds = published and catalog.schema_version >= 3
    clauses, params = ["i.withheld IS NULL"] if withholds else [], []
    if event:
        clauses.append("i.event_id = ?")
        params.append(event)
    for kind, value in (("session", session), ("person", person)):
        if value:
            clauses.append("EXISTS (SELECT 1 FROM tags t WHERE t.item_id = i.id AND "
                           "t.kind = ? AND t.value = ?)")
            params += [kind, value]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    most = ""
    if limit is not None:
        most = " LIMIT ?"
        params.append(limit)
    return _records(catalog.db.execute(
        f"SELECT i.* FROM items i {where} ORDER BY i.event_id, "
        f"{catalog.dialect.nulls_first('i.taken')}, i.relpath{most}",
        params))


def items_of_session(catalog: Catalog, event_id: str, session_id: str) -> list[ItemRecord]:
    return _records(catalog.db.execute(
        "SELECT i.* FROM items i JOIN tags t ON t.item_id = i.id WHERE t.kind = 'session' "
        "AND t.value = ? AND i.event_id = ? ORDER BY i.taken IS NULL, i.taken, i.relpath",
        (session_id, event_id)))


def items_of_person(catalog: Catalog, event_id: str, person_id: str) -> list[ItemRecord]:
    """The person's items: those showing them first, then their sessions', then the
    ones that mention them."""
    return _records(catalog.db.execute(
        "SELECT i.* FROM items i JOIN tags t ON t.item_id = i.id WHERE t.kind = 'person' "
        "AND t.value = ? AND i.event_id = ? ORDER BY CASE t.relation WHEN 'shown' THEN 0 "
        f"WHEN 'session' THEN 1 ELSE 2 END, {catalog.dialect.nulls_first('i.taken')}, "
        "i.relpath", (person_id, event_id)))


def items_by_creator(catalog: Catalog, event_id: str, person_id: str) -> list[ItemRecord]:
    """The items whose creator is the person (by name or alias), in time order."""
    return _records(catalog.db.execute(
        f"SELECT i.* FROM items i WHERE i.event_id = ? AND "
        f"{catalog.dialect.json_value('i.resolved', 'rights.creator_person')} = ? "
        f"ORDER BY {catalog.dialect.nulls_first('i.taken')}, i.path",
        (event_id, person_id)))


def present_items(catalog: Catalog, ids: Collection[str]) -> set[str]:
    """Which of the item ids the catalog holds (a public reader: holds published)."""
    wanted, found = list(ids), set()
    for chunk in chunks(wanted):
        found.update(r[0] for r in catalog.db.execute(
            f"SELECT id FROM items WHERE id IN ({marks(len(chunk))})", tuple(chunk)))
    return found


def count_items(catalog: Catalog, event_id: str | None = None) -> int:
    if event_id is None:
        return catalog.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    return catalog.db.execute("SELECT COUNT(*) FROM items WHERE event_id = ?",
                              (event_id,)).fetchone()[0]


def relpaths_of_event(catalog: Catalog, event_id: str) -> set[str]:
    """The paths of the event's items relative to its folder."""
    return {r[0] for r in catalog.db.execute("SELECT relpath FROM items WHERE event_id = ?",
                                             (event_id,))}


def items_per_event(catalog: Catalog) -> dict[str, int]:
    return {r["event_id"]: r["n"] for r in catalog.db.execute(
        "SELECT event_id, COUNT(*) AS n FROM items GROUP BY event_id")}


def thumbnail_path(catalog: Catalog, item_id: str, name: str) -> str | None:
    """Where the item's thumbnail `name` is, relative to the archive."""
    # Joined with its item: a public reader names no thumbnail of a withheld item.
    row = catalog.db.execute("SELECT t.path FROM thumbnails t JOIN items i ON i.id = "
                             "t.item_id WHERE t.item_id = ? AND t.name = ?",
                             (item_id, name)).fetchone()
    return row[0] if row else None


def thumbnails_with_items(catalog: Catalog) -> list[ThumbnailRecord]:
    """Every thumbnail the catalog names, with its item's own file."""
    return [ThumbnailRecord(*row) for row in catalog.db.execute(
        "SELECT t.item_id, t.path, i.path, i.relpath, i.size FROM thumbnails t "
        "JOIN items i ON i.id = t.item_id")]


# ---- writing ----------------------------------------------------------------------

def put_item(catalog: Catalog, item: dict[str, Any]) -> None:
    """Insert or replace an item's extracted facts (id, event_id, kind, mime, size, path,
    relpath, metadata); its resolution, tags and credits are kept."""
    catalog.db.execute(
        "INSERT INTO items (id, event_id, kind, mime, size, path, relpath, metadata, "
        "revision, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET event_id = excluded.event_id, kind = excluded.kind, mime = excluded.mime, "
        "size = excluded.size, path = excluded.path, relpath = excluded.relpath, "
        "metadata = excluded.metadata, revision = excluded.revision",
        (*(item[k] for k in ("id", "event_id", "kind", "mime", "size", "path", "relpath")),
         to_json(item["metadata"]), catalog.tx_revision(), time.time()))
    catalog.db.execute("DELETE FROM deletions WHERE item_id = ?", (item["id"],))


def move_item(catalog: Catalog, item_id: str, path: str, relpath: str) -> None:
    """The item's own file is now `path` (moved, or a copy with a smaller path)."""
    catalog.db.execute("UPDATE items SET path = ?, relpath = ?, revision = ? WHERE id = ?",
                       (path, relpath, catalog.tx_revision(), item_id))


def touch_item(catalog: Catalog, item_id: str) -> None:
    """Mark the item written in this transaction (the index takes it again)."""
    catalog.db.execute("UPDATE items SET revision = ? WHERE id = ?",
                       (catalog.tx_revision(), item_id))


def delete_item(catalog: Catalog, item_id: str) -> None:
    """Forget the item (its files, tags, credits and thumbnails go with it) and note the
    deletion, for the index."""
    catalog.db.execute("DELETE FROM items WHERE id = ?", (item_id,))
    catalog.db.execute("INSERT INTO deletions (item_id, revision) VALUES (?, ?) "
                       "ON CONFLICT (item_id) DO UPDATE SET revision = excluded.revision",
                       (item_id, catalog.tx_revision()))


def set_thumbnails(catalog: Catalog, item_id: str, thumbs: dict[str, dict[str, Any]]) -> None:
    """Replace the item's thumbnails: name -> path (in the archive), width, height."""
    catalog.db.execute("DELETE FROM thumbnails WHERE item_id = ?", (item_id,))
    catalog.db.executemany(
        "INSERT INTO thumbnails (item_id, name, path, width, height) VALUES (?, ?, ?, ?, ?)",
        [(item_id, name, t["path"], t.get("width"), t.get("height"))
         for name, t in thumbs.items()])
