"""What an archive's catalog holds, to compare two archives (a resumed ingest with one that
ran through)."""

from __future__ import annotations

from pathlib import Path

from archive.store import Archive


def snapshot(root: Path) -> dict[str, object]:
    with Archive.open(root) as archive:
        db = archive.catalog
        assert db.query("PRAGMA integrity_check")[0][0] == "ok"
        return {
            "items": sorted((r["id"], r["relpath"]) for r in db.query("SELECT * FROM items")),
            "files": sorted((r["relpath"], r["item_id"], r["state"])
                            for r in db.query("SELECT * FROM files")),
            "thumbs": sorted((r["item_id"], r["name"])
                             for r in db.query("SELECT * FROM thumbnails")),
            "resolved": sorted((r["id"], r["resolved"]) for r in db.query(
                "SELECT id, resolved FROM items")),
            "tags": sorted(tuple(r) for r in db.query(
                "SELECT item_id, kind, value, relation, source FROM tags")),
            "credits": sorted(tuple(r) for r in db.query("SELECT * FROM credits")),
            "errors": db.query("SELECT COUNT(*) FROM errors")[0][0],
        }
