"""One writer at a time: an advisory lock file inside the archive directory."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.errors import ArchiveError

log = logging.getLogger(__name__)


class ArchiveBusy(ArchiveError):
    """Another process holds the archive's write lock and we were told not to wait."""


@contextmanager
def write_lock(lock_path: Path, wait: bool = True, quiet: bool = False) -> Iterator[None]:
    """Hold the archive's write lock; waits for another writer unless `wait` is False.

    The kernel drops the lock when the holder dies, so a killed ingest never
    leaves a stale lock behind.
    """
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArchiveError(f"{lock_path.parent}: cannot write the archive ({exc.strerror}); "
                           "is the disk read-only or full?") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise ArchiveBusy(f"{lock_path.parent}: another ingest is writing this "
                                  "archive; try again when it has finished") from None
            if not quiet:
                # A warning: the command stops here until the other one ends.
                log.warning("waiting for another ingest to finish (%s)", lock_path)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
