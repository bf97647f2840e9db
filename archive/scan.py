"""Scan: walk an event folder, pair sidecars with their media, note what each file is."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .manifest import EVENT_FILE
from .mediatypes import SIDECAR_SUFFIXES

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

    @property
    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """What must be unchanged for the file to be skipped unread."""
        return tuple((s.path, s.size, s.mtime_ns) for s in (self.file, *self.sidecars))


@dataclass
class ScanResult:
    entries: list[ScanEntry]
    orphans: list[Stat]  # sidecars with no media beside them
    unreadable: list[tuple[str, str]]  # (path, reason) for entries we could not stat
    # (path, reason) for symbolic links not followed: out of the folder, or in a loop
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _Links:
    """Which symbolic links the walk follows: those that stay inside the event folder,
    without coming back to a folder it is already inside (a loop)."""

    def __init__(self, folder: Path) -> None:
        self.root = os.path.realpath(folder)
        self.skipped: list[tuple[str, str]] = []
        self._chain: dict[str, frozenset[str]] = {str(folder): frozenset([self.root])}

    def _leaves(self, path: str) -> bool:
        target = os.path.realpath(path)
        if os.path.commonpath([target, self.root]) == self.root:
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

    for dirpath, dirnames, filenames in os.walk(folder, onerror=onerror, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and links.keep_folder(dirpath, os.path.join(dirpath, d)))
        for name in sorted(filenames):
            if name.startswith(".") or (dirpath == str(folder) and name == EVENT_FILE):
                continue
            path = os.path.join(dirpath, name)
            if not links.keep_file(path):
                continue
            try:
                st = os.stat(path)
            except OSError as exc:
                unreadable.append((path, f"cannot read: {exc.strerror}"))
                continue
            if not os.path.isfile(path):
                continue
            yield Stat(path, os.path.relpath(path, folder).replace(os.sep, "/"),
                       st.st_size, st.st_mtime_ns)


def _sidecar_owner(sidecar: Stat, media_by_stem: dict[str, ScanEntry]) -> ScanEntry | None:
    """`IMG_1.xmp` or `IMG_1.jpg.xmp` for photos; `talk.vtt` or `talk.en.vtt` for videos."""
    base, _ext = os.path.splitext(sidecar.path)
    candidates = [base]
    lang = _LANG.search(base)
    if lang:
        candidates.append(base[:lang.start()])
    for candidate in candidates:
        if candidate in media_by_stem:
            return media_by_stem[candidate]
    return None


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
    media_by_stem: dict[str, ScanEntry] = {}
    for entry in entries:
        media_by_stem.setdefault(os.path.splitext(entry.file.path)[0], entry)
        media_by_stem.setdefault(entry.file.path, entry)
    orphans = []
    for sidecar in sidecars:
        owner = _sidecar_owner(sidecar, media_by_stem)
        if owner:
            owner.sidecars.append(sidecar)
        else:
            orphans.append(sidecar)
    return ScanResult(entries, orphans, unreadable, links.skipped)
