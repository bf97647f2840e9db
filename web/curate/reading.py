"""The curator's view of the archive: a read-only catalog that is not the public one, so
withheld items are seen (and shown marked) on the desk's pages only."""

from __future__ import annotations

from flask import g

from archive.store import Archive

from ..context import site


def curator_archive() -> Archive:
    """The request's read-only, non-public view of the archive (closed at teardown)."""
    if "curator_archive" not in g:
        g.curator_archive = Archive.open(site().root, create=False, readonly=True)
    return g.curator_archive


def close_curator_archive(_exc: BaseException | None) -> None:
    opened = g.pop("curator_archive", None)
    if opened is not None:
        opened.close()
