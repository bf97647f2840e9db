"""Events: their description as last ingested (from the event file), and what the last
resolution of their items left (its mark, the [[media]] entries naming no file)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Collection
from typing import Any

from archive.catalog.blobs import stored_json
from archive.catalog.database import Catalog
from archive.catalog.dialect import chunks, marks
from archive.catalog.people import person_rows
from archive.catalog.sessions import session_rows
from archive.model import Event, EventRecord, ResolutionMark


def _event_row(event: Event) -> dict[str, Any]:
    data = {k: v for k, v in dataclasses.asdict(event).items()
            if k not in ("sessions", "people", "media")}
    return {"id": event.id, "title": event.title, "folder": str(event.folder),
            "manifest": str(event.source) if event.source else None,
            "data": json.dumps(data, default=str, ensure_ascii=False)}


def _signature(event_row: dict[str, Any], sessions: list[str], people: list[str]) -> str:
    return json.dumps([event_row, sorted(sessions), sorted(people)], sort_keys=True)


def event_differs(catalog: Catalog, event: Event) -> bool:
    """Whether the catalog holds another description of the event (title, folder, dates,
    sessions, people...) than its event file gives, or none."""
    row = catalog.db.execute("SELECT id, title, folder, manifest, data FROM events "
                             "WHERE id = ?", (event.id,)).fetchone()
    if row is None:
        return True
    sessions = [r[0] for r in catalog.db.execute(
        "SELECT data FROM sessions WHERE event_id = ?", (event.id,))]
    people = [r[0] for r in catalog.db.execute(
        "SELECT data FROM people WHERE event_id = ?", (event.id,))]
    return _signature(dict(row), sessions, people) != _signature(
        _event_row(event), [s[-1] for s in session_rows(event)],
        [p[-1] for p in person_rows(event)])


def save_event(catalog: Catalog, event: Event) -> None:
    """Replace an event's description, sessions and people (not its items)."""
    catalog.db.execute(
        "INSERT INTO events (id, title, folder, manifest, data, revision) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET title = excluded.title, folder = excluded.folder, "
        "manifest = excluded.manifest, data = excluded.data, revision = excluded.revision",
        (*_event_row(event).values(), catalog.tx_revision()))
    catalog.db.execute("DELETE FROM sessions WHERE event_id = ?", (event.id,))
    catalog.db.execute("DELETE FROM people WHERE event_id = ?", (event.id,))
    catalog.db.executemany(
        'INSERT INTO sessions (event_id, id, title, day, start, "end", room, data) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", session_rows(event))
    catalog.db.executemany(
        "INSERT INTO people (event_id, id, name, data) VALUES (?, ?, ?, ?)",
        person_rows(event))


def _record(row: sqlite3.Row) -> EventRecord:
    data = stored_json(row["data"])
    return EventRecord(row["id"], row["title"], row["folder"], row["manifest"],
                       row["revision"], data.get("date"), data.get("end_date"),
                       data.get("timezone"), data.get("venue"), data.get("organisers"),
                       data.get("description"), data.get("url"))


def get_event(catalog: Catalog, event_id: str) -> EventRecord | None:
    row = catalog.db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
    return _record(row) if row else None


def list_events(catalog: Catalog, event_id: str | None = None) -> list[EventRecord]:
    """Every event (or the one of `event_id`, if held), by id."""
    scope, params = ("WHERE id = ?", (event_id,)) if event_id else ("", ())
    return [_record(row) for row in catalog.db.execute(
        f"SELECT * FROM events {scope} ORDER BY id", params)]


def event_folder(catalog: Catalog, event_id: str) -> str | None:
    """The folder the event of this id was last ingested from, None if it is new."""
    row = catalog.db.execute("SELECT folder FROM events WHERE id = ?",
                             (event_id,)).fetchone()
    return row[0] if row else None


def event_folders(catalog: Catalog, ids: Collection[str] | None = None) -> dict[str, str]:
    """Folders of the events `ids` (default: all)."""
    if ids is None:
        return dict(catalog.db.execute("SELECT id, folder FROM events").fetchall())
    found: dict[str, str] = {}
    for chunk in chunks(list(ids)):
        found.update(catalog.db.execute(
            f"SELECT id, folder FROM events WHERE id IN ({marks(len(chunk))})",
            tuple(chunk)).fetchall())
    return found


def event_titles(catalog: Catalog) -> dict[str, str]:
    return dict(catalog.db.execute("SELECT id, title FROM events").fetchall())


# ---- what the last resolution left ------------------------------------------------

def resolution_mark(catalog: Catalog, event_id: str) -> ResolutionMark | None:
    """Against which event file, at which revision, the event's items were resolved."""
    text = catalog.get_meta(f"resolved:{event_id}")
    if text is None:
        return None
    revision, _, digest = text.partition(" ")
    return ResolutionMark(int(revision), digest)


def set_resolution_mark(catalog: Catalog, event_id: str, mark: ResolutionMark) -> None:
    catalog.set_meta(f"resolved:{event_id}", f"{mark.revision} {mark.digest}")


def unmatched_media(catalog: Catalog, event_id: str) -> list[dict[str, Any]]:
    """The event's [[media]] entries naming no file, as its last resolution found them:
    path, suggestion and, for one naming a copy, duplicate_of."""
    return stored_json(catalog.get_meta(f"unmatched_media:{event_id}") or "[]")


def set_unmatched_media(catalog: Catalog, event_id: str,
                        entries: list[dict[str, Any]]) -> None:
    catalog.set_meta(f"unmatched_media:{event_id}", json.dumps(entries))
