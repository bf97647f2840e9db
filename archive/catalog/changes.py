"""What changed in the catalog after a revision: what the search index must take."""

from __future__ import annotations

from archive.catalog.database import Catalog
from archive.catalog.decoded import Decoded
from archive.catalog.items import item_record
from archive.model import ItemChanges


def changes_since(catalog: Catalog, since: int) -> ItemChanges:
    """The catalog's revision, the items written after `since` (by id) and the ids
    deleted after it, read as one state of the catalog (-1: every item)."""
    with catalog.reading():
        revision = catalog.revision
        rows = catalog.db.execute("SELECT * FROM items WHERE revision > ? ORDER BY id",
                                  (since,)).fetchall()
        deleted = [r[0] for r in catalog.db.execute(
            "SELECT item_id FROM deletions WHERE revision > ?", (since,))]
    return ItemChanges(revision, Decoded(rows, item_record), deleted)
