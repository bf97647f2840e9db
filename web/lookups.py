"""Lookups the views share: items, events, sessions and people from the catalog."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection
from typing import Any

from flask import abort

from archive.catalog.database import stored_json
from archive.outputs.itemjson import items_json
from archive.store import Archive

_ID = re.compile(r"[0-9a-f]{64}\Z")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def valid_name(value: str) -> str:
    """An event, session or person id from a URL; 404 for anything else."""
    if not _NAME.match(value):
        abort(404)
    return value


def item_row(archive: Archive, item_id: str) -> Any:
    """A catalogued item by its full id; 404 for a malformed or unknown id."""
    if not _ID.match(item_id):
        abort(404)
    row = archive.catalog.get_item(item_id)
    if row is None:
        abort(404)
    return row


def event_folders(archive: Archive, ids: Collection[str] | None = None) -> dict[str, str]:
    """Folders of the events `ids` (default: all)."""
    if ids is None:
        return {r["id"]: r["folder"] for r in archive.catalog.query(
            "SELECT id, folder FROM events")}
    return {r["id"]: r["folder"] for r in archive.catalog.query(
        f"SELECT id, folder FROM events WHERE id IN ({','.join('?' * len(ids))})", ids)}


def public(item: dict[str, Any], folders: dict[str, str]) -> dict[str, Any]:
    """The item JSON for the web: paths relative to the event folder, never the server's."""
    folder = folders.get(item["event"], "")
    out = dict(item)
    out["path"] = item["relpath"]
    out["duplicates"] = [_under(p, folder) for p in item.get("duplicates") or []]
    return out


def _under(path: str, folder: str) -> str:
    """`path` relative to the event folder; only its name when it lies elsewhere (another
    event's folder shares a prefix: /ev and /ev2)."""
    try:
        if folder and os.path.commonpath([path, folder]) == os.path.normpath(folder):
            return os.path.relpath(path, folder)
    except ValueError:  # one of them relative: not comparable
        pass
    return os.path.basename(path)


def public_item(archive: Archive, item_id: str) -> dict[str, Any]:
    row = item_row(archive, item_id)
    return public(items_json(archive.catalog, [row])[0], event_folders(archive))


def _event(row: Any, count: int) -> dict[str, Any]:
    data = stored_json(row["data"])
    return {"id": row["id"], "title": row["title"], "date": data.get("date"),
            "end_date": data.get("end_date"), "venue": data.get("venue"),
            "timezone": data.get("timezone"), "organisers": data.get("organisers"),
            "description": data.get("description"), "url": data.get("url"), "items": count}


