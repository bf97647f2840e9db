"""Lookups the views share: items, events, sessions and people from the catalog."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection
from typing import Any

from flask import abort

from archive import catalog as cat
from archive.fsnames import within
from archive.model import EventRecord, ItemPlace, ItemRecord, SessionRecord
from archive.outputs.itemjson import items_json
from archive.store import Archive

_ID = re.compile(r"[0-9a-f]{64}\Z")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
# How a person is in an item, strongest first: in the picture, a speaker or moderator of
# its session, named in its transcript.
RELATIONS = ("shown", "session", "mentioned")


def is_name(value: str) -> bool:
    """Whether `value` can be an event, session or person id."""
    return bool(_NAME.match(value))


def valid_name(value: str) -> str:
    """An event, session or person id from a URL; 404 for anything else."""
    if not is_name(value):
        abort(404)
    return value


def valid_item_id(item_id: str) -> str:
    """A full item id from a URL; 404 for a malformed one."""
    if not _ID.match(item_id):
        abort(404)
    return item_id


def item_record(archive: Archive, item_id: str) -> ItemRecord:
    """A catalogued item by its full id; 404 for a malformed or unknown id."""
    item = cat.get_item(archive.catalog, valid_item_id(item_id))
    if item is None:
        abort(404)
    return item


def item_place(archive: Archive, item_id: str) -> ItemPlace:
    """Where an item's file is, by the item's full id (its metadata is not read: a file
    or a thumbnail is sent); 404 for a malformed or unknown id."""
    place = cat.item_place(archive.catalog, valid_item_id(item_id))
    if place is None:
        abort(404)
    return place


def event_folders(archive: Archive, ids: Collection[str] | None = None) -> dict[str, str]:
    """Folders of the events `ids` (default: all)."""
    return cat.event_folders(archive.catalog, ids)


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
    if folder and within(path, folder):
        return os.path.relpath(path, folder)
    return os.path.basename(path)


def public_item(archive: Archive, item_id: str) -> dict[str, Any]:
    item = item_record(archive, item_id)
    return public(items_json(archive.catalog, [item])[0], event_folders(archive))


def _event(event: EventRecord, count: int) -> dict[str, Any]:
    return {"id": event.id, "title": event.title, "date": event.date,
            "end_date": event.end_date, "venue": event.venue, "timezone": event.timezone,
            "organisers": event.organisers, "description": event.description,
            "url": event.url, "items": count}


def transcript_page(cues: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """`limit` cues from `offset`, with the total and where the next stretch starts."""
    offset = min(offset, max(0, len(cues) - 1))
    end = offset + limit
    return {"total": len(cues), "offset": offset, "cues": cues[offset:end],
            "next": end if end < len(cues) else None}


def events(archive: Archive) -> list[dict[str, Any]]:
    counts = cat.items_per_event(archive.catalog)
    return [_event(event, counts.get(event.id, 0))
            for event in cat.list_events(archive.catalog)]


def covered_events(archive: Archive) -> list[dict[str, Any]]:
    """Every event, newest first (by date, those without one last), each with its
    `cover`: the item standing for it (an ItemRecord), or None."""
    found = sorted(events(archive), key=lambda e: (str(e["date"] or ""), e["id"]),
                   reverse=True)
    covers = cat.event_covers(archive.catalog, [e["id"] for e in found])
    return [{**e, "cover": covers.get(e["id"])} for e in found]


def event(archive: Archive, event_id: str) -> dict[str, Any]:
    """One event (its own row and item count) with its programme."""
    found = cat.get_event(archive.catalog, valid_name(event_id))
    if found is None:
        abort(404)
    count = cat.count_items(archive.catalog, event_id)
    return {**_event(found, count), "sessions": sessions(archive, event_id)}


def _session(session: SessionRecord, names: dict[str, str], count: int) -> dict[str, Any]:
    return {"event": session.event_id, "id": session.id, "title": session.title,
            "date": session.day, "start": session.start, "end": session.end,
            "room": session.room, "description": session.description,
            "moderators": [{"id": p, "name": names.get(p)} for p in session.moderators],
            "speakers": [{"id": p, "name": names.get(p)} for p in session.speakers],
            "items": count}


def sessions(archive: Archive, event_id: str) -> list[dict[str, Any]]:
    """The event's whole programme, with people's names and item counts."""
    names = cat.people_names(archive.catalog, event_id)
    counts = cat.items_per_session(archive.catalog, event_id)
    return [_session(s, names, counts.get(s.id, 0))
            for s in cat.sessions_of_event(archive.catalog, event_id)]


def _pick_event(archive: Archive, holders: Callable[[cat.Catalog, str], list[str]],
                ident: str, event_id: str | None) -> str:
    """The event of a session or person id (`holders` lists the events having it); 404
    if none, 400 if several and none named."""
    found = [e for e in holders(archive.catalog, ident) if event_id in (None, e)]
    if not found:
        abort(404)
    if len(found) > 1:
        abort(400, description=f"{ident!r} exists in several events; add ?event=ID")
    return found[0]


def session(archive: Archive, session_id: str, event_id: str | None) -> dict[str, Any]:
    """One session, reading only its own row, people and item count (an event may have
    a million sessions)."""
    event_id = _pick_event(archive, cat.events_of_session, valid_name(session_id), event_id)
    found = cat.get_session(archive.catalog, event_id, session_id)
    if found is None:
        abort(404)  # removed since it was picked (an ingest in between)
    names = cat.people_names(archive.catalog, event_id, [*found.moderators, *found.speakers])
    count = cat.count_session_items(archive.catalog, event_id, session_id)
    return _session(found, names, count)


def person(archive: Archive, person_id: str, event_id: str | None) -> dict[str, Any]:
    event_id = _pick_event(archive, cat.events_of_person, valid_name(person_id), event_id)
    found = cat.get_person(archive.catalog, event_id, person_id)
    if found is None:
        abort(404)  # removed since it was picked (an ingest in between)
    roles = cat.roles_of_person(archive.catalog, event_id, person_id)
    return {"event": event_id, "id": person_id, "name": found.name,
            "affiliation": found.affiliation, "project": found.project,
            "aliases": found.aliases, "url": found.url,
            "roles": [{"session": r.session, "title": r.title, "role": r.role}
                      for r in roles]}


def person_items(archive: Archive, person_id: str, event_id: str) -> list[dict[str, Any]]:
    """The person's items: those showing them first (those where a face is labelled as
    them before the others), then their sessions', then those that mention them."""
    items = cat.items_of_person(archive.catalog, event_id, person_id)
    folders = event_folders(archive)
    found = [public(i, folders) for i in items_json(archive.catalog, items)]
    # A stable sort: within each relation the catalog's order (by time) stays.
    return sorted(found, key=lambda i: (RELATIONS.index(relation_of(i, person_id)),
                                        not has_face_of(i, person_id)))


