"""Faces: what the face stage found in each item, replaced whole when the item's file is
read again (a changed file is another item; its old one goes, its faces with it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence

from archive.catalog.blobs import stored_json
from archive.catalog.database import Catalog
from archive.catalog.dialect import chunks, marks
from archive.model import ClusteredFace, Face, FaceRecord, Thumbnail, UnscannedItem

DESCRIPTOR_BYTES = 128 * 4  # 128 float32


def face_record(row: sqlite3.Row) -> FaceRecord:
    face = Face((row["x"], row["y"], row["w"], row["h"]), row["score"], row["descriptor"],
                row["frame_time"])
    return FaceRecord(row["item_id"], row["number"], face, row["cluster"], row["person"],
                      row["source"])


def set_faces(catalog: Catalog, item_id: str, faces: Sequence[Face]) -> None:
    """Replace the item's faces, numbered from 1 in the order given, and mark it as read
    by the face stage. New faces are nobody's and in no cluster until resolution and
    clustering see them."""
    catalog.db.execute("DELETE FROM faces WHERE item_id = ?", (item_id,))
    catalog.db.execute("INSERT INTO face_scans (item_id) VALUES (?) ON CONFLICT DO NOTHING",
                       (item_id,))
    catalog.db.executemany(
        "INSERT INTO faces (item_id, number, x, y, w, h, score, descriptor, frame_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(item_id, number, *face.box, face.score, face.descriptor, face.time)
         for number, face in enumerate(faces, 1)])


def faces_of_item(catalog: Catalog, item_id: str) -> list[FaceRecord]:
    """The item's faces in number order."""
    return [face_record(row) for row in catalog.db.execute(
        "SELECT * FROM faces WHERE item_id = ? ORDER BY number", (item_id,))]


def count_faces(catalog: Catalog) -> int:
    return catalog.db.execute("SELECT COUNT(*) FROM faces").fetchone()[0]


def faces_to_resolve(catalog: Catalog, event_id: str, revision: int | None = None
                     ) -> dict[str, list[FaceRecord]]:
    """The faces of the event's items (those written at `revision`, if given), by item,
    in number order: what resolution names."""
    sql = ("SELECT f.* FROM faces f JOIN items i ON i.id = f.item_id WHERE i.event_id = ?"
           + (" AND i.revision = ?" if revision is not None else "")
           + " ORDER BY f.item_id, f.number")
    params = (event_id,) if revision is None else (event_id, revision)
    found: dict[str, list[FaceRecord]] = {}
    for row in catalog.db.execute(sql, params):
        found.setdefault(row["item_id"], []).append(face_record(row))
    return found


def faces_named(catalog: Catalog, event_id: str, relpaths: Collection[str]
                ) -> tuple[dict[tuple[str, int], tuple[str, int]], dict[tuple[str, int], bytes]]:
    """The faces the event file names by path relative to the event folder (any present
    copy of an item): ((relpath, number) -> (item id, number), (item id, number) ->
    descriptor, for those that have one)."""
    keys: dict[tuple[str, int], tuple[str, int]] = {}
    descriptors: dict[tuple[str, int], bytes] = {}
    for chunk in chunks(sorted(set(relpaths))):
        for row in catalog.db.execute(
                "SELECT fi.relpath, f.item_id, f.number, f.descriptor FROM files fi "
                "JOIN faces f ON f.item_id = fi.item_id WHERE fi.event_id = ? AND "
                "fi.role = 'media' AND fi.state != 'failed' AND fi.relpath IN "
                f"({marks(len(chunk))})", (event_id, *chunk)):
            key = (row["item_id"], row["number"])
            keys[(row["relpath"], row["number"])] = key
            if row["descriptor"] is not None:
                descriptors[key] = row["descriptor"]
    return keys, descriptors


def set_face_names(catalog: Catalog, item_id: str, names: Mapping[int, tuple[str, str]],
                   current: Sequence[FaceRecord]) -> bool:
    """Name the item's faces (number -> (person, source); the others nobody's) where
    that differs from `current`; the item is then written anew (its JSON changed).
    Returns whether anything changed."""
    changed = [(names.get(f.number, (None, None)), f.number) for f in current
               if names.get(f.number, (None, None)) != (f.person, f.source)]
    if not changed:
        return False
    catalog.db.executemany(
        "UPDATE faces SET person = ?, source = ? WHERE item_id = ? AND number = ?",
        [(person, source, item_id, number) for (person, source), number in changed])
    catalog.db.execute("UPDATE items SET revision = ? WHERE id = ?",
                       (catalog.tx_revision(), item_id))
    return True