def transcript_page(cues: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """`limit` cues from `offset`, with the total and where the next stretch starts."""
    offset = min(offset, max(0, len(cues) - 1))
    end = offset + limit
    return {"total": len(cues), "offset": offset, "cues": cues[offset:end],
            "next": end if end < len(cues) else None}


def events(archive: Archive) -> list[dict[str, Any]]:
    counts = {r["event_id"]: r["n"] for r in archive.catalog.query(
        "SELECT event_id, COUNT(*) AS n FROM items GROUP BY event_id")}
    return [_event(row, counts.get(row["id"], 0)) for row in archive.catalog.query(
        "SELECT id, title, data FROM events ORDER BY id")]


def event(archive: Archive, event_id: str) -> dict[str, Any]:
    """One event (its own row and item count) with its programme."""
    rows = archive.catalog.query("SELECT id, title, data FROM events WHERE id = ?",
                                 (valid_name(event_id),))
    if not rows:
        abort(404)
    count = archive.catalog.query("SELECT COUNT(*) FROM items WHERE event_id = ?",
                                  (event_id,))[0][0]
    return {**_event(rows[0], count), "sessions": sessions(archive, event_id)}


def _people_names(archive: Archive, event_id: str,
                  ids: list[str] | None = None) -> dict[str, str]:
    """Names of the event's people: all of them, or only `ids`."""
    if ids is None:
        return {r["id"]: r["name"] for r in archive.catalog.query(
            "SELECT id, name FROM people WHERE event_id = ?", (event_id,))}
    return {r["id"]: r["name"] for r in archive.catalog.query(
        f"SELECT id, name FROM people WHERE event_id = ? AND id IN "
        f"({','.join('?' * len(ids))})", (event_id, *ids))}


def _session(row: Any, names: dict[str, str], count: int) -> dict[str, Any]:
    data = stored_json(row["data"])
    return {"event": row["event_id"], "id": row["id"], "title": row["title"],
            "date": row["day"], "start": row["start"], "end": row["end"],
            "room": row["room"], "description": data.get("description"),
            "moderators": [{"id": p, "name": names.get(p)} for p in data["moderators"]],
            "speakers": [{"id": p, "name": names.get(p)} for p in data["speakers"]],
            "items": count}


def sessions(archive: Archive, event_id: str) -> list[dict[str, Any]]:
    """The event's whole programme, with people's names and item counts."""
    names = _people_names(archive, event_id)
    counts = {r["value"]: r["n"] for r in archive.catalog.query(
        "SELECT t.value, COUNT(*) AS n FROM tags t JOIN items i ON i.id = t.item_id WHERE "
        "t.kind = 'session' AND i.event_id = ? GROUP BY t.value", (event_id,))}
    return [_session(row, names, counts.get(row["id"], 0)) for row in archive.catalog.query(
        "SELECT * FROM sessions WHERE event_id = ? ORDER BY day, start, room", (event_id,))]


def _pick_event(archive: Archive, table: str, ident: str, event_id: str | None) -> str:
    """The event of a session or person id; 404 if none, 400 if several and none named."""
    rows = archive.catalog.query(f"SELECT event_id FROM {table} WHERE id = ?", (ident,))
    found = [r["event_id"] for r in rows if event_id in (None, r["event_id"])]
    if not found:
        abort(404)
    if len(found) > 1:
        abort(400, description=f"{ident!r} exists in several events; add ?event=ID")
    return found[0]


def session(archive: Archive, session_id: str, event_id: str | None) -> dict[str, Any]:
    """One session, reading only its own row, people and item count (an event may have
    a million sessions)."""
    event_id = _pick_event(archive, "sessions", valid_name(session_id), event_id)
    row = archive.catalog.query("SELECT * FROM sessions WHERE event_id = ? AND id = ?",
                                (event_id, session_id))[0]
    data = stored_json(row["data"])
    names = _people_names(archive, event_id, [*data["moderators"], *data["speakers"]])
    count = archive.catalog.query(
        "SELECT COUNT(*) FROM tags t JOIN items i ON i.id = t.item_id WHERE t.kind = "
        "'session' AND t.value = ? AND i.event_id = ?", (session_id, event_id))[0][0]
    return _session(row, names, count)


def person(archive: Archive, person_id: str, event_id: str | None) -> dict[str, Any]:
    event_id = _pick_event(archive, "people", valid_name(person_id), event_id)
    row = archive.catalog.query("SELECT data FROM people WHERE event_id = ? AND id = ?",
                                (event_id, person_id))[0]
    data = stored_json(row["data"])
    return {"event": event_id, "id": person_id, "name": data["name"],
            "affiliation": data.get("affiliation"), "project": data.get("project"),
            "aliases": data.get("aliases") or [], "url": data.get("url"),
            "roles": _roles(archive, event_id, person_id)}


def _roles(archive: Archive, event_id: str, person_id: str) -> list[dict[str, Any]]:
    """The sessions a person moderates or speaks in, in programme order. No index holds
    them, so the event's sessions are scanned, but in SQL, and a text match picks the
    few whose people are then read."""
    rows = archive.catalog.query(
        "SELECT s.id, s.title, CASE r.path WHEN '$.moderators' THEN 'moderator' ELSE "
        "'speaker' END AS role FROM sessions s, json_tree(s.data) r WHERE s.event_id = ? "
        "AND instr(s.data, ?) AND r.path IN ('$.moderators', '$.speakers') AND r.value = ? "
        "ORDER BY s.day, s.start, s.room, r.path", (event_id, json.dumps(person_id),
                                                    person_id))
    return [{"session": r["id"], "title": r["title"], "role": r["role"]} for r in rows]


def person_items(archive: Archive, person_id: str, event_id: str) -> list[dict[str, Any]]:
    """The person's items, those showing them first, then their sessions', then mentions."""
    rows = archive.catalog.query(
        "SELECT i.* FROM items i JOIN tags t ON t.item_id = i.id WHERE t.kind = 'person' AND "
        "t.value = ? AND i.event_id = ? ORDER BY CASE t.relation WHEN 'shown' THEN 0 "
        "WHEN 'session' THEN 1 ELSE 2 END, i.taken", (person_id, event_id))
    folders = event_folders(archive)
    return [public(i, folders) for i in items_json(archive.catalog, rows)]


def session_items(archive: Archive, session_id: str, event_id: str) -> list[dict[str, Any]]:
    rows = archive.catalog.query(
        "SELECT i.* FROM items i JOIN tags t ON t.item_id = i.id WHERE t.kind = 'session' AND "
        "t.value = ? AND i.event_id = ? ORDER BY i.taken", (session_id, event_id))
    folders = event_folders(archive)
    return [public(i, folders) for i in items_json(archive.catalog, rows)]