def relation_of(item: dict[str, Any], person_id: str) -> str:
    """How the person is in the item (each person is in it once, by the strongest
    relation): shown, session or mentioned."""
    found = next((p["relation"] for p in item["people"] if p["id"] == person_id), None)
    return found if found in RELATIONS else "mentioned"


def has_face_of(item: dict[str, Any], person_id: str) -> bool:
    return any(face.get("person") == person_id for face in item.get("faces") or [])


def by_relation(items: list[dict[str, Any]], person_id: str) -> dict[str, list[dict[str, Any]]]:
    """The person's items split by relation (every relation present, in RELATIONS' order)."""
    groups: dict[str, list[dict[str, Any]]] = {relation: [] for relation in RELATIONS}
    for item in items:
        groups[relation_of(item, person_id)].append(item)
    return groups


def creator_items(archive: Archive, person_id: str, event_id: str) -> list[dict[str, Any]]:
    """The items whose creator is the person: their photos and videos."""
    items = cat.items_by_creator(archive.catalog, event_id, person_id)
    folders = event_folders(archive)
    return [public(i, folders) for i in items_json(archive.catalog, items)]


def session_items(archive: Archive, session_id: str, event_id: str) -> list[dict[str, Any]]:
    items = cat.items_of_session(archive.catalog, event_id, session_id)
    folders = event_folders(archive)
    return [public(i, folders) for i in items_json(archive.catalog, items)]