def unclustered_faces(catalog: Catalog) -> bool:
    """Whether some face with a descriptor is in no cluster yet."""
    return catalog.db.execute("SELECT 1 FROM faces WHERE cluster IS NULL AND descriptor "
                              "IS NOT NULL LIMIT 1").fetchone() is not None


def faces_to_cluster(catalog: Catalog) -> list[FaceRecord]:
    """Every face with a descriptor, clustered or not, in a fixed order (by item, then
    number): the order in which new faces join clusters."""
    return [face_record(row) for row in catalog.db.execute(
        "SELECT * FROM faces WHERE descriptor IS NOT NULL ORDER BY item_id, number")]


def set_clusters(catalog: Catalog, clusters: Iterable[tuple[str, int, int]]) -> None:
    """Put faces, (item id, number, cluster), in their clusters."""
    catalog.db.executemany("UPDATE faces SET cluster = ? WHERE item_id = ? AND number = ?",
                           [(cluster, item_id, number) for item_id, number, cluster in clusters])


def clustered_faces(catalog: Catalog, cluster: int | None = None) -> list[ClusteredFace]:
    """The faces in clusters (of one `cluster`, if given), by cluster, item and number,
    each with its item's event, path, sessions and whether it is withheld."""
    where, params = ("f.cluster = ?", (cluster,)) if cluster is not None else \
        ("f.cluster IS NOT NULL", ())
    rows = catalog.db.execute(
        "SELECT f.cluster, f.item_id, f.number, f.person, f.source, i.event_id, i.relpath, "
        "i.withheld IS NOT NULL AS withheld, (SELECT "
        f"{catalog.dialect.joined_text('t.value')} FROM tags t WHERE t.item_id = f.item_id "
        "AND t.kind = 'session') AS sessions "
        f"FROM faces f JOIN main.items i ON i.id = f.item_id WHERE {where} "
        "ORDER BY f.cluster, i.relpath, f.number", params)
    return [ClusteredFace(r["cluster"], r["item_id"], r["number"], r["event_id"],
                          r["relpath"], r["person"], r["source"], bool(r["withheld"]),
                          tuple(sorted((r["sessions"] or "").split("\n"))) if r["sessions"]
                          else ()) for r in rows]


def face_of_item(catalog: Catalog, item_id: str, number: int) -> FaceRecord | None:
    """The item's face `number`, or None."""
    # Joined with its item: a public reader (the site) sees no face of a withheld item.
    row = catalog.db.execute(
        "SELECT f.* FROM faces f JOIN items i ON i.id = f.item_id "
        "WHERE f.item_id = ? AND f.number = ?", (item_id, number)).fetchone()
    return face_record(row) if row else None


def faces_of_person(catalog: Catalog, event_id: str, person_id: str,
                    most: int = 20) -> list[FaceRecord]:
    """The faces labelled as the person (of the event) in items with a large thumbnail,
    the largest box first: where the person's picture is best cut from."""
    # Joined with items: a public reader sees faces of published items only.
    return [face_record(row) for row in catalog.db.execute(
        "SELECT f.* FROM faces f JOIN items i ON i.id = f.item_id "
        "JOIN thumbnails t ON t.item_id = f.item_id AND t.name = 'large' "
        "WHERE f.person = ? AND i.event_id = ? "
        "ORDER BY f.w * f.h DESC, f.item_id, f.number LIMIT ?",
        (person_id, event_id, most))]


def unscanned_items(catalog: Catalog, event_id: str) -> list[UnscannedItem]:
    """The event's items that the face stage has not read, with their thumbnails, by
    path.

    Raises DamagedValue when an item's stored metadata no longer parses.
    """
    rows = catalog.db.execute(
        "SELECT i.id, i.kind, i.path, i.relpath, i.size, i.metadata, t.name, "
        "t.path AS thumb, t.width, t.height FROM items i "
        "LEFT JOIN thumbnails t ON t.item_id = i.id WHERE i.event_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM face_scans s WHERE s.item_id = i.id) ORDER BY i.path, i.id",
        (event_id,)).fetchall()
    found: dict[str, UnscannedItem] = {}
    for row in rows:
        item = found.get(row["id"])
        if item is None:
            item = found[row["id"]] = UnscannedItem(
                row["id"], row["kind"], row["path"], row["relpath"], row["size"],
                stored_json(row["metadata"]), {})
        if row["name"] is not None:
            item.thumbnails[row["name"]] = Thumbnail(row["thumb"], row["width"],
                                                     row["height"])
    return list(found.values())
