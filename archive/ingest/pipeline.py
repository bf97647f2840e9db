"""The ingest pipeline: scan -> identify/extract/thumbnails -> commit and resolve.

`ingest_folder` reads as the whole flow; each stage lives in its own module.
Extraction runs in a process pool; the catalog is written by this process
alone, in batches, each one transaction that also resolves the batch's items,
so a kill at any moment leaves a consistent catalog, with no item lacking its
time, sessions or credit, and a re-run finishes the job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from archive import settings
from archive.catalog.database import Catalog, stored_json
from archive.errors import ArchiveError, ArchiveWriteError, ManifestError
from archive.fsnames import readable
from archive.ingest.commit import commit_outcome
from archive.ingest.pool import TaskFailed, run_tasks
from archive.ingest.scan import ScanEntry, ScanResult, pair_sidecars, scan
from archive.ingest.tasks import RETRIED_STAGES, WORKER_STAGE, Outcome, Task
from archive.model import Event
from archive.outputs.report import unmatched_media
from archive.resolve.eventfile import load_event
from archive.resolve.rules import ItemFacts, Resolution, resolve, unmatched_entries
from archive.store import Archive


@dataclass
class IngestSummary:
    event: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    duplicate: int = 0
    failed: int = 0
    missing: int = 0
    pruned: int = 0
    # Items whose answer (time, title, sessions, people, credit) changed because the
    # event file did, without their file being read again (those count as updated).
    resolved: int = 0
    warnings: int = 0
    seconds: float = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)
    unmatched_media: list[dict[str, str | None]] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.added:,} added", f"{self.updated:,} updated",
                 f"{self.unchanged:,} unchanged"]
        for name, label in (("resolved", "re-resolved"), ("moved", "moved"),
                            ("duplicate", "duplicate"), ("failed", "failed"),
                            ("missing", "missing"), ("pruned", "pruned")):
            if getattr(self, name):
                parts.append(f"{getattr(self, name):,} {label}")
        return f"{self.event}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _event_rows(event: Event) -> tuple[dict, list[dict], list[dict]]:
    def encode(obj: object) -> str:
        return json.dumps(dataclasses.asdict(obj), default=str, ensure_ascii=False)

    event_row = {"id": event.id, "title": event.title, "folder": str(event.folder),
                 "manifest": str(event.source) if event.source else None,
                 "data": json.dumps({k: v for k, v in dataclasses.asdict(event).items()
                                     if k not in ("sessions", "people", "media")},
                                    default=str, ensure_ascii=False)}
    sessions = [{"event_id": event.id, "id": s.id, "title": s.title, "day": str(s.date),
                 "start": s.start.isoformat("minutes"), "end": s.end.isoformat("minutes"),
                 "room": s.room, "data": encode(s)} for s in event.sessions]
    people = [{"event_id": event.id, "id": p.id, "name": p.name, "data": encode(p)}
              for p in event.people]
    return event_row, sessions, people


def _rows_signature(event_row: dict, sessions: list[dict], people: list[dict]) -> str:
    return json.dumps([{k: v for k, v in event_row.items() if k != "revision"},
                       sorted(s["data"] for s in sessions), sorted(p["data"] for p in people)],
                      sort_keys=True)


def _event_signature(catalog: Catalog, event_id: str) -> str | None:
    """What the catalog holds of an event's description, comparable with the file's."""
    row = catalog.query("SELECT id, title, folder, manifest, data FROM events WHERE id = ?",
                        (event_id,))
    if not row:
        return None
    sessions = [{"data": r["data"]} for r in catalog.query(
        "SELECT data FROM sessions WHERE event_id = ?", (event_id,))]
    people = [{"data": r["data"]} for r in catalog.query(
        "SELECT data FROM people WHERE event_id = ?", (event_id,))]
    return _rows_signature(dict(row[0]), sessions, people)


def _event_digest(event: Event) -> str:
    """Everything resolution reads of the event file, [[media]] entries included."""
    text = json.dumps(dataclasses.asdict(event), default=str, sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _resolution_mark(revision: int, event: Event) -> str:
    """What `resolved:<event>` holds once the catalog at `revision` is resolved against
    this event file: a different revision or file means resolving again."""
    return f"{revision} {_event_digest(event)}"


def _unchanged(entry: ScanEntry, known: dict[str, object], had: list[str]) -> bool:
    """Same path, size and mtime for the file and each sidecar, and the same sidecars
    as last time (`had`): skip without reading."""
    row = known.get(entry.file.path)
    if row is None or row["state"] == "missing":
        return False
    if (row["size"], row["mtime_ns"]) != (entry.file.size, entry.file.mtime_ns):
        return False
    for sidecar in entry.sidecars:
        side = known.get(sidecar.path)
        if side is None or (side["size"], side["mtime_ns"]) != (sidecar.size,
                                                                 sidecar.mtime_ns):
            return False
    return set(had) == {s.path for s in entry.sidecars}


def _known_pairs(known: dict) -> dict[str, list[str]]:
    """The sidecars each catalogued file had, paired by name as a scan pairs them (a
    sidecar row names one item, though a sidecar may belong to several files)."""
    media = [p for p, r in known.items() if r["role"] == "media" and r["state"] != "missing"]
    sidecars = [p for p, r in known.items() if r["role"] == "sidecar"
                and r["state"] == "present"]
    return pair_sidecars(media, sidecars)[0]


def _retry_set(catalog: Catalog, event_id: str) -> set[str]:
    """Files whose thumbnails, poster or strip could not be made last time (a full
    temporary disk, a time-out), or whose worker failed (killed, out of time or
    memory): examined again, even though unchanged. A file that failed for what it
    holds (undecodable, not media) is not."""
    marks = ",".join("?" * len(RETRIED_STAGES))
    return {r["path"] for r in catalog.query(
        f"SELECT path FROM errors WHERE event_id = ? AND level = 'error' AND stage IN "
        f"({marks})", (event_id, *RETRIED_STAGES))}


def _tasks(found: ScanResult, known: dict, root: Path, debug: bool,
           summary: IngestSummary, retry: set[str]) -> list[Task]:
    """The files to examine; `retry` is narrowed to the unchanged ones among them."""
    tasks = []
    had = _known_pairs(known)
    for entry in found.entries:
        if _unchanged(entry, known, had.get(entry.file.path, [])):
            if entry.file.path not in retry:
                summary.unchanged += 1
                continue
        else:
            retry.discard(entry.file.path)
        tasks.append(Task(entry.file.path, entry.file.relpath, entry.file.size,
                          entry.file.mtime_ns,
                          tuple((s.path, s.size, s.mtime_ns) for s in entry.sidecars),
                          str(root), debug))
    return tasks


class _Bar(tqdm):
    # No monitor thread: the pool forks its workers, which is only safe single-threaded.
    monitor_interval = 0


def _bar_size(stream: TextIO) -> dict[str, object]:
    """tqdm's size options: follow the terminal's size, or 80 x 24 when it reports none.

    A pseudo-terminal opened without a size (by `script`, CI runners, editors' consoles)
    reports 0 x 0, for which tqdm draws nothing at all: the ingest looked silent.
    """
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):  # not a terminal, or no file behind it
        return {}
    if size.columns and size.lines:
        return {"dynamic_ncols": True}
    return {"ncols": 80, "nrows": 24}


def _outcomes(tasks: list[Task], jobs: int, progress: bool,
              timeout: float = settings.value("file_timeout")) -> Iterable[Outcome]:
    # The readers (Pillow, exifread, ffmpeg bindings) load only when a file needs them.
    from archive.ingest.examine import examine, prepare_worker

    bar = _Bar(total=len(tasks), unit="file", disable=None if progress else True,
               leave=False, **_bar_size(sys.stderr))
    with bar:
        for task, result in run_tasks(examine, tasks, jobs, timeout, prepare_worker):
            bar.update()
            if isinstance(result, TaskFailed):
                result = Outcome(task, problems=[
                    (WORKER_STAGE, f"{result}; the next ingest tries again", "error")])
            yield result


def _nothing_new(catalog: Catalog, outcome: Outcome) -> bool:
    """A retried file that failed again the same way, or that has an item and could not
    be read this time: what the catalog holds stays, and nothing is written."""
    row = catalog.query("SELECT item_id FROM files WHERE path = ?", (outcome.task.path,))
    had_item = bool(row) and row[0]["item_id"] is not None
    if outcome.item_id is None and had_item:
        return True  # unchanged on disk, so a passing failure: keep its item
    if outcome.thumbnails or (had_item and row[0]["item_id"] != outcome.item_id):
        return False
    recorded = catalog.query("SELECT stage, message, level FROM errors WHERE path = ?",
                             (outcome.task.path,))
    return {tuple(r) for r in recorded} == set(outcome.problems)


def _commit(catalog: Catalog, event: Event, outcomes: Iterable[Outcome],
            present: Callable[[str], bool], summary: IngestSummary,
            retried: set[str]) -> None:
    batch: list[Outcome] = []

    def flush() -> None:
        with catalog.transaction() as revision:
            for outcome in batch:
                result = commit_outcome(catalog, event.id, outcome, present)
                setattr(summary, result, getattr(summary, result) + 1)
                summary.warnings += sum(1 for p in outcome.problems if p[2] == "warning")
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
        if len(batch) >= settings.value("batch_size"):
            flush()
    if batch:
        flush()


def _missing(catalog: Catalog, event: Event, seen: set[str], prune: bool,
             summary: IngestSummary) -> None:
    """Files catalogued but gone: reported as missing; with prune, forgotten."""
    gone = {path: row for path, row in catalog.files_of_event(event.id).items()
            if path not in seen}
    summary.missing = sum(1 for r in gone.values()
                          if r["state"] != "missing" and r["role"] == "media")
    # An item lives by its files in its own event; copies elsewhere do not keep it.
    orphans = catalog.query(
        "SELECT id FROM items WHERE event_id = ? AND NOT EXISTS (SELECT 1 FROM files WHERE "
        "files.item_id = items.id AND files.role = 'media' AND files.state != 'missing' "
        "AND files.event_id = items.event_id)", (event.id,)) if prune else []
    work = [p for p, r in gone.items() if prune or r["role"] == "sidecar"
            or r["state"] != "missing"]
    if not work and not orphans:
        return  # nothing to write: the revision stays, the index is left alone
    with catalog.transaction():
        for path in work:
            row = gone[path]
            if prune or row["role"] == "sidecar" or row["state"] == "failed":
                catalog.delete_file(path)
                catalog.clear_errors(path)
            else:
                catalog.set_file_state(path, "missing")
        if prune:
            for row in catalog.query(
                    "SELECT id FROM items WHERE event_id = ? AND NOT EXISTS (SELECT 1 FROM "
                    "files WHERE files.item_id = items.id AND files.role = 'media' AND "
                    "files.event_id = items.event_id)", (event.id,)):
                catalog.delete_item(row["id"])
                summary.pruned += 1


def _record_scan_problems(catalog: Catalog, event: Event, found: ScanResult) -> None:
    """Unreadable entries, orphan sidecars and links not followed, replacing the last
    scan's; written only when they differ, so a scan that finds what it found before
    changes nothing."""
    wanted = {(path, reason, "error") for path, reason in found.unreadable}
    wanted |= {(o.path, "sidecar with no media file beside it", "warning")
               for o in found.orphans}
    wanted |= {(path, reason, "warning") for path, reason in found.skipped}
    have = {(r["path"], r["message"], r["level"]) for r in catalog.query(
        "SELECT path, message, level FROM errors WHERE event_id = ? AND stage = 'scan'",
        (event.id,))}
    if wanted == have:
        return
    with catalog.transaction():
        catalog.execute("DELETE FROM errors WHERE event_id = ? AND stage = 'scan'", (event.id,))
        for path, message, level in sorted(wanted):
            catalog.record_error(event.id, path, "scan", message, level)


def sortable_time(taken: str | None) -> str | None:
    """UTC ISO text, so that ORDER BY sorts items of any offset by the instant."""
    if not taken:
        return None
    return dt.datetime.fromisoformat(taken).astimezone(dt.UTC).isoformat()


def _store_resolution(catalog: Catalog, item_id: str, result: Resolution) -> None:
    data = result.as_dict()
    catalog.set_resolved(item_id, sortable_time(data["taken"]), data)
    tags = [{"kind": "session", "value": s["id"], "source": s["source"]}
            for s in result.sessions]
    tags += [{"kind": "person", "value": p["id"], "relation": p["relation"],
              "source": p["source"]} for p in result.people]
    catalog.set_tags(item_id, tags, ("session", "person"))
    catalog.set_credits(item_id, result.credit)


_ITEM_FACTS = ("SELECT i.id, i.kind, i.path, i.relpath, i.metadata, i.resolved, "
               "i.revision, f.mtime_ns FROM items i LEFT JOIN files f ON f.path = i.path "
               "WHERE i.event_id = ?")


def _resolve_rows(catalog: Catalog, event: Event, rows: list, rewrite: bool,
                  since: int | None, reread: frozenset[str] = frozenset()) -> int:
    """Resolve item rows inside the caller's transaction, writing those whose answer
    changed (all of them with `rewrite`); returns how many of those changed that were
    not written since revision `since` and whose file is not to be read again."""
    re_resolved = 0
    for row in rows:
        facts = ItemFacts(row["id"], row["kind"], row["relpath"],
                          stored_json(row["metadata"]), row["mtime_ns"] or 0)
        result = resolve(facts, event)
        answer_changed = result.as_dict() != stored_json(row["resolved"])
        if answer_changed and (since is None or row["revision"] <= since) and \
                row["path"] not in reread:
            re_resolved += 1
        if rewrite or answer_changed:
            _store_resolution(catalog, row["id"], result)
    return re_resolved


def resolve_written(catalog: Catalog, event: Event, revision: int) -> None:
    """Resolve the event's items written in the open transaction (at `revision`), so
    that no item is ever committed without its time, sessions, people and credit."""
    rows = catalog.query(_ITEM_FACTS + " AND i.revision = ?", (event.id, revision))
    _resolve_rows(catalog, event, rows, rewrite=False, since=None)


def _copies(catalog: Catalog, event_id: str) -> dict[str, str]:
    """The event's files that are copies of an item (of this event or another): relative
    path -> the item's own file, as shown."""
    return {r["relpath"]: readable(r["path"]) for r in catalog.query(
        "SELECT f.relpath, i.path FROM files f JOIN items i ON i.id = f.item_id WHERE "
        "f.event_id = ? AND f.role = 'media' AND f.state = 'present' AND f.path != i.path",
        (event_id,))}


def resolve_event(catalog: Catalog, event: Event, event_changed: bool = False,
                  since: int | None = None, save: tuple | None = None,
                  reread: frozenset[str] = frozenset()) -> int:
    """Re-resolve every item of the event; only items whose answer changed are
    written (and so re-indexed), or all of them when the event's own description
    (titles, names, rooms) changed. `save` (the event's rows) is written in the same
    transaction: a reader never sees items resolved against another programme.

    Returns how many items not written since revision `since`, and whose files are not
    to be read again (`reread`), got a different answer: the work of an edited event
    file.
    """
    with catalog.transaction() as revision:
        if save is not None:
            catalog.save_event(*save)
        rows = catalog.query(_ITEM_FACTS, (event.id,))
        re_resolved = _resolve_rows(catalog, event, rows, event_changed, since, reread)
        unmatched = unmatched_entries(event, {row["relpath"] for row in rows},
                                      _copies(catalog, event.id))
        catalog.set_meta(f"unmatched_media:{event.id}", json.dumps(unmatched))
        catalog.set_meta(f"resolved:{event.id}", _resolution_mark(revision, event))
    return re_resolved


def _resolved_against(catalog: Catalog, event: Event) -> bool:
    """Whether the event's items were last resolved against this very event file."""
    mark = catalog.get_meta(f"resolved:{event.id}")
    return mark is not None and mark.split(" ")[-1] == _event_digest(event)


def _same_folder(a: str, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_event_id(catalog: Catalog, event: Event) -> None:
    """Refuse an event file whose id is already the id of an event in another folder
    that still exists: ingesting it would take that event's items over (their files
    missing, then pruned). When the old folder is gone, the event moved here, and its
    files are recognised as moved.

    Raises ManifestError (ArchiveError for a folder without an event file).
    """
    held_by = catalog.event_folder(event.id)
    if held_by is None or held_by == str(event.folder) or not os.path.isdir(held_by) \
            or _same_folder(held_by, event.folder):
        return
    if event.source is None:
        raise ArchiveError(f"{event.folder}: the event id {event.id!r} (taken from the "
                           f"folder's name) is already the id of the event in {held_by}; "
                           "add an event.toml giving this event another [event] id")
    raise ManifestError(event.source, "event.id",
                        f"{event.id!r} is already the id of the event in {held_by}; "
                        "give this event another id (or, if that folder moved here, "
                        "remove the old one)")


def ingest_folder(archive: Archive, folder: Path, jobs: int | None = None,
                  prune: bool = False, debug: bool = False, progress: bool = True,
                  timeout: float = settings.value("file_timeout"),
                  event: Event | None = None) -> IngestSummary:
    """Ingest one event folder into the archive (`event`: its event file, if already
    read).

    Raises ManifestError for a wrong event file (nothing is written then) and
    CatalogError when the archive cannot be written or its catalog is damaged (then
    nothing is written into it); per-file problems are recorded in the catalog and
    counted, never raised.
    """
    started = time.monotonic()
    event = event or load_event(Path(folder))
    catalog = archive.catalog
    catalog.ensure_sound()
    check_event_id(catalog, event)
    summary = IngestSummary(event.id)
    rows = _event_rows(event)
    event_changed = _event_signature(catalog, event.id) != _rows_signature(*rows)
    before = catalog.revision
    found = scan(event.folder)
    _record_scan_problems(catalog, event, found)
    known = catalog.files_of_event(event.id)
    retry = _retry_set(catalog, event.id)
    tasks = _tasks(found, known, archive.root, debug, summary, retry)
    if event_changed or not _resolved_against(catalog, event):
        # First the items already there follow the event file (with its description, in
        # one transaction); each batch then resolves its own items against the same.
        summary.resolved = resolve_event(catalog, event, event_changed, before,
                                         rows if event_changed else None,
                                         frozenset(t.path for t in tasks))
    seen = {e.file.path for e in found.entries} | {
        s.path for e in found.entries for s in e.sidecars}
    prefix = str(event.folder) + os.sep

    def present(path: str) -> bool:
        return path in seen if path.startswith(prefix) else os.path.exists(path)

    if tasks:
        _commit(catalog, event, _outcomes(tasks, jobs or os.cpu_count() or 1, progress,
                                          timeout), present, summary, retry)
    _missing(catalog, event, seen, prune, summary)
    # Moves and copies can change what a [[media]] entry or a credit rule names, and
    # the unmatched entries depend on every file: one pass over the event settles them.
    # When nothing was written since the last resolution (a killed run leaves the mark
    # behind), every answer is the one already stored.
    mark = catalog.get_meta(f"resolved:{event.id}")
    if mark != _resolution_mark(catalog.revision, event):
        summary.resolved += resolve_event(catalog, event, since=before)
    summary.unmatched_media = unmatched_media(catalog, event.id)
    summary.errors = [{**r, "path": readable(r["path"])} for r in catalog.query(
        "SELECT path, stage, message, level FROM errors WHERE event_id = ? ORDER BY path",
        (event.id,))]
    summary.seconds = round(time.monotonic() - started, 3)
    return summary
