"""Files: what the catalog knows of each file in an event folder (an item's media file
or sidecar, present, missing or failed), for ingest to tell what changed."""

from __future__ import annotations

import sqlite3

from archive.catalog.database import Catalog
from archive.model import FileRecord


def _record(row: sqlite3.Row) -> FileRecord:
    return FileRecord(row["path"], row["event_id"], row["relpath"], row["item_id"],
                      row["size"], row["mtime_ns"], row["state"], row["role"],
                      row["revision"])


def files_of_event(catalog: Catalog, event_id: str) -> dict[str, FileRecord]:
    """The event's files by path."""
    rows = catalog.db.execute("SELECT * FROM files WHERE event_id = ?", (event_id,))
    return {row["path"]: _record(row) for row in rows}


def item_of_file(catalog: Catalog, path: str) -> str | None:
    """The id of the item the file at `path` gave, if it gave one."""
    row = catalog.db.execute("SELECT item_id FROM files WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def media_files_of_item(catalog: Catalog, item_id: str, event_id: str) -> list[FileRecord]:
    """The item's media files in one event (itself and its copies), by path."""
    return [_record(row) for row in catalog.db.execute(
        "SELECT * FROM files WHERE item_id = ? AND role = 'media' AND event_id = ? "
        "ORDER BY path", (item_id, event_id))]


def copies_in_event(catalog: Catalog, event_id: str) -> dict[str, str]:
    """The event's present files that are copies of an item (of this event or another):
    relative path -> the item's own file."""
    return {r["relpath"]: r["path"] for r in catalog.db.execute(
        "SELECT f.relpath, i.path FROM files f JOIN items i ON i.id = f.item_id WHERE "
        "f.event_id = ? AND f.role = 'media' AND f.state = 'present' AND f.path != i.path",
        (event_id,))}


def copies_by_item(catalog: Catalog, event_id: str) -> dict[str, tuple[str, ...]]:
    """The relative paths of the present copies of each of the event's items in the
    event (the item's own file aside), by path."""
    found: dict[str, list[str]] = {}
    for item_id, relpath in catalog.db.execute(
            "SELECT f.item_id, f.relpath FROM files f JOIN items i ON i.id = f.item_id "
            "WHERE f.event_id = ? AND i.event_id = f.event_id AND f.role = 'media' AND "
            "f.state = 'present' AND f.path != i.path ORDER BY f.path", (event_id,)):
        found.setdefault(item_id, []).append(relpath)
    return {item_id: tuple(paths) for item_id, paths in found.items()}


def items_without_files(catalog: Catalog, event_id: str, missing_hold: bool) -> list[str]:
    """Ids of the event's items that no media file of the event holds: an item lives by
    its files in its own event, copies elsewhere do not keep it. With `missing_hold`,
    a missing file still holds its item."""
    held = "" if missing_hold else "AND files.state != 'missing' "
    return [r[0] for r in catalog.db.execute(
        "SELECT id FROM items WHERE event_id = ? AND NOT EXISTS (SELECT 1 FROM files WHERE "
        f"files.item_id = items.id AND files.role = 'media' {held}"
        "AND files.event_id = items.event_id)", (event_id,))]


def present_media_files(catalog: Catalog) -> list[FileRecord]:
    """Every present media file that gave an item, to check against the disk."""
    return [_record(row) for row in catalog.db.execute(
        "SELECT * FROM files WHERE state = 'present' AND role = 'media' "
        "AND item_id IS NOT NULL")]


def files_without_item(catalog: Catalog) -> list[str]:
    """Paths of file rows naming an item the catalog does not hold."""
    return [r[0] for r in catalog.db.execute(
        "SELECT path FROM files WHERE item_id IS NOT NULL AND item_id NOT IN "
        "(SELECT id FROM items)")]


# ---- writing ----------------------------------------------------------------------

def put_file(catalog: Catalog, file: FileRecord) -> None:
    """Insert or replace what the catalog knows of a file (its revision: this one)."""
    catalog.db.execute(
        "INSERT INTO files (path, event_id, relpath, item_id, size, mtime_ns, state, "
        "role, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE "
        "SET event_id = excluded.event_id, relpath = excluded.relpath, "
        "item_id = excluded.item_id, size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "state = excluded.state, role = excluded.role, revision = excluded.revision",
        (file.path, file.event_id, file.relpath, file.item_id, file.size, file.mtime_ns,
         file.state, file.role, catalog.tx_revision()))


def set_file_state(catalog: Catalog, path: str, state: str) -> None:
    catalog.db.execute("UPDATE files SET state = ?, revision = ? WHERE path = ?",
                       (state, catalog.tx_revision(), path))


def delete_file(catalog: Catalog, path: str) -> None:
    catalog.db.execute("DELETE FROM files WHERE path = ?", (path,))
