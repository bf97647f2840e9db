"""The curators' log: every value changed through the site's curator's desk, with its
old and new value (the event file holds the values; this keeps their history)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from archive.catalog.blobs import stored_json, to_json
from archive.catalog.database import Catalog
from archive.model import CuratorChange

# One change as the desk reports it: (target, item id or None, field, old, new).
Entry = tuple[str, str | None, str, Any, Any]


def log_changes(catalog: Catalog, curator: str, event_id: str,
                entries: Iterable[Entry]) -> int:
    """Keep the changes, all at one time, inside the caller's transaction; returns how
    many were kept."""
    catalog.tx_revision()  # outside a transaction would be a write of its own
    now = time.time()
    rows = [(now, curator, event_id, target, item_id, field, to_json(old), to_json(new))
            for target, item_id, field, old, new in entries]
    catalog.db.executemany(
        "INSERT INTO curator_log (at, curator, event_id, target, item_id, field, old, new) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def curator_changes(catalog: Catalog, limit: int, before: int | None = None,
                    item_id: str | None = None) -> list[CuratorChange]:
    """The latest changes first (those older than the change `before`, of one item if
    given), at most `limit`."""
    where: list[str] = ["1=1"]
    params: list[Any] = []
    if before is not None:
        where.append("id < ?")
        params.append(before)
    if item_id is not None:
        where.append("item_id = ?")
        params.append(item_id)
    rows = catalog.db.execute(
        "SELECT id, at, curator, event_id, target, item_id, field, old, new FROM curator_log "
        f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [CuratorChange(*row[:7], stored_json(row[7]), stored_json(row[8])) for row in rows]
