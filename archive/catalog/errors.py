"""What goes wrong with a catalog file, and what to tell the user to do then."""

from __future__ import annotations

import sqlite3

from archive.errors import ArchiveError

RECOVER = ("restore it from a backup, or move it aside and run 'event-archive ingest' on "
           "each event folder again (the originals are untouched)")


class CatalogError(ArchiveError):
    """The catalog file cannot be opened or written."""


class CatalogUnreachable(CatalogError):
    """The catalog's server cannot be reached, or went away: nothing is wrong with the
    catalog itself, and a later try may work."""


class DamagedValue(sqlite3.DatabaseError):
    """A value the catalog stored no longer parses: the file was damaged where SQLite
    does not look (inside a row), as its own DatabaseError says of damaged pages."""
