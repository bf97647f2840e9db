"""Recent search results, bounded by their size in bytes as well as by count.

Entries are kept pickled: the size of an entry is then its length, not a guess
at the memory of a tree of dicts, and each hit hands out a fresh copy the
caller may change. Counting entries alone let 80 queries over a video with an
8 MB transcript take a worker from 0.7 to 5.5 GB.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


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
