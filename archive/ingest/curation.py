"""What a curator changes through the site (`serve --curate`): an item's [[media]] entry,
a new [[cameras]] entry, who a cluster of faces is.

Each change goes into the event file through the same tomlkit path as `faces name`
(comments kept, checked as an event file, renamed over the old one, refused when the
form was made from another version of the file), the event is resolved again, as the
next ingest would resolve it, and every changed value is logged in the catalog with
its old and new value. The caller holds the archive's write lock and syncs the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tomlkit import TOMLDocument

from archive.catalog import Catalog, clustered_faces, event_folder, get_item, log_changes
from archive.errors import ArchiveError
from archive.fsnames import readable
from archive.ingest.naming import Confirmed, confirm_cluster
from archive.ingest.resolution import follow_edit
from archive.model import CREDIT_FIELDS, Event, ItemRecord, MediaEntry
from archive.resolve.eventedit import add_camera, edit_event_file, set_media_fields
from archive.resolve.eventfile import EVENT_FILE, load_event_version

# The [[media]] keys a curator sets, in the form's order.
MEDIA_FIELDS = ("title", "description", "session", "people", *CREDIT_FIELDS, "publish")
CAMERA_FIELDS = ("serial", "make", "model", "clock_offset", "room")
T = TypeVar("T")


class StaleCluster(ArchiveError):
    """The cluster's faces or names changed since the page that would name it was made."""


@dataclass(frozen=True)
class EventFile:
    """An event as its file says now, with the version of the file it was read from
    (None: the folder has no event file) and where that file is."""

    event: Event
    version: str | None
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / EVENT_FILE


@dataclass(frozen=True)
class ItemForm:
    """What the curator's form of an item starts from: the values the item's own
    [[media]] entry gives (None: not given there), and its event as its file says now."""

    item: ItemRecord
    media_path: str  # the file as [[media]] names it (readable: `caf\\xe9.jpg`)
    values: dict[str, Any]
    event_file: EventFile


@dataclass(frozen=True)
class Edit:
    """What one change did: {key: (old, new)} and how many items got another answer."""

    changed: dict[str, tuple[Any, Any]]
    resolved: int


def read_event_file(catalog: Catalog, event_id: str) -> EventFile:
    """The event file of a catalogued event, as it is now.

    Raises ArchiveError for an event the catalog does not have, ManifestError when its
    file cannot be read or is wrong.
    """
    folder = event_folder(catalog, event_id)
    if folder is None:
        raise ArchiveError(f"no event {event_id!r} in the archive")
    event, version = load_event_version(Path(folder))
    return EventFile(event, version, Path(folder))


def _item(catalog: Catalog, item_id: str) -> ItemRecord:
    item = get_item(catalog, item_id)
    if item is None:
        raise ArchiveError(f"no item {item_id} in the archive (removed by an ingest?)")
    return item


def entry_values(entry: MediaEntry | None) -> dict[str, Any]:
    """The curator's fields as a [[media]] entry gives them (None: not given)."""
    if entry is None:
        return dict.fromkeys(MEDIA_FIELDS)
    return {"title": entry.title, "description": entry.description,
            "session": entry.session, "people": list(entry.people) or None,
            **entry.credit.as_dict(), "publish": entry.publish}


def item_form(catalog: Catalog, item_id: str) -> ItemForm:
    """The form of an item as its event file says now.

    Raises ArchiveError for an unknown item, ManifestError for an unreadable event file.
    """
    item = _item(catalog, item_id)
    found = read_event_file(catalog, item.event_id)
    media_path = readable(item.relpath)
    entry = next((m for m in found.event.media if m.path == media_path and not m.is_glob),
                 None)
    return ItemForm(item, media_path, entry_values(entry), found)


def _edit(catalog: Catalog, event_id: str, expected: str | None,
          change: Callable[[TOMLDocument], T]) -> tuple[EventFile, T]:
    """Apply `change` to the event's file when it is still at version `expected`."""
    found = read_event_file(catalog, event_id)
    if found.version is None:
        raise ArchiveError(f"{readable(str(found.path))} does not exist; write an event "
                           "file for this event first (see README: the event file)")
    return found, edit_event_file(found.folder, found.path, change, expected=expected)


