"""Faces written into a catalog directly, as the face stage and resolution write them: for
tests of the site and of search that must run without dlib or ../shared/faces (without
descriptors resolution has nothing to recognise), and for boxes placed exactly where a
test wants them. helpers.faceevent has faces found and named by the ingest itself."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from archive.catalog import items_by_relpath, set_faces, touch_item
from archive.model import Face
from archive.store import Archive
from indexer.sync import sync

Box = tuple[int, int, int, int]


def item_id(root: Path, relpath: str) -> str:
    with Archive.open(root, create=False) as archive:
        found = items_by_relpath(archive.catalog, relpath)
    assert len(found) == 1, f"{relpath}: {len(found)} items"
    return found[0].id


def put_faces(root: Path, relpath: str, boxes: Sequence[Box],
              times: Sequence[float | None] | None = None) -> str:
    """Give the item of `relpath` these faces (numbered from 1 in this order), as the face
    stage would, and bring the index up to date; returns the item's id."""
    ident = item_id(root, relpath)
    found = [Face(box, 1.0, None, at) for box, at in zip(
        boxes, times or [None] * len(boxes), strict=True)]
    with Archive.open(root, create=False) as archive:
        with archive.catalog.transaction():
            set_faces(archive.catalog, ident, found)
            touch_item(archive.catalog, ident)
        sync(archive)
    return ident


def label_face(root: Path, ident: str, number: int, person: str,
               source: str = "face") -> None:
    """Face `number` of the item is `person`, and the item shows them (relation shown,
    this source, replacing a weaker relation): what resolution writes for a recognised
    face. The index is brought up to date."""
    with Archive.open(root, create=False) as archive:
        with archive.catalog.transaction():
            db = archive.catalog.db
            changed = db.execute("UPDATE faces SET person = ?, source = ? WHERE item_id = ? "
                                 "AND number = ?", (person, source, ident, number)).rowcount
            assert changed == 1, f"{ident} has no face {number}"
            db.execute("DELETE FROM tags WHERE item_id = ? AND kind = 'person' AND value = ?",
                       (ident, person))
            db.execute("INSERT INTO tags (item_id, kind, value, relation, source) "
                       "VALUES (?, 'person', ?, 'shown', ?)", (ident, person, source))
            touch_item(archive.catalog, ident)
        sync(archive)
