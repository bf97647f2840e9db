"""A web node's own replica of the search index (`serve --replica DIR`).

The replica folder holds what an archive holds of its index, `index` linked to a
generation, plus `sync.lock`. The node brings it to the catalog's revision with the
sync by revision that follows every ingest (indexer/sync.py): a first build from the
whole catalog, then the items changed since, at start-up and then on a timer. Each
sync writes a new generation and swaps the link (copy on write), so a search never
reads a generation while it is written. Only the holder of the lock writes: of a
node's processes, whichever timer comes first; the others find the lock taken and
just reopen the new generation when they next search.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from archive.errors import ArchiveError
from archive.locking import ArchiveBusy, write_lock
from archive.store import Archive

from .generations import current_dir, damage
from .sync import SyncResult, rebuild, sync

log = logging.getLogger(__name__)

LOCK_FILE = "sync.lock"


@dataclass(frozen=True)
class Replica:
    """The folder of one node's index replica, kept from the archive at `root`."""

    folder: Path
    root: Path

    @property
    def lock_path(self) -> Path:
        return self.folder / LOCK_FILE

    def open(self) -> Archive:
        """The archive, read-only, with this replica as its index. Not the site's public
        view: a withheld item must reach the index, marked, for searches to leave it out."""
        return replace(Archive.open(self.root, create=False, readonly=True),
                       index_home=self.folder)

    def prepare(self) -> None:
        """Make the folder; raises ArchiveError, in one line, when it cannot be used."""
        if self.folder.resolve() == self.root.resolve():
            # Its `index` would be the archive's own, which only an ingest may write.
            raise ArchiveError(f"{self.folder}: the replica of the search index needs a "
                               "folder of its own, not the archive")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder):
                pass
        except OSError as exc:
            raise ArchiveError(f"{self.folder}: cannot write the replica of the search "
                               f"index there ({exc.strerror or exc}); give --replica a "
                               "folder on a local disk that this user can write") from None

    def catch_up(self, wait: bool = False, quiet: bool = True,
                 deep: bool = False) -> SyncResult | None:
        """Bring the replica to the catalog's revision, rebuilt if its files are damaged
        (`deep`: their contents checked, else their sizes); None when another process of
        the node holds the lock and `wait` is False (it is syncing now).

        Raises ArchiveError (CatalogError, ArchiveWriteError) as sync does."""
        try:
            with write_lock(self.lock_path, wait=wait, quiet=True), self.open() as archive:
                result = (_repaired(archive, deep, quiet)
                          or sync(archive, quiet=quiet, copy_on_write=True))
                catalog = archive.catalog.revision
        except ArchiveBusy:
            return None
        if result.updated or result.deleted or result.rebuilt:
            log.info("index replica %s at revision %d, catalog at %d: %d item(s) indexed, "
                     "%d deleted in %.2f s", self.folder, result.revision, catalog,
                     result.updated, result.deleted, result.seconds)
        return result


def _repaired(archive: Archive, deep: bool, quiet: bool) -> SyncResult | None:
    """The replica rebuilt if its files are damaged, else None: sync checks them only
    before it writes, and a replica as new as the catalog would serve 503s meanwhile."""
    folder = current_dir(archive.index_dir)
    problem = damage(folder, deep) if folder is not None else None
    return rebuild(archive, f"{archive.index_dir}: {problem}", quiet) if problem else None


@dataclass(eq=False)
class ReplicaSyncer:
    """Keeps a replica caught up every `interval` seconds, from a daemon thread of a
    serving process: a process killed mid-sync leaves a generation nobody reads, which
    the next swap removes."""

    replica: Replica
    interval: float
    _stopped: threading.Event = field(default_factory=threading.Event)
    _failure: str | None = None

    def start(self) -> ReplicaSyncer:
        threading.Thread(target=self._run, name="index-replica", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """One sync; a failure is logged (once until it changes) and the replica keeps
        serving what it holds until a later tick succeeds."""
        try:
            self.replica.catch_up()
        except Exception as exc:  # noqa: BLE001 - a dead thread would stop every later sync
            self._failed(exc)
        else:
            if self._failure is not None:
                log.warning("the index replica %s syncs again", self.replica.folder)
                self._failure = None

    def _failed(self, exc: Exception) -> None:
        ours = isinstance(exc, ArchiveError)  # says what to do; anything else is a bug
        message = str(exc) if ours else repr(exc)
        if message != self._failure:
            log.warning("the index replica %s could not be synced: %s",
                        self.replica.folder, message, exc_info=not ours)
        self._failure = message
