"""Commit: apply what the workers found to the catalog, one file at a time.

Runs inside a catalog transaction opened by the caller (a batch). Decides
whether a file is a new item, a changed one, a move, or a duplicate copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from archive.catalog.database import Catalog
from archive.ingest.tasks import Outcome


def _record_problems(catalog: Catalog, event_id: str, outcome: Outcome) -> None:
    """One row per stage (the catalog's key): a stage's messages are joined, and it is
    an error if any of them is."""
    path = outcome.task.path
    catalog.clear_errors(path)
    stages: dict[str, tuple[list[str], str]] = {}
    for stage, message, level in outcome.problems:
        messages, worst = stages.setdefault(stage, ([], level))
        messages.append(message)
        stages[stage] = (messages, "error" if "error" in (worst, level) else worst)
    for stage, (messages, level) in stages.items():
        catalog.record_error(event_id, path, stage, "; ".join(dict.fromkeys(messages)), level)


def _orphan_previous(catalog: Catalog, path: str, new_item: str | None) -> None:
    """A file whose content changed: its old item goes if no other file of its event
    holds it (copies in other events then become their own event's items, on its next
    ingest); if the file was the item's primary, the next copy in the event takes over."""
    row = catalog.query("SELECT item_id FROM files WHERE path = ?", (path,))
    old = catalog.get_item(row[0]["item_id"]) if row and row[0]["item_id"] else None
    if old is None or old["id"] == new_item:
        return
    catalog.delete_file(path)
    others = catalog.query("SELECT path, relpath FROM files WHERE item_id = ? AND "
                           "role = 'media' AND event_id = ? ORDER BY path",
                           (old["id"], old["event_id"]))
    if not others:
        catalog.delete_item(old["id"])
    elif old["path"] == path:
        catalog.move_item(old["id"], others[0]["path"], others[0]["relpath"])


def _place(catalog: Catalog, event_id: str, outcome: Outcome,
           present: Callable[[str], bool]) -> str:
    """Attach the file to its item: "write" (new or same path), "duplicate" or "moved".

    A copy of an item whose primary file still exists is a duplicate; the
    primary is the smallest present path, so the result never depends on the
    order the workers finished in. A copy whose primary vanished is a move. An item
    stays in its event: a copy in another event is always a duplicate.
    """
    task, item_id = outcome.task, outcome.item_id or ""
    existing = catalog.get_item(item_id)
    if existing is None or existing["path"] == task.path:
        return "write"
    if existing["event_id"] != event_id:
        return "duplicate"
    primary = existing["path"]
    if present(primary):
        if task.path < primary:
            catalog.move_item(item_id, task.path, task.relpath)
        return "duplicate"
    catalog.delete_file(primary)
    catalog.move_item(item_id, task.path, task.relpath)
    return "moved"


def commit_outcome(catalog: Catalog, event_id: str, outcome: Outcome,
                   present: Callable[[str], bool]) -> str:
    """Write one examined file; returns what happened: added, updated, moved, duplicate, failed."""
    task = outcome.task
    _orphan_previous(catalog, task.path, outcome.item_id)
    if outcome.item_id is None:
        catalog.upsert_file(task.path, event_id, task.relpath, None, task.size,
                            task.mtime_ns, "failed")
        _record_problems(catalog, event_id, outcome)
        return "failed"
    result = "updated" if catalog.get_item(outcome.item_id) else "added"
    placed = _place(catalog, event_id, outcome, present)
    if placed == "write":
        catalog.put_item({"id": outcome.item_id, "event_id": event_id, "kind": outcome.kind,
                          "mime": outcome.mime, "size": task.size, "path": task.path,
                          "relpath": task.relpath, "metadata": outcome.metadata})
    else:
        result = placed
    if outcome.thumbnails:
        catalog.set_thumbnails(outcome.item_id, outcome.thumbnails)
    catalog.upsert_file(task.path, event_id, task.relpath, outcome.item_id, task.size,
                        task.mtime_ns, "present")
    folder = os.path.dirname(task.relpath)
    for path, size, mtime_ns in task.sidecars:
        catalog.upsert_file(path, event_id, os.path.join(folder, os.path.basename(path)),
                            outcome.item_id, size, mtime_ns, "present", "sidecar")
    _record_problems(catalog, event_id, outcome)
    return result
