"""Verify an archive: the catalog is sound, files still hold their content, thumbnails
exist; repair what can be rebuilt (thumbnails, stray temporary files).

A damaged catalog stops the check there: what is derived from it (thumbnails,
the index) must not be remade from a catalog that lost rows.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from archive.catalog.database import RECOVER
from archive.ingest.examine import READ_CHUNK, Task, examine
from archive.ingest.tasks import DERIVED_STAGES, WORKER_STAGE
from archive.store import Archive


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    catalog_ok: bool = True  # else nothing derived from the catalog may be rebuilt

    @property
    def ok(self) -> bool:
        return not self.problems


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
        result.problems.append(f"{archive.catalog.path}: the catalog is damaged ({found}); "
                               f"{RECOVER}")
        return
    orphans = archive.catalog.query(
        "SELECT path FROM files WHERE item_id IS NOT NULL AND item_id NOT IN "
        "(SELECT id FROM items)")
    result.problems += [f"{r['path']}: file row points to no item" for r in orphans]


def _check_files(archive: Archive, result: Verification, hashes: bool) -> None:
    rows = archive.catalog.query("SELECT path, item_id, size, mtime_ns FROM files WHERE state "
                                 "= 'present' AND role = 'media' AND item_id IS NOT NULL")
    for row in rows:
        result.checked += 1
        problem = _file_problem(Path(row["path"]), row["item_id"], row["size"],
                                row["mtime_ns"], hashes)
        if problem:
            result.problems.append(f"{row['path']}: {problem}")


def _check_derived(archive: Archive, result: Verification) -> None:
    """Items whose poster, strip or thumbnails could not be made, and files whose worker
    failed (killed, out of time or memory): listed until an ingest makes them or reads
    them (it examines such files again)."""
    marks = ",".join("?" * len(DERIVED_STAGES))
    rows = archive.catalog.query(
        "SELECT e.path, e.stage, e.message FROM errors e JOIN files f ON f.path = e.path "
        f"WHERE e.level = 'error' AND e.stage IN ({marks}) AND f.state = 'present' "
        "AND f.item_id IS NOT NULL ORDER BY e.path", DERIVED_STAGES)
    result.problems += [f"{r['path']}: no {r['stage']} ({r['message']}); run ingest to make "
                        "it again" for r in rows]
    rows = archive.catalog.query(
        "SELECT e.path, e.message FROM errors e JOIN files f ON f.path = e.path WHERE "
        "e.stage = ? AND f.state = 'failed' ORDER BY e.path", (WORKER_STAGE,))
    result.problems += [f"{r['path']}: not read ({r['message']}); run ingest" for r in rows]


def _check_resolution(archive: Archive, result: Verification) -> None:
    """Items left without their answer, or answered against an older event file, by an
    ingest cut short (one of an earlier version: batches are now resolved as they are
    committed): the next ingest finishes them."""
    catalog = archive.catalog
    for row in catalog.query("SELECT event_id, COUNT(*) AS n FROM items WHERE resolved = "
                             "'{}' GROUP BY event_id ORDER BY event_id"):
        result.problems.append(f"event {row['event_id']}: {row['n']} item(s) without their "
                               "time, sessions and credit; run ingest to finish")
    for row in catalog.query("SELECT id, revision FROM events ORDER BY id"):
        mark = (catalog.get_meta(f"resolved:{row['id']}") or "-1").split(" ")[0]
        if int(mark) < row["revision"]:
            result.problems.append(f"event {row['id']}: items not yet resolved against "
                                   "its event file; run ingest to finish")


def _repair_thumbnails(archive: Archive, result: Verification) -> None:
    rows = archive.catalog.query(
        "SELECT t.item_id, t.path, i.path AS original, i.relpath, i.size FROM thumbnails t "
        "JOIN items i ON i.id = t.item_id")
    missing: dict[str, dict] = {}
    for row in rows:
        if not (archive.root / row["path"]).is_file():
            missing.setdefault(row["item_id"], dict(row))
    for item_id, row in missing.items():
        original = Path(row["original"])
        if not original.is_file():
            result.problems.append(f"{original}: thumbnail missing and original gone")
            continue
        st = original.stat()
        outcome = examine(Task(str(original), row["relpath"], st.st_size, st.st_mtime_ns, (),
                               str(archive.root)))
        if outcome.item_id == item_id and outcome.thumbnails:
            result.repaired.append(f"{original}: thumbnails made again")
        else:
            result.problems.append(f"{original}: thumbnails missing and cannot be remade")


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
