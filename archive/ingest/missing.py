"""Missing files: those catalogued but no longer found, reported as missing until
`--prune` forgets them, and the items no file holds any more."""

from __future__ import annotations

from archive.catalog import (
    Catalog,
    clear_problems,
    delete_file,
    delete_item,
    files_of_event,
    item_place,
    items_without_files,
    media_files_of_item,
    move_item,
    set_file_state,
)


def record_missing(catalog: Catalog, event_id: str, seen: set[str], prune: bool
                   ) -> tuple[int, int]:
    """Mark the event's files not `seen` missing (sidecars and failed files are simply
    forgotten); with `prune`, forget them all and the items they held. Returns how many
    media files are newly missing and how many items were pruned. Writes nothing when
    there is nothing to change: the revision stays, the index is left alone."""
    gone = {path: row for path, row in files_of_event(catalog, event_id).items()
            if path not in seen}
    missing = sum(1 for r in gone.values() if r.state != "missing" and r.role == "media")
    orphans = items_without_files(catalog, event_id, missing_hold=False) if prune else []
    work = [p for p, r in gone.items() if prune or r.role == "sidecar" or r.state != "missing"]
    if not work and not orphans:
        return missing, 0
    pruned = 0
    with catalog.transaction():
        for path in work:
            row = gone[path]
            if prune or row.role == "sidecar" or row.state == "failed":
                delete_file(catalog, path)
                clear_problems(catalog, path)
            else:
                set_file_state(catalog, path, "missing")
        if prune:
            for item_id in items_without_files(catalog, event_id, missing_hold=True):
                delete_item(catalog, item_id)
                pruned += 1
        for item_id in {gone[p].item_id for p in work if gone[p].item_id}:
            _present_primary(catalog, item_id, event_id)
    return missing, pruned


def _present_primary(catalog: Catalog, item_id: str, event_id: str) -> None:
    """An item whose own file went (missing or pruned) while a copy of it is still in
    its event: the smallest present copy becomes its file, as at ingest. It kept the
    path that went: its original was a 404, and what the event file says of the copy's
    path (`publish = false`) no longer reached it."""
    place = item_place(catalog, item_id)
    if place is None or place.event_id != event_id:
        return
    files = media_files_of_item(catalog, item_id, event_id)
    if any(f.path == place.path and f.state == "present" for f in files):
        return
    present = [f for f in files if f.state == "present"]
    if present:
        move_item(catalog, item_id, present[0].path, present[0].relpath)
