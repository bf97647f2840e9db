"""A curator's change, written as every writer of the archive writes: under its write
lock (ingest, `faces name` and the other curators take it too), then the search index
brought up to the catalog, so the public site shows the change from its next search.

A writer that finds the lock held waits for it, at most CURATE_LOCK_WAIT seconds (the
curate_lock_wait setting), then answers "busy, try again": two curators' changes take
a second each, so the second waits; an ingest can take an hour, so no request waits
for it. Nothing is lost either way: a form refused as busy wrote nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app

from archive.catalog import Catalog, CatalogError
from archive.errors import ArchiveError, ManifestError
from archive.ingest.curation import StaleCluster
from archive.locking import ArchiveBusy
from archive.resolve.eventedit import StaleEventFile
from archive.store import Archive
from indexer.sync import sync

from ..context import site
from .forms import FormInvalid

log = logging.getLogger(__name__)
T = TypeVar("T")


def write(change: Callable[[Catalog], T]) -> tuple[T, str | None]:
    """Run `change` on a writable catalog under the write lock, then sync the index;
    returns its result and a problem of the index sync, if any (the change is kept).

    Raises ArchiveBusy when the lock is not had in time, and whatever `change` raises.
    """
    wait = float(current_app.config["CURATE_LOCK_WAIT"])
    with Archive.open(site().root, create=False) as archive, \
            archive.write_lock(timeout=wait):
        result = change(archive.catalog)
        return result, _synced(archive)


def _synced(archive: Archive) -> str | None:
    try:
        sync(archive)
    except (ArchiveError, CatalogError) as exc:
        # The change is in the event file and the catalog: the next ingest, reindex or
        # verify brings the index up to it.
        log.warning("a curator's change is saved but not indexed: %s", exc)
        return (f"the search index was not brought up to date ({exc}); run "
                "'event-archive verify' on the server")
    return None


@dataclass(frozen=True)
class Refusal:
    """Why a change was not made, as the page says it, with its HTTP status."""

    status: int
    message: str
    errors: dict[str, str]


# What a curator's change can meet; anything else is a bug, and a 500.
REFUSED = (FormInvalid, ArchiveError)  # CatalogError, ArchiveBusy, ManifestError are ArchiveErrors


def refusal(exc: Exception) -> Refusal:
    """The answer to one of the REFUSED errors."""
    if isinstance(exc, FormInvalid):
        return Refusal(400, "Nothing was written: see the fields marked below.", exc.errors)
    if isinstance(exc, ArchiveBusy):
        return Refusal(503, "Busy: another change or an ingest is writing the archive; "
                       "nothing was written. Try again in a moment.", {})
    if isinstance(exc, StaleEventFile | StaleCluster):
        return Refusal(409, f"Refused, nothing was written: {exc}", {})
    if isinstance(exc, ManifestError):
        return Refusal(400, "Nothing was written: the event file would not be valid: "
                       f"{exc.key + ': ' if exc.key else ''}{exc.problem}", {})
    if isinstance(exc, CatalogError):
        return Refusal(503, f"Nothing more was written: {exc}", {})
    return Refusal(400, f"Nothing was written: {exc}", {})
