"""Per-request access to the archive: a read-only catalog on `g`, one shared index (the
archive's, or the node's own replica of it)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import current_app, g

from archive import settings
from archive.catalog import CatalogError
from archive.store import Archive
from indexer.replica import Replica
from indexer.search import SearchIndex

# Public catalogs a serving process keeps open for its requests (its threads' worth).
IDLE_CATALOGS = 32


class SiteArchive:
    """What the app shares between requests: the archive path and one search index."""

    def __init__(self, root: Path, cache_size: int = 0, cache_bytes: int = 0,
                 cache_dir: Path | None = None,
                 max_query_length: int = settings.value("max_query_length"),
                 replica: Path | None = None) -> None:
        """`replica`: search the index replica in that folder (serve --replica), which
        the serving process keeps synced, instead of the archive's own index."""
        self.root, self.cache_size, self.cache_bytes = root, cache_size, cache_bytes
        self.cache_dir, self.max_query_length = cache_dir, max_query_length
        self.replica = Replica(replica, root) if replica else None
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()
        # Public catalogs on a PostgreSQL server, kept open between requests: a new
        # connection costs the server a process and a dozen round trips (the public
        # view made anew), more than most pages take. SQLite's open in microseconds.
        self._idle: list[Archive] = []
        self._pid = os.getpid()

    def public_archive(self) -> Archive:
        """A public, read-only view of the archive for one request (give it back with
        `release`)."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                self._idle, self._pid = [], os.getpid()
            archive = self._idle.pop() if self._idle else None
        if archive is not None:
            try:
                archive.catalog.execute("SELECT 1")  # the server may have restarted
                return archive
            except CatalogError:
                archive.close()
        return Archive.open(self.root, create=False, public=True)

    def release(self, archive: Archive) -> None:
        """Keep a request's public view for the next one, or close it."""
        keep = (archive.shared and not archive.catalog.db.in_transaction
                and not archive.catalog.db.broken)
        with self._lock:
            if keep and self._pid == os.getpid() and len(self._idle) < IDLE_CATALOGS:
                self._idle.append(archive)
                return
        archive.close()

    def index(self) -> SearchIndex:
        with self._lock:
            if self._index is None:
                reader = (self.replica.open() if self.replica else
                          Archive.open(self.root, create=False, readonly=True))
                try:
                    self._index = SearchIndex(reader, rebuild_missing=False, persist=False,
                                              cache_size=self.cache_size,
                                              cache_bytes=self.cache_bytes,
                                              cache_dir=self.cache_dir,
                                              max_query_length=self.max_query_length)
                except BaseException:
                    reader.close()  # an unusable index: the next request tries again
                    raise
            return self._index


def site() -> SiteArchive:
    return current_app.extensions["site_archive"]


def archive() -> Archive:
    """The request's read-only view of the archive (closed at teardown): a public one,
    whose catalog holds no item withheld from publication, so no page or file route can
    show one (a withheld item is an unknown id: 404)."""
    if "archive" not in g:
        g.archive = site().public_archive()
    return g.archive
