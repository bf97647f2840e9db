"""What the report lists beside problems: counts, missing files, copies, and items that
lack a creator or a session, sit between parallel sessions, or are dated by their file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from archive.catalog.blobs import stored_json
from archive.catalog.database import Catalog
from archive.catalog.schema import WITHHELD_IDS
from archive.model import (
    AmbiguousItem,
    CopyRecord,
    ItemPath,
    KindCount,
    LicenseConflict,
    MissingFile,
    ThirdPartyItem,
    UnknownCamera,
    WithheldItem,
)

T = TypeVar("T")


def _scope(column: str, event_id: str | None) -> tuple[str, tuple[str, ...]]:
    """A condition keeping the rows of one event (`column` a fixed name), or none."""
    return (f"AND {column} = ?", (event_id,)) if event_id else ("", ())


def _read(catalog: Catalog, make: Callable[..., T], sql: str, params: tuple[Any, ...]
          ) -> list[T]:
    return [make(*row) for row in catalog.db.execute(sql, params)]


def kind_counts(catalog: Catalog, event_id: str | None = None) -> list[KindCount]:
    scope, params = _scope("event_id", event_id)
    return _read(catalog, KindCount, "SELECT event_id, kind, COUNT(*) FROM items WHERE 1=1 "
                 f"{scope} GROUP BY event_id, kind ORDER BY 1, 2", params)


def missing_files(catalog: Catalog, event_id: str | None = None) -> list[MissingFile]:
    scope, params = _scope("event_id", event_id)
    return _read(catalog, MissingFile, "SELECT path, item_id, event_id FROM files WHERE "
                 f"state = 'missing' AND role = 'media' {scope} ORDER BY path", params)


def copies(catalog: Catalog, event_id: str | None = None) -> list[CopyRecord]:
    """Present files that are copies of an item: in the report of the event whose
    folder holds them."""
    scope, params = _scope("f.event_id", event_id)
    return _read(catalog, CopyRecord, "SELECT f.path, i.path, i.id FROM files f JOIN items i "
                 "ON i.id = f.item_id WHERE f.role = 'media' AND f.state = 'present' AND "
                 f"f.path != i.path {scope} ORDER BY f.path", params)


def items_without(catalog: Catalog, what: str, event_id: str | None = None
                  ) -> list[ItemPath]:
    """Items without a creator (`what` "creator") or a session ("session")."""
    table, condition = {"creator": ("credits c", "c.field = 'creator'"),
                        "session": ("tags c", "c.kind = 'session'")}[what]
    scope, params = _scope("i.event_id", event_id)
    return _read(catalog, ItemPath, "SELECT i.path, i.id FROM items i WHERE NOT EXISTS "
                 f"(SELECT 1 FROM {table} WHERE c.item_id = i.id AND {condition}) "
                 f"{scope} ORDER BY i.path", params)


def ambiguous_items(catalog: Catalog, event_id: str | None = None) -> list[AmbiguousItem]:
    """Items taken during parallel sessions that resolution could not tell apart."""
    scope, params = _scope("i.event_id", event_id)
    sql = catalog.dialect
    rows = catalog.db.execute(
        f"SELECT i.path, i.id, {sql.json_value('i.resolved', 'ambiguous')} FROM items i "
        f"WHERE {sql.json_length('i.resolved', 'ambiguous')} > 0 {scope} ORDER BY i.path",
        params)
    return [AmbiguousItem(path, item, stored_json(sessions)) for path, item, sessions in rows]


def third_party_items(catalog: Catalog, event_id: str | None = None
                      ) -> list[ThirdPartyItem]:
    """Items whose embedded fields name someone the event's rights may not go to."""
    scope, params = _scope("i.event_id", event_id)
    sql = catalog.dialect
    rows = catalog.db.execute(
        f"SELECT i.path, i.id, i.event_id, {sql.json_value('i.resolved', 'rights.third_party')} "
        f"FROM items i WHERE {sql.json_length('i.resolved', 'rights.third_party')} > 0 "
        f"{scope} ORDER BY i.path", params)
    return [ThirdPartyItem(path, item, event, stored_json(named))
            for path, item, event, named in rows]


def license_conflicts(catalog: Catalog, event_id: str | None = None
                      ) -> list[LicenseConflict]:
    """Items whose embedded licence differs from the one the event gives."""
    scope, params = _scope("i.event_id", event_id)
    found = catalog.dialect.json_value("i.resolved", "rights.license_conflict")
    rows = catalog.db.execute(f"SELECT i.path, i.id, i.event_id, {found} FROM items i "
                              f"WHERE {found} IS NOT NULL {scope} ORDER BY i.path", params)
    return [LicenseConflict(path, item, event, **stored_json(conflict))
            for path, item, event, conflict in rows]


def unknown_cameras(catalog: Catalog, event_id: str | None = None) -> list[UnknownCamera]:
    """Cameras of the items that the event file does not list, with their item counts."""
    scope, params = _scope("i.event_id", event_id)
    sql = catalog.dialect
    camera = [sql.json_value("i.metadata", f"camera.{key}") for key in ("make", "model",
                                                                        "serial")]
    return _read(catalog, UnknownCamera, (
        f"SELECT i.event_id, {', '.join(camera)}, COUNT(*) FROM items i "
        f"WHERE {camera[1]} IS NOT NULL AND NOT {sql.json_true('i.resolved', 'camera_known')} "
        f"{scope} GROUP BY 1, 2, 3, 4 ORDER BY 1, "
        f"{', '.join(sql.nulls_first(str(n)) for n in (2, 3, 4))}"), params)


def dated_by_file(catalog: Catalog, event_id: str | None = None) -> list[ItemPath]:
    """Items whose time is only their file's modification time."""
    scope, params = _scope("i.event_id", event_id)
    return _read(catalog, ItemPath, "SELECT i.path, i.id FROM items i WHERE "
                 f"{catalog.dialect.json_value('i.resolved', 'taken_source')} = 'file' {scope} "
                 "ORDER BY i.path", params)


def withheld_items(catalog: Catalog, event_id: str | None = None) -> list[WithheldItem]:
    """Items kept in the archive but withheld from the site and exports, with why."""
    if catalog.schema_version < 3:  # a read-only catalog from before consent existed
        return []
    scope, params = _scope("i.event_id", event_id)
    return _read(catalog, WithheldItem, "SELECT i.path, i.id, i.event_id, i.withheld FROM "
                 f"items i WHERE i.withheld IS NOT NULL {scope} ORDER BY i.path", params)


def withheld_ids(catalog: Catalog) -> frozenset[str]:
    """The ids of every withheld item, also on a public reader (which sees none of them):
    what the site leaves out of searches while the index is behind the catalog."""
    if catalog.schema_version < 3:
        return frozenset()
    return frozenset(r[0] for r in catalog.db.execute(WITHHELD_IDS))
