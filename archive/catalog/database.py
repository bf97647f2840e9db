"""The SQLite catalog: the source of truth of an archive.

WAL mode so readers (search, site) never block the one writer; every write
happens inside `transaction()`, which bumps the archive's revision once, so a
crash leaves either the whole batch or none of it. Schema changes are
migrations numbered by `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

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
)


RECOVER = ("restore it from a backup, or move it aside and run 'event-archive ingest' on "
           "each event folder again (the originals are untouched)")


class CatalogError(ArchiveError):
    """The catalog file cannot be opened or written."""


class DamagedValue(sqlite3.DatabaseError):
    """A value the catalog stored no longer parses: the file was damaged where SQLite
    does not look (inside a row), as its own DatabaseError says of damaged pages."""


def stored_json(text: str) -> Any:
    """A JSON value read from the catalog; raises DamagedValue when it does not parse."""
    try:
        return json.loads(text)
    except ValueError:
        raise DamagedValue("a stored value is damaged (not JSON)") from None


# Columns holding JSON, which verify parses: SQLite's integrity check sees pages and
# indexes, not what a row says.
JSON_COLUMNS = (("items", ("metadata", "resolved")), ("events", ("data",)),
                ("sessions", ("data",)), ("people", ("data",)))


# A file name that is not UTF-8 reaches us with lone surrogates (os.fsdecode), which
# SQLite's UTF-8 cannot hold. They are stored as this private-use character and four hex
# digits (the character itself doubled), and read back exactly.
_ESC = "\U0010fffd"
_TO_STORE = re.compile("[\U0010fffd\ud800-\udfff]")
_STORED = re.compile("\U0010fffd(\U0010fffd|[0-9a-f]{4})")


def _storable(value: Any) -> Any:
    if type(value) is not str or value.isascii() or not _TO_STORE.search(value):
        return value
    return _TO_STORE.sub(lambda m: _ESC * 2 if m[0] == _ESC else f"{_ESC}{ord(m[0]):04x}",
                         value)


def _params(params: Any) -> Any:
    if isinstance(params, dict):
        return {key: _storable(value) for key, value in params.items()}
    return tuple(_storable(value) for value in params)


def _text(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    if _ESC not in text:
        return text
    return _STORED.sub(lambda m: _ESC if m[1] == _ESC else chr(int(m[1], 16)), text)


class _Connection(sqlite3.Connection):
    """A connection whose text parameters and results may hold lone surrogates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text_factory = _text

    def execute(self, sql: str, params: Any = (), /) -> sqlite3.Cursor:
        return super().execute(sql, _params(params))

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:
        return super().executemany(sql, (_params(params) for params in seq))


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISDIR, "a folder"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def check_catalog_file(path: Path) -> os.stat_result | None:
    """Refuse a catalog path that is not a regular file (a FIFO must not be waited on,
    a device not read); None when there is no file yet.

    Only stat: opening and closing the file here would drop the locks SQLite holds on it
    for this process's other connections (POSIX locks belong to the process), and a
    writer elsewhere would then delete the log a long-lived reader here still maps.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise CatalogError(f"{path}: is {_kind(st.st_mode)}, not a catalog file; {RECOVER}")
    return st


def check_whole(db: sqlite3.Connection, path: Path, size: int) -> None:
    """Refuse a catalog that is not a whole SQLite database (overwritten, cut short)
    before anything else reads it, by asking SQLite on its own connection."""
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite takes the page count from the header when its change counter is valid;
    # pages still in the write-ahead log (a checkpoint cut short) may be missing from
    # the file itself.
    wal = path.with_name(path.name + "-wal")
    if size < pages * page_size and not (wal.exists() and wal.stat().st_size > 0):
        raise CatalogError(f"{path}: the catalog is cut short ({size:,} of "
                           f"{pages * page_size:,} bytes); {RECOVER}")


def _unopenable(path: Path, exc: sqlite3.Error) -> CatalogError:
    """What to say when SQLite cannot open the catalog: why, where the file tells."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        # SQLite failed already: reading the file here can no longer drop its locks.
        found = _header_problem(path)
        if found:
            return CatalogError(f"{path}: {found}; {RECOVER}")
    return CatalogError(f"{path}: cannot open the catalog: {exc}")


