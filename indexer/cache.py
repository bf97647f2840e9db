"""Recent search results, bounded by their size in bytes as well as by count.

Entries are kept pickled: the size of an entry is then its length, not a guess
at the memory of a tree of dicts, and each hit hands out a fresh copy the
caller may change. Counting entries alone let 80 queries over a video with an
8 MB transcript take a worker from 0.7 to 5.5 GB.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import diskcache

log = logging.getLogger(__name__)


class ResultCache:
    """Least recently used results of this process, at most `entries` of them and
    `max_bytes` in all (0 for either: keep nothing). An entry larger than the whole
    budget is not kept. A subclass keeps the pickles elsewhere (`_blob`, `_keep`)."""

    def __init__(self, entries: int = 0, max_bytes: int = 0) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self.nbytes = 0
        self.hits = self.misses = 0
        self._data: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any | None:
        found = None
        if self.entries and self.max_bytes:
            try:
                blob = self._blob(key)
                found = pickle.loads(blob) if blob is not None else None
            except Exception as exc:  # noqa: BLE001 - a cache: whatever fails is a miss
                self._failed(exc)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, key: Hashable, value: Any) -> None:
        if not self.entries or not self.max_bytes:
            return
        blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(blob) <= self.max_bytes:
            self._keep(key, blob)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0

    def _blob(self, key: Hashable) -> bytes | None:
        with self._lock:
            blob = self._data.get(key)
            if blob is not None:
                self._data.move_to_end(key)
            return blob

    def _keep(self, key: Hashable, blob: bytes) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            self.nbytes += len(blob) - (len(old) if old is not None else 0)
            self._data[key] = blob
            while len(self._data) > self.entries or self.nbytes > self.max_bytes:
                self.nbytes -= len(self._data.popitem(last=False)[1])

    def _failed(self, exc: Exception) -> None:
        log.warning("search result cache: %s", exc)


class SharedResultCache(ResultCache):
    """The same cache in a folder that the worker processes of one server share
    (`diskcache`: SQLite and files), so a query is searched once, not once per worker
    that sees it.

    The oldest entries are dropped first. A failing cache is a miss, never a failed
    search. It holds pickles: the folder must be one only the server can write (serve
    makes it with mkdtemp).
    """

    def __init__(self, folder: Path, entries: int = 0, max_bytes: int = 0) -> None:
        super().__init__(entries, max_bytes)
        self.folder = folder
        self._cache = None
        if entries and max_bytes:
            try:
                self._cache = _open(folder, max_bytes)
            except (sqlite3.Error, OSError) as exc:
                log.warning("search result cache %s: %s; searching without it", folder, exc)

    @classmethod
    def create(cls, folder: Path) -> None:
        """Make the cache's files before the processes that share it start."""
        _open(folder, 0).close()

    def __len__(self) -> int:
        return len(self._cache) if self._cache is not None else 0

    def clear(self) -> None:
        if self._cache is None:
            return
        try:
            self._cache.clear()
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)

    def _blob(self, key: Hashable) -> bytes | None:
        return self._cache.get(repr(key)) if self._cache is not None else None

    def _keep(self, key: Hashable, blob: bytes) -> None:
        if self._cache is None:
            return
        try:
            self._cache.set(repr(key), blob)  # bytes: kept as they are, not pickled again
            while len(self._cache) > self.entries:  # diskcache bounds the bytes only
                oldest, _ = self._cache.peekitem(last=False)
                self._cache.delete(oldest)
        except KeyError:
            pass  # another process emptied it meanwhile
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """Say what failed; a damaged cache file is left alone from then on, or every
        search would say it again."""
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError):
            log.warning("search result cache %s: %s; searching without it", self.folder,
                        exc)
            self._cache = None
        else:
            log.warning("search result cache %s: %s", self.folder, exc)


def _open(folder: Path, max_bytes: int) -> diskcache.Cache:
    # A cache: losing its last writes to a crash is harmless, so no fsync.
    return diskcache.Cache(str(folder), size_limit=max_bytes or 2**30, sqlite_synchronous=0,
                           eviction_policy="least-recently-stored")
