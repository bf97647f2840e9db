"""Scan: walk an event folder, pair sidecars with their media, note what each file is."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFSOCK, S_ISREG

from archive.fsnames import within
from archive.media.types import SIDECAR_SUFFIXES
from archive.resolve.eventfile import EVENT_FILE

_SPECIAL = {S_IFIFO: "a FIFO (named pipe)", S_IFCHR: "a character device",
            S_IFBLK: "a block device", S_IFSOCK: "a socket"}
LATEST_NS = 2**63 - 1  # the largest time a catalog holds: in 2262
_LANG = re.compile(r"\.[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?\Z")


@dataclass(frozen=True)
class Stat:
    path: str
    relpath: str
    size: int
    mtime_ns: int


@dataclass
class ScanEntry:
    """A candidate media file and the sidecars beside it."""

    file: Stat
    sidecars: list[Stat] = field(default_factory=list)


@dataclass
class ScanResult:
    entries: list[ScanEntry]
    orphans: list[Stat]  # sidecars with no media beside them
    unreadable: list[tuple[str, str]]  # (path, reason) for entries we could not stat
    # (path, reason) for what was passed over: symbolic links not followed (out of the
    # folder, dangling, in a loop), FIFOs and devices
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _Links:
    """Which symbolic links the walk follows: those that stay inside the event folder,
    without coming back to a folder it is already inside (a loop); `skipped` says what
    the walk passed over, and why."""

    def __init__(self, folder: Path) -> None:
        self.root = os.path.realpath(folder)
        self.skipped: list[tuple[str, str]] = []
        self._chain: dict[str, frozenset[str]] = {str(folder): frozenset([self.root])}

    def _leaves(self, path: str) -> bool:
        """Whether a link is not followed: it leads out of the event folder, or nowhere."""
        target = os.path.realpath(path)
        try:
            os.stat(path)
        except OSError as exc:
            why = ("which leads back to itself (a loop of links)" if exc.errno == errno.ELOOP
                   else "which does not exist (dangling)")
            self.skipped.append((path, f"symbolic link to {os.readlink(path)}, {why}; "
                                       "not followed"))
            return True
        if within(target, self.root):
            return False
        self.skipped.append((path, f"symbolic link to {target} leaves the event folder; "
                                   "not followed"))
        return True

    def keep_file(self, path: str) -> bool:
        return not (os.path.islink(path) and self._leaves(path))

    def keep_folder(self, parent: str, path: str) -> bool:
        real = os.path.realpath(path)
        if os.path.islink(path) and self._leaves(path):
            return False
        if real in self._chain[parent]:
            self.skipped.append((path, f"symbolic link to {real} loops back to a folder "
                                       "it is in; not followed"))
            return False
        self._chain[path] = self._chain[parent] | {real}
        return True


def _walk(folder: Path, unreadable: list[tuple[str, str]], links: _Links) -> Iterator[Stat]:
    def onerror(exc: OSError) -> None:
        unreadable.append((str(exc.filename), f"cannot list folder: {exc.strerror}"))

    # The event file, and the file it links to inside the folder: no media either.
    event_file = os.path.realpath(folder / EVENT_FILE)
    for dirpath, dirnames, filenames in os.walk(folder, onerror=onerror, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and links.keep_folder(dirpath, os.path.join(dirpath, d)))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.startswith(".") or (dirpath == str(folder) and name == EVENT_FILE) or \
                    os.path.realpath(path) == event_file:
                continue
            if not links.keep_file(path):
                continue
            try:
                st = os.stat(path)
            except OSError as exc:
                unreadable.append((path, f"cannot read: {exc.strerror}"))
                continue
            if not S_ISREG(st.st_mode):
                # A FIFO would hang whoever reads it, a device never ends: never read, but
                # said, as a file that is there and not catalogued.
                kind = _SPECIAL.get(S_IFMT(st.st_mode), "not a regular file")
                links.skipped.append((path, f"{kind}, not a media file; skipped"))
                continue
            yield Stat(path, os.path.relpath(path, folder).replace(os.sep, "/"),
                       st.st_size, _storable_time(st.st_mtime_ns))


def _storable_time(ns: int) -> int:
    """A modification time the catalog can hold (a 64-bit integer): a file dated past
    2262 (a camera's clock, `touch -d 2300-01-01`) keeps the latest such time."""
    return max(-LATEST_NS - 1, min(ns, LATEST_NS))


def _owner_keys(sidecar: str) -> list[str]:
    """The names a sidecar may be for, most specific first: `talk.en.vtt` is for
    `talk.en.*`, else `talk.*`; `IMG_1.jpg.xmp` for `IMG_1.jpg`."""
    base, _ext = os.path.splitext(sidecar)
    keys = [base]
    lang = _LANG.search(base)
    if lang:
        keys.append(base[:lang.start()])
    return keys


def pair_sidecars(media: Iterable[str], sidecars: Iterable[str]
                  ) -> tuple[dict[str, list[str]], list[str]]:
    """Which sidecars belong to which media file (by path), and the sidecars of none.

    A sidecar belongs to every media file of its stem, not only the first:
    `talk.vtt` beside `talk.mp4`, `talk.mkv` and `talk.webm` (three encodings of
    one recording) is the transcript of each; `IMG_1.xmp` describes both files of
    a raw + JPEG pair.
    """
    by_key: dict[str, list[str]] = {}
    for path in media:
        for key in dict.fromkeys((os.path.splitext(path)[0], path)):
            by_key.setdefault(key, []).append(path)
    paired: dict[str, list[str]] = {}
    orphans = []
    for sidecar in sidecars:
        owners = next((by_key[k] for k in _owner_keys(sidecar) if k in by_key), [])
        for owner in owners:
            paired.setdefault(owner, []).append(sidecar)
        if not owners:
            orphans.append(sidecar)
    return paired, orphans


def scan(folder: Path) -> ScanResult:
    """Every file of an event folder (hidden ones and the event file excepted), through
    symbolic links that stay inside it."""
    unreadable: list[tuple[str, str]] = []
    entries: list[ScanEntry] = []
    sidecars: list[Stat] = []
    links = _Links(folder)
    for stat in _walk(folder, unreadable, links):
        if stat.path.lower().endswith(SIDECAR_SUFFIXES):
            sidecars.append(stat)
        else:
            entries.append(ScanEntry(stat))
    stats = {s.path: s for s in sidecars}
    paired, orphans = pair_sidecars((e.file.path for e in entries), stats)
    for entry in entries:
        entry.sidecars = [stats[path] for path in paired.get(entry.file.path, [])]
    return ScanResult(entries, [stats[path] for path in orphans], unreadable, links.skipped)