def fix_item(catalog: Catalog, item_id: str, values: dict[str, Any], expected: str,
             curator: str) -> Edit:
    """Write `values` (of MEDIA_FIELDS; None or blank takes a key out) into the item's
    own [[media]] entry, resolve its event again and log each changed value.

    Raises StaleEventFile when the event file is no longer at version `expected`,
    ManifestError when the result would not be a valid event file (nothing is written
    then), ArchiveError for an unknown item or a missing event file.
    """
    unknown = set(values) - set(MEDIA_FIELDS)
    if unknown:
        raise ArchiveError(f"not a field of [[media]] a curator sets: {sorted(unknown)}")
    item = _item(catalog, item_id)
    path = readable(item.relpath)
    found, changed = _edit(catalog, item.event_id, expected,
                           lambda doc: set_media_fields(doc, path, values))
    if not changed:
        return Edit({}, 0)
    resolved = follow_edit(catalog, item.event_id, found.folder)
    with catalog.transaction():
        log_changes(catalog, curator, item.event_id,
                    [(path, item.id, key, old, new) for key, (old, new) in changed.items()])
    return Edit(changed, resolved)


def add_camera_entry(catalog: Catalog, event_id: str, fields: dict[str, Any], expected: str,
                     curator: str) -> Edit:
    """Append a [[cameras]] entry (CAMERA_FIELDS) to the event file, resolve the event
    again (its items' times and rooms follow) and log it.

    Raises as fix_item does; ManifestError for a camera without serial or model.
    """
    unknown = set(fields) - set(CAMERA_FIELDS)
    if unknown:
        raise ArchiveError(f"not a field of [[cameras]]: {sorted(unknown)}")
    found, kept = _edit(catalog, event_id, expected, lambda doc: add_camera(doc, fields))
    resolved = follow_edit(catalog, event_id, found.folder)
    with catalog.transaction():
        log_changes(catalog, curator, event_id, [("cameras", None, "entry", None, kept)])
    return Edit({"entry": (None, kept)}, resolved)


def cluster_states(catalog: Catalog, cluster: int | None = None) -> dict[int, str]:
    """A digest of each cluster's faces and of whom they are named as (of one cluster,
    if given): a page naming a cluster carries it, so that faces joining it, or a name
    given meanwhile, make the page stale instead of being named unseen."""
    faces: dict[int, list[str]] = {}
    for f in clustered_faces(catalog, cluster):
        faces.setdefault(f.cluster, []).append(f"{f.item_id}#{f.number}:{f.person}:{f.source}")
    return {cid: hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
            for cid, keys in faces.items()}


def name_cluster(catalog: Catalog, cluster: int, person: str, reject: bool, expected: str,
                 curator: str) -> list[Confirmed]:
    """Confirm that the cluster is (or, `reject`, is not) the person, as `faces name`
    does, when the cluster is still as the page showed it (`expected`, from
    cluster_states); log it per event.

    Raises StaleCluster when it changed, and whatever confirm_cluster raises.
    """
    if cluster_states(catalog, cluster).get(cluster) != expected:
        raise StaleCluster(f"cluster {cluster} changed since this page was loaded (faces "
                           "joined it or were named); nothing was written: load the page "
                           "again and look at it before naming it")
    before = {f.person for f in clustered_faces(catalog, cluster)}
    done = confirm_cluster(catalog, cluster, person, reject)
    # Naming: who the cluster's faces were before (one person, else nobody); rejecting
    # takes no one's name away, it adds the person to those it is not.
    old = before.pop() if len(before) == 1 and not reject else None
    for d in done:
        with catalog.transaction():
            log_changes(catalog, curator, d.event, [
                (f"cluster {cluster} ({d.faces} faces)", None, d.key, old, person)])
    return done