def _header_problem(path: Path) -> str | None:
    """What the file's first 100 bytes say is wrong with it: not SQLite's, or cut short."""
    try:
        with open(path, "rb") as fh:
            header, size = fh.read(100), os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return "not an SQLite catalog (damaged or overwritten)"
    page_size = int.from_bytes(header[16:18], "big")
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter matches its copy.
    expected = pages * (65536 if page_size == 1 else page_size)
    if header[24:28] == header[92:96] and size < expected:
        return f"the catalog is cut short ({size:,} of {expected:,} bytes)"
    return None


# What SQLite says when it cannot make the log's shared-memory file: "unable to open
# database file" (a log without it), "attempt to write a readonly database" (no log).
_CANNOT_MAKE_SHM = (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY)


def _open(path: Path, readonly: bool, immutable: bool = False) -> sqlite3.Connection:
    if not readonly:
        return sqlite3.connect(path, isolation_level=None, timeout=30, factory=_Connection)
    # A URI, so the path is quoted: '?', '#' or '%' in a folder name are not parameters.
    uri = f"file:{urllib.parse.quote(os.fsencode(path))}?mode=ro"
    return sqlite3.connect(uri + ("&immutable=1" if immutable else ""), uri=True,
                           isolation_level=None, check_same_thread=False,
                           factory=_Connection)


def _connect(path: Path, readonly: bool) -> tuple[sqlite3.Connection, bool]:
    """A connection to the catalog, and whether it is read-only.

    Reading a catalog in WAL mode needs the log's shared-memory file (`-shm`); where it
    is missing and cannot be made (a folder we may not write, a read-only disk), SQLite
    cannot open the catalog. If the log (`-wal`) is missing or empty, the file alone
    holds the whole catalog and is opened as immutable, read-only; if the log holds
    changes, raises CatalogError.
    """
    db = _open(path, readonly)
    try:
        db.execute("PRAGMA user_version")  # opens the log: fails here, not in a query
        return db, readonly
    except sqlite3.OperationalError as exc:
        db.close()
        shm, wal = (path.with_name(path.name + end) for end in ("-shm", "-wal"))
        if exc.sqlite_errorcode & 0xFF not in _CANNOT_MAKE_SHM or shm.exists():
            raise
        if wal.exists() and wal.stat().st_size > 0:
            raise CatalogError(
                f"{path}: its write-ahead log holds changes that only a process allowed "
                "to write the archive can apply; run 'event-archive verify' once where "
                "the archive is writable") from None
    return _open(path, True, immutable=True), True


