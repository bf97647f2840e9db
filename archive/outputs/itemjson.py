"""The item JSON of DESIGN.md, built from catalog rows.

A contract: users' scripts read it, so fields are only ever added. Absent
facts are null or empty lists, never invented.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

from archive.catalog.database import Catalog, stored_json
from archive.errors import UnknownIdError
from archive.fsnames import exact, readable
from archive.resolve.credits import credit_line

_CAMERA = ("make", "model", "serial", "lens")
_EXPOSURE = ("iso", "fnumber", "exposure_time", "focal_length")


def camera_label(camera: dict[str, Any] | None) -> str | None:
    """The camera as people name it: the model alone when it already starts with the
    make or the make's first word ('Canon EOS 80D', 'NIKON D750' of 'NIKON CORPORATION'),
    else make and model."""
    camera = camera or {}
    make, model = (camera.get("make") or "").strip(), (camera.get("model") or "").strip()
    if make and model and not model.casefold().startswith(
            (make.casefold(), make.split()[0].casefold())):
        return f"{make} {model}"
    return model or make or None


def _related(catalog: Catalog, table: str, ids: list[str], where: str = "",
             order: str = "") -> dict[str, list[sqlite3.Row]]:
    found: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT * FROM {table} WHERE item_id IN ({marks}) {where} {order}"
        for row in catalog.query(sql, chunk):
            found[row["item_id"]].append(row)
    return found


def _nulls(block: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    block = block or {}
    values = {k: block.get(k) for k in keys}
    return values if any(v is not None for v in values.values()) else None


def _credit(rows: list[sqlite3.Row], kind: str) -> dict[str, Any]:
    values = {r["field"]: r["value"] for r in rows}
    fields = {k: values.get(k) for k in ("creator", "organisation", "project", "copyright",
                                         "license")}
    extra = {k: values[k] for k in ("acquire_license_page",) if k in values}
    return {**fields, **extra, "line": credit_line(kind, values) if values else None,
            "sources": {r["field"]: r["source"] for r in rows}}


def build(row: sqlite3.Row, related: dict[str, dict[str, list[sqlite3.Row]]]
          ) -> dict[str, Any]:
    meta = stored_json(row["metadata"])
    resolved = stored_json(row["resolved"])
    tags = related["tags"].get(row["id"], [])
    files = related["files"].get(row["id"], [])
    return {
        "id": row["id"], "event": row["event_id"], "kind": row["kind"],
        "path": readable(row["path"]), "relpath": readable(row["relpath"]),
        "mime": row["mime"],
        "size": row["size"], "width": meta.get("width"), "height": meta.get("height"),
        "orientation": meta.get("orientation"),
        "taken": resolved.get("taken"), "taken_source": resolved.get("taken_source"),
        "taken_local": resolved.get("taken_local"),
        "camera": _nulls(meta.get("camera"), _CAMERA),
        "exposure": _nulls(meta.get("exposure"), _EXPOSURE),
        "gps": meta.get("gps") or (meta.get("sidecar_xmp") or {}).get("gps")
        or (meta.get("xmp") or {}).get("gps"),
        "duration": meta.get("duration"), "video": meta.get("video"),
        "audio": meta.get("audio"),
        "title": resolved.get("title"), "description": resolved.get("description"),
        "keywords": resolved.get("keywords") or [],
        "sessions": [{"id": t["value"], "source": t["source"]}
                     for t in tags if t["kind"] == "session"],
        "people": [{"id": t["value"], "name": None, "relation": t["relation"] or None,
                    "source": t["source"]} for t in tags if t["kind"] == "person"],
        "credit": _credit(related["credits"].get(row["id"], []), row["kind"]),
        "thumbnails": {t["name"]: t["path"] for t in related["thumbnails"].get(row["id"], [])}
        or None,
        "transcript": meta.get("transcript") or [],
        "duplicates": [readable(f["path"]) for f in files if f["path"] != row["path"]],
    }


def items_json(catalog: Catalog, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """Item objects for catalog rows, loading their related rows in a few queries."""
    ids = [r["id"] for r in rows]
    related = {
        "tags": _related(catalog, "tags", ids, order="ORDER BY rowid"),
        "credits": _related(catalog, "credits", ids),
        "thumbnails": _related(catalog, "thumbnails", ids),
        "files": _related(catalog, "files", ids, "AND role = 'media' AND state = 'present'",
                          "ORDER BY path"),
    }
    items = [build(row, related) for row in rows]
    names = _person_names(catalog, {p["id"] for item in items for p in item["people"]})
    for item in items:
        for person in item["people"]:
            person["name"] = names.get((item["event"], person["id"]))
    return items


def _person_names(catalog: Catalog, ids: set[str]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for r in catalog.query("SELECT event_id, id, name FROM people WHERE id IN "
                               f"({','.join('?' * len(chunk))})", chunk):
            names[(r["event_id"], r["id"])] = r["name"]
    return names


def _by_path(catalog: Catalog, ref: str, cwd: Path | None) -> sqlite3.Row | None:
    """An item by original path (relative ones against `cwd`) or by path relative to its
    event folder; raises LookupError when that relative path names files of several
    events."""
    # Catalogued paths are resolved (symbolic links too), so the reference is as well.
    path = str((cwd / ref).resolve()) if cwd is not None else ref
    by_path = catalog.query("SELECT i.* FROM items i JOIN files f ON f.item_id = i.id "
                            "WHERE f.path IN (?, ?) AND f.role = 'media'", (ref, path))
    if by_path:
        return by_path[0]
    by_relpath = catalog.query("SELECT * FROM items WHERE relpath = ? LIMIT 2",
                               (PurePosixPath(ref).as_posix().removeprefix("./"),))
    if len(by_relpath) > 1:
        raise LookupError(f"{ref!r} is a file of several events; give its path")
    return by_relpath[0] if by_relpath else None


def find_item(catalog: Catalog, ref: str, cwd: Path | None = None) -> sqlite3.Row | None:
    """An item by full id, original path (relative ones against `cwd`), path relative to
    its event folder, or unique id prefix (at least 4 hex digits).

    Raises LookupError when a relative path or prefix matches more than one item.
    """
    row = catalog.get_item(ref)
    if row is not None:
        return row
    # As `readable` showed it first: `caf\xe9.jpg` is the name with that byte before a
    # name holding those characters (shown `caf\\xe9.jpg`); else as typed.
    for name in dict.fromkeys((exact(ref), ref)):
        found = _by_path(catalog, name, cwd)
        if found is not None:
            return found
    if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref.lower()):
        rows = catalog.query("SELECT * FROM items WHERE id >= ? AND id < ? LIMIT 2",
                             (ref.lower(), ref.lower() + "g"))
        if len(rows) > 1:
            raise LookupError(f"{ref!r} matches more than one item; give more of the id")
        return rows[0] if rows else None
    return None


def _known(catalog: Catalog, table: str, ident: str, event: str | None) -> bool:
    """Whether `table` (a fixed name) holds `ident`, within `event` if one is given."""
    if event and table != "events":
        sql, params = "id = ? AND event_id = ?", (ident, event)
    else:
        sql, params = "id = ?", (ident,)
    return bool(catalog.query(f"SELECT 1 FROM {table} WHERE {sql} LIMIT 1", params))


def require_ids(catalog: Catalog, event: str | None = None, session: str | None = None,
                person: str | None = None) -> None:
    """Raises UnknownIdError naming the first given id the archive does not hold (a
    session or person of another event than `event` counts as unknown)."""
    for kind, table, ident in (("event", "events", event), ("session", "sessions", session),
                               ("person", "people", person)):
        if ident and not _known(catalog, table, ident, event):
            within = f" in event {event!r}" if event and kind != "event" else ""
            raise UnknownIdError(f"no {kind} {ident!r}{within} in this archive; "
                                 f"{_HINT[kind]}")


_HINT = {"event": "'event-archive report' lists the events",
         "session": "the event file lists its sessions",
         "person": "the event file lists its people"}


def select_rows(catalog: Catalog, event: str | None = None, session: str | None = None,
                person: str | None = None) -> list[sqlite3.Row]:
    """Items filtered by event, session and person ids (all optional), in time order.

    Raises UnknownIdError for an id the archive does not hold.
    """
    require_ids(catalog, event, session, person)
    clauses, params = [], []
    if event:
        clauses.append("i.event_id = ?")
        params.append(event)
    for kind, value in (("session", session), ("person", person)):
        if value:
            clauses.append("EXISTS (SELECT 1 FROM tags t WHERE t.item_id = i.id AND "
                           "t.kind = ? AND t.value = ?)")
            params += [kind, value]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return catalog.query(f"SELECT i.* FROM items i {where} ORDER BY i.event_id, i.taken, "
                         "i.relpath", params)
