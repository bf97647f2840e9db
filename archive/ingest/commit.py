"""Commit: apply what the workers found to the catalog, in batches.

Each batch is one transaction that also resolves the batch's items, so a kill at
any moment leaves a consistent catalog. Decides for each file whether it is a new
item, a changed one, a move, or a duplicate copy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from archive.catalog import (
    Catalog,
    clear_problems,
    delete_file,
    delete_item,
    item_of_file,
    item_place,
    media_files_of_item,
    move_item,
    problems_of_file,
    put_file,
    put_item,
    record_problem,
    set_faces,
    set_thumbnails,
)
from archive.errors import ArchiveWriteError
from archive.fsnames import readable
from archive.ingest.resolution import resolve_written
from archive.ingest.summary import IngestSummary
from archive.ingest.tasks import Outcome
from archive.model import Event, FileRecord, Problem

log = logging.getLogger(__name__)


def _record_problems(catalog: Catalog, event_id: str, outcome: Outcome) -> None:
    """One problem per stage (the catalog's key): a stage's messages are joined, and it
    is an error if any of them is."""
    path = outcome.task.path
    clear_problems(catalog, path)
    stages: dict[str, tuple[list[str], str]] = {}
    for problem in outcome.problems:
        messages, worst = stages.setdefault(problem.stage, ([], problem.kind))
        messages.append(problem.message)
        stages[problem.stage] = (messages, "error" if "error" in (worst, problem.kind)
                                 else worst)
    for stage, (messages, kind) in stages.items():
        record_problem(catalog, event_id,
                       Problem(path, stage, kind, "; ".join(dict.fromkeys(messages))))


def _orphan_previous(catalog: Catalog, path: str, new_item: str | None) -> None:
    """A file whose content changed: its old item goes if no other file of its event
    holds it (copies in other events then become their own event's items, on its next
    ingest); if the file was the item's primary, the next copy in the event takes over."""
    old_id = item_of_file(catalog, path)
    old = item_place(catalog, old_id) if old_id else None
    if old is None or old.id == new_item:
        return
    delete_file(catalog, path)
    others = media_files_of_item(catalog, old.id, old.event_id)
    if not others:
        delete_item(catalog, old.id)
    elif old.path == path:
        move_item(catalog, old.id, others[0].path, others[0].relpath)


def _place(catalog: Catalog, event_id: str, outcome: Outcome,
           present: Callable[[str], bool]) -> str:
    """Attach the file to its item: "write" (new or same path), "duplicate" or "moved".

    A copy of an item whose primary file still exists is a duplicate; the
    primary is the smallest present path, so the result never depends on the
    order the workers finished in. A copy whose primary vanished is a move. An item
    stays in its event: a copy in another event is always a duplicate.
    """
    task, item_id = outcome.task, outcome.item_id or ""
    existing = item_place(catalog, item_id)
    if existing is None or existing.path == task.path:
        return "write"
    if existing.event_id != event_id:
        return "duplicate"
    primary = existing.path
    if present(primary):
        if task.path < primary:
            move_item(catalog, item_id, task.path, task.relpath)
        return "duplicate"
    delete_file(catalog, primary)
    move_item(catalog, item_id, task.path, task.relpath)
    return "moved"


def _put_files(catalog: Catalog, event_id: str, outcome: Outcome) -> None:
    """The file and its sidecars, as giving the outcome's item."""
    task = outcome.task
    put_file(catalog, FileRecord(task.path, event_id, task.relpath, outcome.item_id,
                                 task.size, task.mtime_ns, "present"))
    folder = os.path.dirname(task.relpath)
    for path, size, mtime_ns in task.sidecars:
        put_file(catalog, FileRecord(path, event_id,
                                     os.path.join(folder, os.path.basename(path)),
                                     outcome.item_id, size, mtime_ns, "present", "sidecar"))


def commit_outcome(catalog: Catalog, event_id: str, outcome: Outcome,
                   present: Callable[[str], bool]) -> str:
    """Write one examined file; returns what happened: added, updated, moved, duplicate, failed."""
    task = outcome.task
    _orphan_previous(catalog, task.path, outcome.item_id)
    if outcome.item_id is None:
        put_file(catalog, FileRecord(task.path, event_id, task.relpath, None, task.size,
                                     task.mtime_ns, "failed"))
        _record_problems(catalog, event_id, outcome)
        return "failed"
    result = "updated" if item_place(catalog, outcome.item_id) else "added"
    placed = _place(catalog, event_id, outcome, present)
    if placed == "write":
        put_item(catalog, {"id": outcome.item_id, "event_id": event_id,
                           "kind": outcome.kind, "mime": outcome.mime, "size": task.size,
                           "path": task.path, "relpath": task.relpath,
                           "metadata": outcome.metadata})
    else:
        result = placed
    if outcome.thumbnails:
        set_thumbnails(catalog, outcome.item_id, outcome.thumbnails)
    # A copy's faces are its item's: only the item's own file gives them.
    if outcome.faces is not None and placed != "duplicate":  # else the catalog's stay
        set_faces(catalog, outcome.item_id, outcome.faces)
    _put_files(catalog, event_id, outcome)
    _record_problems(catalog, event_id, outcome)
    return result


def commit_face_scan(catalog: Catalog, outcome: Outcome) -> None:
    """Faces read from an unchanged item's thumbnails: they alone are written, which
    marks the item read; its file, metadata and problems stay as they are. A scan that
    failed (a thumbnail unreadable, the worker lost) is said in the log, and the next
    ingest tries again."""
    assert outcome.task.scan is not None
    item_id = outcome.task.scan.id
    said = log.debug if outcome.faces is not None else log.warning
    for problem in outcome.problems:
        said("%s (read for faces from its thumbnails): %s", readable(problem.path),
             problem.message)
    if outcome.faces is not None and item_place(catalog, item_id) is not None:
        set_faces(catalog, item_id, outcome.faces)


def _nothing_new(catalog: Catalog, outcome: Outcome) -> bool:
    """A retried file that failed again the same way, or that has an item and could not
    be read this time: what the catalog holds stays, and nothing is written."""
    had_item = item_of_file(catalog, outcome.task.path)
    if outcome.item_id is None and had_item is not None:
        return True  # unchanged on disk, so a passing failure: keep its item
    if outcome.thumbnails or (had_item is not None and had_item != outcome.item_id):
        return False

    def said(problems: Iterable[Problem]) -> set[tuple[str, str, str]]:
        return {(p.stage, p.message, p.kind) for p in problems}

    return said(problems_of_file(catalog, outcome.task.path)) == said(outcome.problems)


def commit_all(catalog: Catalog, event: Event, outcomes: Iterable[Outcome],
               present: Callable[[str], bool], summary: IngestSummary,
               retried: set[str], batch_size: int) -> None:
    """Commit the outcomes in batches of `batch_size`, counting each in `summary`.

    Raises ArchiveWriteError, after committing the batch so far, when a worker could
    not write the archive (a full disk).
    """
    batch: list[Outcome] = []

    def flush() -> None:
        with catalog.transaction() as revision:
            for outcome in batch:
                if outcome.task.scan is not None:
                    commit_face_scan(catalog, outcome)
                    continue
                result = commit_outcome(catalog, event.id, outcome, present)
                setattr(summary, result, getattr(summary, result) + 1)
                summary.warnings += sum(1 for p in outcome.problems if p.kind == "warning")
            resolve_written(catalog, event, revision)
        batch.clear()

    for outcome in outcomes:
        if outcome.fatal:
            if batch:
                flush()
            raise ArchiveWriteError(outcome.fatal + "; free some space and run ingest again")
        if outcome.task.path in retried and _nothing_new(catalog, outcome):
            summary.unchanged += 1
            continue
        batch.append(outcome)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
