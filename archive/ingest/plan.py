"""Plan: what the scan found against what the catalog knows; which files are new,
changed, unchanged, or to be examined again."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from archive.catalog import (
    Catalog,
    error_paths,
    event_folder,
    files_of_event,
    replace_scan_problems,
    scan_problems,
    unscanned_items,
)
from archive.errors import ArchiveError, ManifestError
from archive.fsnames import readable
from archive.ingest.scan import ScanEntry, ScanResult, pair_sidecars
from archive.ingest.tasks import RETRIED_STAGES, Task
from archive.model import Event, FileRecord, Problem

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """The files to examine, and what the rest of the ingest needs of the scan."""

    folder: str
    tasks: list[Task] = field(default_factory=list)
    # Unchanged files examined again (a derived file or the worker failed last time).
    retry: set[str] = field(default_factory=set)
    unchanged: int = 0
    seen: set[str] = field(default_factory=set)  # every file found, sidecars too
    # Face-only tasks: unchanged items read from their thumbnails (`face_scans`).
    scans: list[Task] = field(default_factory=list)

    def present(self, path: str) -> bool:
        """Whether a file exists: as the scan found it in the event folder, else now."""
        if path.startswith(self.folder + os.sep):
            return path in self.seen
        return os.path.exists(path)

    @property
    def rereads(self) -> frozenset[str]:
        return frozenset(task.path for task in self.tasks)


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
    held_by = event_folder(catalog, event.id)
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


def record_scan_problems(catalog: Catalog, event_id: str, found: ScanResult) -> None:
    """Unreadable entries, orphan sidecars and links not followed, replacing the last
    scan's; written only when they differ, so a scan that finds what it found before
    changes nothing."""
    wanted = {Problem(path, "scan", "error", reason, event_id)
              for path, reason in found.unreadable}
    wanted |= {Problem(o.path, "scan", "warning", "sidecar with no media file beside it",
                       event_id) for o in found.orphans}
    wanted |= {Problem(path, "scan", "warning", reason, event_id)
               for path, reason in found.skipped}
    if wanted == set(scan_problems(catalog, event_id)):
        return
    with catalog.transaction():
        replace_scan_problems(catalog, event_id, sorted(
            wanted, key=lambda p: (p.path, p.message, p.kind)))


def _unchanged(entry: ScanEntry, known: dict[str, FileRecord], had: list[str]) -> bool:
    """Same path, size and mtime for the file and each sidecar, and the same sidecars
    as last time (`had`): skip without reading."""
    row = known.get(entry.file.path)
    if row is None or row.state == "missing":
        return False
    if (row.size, row.mtime_ns) != (entry.file.size, entry.file.mtime_ns):
        return False
    for sidecar in entry.sidecars:
        side = known.get(sidecar.path)
        if side is None or (side.size, side.mtime_ns) != (sidecar.size, sidecar.mtime_ns):
            return False
    return set(had) == {s.path for s in entry.sidecars}


def _known_pairs(known: dict[str, FileRecord]) -> dict[str, list[str]]:
    """The sidecars each catalogued file had, paired by name as a scan pairs them (a
    sidecar row names one item, though a sidecar may belong to several files)."""
    media = [p for p, r in known.items() if r.role == "media" and r.state != "missing"]
    sidecars = [p for p, r in known.items() if r.role == "sidecar" and r.state == "present"]
    return pair_sidecars(media, sidecars)[0]


def plan(catalog: Catalog, event: Event, found: ScanResult, root: Path,
         debug: bool = False) -> Plan:
    """The files to examine: new and changed ones, and unchanged ones whose thumbnails,
    poster or strip could not be made last time (a full temporary disk, a time-out) or
    whose worker failed (killed, out of time or memory). A file that failed for what it
    holds (undecodable, not media) is not examined again until it changes."""
    known = files_of_event(catalog, event.id)
    had = _known_pairs(known)
    result = Plan(str(event.folder), retry=error_paths(catalog, event.id, RETRIED_STAGES))
    for entry in found.entries:
        result.seen.add(entry.file.path)
        result.seen.update(s.path for s in entry.sidecars)
        if _unchanged(entry, known, had.get(entry.file.path, [])):
            if entry.file.path not in result.retry:
                result.unchanged += 1
                continue
        else:
            result.retry.discard(entry.file.path)
        result.tasks.append(Task(entry.file.path, entry.file.relpath, entry.file.size,
                                 entry.file.mtime_ns,
                                 tuple((s.path, s.size, s.mtime_ns) for s in entry.sidecars),
                                 str(root), debug))
    return result


def face_scans(catalog: Catalog, event_id: str, work: Plan, root: Path,
               debug: bool = False) -> list[Task]:
    """Face-only tasks for the event's items that the face stage has not read (ingested
    without it) and whose file is unchanged: their stored thumbnails are read, never
    their file. An item whose file is read again anyway, or gone, is left to that; one
    without a large thumbnail (audio, a raw without a preview) is left, said in the
    debug log."""
    tasks = []
    for item in unscanned_items(catalog, event_id):
        if not work.present(item.path) or item.path in work.rereads:
            continue
        if "large" not in item.thumbnails:
            log.debug("%s: no thumbnail to find faces in; left without faces",
                      readable(item.path))
            continue
        # The file is not read: no modification time is needed of it.
        tasks.append(Task(item.path, item.relpath, item.size, 0, (), str(root), debug,
                          faces=True, scan=item))
    return tasks
