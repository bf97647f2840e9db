"""The item JSON of DESIGN.md, built from catalogued items.

A contract: users' scripts read it, so fields are only ever added. Absent
facts are null or empty lists, never invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from archive.catalog import (
    Catalog,
    event_folder,
    events_of_person,
    events_of_session,
    get_item,
    item_by_file,
    item_details,
    items_by_prefix,
    items_by_relpath,
    select_items,
)
from archive.errors import UnknownIdError
from archive.fsnames import exact, readable
from archive.model import FaceRecord, ItemDetails, ItemRecord
from archive.resolve.credits import credit_line
from archive.resolve.licensetext import license_url

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


def _nulls(block: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    block = block or {}
    values = {k: block.get(k) for k in keys}
    return values if any(v is not None for v in values.values()) else None


def _credit(credit: dict[str, tuple[str, str]], kind: str, rights: dict[str, Any]
            ) -> dict[str, Any]:
    """The credit block; `rights` is what resolution found of third-party fields, a
    licence conflict and the creator's person (absent for an item resolved before)."""
    values = {name: value for name, (value, _source) in credit.items()}
    fields = {k: values.get(k) for k in ("creator", "organisation", "project", "copyright",
                                         "license")}
    extra = {k: values[k] for k in ("acquire_license_page",) if k in values}
    return {**fields, **extra, "line": credit_line(kind, values) if values else None,
            "sources": {name: source for name, (_value, source) in credit.items()},
            "license_url": license_url(values.get("license")),
            "creator_person": rights.get("creator_person"),
            "third_party": rights.get("third_party") or [],
            "license_conflict": rights.get("license_conflict")}


def _face(record: FaceRecord) -> dict[str, Any]:
    """A face as the item JSON gives it: its box in the displayed image, a video frame's
    time; who resolution says it is and why ("detected": nobody yet), its cluster."""
    face = record.face
    return {"box": list(face.box), "time": face.time, "person": record.person,
            "source": record.source or "detected", "cluster": record.cluster}


def build(details: ItemDetails) -> dict[str, Any]:
    """The item JSON of one item."""
    item, meta, resolved = details.item, details.item.metadata, details.item.resolved
    tags = details.tags
    return {
        "id": item.id, "event": item.event_id, "kind": item.kind,
        "path": readable(item.path), "relpath": readable(item.relpath),
        "mime": item.mime,
        "size": item.size, "width": meta.get("width"), "height": meta.get("height"),
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
        "sessions": [{"id": t.value, "source": t.source}
                     for t in tags if t.kind == "session"],
        "people": [{"id": t.value, "name": t.name, "relation": t.relation or None,
                    "source": t.source} for t in tags if t.kind == "person"],
        "credit": _credit(details.credit, item.kind, resolved.get("rights") or {}),
        "thumbnails": details.thumbnails or None,
        "transcript": meta.get("transcript") or [],
        "duplicates": [readable(path) for path in details.files if path != item.path],
        "published": resolved.get("withheld") is None,
        "withheld": resolved.get("withheld"),
        "faces": [_face(face) for face in details.faces],
    }


def items_json(catalog: Catalog, items: Sequence[ItemRecord]) -> list[dict[str, Any]]:
    """Item objects for catalogued items, reading what the catalog holds beside them
    in a few queries."""
    return [build(details) for details in item_details(catalog, items)]


def _by_path(catalog: Catalog, ref: str, cwd: Path | None) -> ItemRecord | None:
    """An item by original path (relative ones against `cwd`) or by path relative to its
    event folder; raises LookupError when that relative path names files of several
    events."""
    # Catalogued paths are resolved (symbolic links too), so the reference is as well.
    path = str((cwd / ref).resolve()) if cwd is not None else ref
    found = item_by_file(catalog, (ref, path))
    if found is not None:
        return found
    by_relpath = items_by_relpath(catalog, PurePosixPath(ref).as_posix().removeprefix("./"))
    if len(by_relpath) > 1:
        raise LookupError(f"{ref!r} is a file of several events; give its path")
    return by_relpath[0] if by_relpath else None


def find_item(catalog: Catalog, ref: str, cwd: Path | None = None) -> ItemRecord | None:
    """An item by full id, original path (relative ones against `cwd`), path relative to
    its event folder, or unique id prefix (at least 4 hex digits).

    Raises LookupError when a relative path or prefix matches more than one item.
    """
    item = get_item(catalog, ref)
    if item is not None:
        return item
    # As `readable` showed it first: `caf\xe9.jpg` is the name with that byte before a
    # name holding those characters (shown `caf\\xe9.jpg`); else as typed.
    for name in dict.fromkeys((exact(ref), ref)):
        found = _by_path(catalog, name, cwd)
        if found is not None:
            return found
    if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref.lower()):
        items = items_by_prefix(catalog, ref.lower())
        if len(items) > 1:
            raise LookupError(f"{ref!r} matches more than one item; give more of the id")
        return items[0] if items else None
    return None


_HOLDERS: dict[str, Callable[[Catalog, str], list[str]]] = {
    "session": events_of_session, "person": events_of_person}


def _known(catalog: Catalog, kind: str, ident: str, event: str | None) -> bool:
    """Whether the archive holds the event, session or person `ident` (a session or
    person within `event`, if one is given)."""
    if kind == "event":
        return event_folder(catalog, ident) is not None
    holders = _HOLDERS[kind](catalog, ident)
    return bool(holders) and (not event or event in holders)


def require_ids(catalog: Catalog, event: str | None = None, session: str | None = None,
                person: str | None = None) -> None:
    """Raises UnknownIdError naming the first given id the archive does not hold (a
    session or person of another event than `event` counts as unknown)."""
    for kind, ident in (("event", event), ("session", session), ("person", person)):
        if ident and not _known(catalog, kind, ident, event):
            within = f" in event {event!r}" if event and kind != "event" else ""
            raise UnknownIdError(f"no {kind} {ident!r}{within} in this archive; "
                                 f"{_HINT[kind]}")


_HINT = {"event": "'event-archive report' lists the events",
         "session": "the event file lists its sessions",
         "person": "the event file lists its people"}


def selected_items(catalog: Catalog, event: str | None = None, session: str | None = None,
                   person: str | None = None, published: bool = False) -> list[ItemRecord]:
    """Items filtered by event, session and person ids (all optional), in time order;
    with `published`, only those not withheld.

    Raises UnknownIdError for an id the archive does not hold.
    """
    require_ids(catalog, event, session, person)
    return select_items(catalog, event, session, person, published)
