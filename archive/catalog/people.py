"""People: each event's people, as its event file named them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection

from archive.catalog import dialect
from archive.catalog.blobs import stored_json
from archive.catalog.database import Catalog
from archive.model import Event, PersonRecord


def person_rows(event: Event) -> list[tuple[str, str, str, str]]:
    """The event's people as the catalog stores them: event_id, id, name, data."""
    return [(event.id, p.id, p.name,
             json.dumps(dataclasses.asdict(p), default=str, ensure_ascii=False))
            for p in event.people]


def get_person(catalog: Catalog, event_id: str, person_id: str) -> PersonRecord | None:
    """The person, with what the event file says of them (the name as it gives it)."""
    row = catalog.db.execute("SELECT data FROM people WHERE event_id = ? AND id = ?",
                             (event_id, person_id)).fetchone()
    if row is None:
        return None
    data = stored_json(row[0])
    return PersonRecord(event_id, person_id, data["name"], data.get("affiliation"),
                        data.get("project"), data.get("aliases") or [], data.get("url"))


def events_of_person(catalog: Catalog, person_id: str) -> list[str]:
    """The events holding a person of this id (ids repeat across events)."""
    return [r[0] for r in catalog.db.execute("SELECT event_id FROM people WHERE id = ?",
                                             (person_id,))]


def people_names(catalog: Catalog, event_id: str, ids: Collection[str] | None = None
                 ) -> dict[str, str]:
    """Names of the event's people: all of them, or only `ids`."""
    if ids is None:
        return dict(catalog.db.execute("SELECT id, name FROM people WHERE event_id = ?",
                                       (event_id,)).fetchall())
    wanted = tuple(ids)
    return dict(catalog.db.execute(
        f"SELECT id, name FROM people WHERE event_id = ? AND id IN "
        f"({dialect.marks(len(wanted))})", (event_id, *wanted)).fetchall())


def names_by_id(catalog: Catalog, ids: Collection[str]) -> dict[str, str]:
    """A name for each person id, whatever its event (the first by name, where several
    events have a person of that id)."""
    if not ids:
        return {}
    wanted = tuple(ids)
    return dict(catalog.db.execute(
        f"SELECT id, MIN(name) AS name FROM people WHERE id IN "
        f"({dialect.marks(len(wanted))}) GROUP BY id", wanted).fetchall())


def names_in_events(catalog: Catalog, ids: Collection[str]) -> dict[tuple[str, str], str]:
    """Names of the people of these ids, by (event, person id)."""
    names: dict[tuple[str, str], str] = {}
    for chunk in dialect.chunks(sorted(ids)):
        for r in catalog.db.execute("SELECT event_id, id, name FROM people WHERE id IN "
                                    f"({dialect.marks(len(chunk))})", tuple(chunk)):
            names[(r[0], r[1])] = r[2]
    return names


def person_aliases(catalog: Catalog) -> dict[tuple[str, str], list[str]]:
    """Every person's other names by (event, person id): what the index searches."""
    return {(r[0], r[1]): stored_json(r[2]).get("aliases") or [] for r in catalog.db.execute(
        "SELECT event_id, id, data FROM people")}


def person_names(catalog: Catalog) -> dict[tuple[str, str], str]:
    """Every person's name by (event, person id): what the index searches `by:` with."""
    return {(r[0], r[1]): r[2] for r in catalog.db.execute(
        "SELECT event_id, id, name FROM people")}


def face_refs(catalog: Catalog, event_id: str, key: str = "not_faces"
              ) -> dict[str, list[tuple[str, int]]]:
    """Each person's `faces` or `not_faces` (`key`) as the event file gives them:
    id -> [(path, number)]."""
    found: dict[str, list[tuple[str, int]]] = {}
    for person_id, data in catalog.db.execute(
            "SELECT id, data FROM people WHERE event_id = ? ORDER BY id", (event_id,)):
        refs = stored_json(data).get(key) or []
        if refs:
            found[person_id] = [(r["path"], r["number"]) for r in refs]
    return found
