"""What an archive's catalog holds, to compare two archives (a resumed ingest with one that
ran through)."""

from __future__ import annotations

from pathlib import Path

from archive.store import Archive, record_catalog, recorded_catalog


def snapshot(root: Path) -> dict[str, object]:
    with Archive.open(root) as archive:
        db = archive.catalog
        assert archive.shared or db.query("PRAGMA integrity_check")[0][0] == "ok"
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


def copy_archive(source: Path, dest: Path) -> Path:
    """A copy of an archive to write to: its folder, and for a PostgreSQL catalog a
    database cloned from its own (the copy records the clone)."""
    import shutil

    shutil.copytree(source, dest, symlinks=True)
    url = recorded_catalog(dest)
    if url is not None:
        import tomllib

        identity = tomllib.loads((dest / "archive.toml").read_text(encoding="utf-8"))["id"]
        record_catalog(dest, clone_database(url), identity)
    return dest


def clone_database(url: str) -> str:
    """A new database copied from the one at `url` (which nobody may be connected to:
    PostgreSQL copies a quiet template only); its address."""
    import time
    import urllib.parse
    import uuid

    import psycopg

    parts = urllib.parse.urlsplit(url)
    old, new = parts.path.lstrip("/"), f"copy_{uuid.uuid4().hex[:12]}"
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    deadline = time.monotonic() + 30
    with psycopg.connect(admin, autocommit=True) as db:
        while True:
            try:
                db.execute(f'CREATE DATABASE "{new}" TEMPLATE "{old}"')
                break
            except psycopg.errors.ObjectInUse:  # a reader of the source is just closing
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{new}"))
