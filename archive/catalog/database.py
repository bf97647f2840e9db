"""`Catalog`: one open catalog file, the source of truth of an archive.

Every write happens inside `transaction()`, which bumps the archive's revision
once, so a crash leaves either the whole batch or none of it. What is read and
written is in the query modules beside this one (items, events, files, ...),
whose functions take a Catalog.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archive.catalog import dialect
from archive.catalog.connection import (
    check_catalog_file,
    check_whole,
    open_catalog,
    unopenable,
)
from archive.catalog.errors import RECOVER, CatalogError, DamagedValue
from archive.catalog.schema import JSON_COLUMNS, migrate, show_published_only

__all__ = ["RECOVER", "Catalog", "CatalogError", "DamagedValue"]


class Catalog:
    """A connection to one catalog file, its transactions and its revision.

    `dialect` is the module that spells what is the engine's own (SQLite's here;
    `PgCatalog` has PostgreSQL's); the query modules take it from here.
    """

    dialect: Any = dialect
    # What the engine's driver raises.
    Error: type[Exception] = sqlite3.Error

    def __init__(self, path: Path, readonly: bool = False, public: bool = False) -> None:
        """`public`: a reader for the public (the site), which sees published items
        only; it is read-only."""
        self.path, self.public = path, public
        readonly = readonly or public
        found = check_catalog_file(path)
        try:
            self.db, readonly = open_catalog(path, readonly)
        except sqlite3.Error as exc:
            raise unopenable(path, exc) from None
        try:
            if found is not None and found.st_size:
                check_whole(self.db, path, found.st_size)
            dialect.prepare(self.db, readonly)
            if not readonly:
                migrate(self.db, str(path), dialect)
            if public:
                show_published_only(self.db, dialect)
        except (sqlite3.Error, CatalogError) as exc:
            self.db.close()
            if isinstance(exc, CatalogError):
                raise
            raise unopenable(path, exc) from None
        self.revision_in_tx: int | None = None
        self._sound = False

    def close(self) -> None:
        self.db.close()

    def damage(self, values: bool = False) -> str | None:
        """What is wrong with the catalog file, or None: SQLite's integrity check and,
        with `values`, stored JSON that no longer parses (reading every row). A sound
        integrity check is remembered: this connection is the archive's one writer."""
        try:
            found = [] if self._sound else self.dialect.integrity_problems(self.db)
            if not found and values:
                found = self._damaged_values()
        except (sqlite3.DatabaseError, DamagedValue) as exc:
            found = [str(exc)]
        self._sound = self._sound or not found
        return "; ".join(" ".join(f.split()) for f in found)[:200] or None

    def _damaged_values(self) -> list[str]:
        found = []
        for table, columns in JSON_COLUMNS:
            for row in self.db.execute(f"SELECT {self.dialect.ROW_NAME}, "
                                       f"{', '.join(columns)} FROM {table}"):
                try:
                    for value in tuple(row)[1:]:
                        json.loads(value)
                except ValueError:
                    found.append(f"{table} row {row[0]}: a stored value is not JSON")
                    break
            if len(found) >= 5:
                break
        return (found + self._damaged_faces())[:5]

    def _damaged_faces(self) -> list[str]:
        """Faces whose stored values cannot be right: a descriptor of another size than
        128 float32, a box outside the picture (before schema 4, there are none)."""
        if self.schema_version < 4:
            return []
        rows = self.db.execute(
            "SELECT item_id, number FROM faces WHERE (descriptor IS NOT NULL AND "
            "length(descriptor) != 512) OR x < 0 OR y < 0 OR w < 0 OR h < 0 LIMIT 5")
        return [f"faces row of item {r[0][:12]} #{r[1]}: a stored value is not a face"
                for r in rows]

    def ensure_sound(self) -> None:
        """Raises CatalogError when SQLite's integrity check finds the catalog damaged:
        before anything is written into it, or derived from it."""
        problem = self.damage()
        if problem:
            raise CatalogError(f"{self.name}: the catalog is damaged ({problem}); {RECOVER}")

    @property
    def schema_version(self) -> int:
        return self.dialect.schema_version(self.db)

    @property
    def name(self) -> str:
        """How messages name the catalog: its file, or its server's address."""
        return str(self.path)

    @property
    def revision(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        return int(row[0])

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.tx_revision()
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET value = excluded.value", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """One write transaction that bumps the revision; yields the new revision."""
        self._begin_write()
        try:
            revision = self._next_revision()
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (str(revision),))
            self.revision_in_tx = revision
            yield revision
            self.db.execute("COMMIT")
        except self.Error as exc:
            self._rollback()
            # A plain DatabaseError is damage found in the file (a full disk or a lock
            # is an OperationalError): retrying cannot help.
            raise self.write_failed(str(exc), damaged=type(exc) in (sqlite3.DatabaseError,
                                                                   DamagedValue)) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self.revision_in_tx = None

    def write_failed(self, reason: str, damaged: bool = False) -> CatalogError:
        """What to say of a write transaction the engine refused (`damaged`: damage found
        in the catalog, which retrying cannot help)."""
        fix = "run 'event-archive verify'" if damaged else "run again when fixed"
        return CatalogError(f"{self.name}: cannot write the catalog ({reason}); nothing of "
                            f"this batch was kept, {fix}")

    def _begin_write(self) -> None:
        try:
            self.db.execute(dialect.BEGIN_WRITE)
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"{self.path}: cannot write the catalog: {exc}") from None

    def _next_revision(self) -> int:
        return self.revision + 1

    def _rollback(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except (self.Error, CatalogError):
            pass  # already rolled back (SQLite does on a full disk; a lost server)

    def tx_revision(self) -> int:
        """The revision the open write transaction writes; RuntimeError outside one."""
        if self.revision_in_tx is None:
            raise RuntimeError("catalog write outside a transaction")
        return self.revision_in_tx

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: what is read inside it is one state of the catalog,
        whatever a writer commits meanwhile."""
        self.db.execute(self.dialect.BEGIN_READ)
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    # For tests and tools that look at the tables themselves; the program's own code
    # reads and writes through the query modules.
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return self.db.execute(sql, tuple(params)).fetchall()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.db.execute(sql, tuple(params))
