"""Faces: what the face stage found in each item, replaced whole when the item's file is
read again (a changed file is another item; its old one goes, its faces with it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from archive.catalog.database import Catalog
from archive.model import Face, FaceRecord

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
    catalog.db.execute("INSERT OR IGNORE INTO face_scans (item_id) VALUES (?)", (item_id,))
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
