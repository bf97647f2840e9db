"""Resolve: each item's time, sessions, people and credit from the event file, kept in
the catalog in the same transaction as what changed them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from archive.catalog import (
    Catalog,
    copies_by_item,
    copies_in_event,
    event_differs,
    faces_named,
    faces_to_resolve,
    items_to_resolve,
    relpaths_of_event,
    resolution_mark,
    save_event,
    set_face_names,
    set_resolution_mark,
    set_unmatched_media,
    store_resolution,
)
from archive.errors import ArchiveError
from archive.fsnames import readable
from archive.model import Event, ItemToResolve, ResolutionMark
from archive.resolve.eventfile import EVENT_FILE, load_event
from archive.resolve.facenames import KnownFaces
from archive.resolve.rules import ItemFacts, resolve, unmatched_entries

# Changed when the rules change, so that every archive is resolved again by its next
# ingest (issue 13: faces are named).
RULES = "rules-3"


def event_digest(event: Event) -> str:
    """Everything resolution reads of the event file, [[media]] entries included, and
    the version of the rules."""
    text = json.dumps(dataclasses.asdict(event), default=str, sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256((RULES + text).encode()).hexdigest()


def known_faces(catalog: Catalog, event: Event) -> KnownFaces:
    """The faces the event file names (`[[people]] faces` and `not_faces`), found in the
    catalog with their descriptors."""
    paths = [ref.path for p in event.people for ref in (*p.faces, *p.not_faces)]
    return KnownFaces.build(event, *faces_named(catalog, event.id, paths))


def _resolve_items(catalog: Catalog, event: Event, items: Iterable[ItemToResolve],
                   rewrite: bool, since: int | None,
                   reread: frozenset[str] = frozenset(), revision: int | None = None) -> int:
    """Resolve items inside the caller's transaction (the event's items written at
    `revision`, if given), writing those whose answer changed (all of them with
    `rewrite`) and their faces' names; returns how many of those changed that were not
    written since revision `since` and whose file is not to be read again."""
    re_resolved = 0
    copies = copies_by_item(catalog, event.id)  # a takedown of a copy withholds the item
    faces, known = faces_to_resolve(catalog, event.id, revision), known_faces(catalog, event)
    for item in items:
        facts = ItemFacts(item.id, item.kind, item.relpath, item.metadata, item.mtime_ns,
                          copies.get(item.id, ()), tuple(faces.get(item.id, ())))
        resolution = resolve(facts, event, known)
        set_face_names(catalog, item.id, {f.number: (f.person, f.source)
                                          for f in resolution.faces}, facts.faces)
        answer = resolution.as_dict()
        answer_changed = answer != item.resolved
        if answer_changed and (since is None or item.revision <= since) and \
                item.path not in reread:
            re_resolved += 1
        if rewrite or answer_changed:
            store_resolution(catalog, item.id, answer)
    return re_resolved


def resolve_written(catalog: Catalog, event: Event, revision: int) -> None:
    """Resolve the event's items written in the open transaction (at `revision`), so
    that no item is ever committed without its time, sessions, people and credit."""
    _resolve_items(catalog, event, items_to_resolve(catalog, event.id, revision),
                   rewrite=False, since=None, revision=revision)


def resolve_event(catalog: Catalog, event: Event, event_changed: bool = False,
                  since: int | None = None, save: bool = False,
                  reread: frozenset[str] = frozenset()) -> int:
    """Re-resolve every item of the event; only items whose answer changed are
    written (and so re-indexed), or all of them when the event's own description
    (titles, names, rooms) changed. With `save`, the event's description is written in
    the same transaction: a reader never sees items resolved against another programme.

    Returns how many items not written since revision `since`, and whose files are not
    to be read again (`reread`), got a different answer: the work of an edited event
    file.
    """
    with catalog.transaction() as revision:
        if save:
            save_event(catalog, event)
        re_resolved = _resolve_items(catalog, event, items_to_resolve(catalog, event.id),
                                     event_changed, since, reread)
        copies = {relpath: readable(path)
                  for relpath, path in copies_in_event(catalog, event.id).items()}
        set_unmatched_media(catalog, event.id, unmatched_entries(
            event, relpaths_of_event(catalog, event.id), copies))
        set_resolution_mark(catalog, event.id, ResolutionMark(revision, event_digest(event)))
    return re_resolved


def follow_event_file(catalog: Catalog, event: Event, changed: bool, since: int,
                      reread: frozenset[str]) -> int:
    """Before any file is read: the items already there follow the event file, when it
    changed or they were last resolved against another (with its description, in one
    transaction); each batch then resolves its own items against the same. Returns how
    many got another answer."""
    mark = resolution_mark(catalog, event.id)
    if not changed and mark is not None and mark.digest == event_digest(event):
        return 0
    return resolve_event(catalog, event, changed, since, changed, reread)  # save if changed


def settle(catalog: Catalog, event: Event, since: int) -> int:
    """After the files: moves and copies can change what a [[media]] entry or a credit
    rule names, and the unmatched entries depend on every file, so one pass over the
    event settles them. When nothing was written since the last resolution (a killed
    run leaves the mark behind), every answer is the one already stored."""
    if resolution_mark(catalog, event.id) == ResolutionMark(catalog.revision,
                                                            event_digest(event)):
        return 0
    return resolve_event(catalog, event, since=since)


def follow_edit(catalog: Catalog, event_id: str, folder: Path) -> int:
    """After the event file of `event_id` in `folder` was edited (faces named, a
    curator's fix): its items follow it, as the next ingest would make them, without
    reading any media. Returns how many got another answer.

    Raises ManifestError when the file cannot be read, ArchiveError when it now
    describes another event (its id was changed meanwhile).
    """
    edited = load_event(folder)
    if edited.id != event_id:
        raise ArchiveError(f"{readable(str(folder / EVENT_FILE))} is now the event file "
                           f"of {edited.id!r}, not {event_id!r}; ingest it")
    return follow_event_file(catalog, edited, event_differs(catalog, edited),
                             catalog.revision, frozenset())
