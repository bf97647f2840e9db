"""The catalog's tables, and the migrations that make them (numbered by the schema
version the dialect keeps)."""

from __future__ import annotations

from typing import Any

from archive.catalog.errors import CatalogError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta VALUES ('revision', '0');
    CREATE TABLE events (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, folder TEXT NOT NULL,
        manifest TEXT, data TEXT NOT NULL, revision INTEGER NOT NULL);
    CREATE TABLE sessions (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        id TEXT NOT NULL, title TEXT NOT NULL, day TEXT NOT NULL, start TEXT NOT NULL,
        end TEXT NOT NULL, room TEXT, data TEXT NOT NULL, PRIMARY KEY (event_id, id));
    CREATE TABLE people (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (event_id, id));
    CREATE TABLE items (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL, kind TEXT NOT NULL,
        mime TEXT NOT NULL, size INTEGER NOT NULL, path TEXT NOT NULL,
        relpath TEXT NOT NULL, taken TEXT, metadata TEXT NOT NULL,
        resolved TEXT NOT NULL DEFAULT '{}',
        revision INTEGER NOT NULL, added REAL NOT NULL);
    CREATE INDEX items_event ON items(event_id);
    CREATE INDEX items_revision ON items(revision);
    CREATE TABLE files (
        path TEXT PRIMARY KEY, event_id TEXT NOT NULL, relpath TEXT NOT NULL,
        item_id TEXT REFERENCES items(id) ON DELETE CASCADE,
        size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('present', 'missing', 'failed')),
        role TEXT NOT NULL DEFAULT 'media' CHECK (role IN ('media', 'sidecar')),
        revision INTEGER NOT NULL);
    CREATE INDEX files_item ON files(item_id);
    CREATE INDEX files_event ON files(event_id);
    CREATE TABLE tags (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, value TEXT NOT NULL, relation TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL, PRIMARY KEY (item_id, kind, value, relation));
    CREATE INDEX tags_value ON tags(kind, value);
    CREATE TABLE credits (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        field TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (item_id, field));
    CREATE TABLE thumbnails (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        name TEXT NOT NULL, path TEXT NOT NULL, width INTEGER, height INTEGER,
        PRIMARY KEY (item_id, name));
    CREATE TABLE errors (
        path TEXT NOT NULL, stage TEXT NOT NULL, event_id TEXT NOT NULL,
        message TEXT NOT NULL, level TEXT NOT NULL DEFAULT 'error',
        revision INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (path, stage));
    CREATE TABLE deletions (item_id TEXT PRIMARY KEY, revision INTEGER NOT NULL);
    """,
    # 2: people and sessions are looked up by id alone (the site, the API).
    """
    CREATE INDEX people_id ON people(id);
    CREATE INDEX sessions_id ON sessions(id);
    """,
    # 3: why an item is withheld from publication (NULL: published), from its
    # resolution, as a column so the site's queries leave such items out cheaply.
    """
    ALTER TABLE items ADD COLUMN withheld TEXT;
    CREATE INDEX items_withheld ON items(withheld) WHERE withheld IS NOT NULL;
    """,
    # 4: faces the ingest found (the `faces` extra): the box in the pixels of the image
    # as displayed, dlib's detector score, the 128-d descriptor as float32 bytes (NULL
    # for a face too small to identify), a video frame's time.
    """
    CREATE TABLE faces (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number >= 1),
        x INTEGER NOT NULL, y INTEGER NOT NULL,
        w INTEGER NOT NULL CHECK (w >= 0), h INTEGER NOT NULL CHECK (h >= 0),
        score REAL NOT NULL,
        descriptor BLOB CHECK (descriptor IS NULL OR length(descriptor) = 512),
        frame_time REAL,
        PRIMARY KEY (item_id, number));
    """,
    # 5: naming faces. `cluster` is the face's group across the whole archive (NULL:
    # no descriptor, or not clustered yet); `person` and `source` are who resolution
    # says it is and why (NULL: nobody). `face_scans` marks the items the face stage has
    # read, so that items ingested without it get their faces later (from the large
    # thumbnail); an item with faces was read.
    """
    ALTER TABLE faces ADD COLUMN cluster INTEGER;
    ALTER TABLE faces ADD COLUMN person TEXT;
    ALTER TABLE faces ADD COLUMN source TEXT;
    CREATE INDEX faces_cluster ON faces(cluster);
    CREATE INDEX faces_person ON faces(person) WHERE person IS NOT NULL;
    CREATE TABLE face_scans (
        item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE);
    INSERT INTO face_scans SELECT DISTINCT item_id FROM faces;
    """,
    # 6: what curators changed through the site (serve --curate): when, who (a name
    # made at their login), the event and what in it (a [[media]] path, a camera, a
    # cluster of faces), the item when there is one, the key, and its old and new values
    # as JSON. The event file holds the values themselves; this is their history.
    """
    CREATE TABLE curator_log (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, curator TEXT NOT NULL,
        event_id TEXT NOT NULL, target TEXT NOT NULL, item_id TEXT,
        field TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL);
    CREATE INDEX curator_log_item ON curator_log(item_id) WHERE item_id IS NOT NULL;
    """,
)

# What a public reader (the site) sees as `items`: the published ones only. Shadowing
# the table itself means no query of the site can forget to leave withheld items out.
PUBLISHED_ITEMS = "SELECT * FROM main.items WHERE withheld IS NULL"
# The ids a public reader cannot see (the table itself, past the view).
WITHHELD_IDS = "SELECT id FROM main.items WHERE withheld IS NOT NULL"

# Columns holding JSON, which verify parses: SQLite's integrity check sees pages and
# indexes, not what a row says.
JSON_COLUMNS = (("items", ("metadata", "resolved")), ("events", ("data",)),
                ("sessions", ("data",)), ("people", ("data",)))


def show_published_only(db: Any, dialect: Any) -> None:
    """Make this connection read `items` as the published items alone. A catalog not yet
    migrated to schema 3 withholds nothing (consent came with it)."""
    if dialect.schema_version(db) >= 3:
        dialect.shadow_table(db, "items", PUBLISHED_ITEMS)


def refuse_newer(version: int, name: str) -> None:
    """Raises CatalogError for a catalog made by a newer program."""
    if version > len(MIGRATIONS):
        raise CatalogError(f"{name}: catalog schema {version} is newer than this "
                           f"program ({len(MIGRATIONS)}); upgrade event-archive")


def migrate(db: Any, name: str, dialect: Any) -> None:
    """Apply the migrations the catalog lacks, each in its own transaction (`dialect`:
    the engine's module, which spells them).

    Raises CatalogError for a catalog made by a newer program. Two programs opening the
    catalog at once apply each migration once: the second finds it done.
    """
    version = dialect.schema_version(db)
    refuse_newer(version, name)
    for number in range(version, len(MIGRATIONS)):
        db.execute(dialect.BEGIN_MIGRATION)
        if dialect.schema_version(db) == number:
            for statement in dialect.migration(number + 1, MIGRATIONS[number]):
                db.execute(statement)
            dialect.set_schema_version(db, number + 1)
        db.execute("COMMIT")
