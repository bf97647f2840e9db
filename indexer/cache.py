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
from contextlib import closing
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ResultCache:
    """Least recently used results, at most `entries` of them and `max_bytes` in all
    (0 for either: keep nothing). An entry larger than the whole budget is not kept."""

    def __init__(self, entries: int = 0, max_bytes: int = 0) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self.nbytes = 0
        self.hits = self.misses = 0
        self._data: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            blob = self._data.get(key)
            if blob is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
        return pickle.loads(blob)

    def put(self, key: Hashable, value: Any) -> None:
        if not self.entries or not self.max_bytes:
            return
        blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(blob) > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            self.nbytes += len(blob) - (len(old) if old is not None else 0)
            self._data[key] = blob
            while len(self._data) > self.entries or self.nbytes > self.max_bytes:
                self.nbytes -= len(self._data.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0


class SharedResultCache:
    """The same cache kept in a SQLite file that the worker processes of one server
    share, so a query is searched once, not once per worker that sees it.

    The oldest entries are dropped first. A failing cache file is a miss, never a
    failed search. The file holds pickles: it must live in a folder only the server
    can write (serve makes one with mkdtemp).
    """

    FILE = "results.sqlite"

    def __init__(self, folder: Path, entries: int = 0, max_bytes: int = 0) -> None:
        """The cache in `folder`, made there by `create` before the processes start."""
        self.path, self.entries, self.max_bytes = folder / self.FILE, entries, max_bytes
        self.hits = self.misses = 0
        self._local = threading.local()

    @classmethod
    def create(cls, folder: Path) -> None:
        with closing(sqlite3.connect(folder / cls.FILE)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE results "
                       "(key TEXT PRIMARY KEY, blob BLOB NOT NULL, size INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")  # a cache: losing it to a crash is harmless
        return db

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def __len__(self) -> int:
        return self._db().execute("SELECT count(*) FROM results").fetchone()[0]

    def get(self, key: Hashable) -> Any | None:
        if not self.entries or not self.max_bytes:
            return None
        try:
            row = self._db().execute("SELECT blob FROM results WHERE key = ?",
                                     (repr(key),)).fetchone()
        except sqlite3.Error as exc:
            log.warning("search result cache %s: %s", self.path, exc)
            row = None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return pickle.loads(row[0])

    def put(self, key: Hashable, value: Any) -> None:
        if not self.entries or not self.max_bytes:
            return
        blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(blob) > self.max_bytes:
            return
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                           (repr(key), blob, len(blob)))
                self._evict(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            log.warning("search result cache %s: %s", self.path, exc)

    def _evict(self, db: sqlite3.Connection) -> None:
        count, size = db.execute("SELECT count(*), total(size) FROM results").fetchone()
        while count > self.entries or size > self.max_bytes:
            rowid, dropped = db.execute(
                "SELECT rowid, size FROM results ORDER BY rowid LIMIT 1").fetchone()
            db.execute("DELETE FROM results WHERE rowid = ?", (rowid,))
            count, size = count - 1, size - dropped

    def clear(self) -> None:
        try:
            self._db().execute("DELETE FROM results")
        except sqlite3.Error as exc:
            log.warning("search result cache %s: %s", self.path, exc)