class Catalog:
    """A connection to one catalog file, with the queries the rest of the code needs."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        found = check_catalog_file(path)
        try:
            self.db, readonly = _connect(path, readonly)
        except sqlite3.Error as exc:
            raise _unopenable(path, exc) from None
        try:
            if found is not None and found.st_size:
                check_whole(self.db, path, found.st_size)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 30000")
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except (sqlite3.Error, CatalogError) as exc:
            self.db.close()
            if isinstance(exc, CatalogError):
                raise
            raise _unopenable(path, exc) from None
        self.revision_in_tx: int | None = None
        self._sound = False

    def close(self) -> None:
        self.db.close()

    def damage(self, values: bool = False) -> str | None:
        """What is wrong with the catalog file, or None: SQLite's integrity check and,
        with `values`, stored JSON that no longer parses (reading every row). A sound
        integrity check is remembered: this connection is the archive's one writer."""
        try:
            found = [] if self._sound else [
                r[0] for r in self.db.execute("PRAGMA integrity_check(5)") if r[0] != "ok"]
            if not found and values:
                found = self._damaged_values()
        except sqlite3.DatabaseError as exc:
            found = [str(exc)]
        self._sound = self._sound or not found
        return "; ".join(" ".join(f.split()) for f in found)[:200] or None

    def _damaged_values(self) -> list[str]:
        found = []
        for table, columns in JSON_COLUMNS:
            for row in self.db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}"):
                try:
                    for value in tuple(row)[1:]:
                        json.loads(value)
                except ValueError:
                    found.append(f"{table} row {row[0]}: a stored value is not JSON")
                    break
            if len(found) >= 5:
                break
        return found[:5]

    def ensure_sound(self) -> None:
        """Raises CatalogError when SQLite's integrity check finds the catalog damaged:
        before anything is written into it, or derived from it."""
        problem = self.damage()
        if problem:
            raise CatalogError(f"{self.path}: the catalog is damaged ({problem}); {RECOVER}")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise CatalogError(f"{self.path}: catalog schema {version} is newer than this "
                               f"program ({len(MIGRATIONS)}); upgrade event-archive")
        for number in range(version, len(MIGRATIONS)):
            self.db.execute("BEGIN IMMEDIATE")
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {number + 1}")
            self.db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @property
    def revision(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return int(row[0])

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._rev()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction that bumps the revision; yields the new revision."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"{self.path}: cannot write the catalog: {exc}") from None
        try:
            revision = self.revision + 1
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (str(revision),))
            self.revision_in_tx = revision
            yield revision
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            # A plain DatabaseError is damage found in the file (a full disk or a lock
            # is an OperationalError): retrying cannot help.
            fix = ("run 'event-archive verify'" if type(exc) in (sqlite3.DatabaseError,
                                                                DamagedValue)
                   else "run again when fixed")
            raise CatalogError(f"{self.path}: cannot write the catalog ({exc}); nothing of "
                               f"this batch was kept, {fix}") from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self.revision_in_tx = None

    def _rollback(self) -> None:
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (it does on a full disk)

    def _rev(self) -> int:
        if self.revision_in_tx is None:
            raise RuntimeError("catalog write outside a transaction")
        return self.revision_in_tx

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, tuple(params)).fetchall()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))

    # ---- events --------------------------------------------------------------------

    def save_event(self, event_row: dict[str, Any], sessions: list[dict[str, Any]],
                   people: list[dict[str, Any]]) -> None:
        """Replace an event's description, sessions and people (not its items)."""
        rev = self._rev()
        self.db.execute(
            "INSERT INTO events (id, title, folder, manifest, data, revision) "
            "VALUES (:id, :title, :folder, :manifest, :data, :revision) "
            "ON CONFLICT(id) DO UPDATE SET title = excluded.title, folder = excluded.folder, "
            "manifest = excluded.manifest, data = excluded.data, revision = excluded.revision",
            {**event_row, "revision": rev})
        self.db.execute("DELETE FROM sessions WHERE event_id = ?", (event_row["id"],))
        self.db.execute("DELETE FROM people WHERE event_id = ?", (event_row["id"],))
        self.db.executemany(
            "INSERT INTO sessions (event_id, id, title, day, start, end, room, data) "
            "VALUES (:event_id, :id, :title, :day, :start, :end, :room, :data)", sessions)
        self.db.executemany(
            "INSERT INTO people (event_id, id, name, data) "
            "VALUES (:event_id, :id, :name, :data)", people)

    def event_folder(self, event_id: str) -> str | None:
        """The folder the event of this id was last ingested from, None if it is new."""
        row = self.db.execute("SELECT folder FROM events WHERE id = ?", (event_id,)).fetchone()
        return row[0] if row else None

    # ---- files ----------------------------------------------------------------------

    def files_of_event(self, event_id: str) -> dict[str, sqlite3.Row]:
        rows = self.db.execute("SELECT * FROM files WHERE event_id = ?", (event_id,))
        return {row["path"]: row for row in rows}

    def upsert_file(self, path: str, event_id: str, relpath: str, item_id: str | None,
                    size: int, mtime_ns: int, state: str, role: str = "media") -> None:
        self.db.execute(
            "INSERT INTO files (path, event_id, relpath, item_id, size, mtime_ns, state, "
            "role, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE "
            "SET event_id = excluded.event_id, relpath = excluded.relpath, "
            "item_id = excluded.item_id, size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "state = excluded.state, role = excluded.role, revision = excluded.revision",
            (path, event_id, relpath, item_id, size, mtime_ns, state, role, self._rev()))

    def set_file_state(self, path: str, state: str) -> None:
        self.db.execute("UPDATE files SET state = ?, revision = ? WHERE path = ?",
                        (state, self._rev(), path))

    def delete_file(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path = ?", (path,))

    # ---- items ----------------------------------------------------------------------

    def get_item(self, item_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()

    def put_item(self, row: dict[str, Any]) -> None:
        """Insert or replace an item's extracted facts; tags and credits are kept."""
        self.db.execute(
            "INSERT INTO items (id, event_id, kind, mime, size, path, relpath, metadata, "
            "revision, added) VALUES (:id, :event_id, :kind, :mime, :size, :path, :relpath, "
            ":metadata, :revision, :added) ON CONFLICT(id) DO UPDATE SET "
            "event_id = excluded.event_id, kind = excluded.kind, mime = excluded.mime, "
            "size = excluded.size, path = excluded.path, relpath = excluded.relpath, "
            "metadata = excluded.metadata, revision = excluded.revision",
            {**row, "metadata": json.dumps(row["metadata"], ensure_ascii=False),
             "revision": self._rev(), "added": time.time()})
        self.db.execute("DELETE FROM deletions WHERE item_id = ?", (row["id"],))

    def set_resolved(self, item_id: str, taken: str | None, resolved: dict[str, Any]) -> None:
        self.db.execute("UPDATE items SET taken = ?, resolved = ?, revision = ? WHERE id = ?",
                        (taken, json.dumps(resolved, ensure_ascii=False), self._rev(), item_id))

    def move_item(self, item_id: str, path: str, relpath: str) -> None:
        self.db.execute("UPDATE items SET path = ?, relpath = ?, revision = ? WHERE id = ?",
                        (path, relpath, self._rev(), item_id))

    def touch_item(self, item_id: str) -> None:
        self.db.execute("UPDATE items SET revision = ? WHERE id = ?", (self._rev(), item_id))

    def delete_item(self, item_id: str) -> None:
        self.db.execute("DELETE FROM items WHERE id = ?", (item_id,))
        self.db.execute("INSERT OR REPLACE INTO deletions VALUES (?, ?)",
                        (item_id, self._rev()))

    def set_thumbnails(self, item_id: str, thumbs: dict[str, dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM thumbnails WHERE item_id = ?", (item_id,))
        self.db.executemany(
            "INSERT INTO thumbnails VALUES (?, ?, ?, ?, ?)",
            [(item_id, name, t["path"], t.get("width"), t.get("height"))
             for name, t in thumbs.items()])

    def set_tags(self, item_id: str, tags: list[dict[str, str]], kinds: tuple[str, ...]) -> None:
        """Replace the item's tags of the given kinds."""
        marks = ",".join("?" * len(kinds))
        self.db.execute(f"DELETE FROM tags WHERE item_id = ? AND kind IN ({marks})",
                        (item_id, *kinds))
        self.db.executemany(
            "INSERT OR IGNORE INTO tags (item_id, kind, value, relation, source) "
            "VALUES (?, ?, ?, ?, ?)",
            [(item_id, t["kind"], t["value"], t.get("relation") or "", t["source"])
             for t in tags])

    def set_credits(self, item_id: str, credit: dict[str, tuple[str, str]]) -> None:
        self.db.execute("DELETE FROM credits WHERE item_id = ?", (item_id,))
        self.db.executemany("INSERT INTO credits VALUES (?, ?, ?, ?)",
                            [(item_id, name, value, source)
                             for name, (value, source) in credit.items()])

    # ---- errors ---------------------------------------------------------------------

    def record_error(self, event_id: str, path: str, stage: str, message: str,
                     level: str = "error") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO errors VALUES (?, ?, ?, ?, ?, ?, ?)",
            (path, stage, event_id, message, level, self._rev(), time.time()))

    def clear_errors(self, path: str) -> None:
        self.db.execute("DELETE FROM errors WHERE path = ?", (path,))
