"""Bring the index up to the catalog's revision: add, update, delete; or rebuild."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

from archive import settings
from archive.catalog import changes_since
from archive.errors import ArchiveWriteError
from archive.model import ItemChanges
from archive.processes import forked_children_end_with_this_process
from archive.store import Archive
from indexer.generations import (
    IndexDamaged,
    IndexMissing,
    confirm_damage,
    current_dir,
    damage,
    linked_generation,
    new_generation,
    open_index,
    read_revision,
    read_schema,
    swap,
    write_revision,
)

from .documents import documents, load_context
from .facets import facet_table
from .schema import SCHEMA_VERSION

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    revision: int
    updated: int = 0
    deleted: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    reason: str | None = None


def bulk_writer(ix: FileIndex) -> SegmentWriter:
    """A writer for a full build: two processes, each writing its own segment (twice the
    speed of one), when forking is safe (no other threads) and there are two cores."""
    limitmb = settings.value("index_build_memory")
    if threading.active_count() == 1 and (os.cpu_count() or 1) > 1:
        # Killed with us: an orphaned writer, stuck on its queue, kept the archive's
        # write lock (inherited) and every later ingest waited for ever.
        forked_children_end_with_this_process()
        return ix.writer(limitmb=limitmb, procs=2, multisegment=True)
    return ix.writer(limitmb=limitmb)


@contextmanager
def _writing(archive: Archive) -> Iterator[None]:
    """Turns a failure to write the index (a read-only archive, a full disk) into one
    line of ours; the generation being written is left for the next swap to drop."""
    try:
        yield
    except OSError as exc:
        raise ArchiveWriteError(
            f"{archive.index_dir}: cannot write the search index ({exc.strerror or exc}); "
            "is the archive read-only or the disk full? 'event-archive verify' rebuilds "
            "it once it can write") from None


def rebuild(archive: Archive, reason: str | None = None, quiet: bool = True) -> SyncResult:
    """Index every item into a new generation, then swap it in atomically.

    Raises CatalogError, leaving the index as it is, when the catalog is damaged (an
    index built from it would lose what the catalog lost), and ArchiveWriteError when
    the index cannot be written."""
    started = time.perf_counter()
    archive.catalog.ensure_sound()
    # A notice, not a warning: the index is written anyway; -q hides it.
    if not quiet and reason:
        log.info("rebuilding the search index: %s", reason)
    elif not quiet:
        log.info("building the search index")
    with _writing(archive):
        revision, count = _build(archive)
    return SyncResult(revision, updated=count, rebuilt=True, reason=reason,
                      seconds=time.perf_counter() - started)


def _build(archive: Archive) -> tuple[int, int]:
    """Write a new generation from the whole catalog and swap it in; returns the
    catalog revision it holds and its number of items."""
    folder, ix = new_generation(archive.index_dir)
    changes = changes_since(archive.catalog, -1)
    items = changes.items
    context = load_context(archive.catalog)
    writer = bulk_writer(ix)
    try:
        batch = settings.value("index_batch")
        for start in range(0, len(items), batch):
            for doc in documents(archive.catalog, items[start:start + batch], context):
                writer.add_document(**doc)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    write_revision(folder, changes.revision)
    swap(archive.index_dir, folder)
    return changes.revision, len(items)


def sync(archive: Archive, quiet: bool = True, copy_on_write: bool = False) -> SyncResult:
    """Apply the catalog's changes since the index's revision; rebuild if it is missing,
    unreadable or older than the catalog can tell (no revision recorded).

    `copy_on_write`: write the changes into a new generation (the current one's files
    linked into it) and swap it in, so that no reader ever opens a generation while it
    is written (a web node's replica, synced while it serves)."""
    started = time.perf_counter()
    folder = current_dir(archive.index_dir)
    if (folder is not None and read_revision(folder) == archive.catalog.revision
            and read_schema(folder) == SCHEMA_VERSION):
        return SyncResult(archive.catalog.revision)  # up to date: not even opened
    try:
        ix = open_index(archive.index_dir)
    except IndexMissing as exc:
        # A first build repairs nothing, so it gives no reason that reads like an error.
        first = not os.path.lexists(archive.index_dir)
        return rebuild(archive, None if first else str(exc), quiet)
    folder = current_dir(archive.index_dir)
    have = read_revision(folder) if folder else -1
    if have < 0:
        return rebuild(archive, "the index does not say which revision it holds", quiet)
    # A commit may merge a damaged segment into a new one, whose checksum would then
    # vouch for the damage: check every file before writing (SHA-256, ~1.5 GB/s).
    problem = damage(folder)
    if problem:
        return rebuild(archive, f"{archive.index_dir}: {problem}", quiet)
    changes = changes_since(archive.catalog, have)
    if changes.revision == have:
        return SyncResult(have)
    with _writing(archive):
        if copy_on_write:
            folder, ix = linked_generation(archive.index_dir)
        damaged = _apply(archive, ix, changes)
        if damaged is not None:
            return rebuild(archive, str(damaged), quiet)
        write_revision(folder, changes.revision)
        if copy_on_write:
            _warm_facets(folder, ix)
            swap(archive.index_dir, folder)
    return SyncResult(changes.revision, updated=len(changes.items),
                      deleted=len(changes.deleted), seconds=time.perf_counter() - started)


def _apply(archive: Archive, ix: FileIndex, changes: ItemChanges) -> IndexDamaged | None:
    """Write the changes in one commit; the damage found instead when Whoosh failed on
    damaged files (nothing written then)."""
    writer = ix.writer()
    try:
        for doc in documents(archive.catalog, changes.items[:]):
            writer.update_document(**doc)
        for item_id in changes.deleted:
            writer.delete_by_term("id", item_id)
        writer.commit()
    except Exception as exc:  # noqa: BLE001 - Whoosh fails many ways on damaged files
        writer.cancel()
        damaged = confirm_damage(archive.index_dir, exc)
        if damaged is None:
            raise
        return damaged
    except BaseException:
        writer.cancel()
        raise
    return None


def _warm_facets(folder: Path, ix: FileIndex) -> None:
    """Save the new generation's facet table before readers see it: each serving
    process would otherwise build its own from the postings."""
    with ix.reader() as reader:
        facet_table(folder, ix.latest_generation(), reader)
