"""Verify an archive: the catalog is sound, files still hold their content, thumbnails
exist; repair what can be rebuilt (thumbnails, stray temporary files).

A damaged catalog stops the check there: what is derived from it (thumbnails,
the index) must not be remade from a catalog that lost rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from archive.catalog import (
    RECOVER,
    event_folders,
    files_without_item,
    list_events,
    present_media_files,
    resolution_mark,
    thumbnails_with_items,
    underived_items,
    unread_files,
    unresolved_per_event,
)
from archive.ingest.examine import READ_CHUNK, Task, examine
from archive.ingest.tasks import DERIVED_STAGES, WORKER_STAGE
from archive.model import Problem, ThumbnailRecord
from archive.store import Archive

# The stage of problems of a whole event (its items' resolution), shown by event id.
RESOLUTION = "resolution"


def problem_line(problem: Problem) -> str:
    """A problem as verify has always printed it: what it is about, then the message."""
    about = f"event {problem.event}" if problem.stage == RESOLUTION else problem.path
    return f"{about}: {problem.message}"


@dataclass
class Verification:
    checked: int = 0
    found: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    catalog_ok: bool = True  # else nothing derived from the catalog may be rebuilt

    @property
    def problems(self) -> list[str]:
        """The problems found, one line each."""
        return [problem_line(problem) for problem in self.found]

    @property
    def ok(self) -> bool:
        return not self.found


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISDIR, "a folder"))


def _kind_problem(st: os.stat_result, size: int, mtime_ns: int, hashes: bool) -> str | None:
    """What a file's status says is wrong: another kind of file, another size, or (when
    its content is not read) another date."""
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _NOT_REGULAR if test(st.st_mode)), "no file")
        return f"is now {kind}, not the file catalogued; run ingest"
    if st.st_size != size:
        return "content changed since ingest (another size); run ingest"
    if not hashes and st.st_mtime_ns != mtime_ns:
        return "modified since ingest (its date changed); run ingest"
    return None


def _file_problem(path: Path, item_id: str, size: int, mtime_ns: int,
                  hashes: bool = True) -> str | None:
    """What is wrong with a catalogued file, or None. A FIFO or a device put in its place
    is named, never read: opening a FIFO without O_NONBLOCK waits for a writer, and
    /dev/zero never ends. Without `hashes`, the file's kind, size and date stand for its
    content (as ingest's own 'unchanged' test does)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return f"cannot read ({exc.strerror}); run ingest"
    with open(fd, "rb") as fh:
        problem = _kind_problem(os.fstat(fd), size, mtime_ns, hashes)
        if problem or not hashes:
            return problem
        digest = hashlib.sha256()
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != item_id:
        return "content changed since ingest; run ingest"
    return None


def _check_catalog(archive: Archive, result: Verification) -> None:
    found = archive.catalog.damage(values=True)
    if found:
        result.catalog_ok = False
        result.found.append(Problem(str(archive.catalog.path), "catalog", "error",
                                    f"the catalog is damaged ({found}); {RECOVER}"))
        return
    result.found += [Problem(path, "catalog", "error", "file row points to no item")
                     for path in files_without_item(archive.catalog)]


def _check_files(archive: Archive, result: Verification, hashes: bool) -> None:
    for row in present_media_files(archive.catalog):
        result.checked += 1
        problem = _file_problem(Path(row.path), row.item_id or "", row.size, row.mtime_ns,
                                hashes)
        if problem:
            result.found.append(Problem(row.path, "file", "error", problem, row.event_id))


def _check_derived(archive: Archive, result: Verification) -> None:
    """Items whose poster, strip or thumbnails could not be made, and files whose worker
    failed (killed, out of time or memory): listed until an ingest makes them or reads
    them (it examines such files again)."""
    result.found += [dataclasses.replace(p, message=f"no {p.stage} ({p.message}); run "
                                         "ingest to make it again")
                     for p in underived_items(archive.catalog, DERIVED_STAGES)]
    result.found += [dataclasses.replace(p, message=f"not read ({p.message}); run ingest")
                     for p in unread_files(archive.catalog, WORKER_STAGE)]


def _check_resolution(archive: Archive, result: Verification) -> None:
    """Items left without their answer, or answered against an older event file, by an
    ingest cut short (one of an earlier version: batches are now resolved as they are
    committed): the next ingest finishes them."""
    catalog = archive.catalog
    folders = event_folders(catalog)
    for event_id, count in unresolved_per_event(catalog).items():
        result.found.append(Problem(
            folders.get(event_id, ""), RESOLUTION, "error",
            f"{count} item(s) without their time, sessions and credit; run ingest to "
            "finish", event_id))
    for event in list_events(catalog):
        mark = resolution_mark(catalog, event.id)
        if (mark.revision if mark else -1) < event.revision:
            result.found.append(Problem(
                event.folder, RESOLUTION, "error", "items not yet resolved against its "
                "event file; run ingest to finish", event.id))


def _repair_thumbnails(archive: Archive, result: Verification) -> None:
    missing: dict[str, ThumbnailRecord] = {}
    for thumb in thumbnails_with_items(archive.catalog):
        if not (archive.root / thumb.path).is_file():
            missing.setdefault(thumb.item_id, thumb)
    for item_id, thumb in missing.items():
        original = Path(thumb.original)
        if not original.is_file():
            result.found.append(Problem(str(original), "thumbnail", "error",
                                        "thumbnail missing and original gone"))
            continue
        st = original.stat()
        outcome = examine(Task(str(original), thumb.relpath, st.st_size, st.st_mtime_ns, (),
                               str(archive.root)))
        if outcome.item_id == item_id and outcome.thumbnails:
            result.repaired.append(f"{original}: thumbnails made again")
        else:
            result.found.append(Problem(str(original), "thumbnail", "error",
                                        "thumbnails missing and cannot be remade"))


def _remove_partials(archive: Archive, result: Verification) -> None:
    for part in archive.thumbs_dir.rglob("*.part"):
        part.unlink(missing_ok=True)
        result.repaired.append(f"{part}: unfinished thumbnail removed")


def verify_archive(archive: Archive, hashes: bool = True) -> Verification:
    """Check the catalog, the files (their content, or with `hashes` False their kind,
    size and date) and the thumbnails; remake missing thumbnails and drop unfinished
    ones."""
    result = Verification()
    _check_catalog(archive, result)
    if not result.catalog_ok:
        return result
    _check_files(archive, result, hashes)
    _remove_partials(archive, result)
    _repair_thumbnails(archive, result)
    _check_derived(archive, result)
    _check_resolution(archive, result)
    return result
