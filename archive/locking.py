"""One writer at a time: an advisory lock file inside the archive directory."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.errors import ArchiveError

log = logging.getLogger(__name__)


class ArchiveBusy(ArchiveError):
    """Another process holds the archive's write lock and we were told not to wait."""


# How often a writer that may wait only so long asks for the lock again: flock has no
# time-out of its own, and a curator's change of a second should not wait much longer.
POLL = 0.05


@contextmanager
def write_lock(lock_path: Path, wait: bool = True, quiet: bool = False,
               timeout: float | None = None) -> Iterator[None]:
    """Hold the archive's write lock; waits for another writer unless `wait` is False,
    and at most `timeout` seconds when given.

    Raises ArchiveBusy when the lock is not had (at once, or in time), ArchiveError when
    the lock file cannot be made. The kernel drops the lock when the holder dies, so a
    killed ingest never leaves a stale lock behind. Each call opens the file anew, so
    two threads of one process exclude each other too (flock locks an open file).
    """
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArchiveError(f"{lock_path.parent}: cannot write the archive ({exc.strerror}); "
                           "is the disk read-only or full?") from None
    try:
        _acquire(fd, lock_path, wait, quiet, timeout)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, lock_path: Path, wait: bool, quiet: bool,
             timeout: float | None) -> None:
    """Lock `fd` as write_lock says; raises ArchiveBusy when it may wait no more."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        if not wait:
            raise ArchiveBusy(f"{lock_path.parent}: another ingest is writing this "
                              "archive; try again when it has finished") from None
    if not quiet:
        # A warning: the command stops here until the other one ends.
        log.warning("waiting for another ingest to finish (%s)", lock_path)
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise ArchiveBusy(f"{lock_path.parent}: another writer (an ingest or a "
                                  f"curator) held the archive for {timeout:g} s; try "
                                  "again") from None
            time.sleep(POLL)
