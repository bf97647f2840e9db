"""Exceptions a user can cause; the CLI prints them on one line and exits 1."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class ManifestError(ArchiveError):
    """The event file is wrong: names the file, the key and what was expected."""

    def __init__(self, path: object, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + problem)


class MediaError(ArchiveError):
    """One file could not be read at one stage; recorded, never fatal to a batch."""

    def __init__(self, stage: str, message: str) -> None:
        self.stage = stage
        super().__init__(message)


class ArchiveWriteError(ArchiveError):
    """The archive's own files cannot be written (disk full, read-only, quota): fatal for
    the ingest, never recorded against the file being processed."""


class UnknownIdError(ArchiveError):
    """An event, session or person id that the archive does not hold."""
