"""Missing files: those catalogued but no longer found, reported as missing until
`--prune` forgets them, and the items no file holds any more."""

from __future__ import annotations

from archive.catalog import (
    Catalog,
    clear_problems,
    delete_file,
    delete_item,
    files_of_event,
    items_without_files,
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
    return missing, pruned
