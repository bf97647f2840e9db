"""File modes: files the archive writes get the mode any new file gets."""

from __future__ import annotations

import os


def _umask() -> int:
    """The process's umask, read without setting it (os.umask sets it to read it: a race
    with a thread creating a file meanwhile) where Linux says it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share_file(fd: int) -> None:
    """Give a file tempfile.mkstemp made (mode 0600) the mode any new file gets, 0666
    less the umask: a site running as another user must read thumbnails and facets."""
    os.fchmod(fd, 0o666 & ~_umask())
