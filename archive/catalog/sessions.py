"""Sessions: each event's programme, as its event file gave it."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Collection
from typing import Any

from archive.catalog import dialect
from archive.catalog.blobs import stored_json
from archive.catalog.database import Catalog
from archive.model import Event, SessionRecord, SessionRole


def session_rows(event: Event) -> list[tuple[Any, ...]]:
    """The event's sessions as the catalog stores them: event_id, id, title, day, start,
    end, room, data."""
    return [(event.id, s.id, s.title, str(s.date), s.start.isoformat("minutes"),
             s.end.isoformat("minutes"), s.room,
             json.dumps(dataclasses.asdict(s), default=str, ensure_ascii=False))
            for s in event.sessions]


def _record(row: sqlite3.Row) -> SessionRecord:
    data = stored_json(row["data"])
    return SessionRecord(row["event_id"], row["id"], row["title"], row["day"], row["start"],
                         row["end"], row["room"], data.get("description"),
                         data["moderators"], data["speakers"])


def sessions_of_event(catalog: Catalog, event_id: str) -> list[SessionRecord]:
    """The event's whole programme, in time order."""
    return [_record(row) for row in catalog.db.execute(
        f"SELECT * FROM sessions WHERE event_id = ? ORDER BY day, start, "
        f"{catalog.dialect.nulls_first('room')}", (event_id,))]


def get_session(catalog: Catalog, event_id: str, session_id: str) -> SessionRecord | None:
    row = catalog.db.execute("SELECT * FROM sessions WHERE event_id = ? AND id = ?",
                             (event_id, session_id)).fetchone()
    return _record(row) if row else None


def events_of_session(catalog: Catalog, session_id: str) -> list[str]:
    """The events holding a session of this id (ids repeat across events)."""
    return [r[0] for r in catalog.db.execute("SELECT event_id FROM sessions WHERE id = ?",
                                             (session_id,))]


def session_places(catalog: Catalog) -> dict[tuple[str, str], dict[str, str | None]]:
    """Every session's title and room by (event, session id): what the index needs."""
    return {(r[0], r[1]): {"title": r[2], "room": r[3]} for r in catalog.db.execute(
        "SELECT event_id, id, title, room FROM sessions")}


def session_titles(catalog: Catalog, ids: Collection[str], event_id: str | None
                   ) -> dict[str, str]:
    """Titles of session ids: those of `event_id`, else of the ids only one event has
    (`s1` of 200 events has no one title)."""
    if not ids:
        return {}
    wanted = tuple(ids)
    if event_id is not None:
        return dict(catalog.db.execute(
            f"SELECT id, title FROM sessions WHERE event_id = ? AND id IN "
            f"({dialect.marks(len(wanted))})", (event_id, *wanted)).fetchall())
    return dict(catalog.db.execute(
        f"SELECT id, MIN(title) AS title FROM sessions WHERE id IN "
        f"({dialect.marks(len(wanted))}) GROUP BY id HAVING COUNT(*) = 1", wanted).fetchall())


def items_per_session(catalog: Catalog, event_id: str) -> dict[str, int]:
    """How many of the event's items each of its sessions has."""
    return dict(catalog.db.execute(
        "SELECT t.value, COUNT(*) AS n FROM tags t JOIN items i ON i.id = t.item_id WHERE "
        "t.kind = 'session' AND i.event_id = ? GROUP BY t.value", (event_id,)).fetchall())


def count_session_items(catalog: Catalog, event_id: str, session_id: str) -> int:
    return catalog.db.execute(
        "SELECT COUNT(*) FROM tags t JOIN items i ON i.id = t.item_id WHERE t.kind = "
        "'session' AND t.value = ? AND i.event_id = ?", (session_id, event_id)).fetchone()[0]


def roles_of_person(catalog: Catalog, event_id: str, person_id: str) -> list[SessionRole]:
    """The sessions a person moderates or speaks in, in programme order. No index holds
    them, so the event's sessions are scanned, but in SQL, and a text match picks the
    few whose people are then read."""
    picks = []
    for role, key in (("moderator", "moderators"), ("speaker", "speakers")):
        picks.append(
            f"SELECT s.id, s.title, '{role}' AS role, s.day, s.start, s.room, '{key}' AS "
            f"list FROM sessions s, {catalog.dialect.json_elements('s.data', key, 'r')} WHERE "
            f"s.event_id = ? AND {catalog.dialect.holds_text('s.data')} AND r.value = ?")
    params = (event_id, json.dumps(person_id), person_id)
    order = f" ORDER BY day, start, {catalog.dialect.nulls_first('room')}, list"
    rows = catalog.db.execute(" UNION ALL ".join(picks) + order, params * 2)
    return [SessionRole(r["id"], r["title"], r["role"]) for r in rows]
