"""What is SQLite's own in the catalog: connecting, PRAGMAs, JSON functions, limits.

The other catalog modules write SQL that PostgreSQL runs as well (upserts with
`ON CONFLICT`, no `INSERT OR ...`, standard joins) and take from here whatever
is not standard; a PostgreSQL catalog is a second module with these names. Its
placeholders would be `%s` where SQLite's are `?`: queries use `?` alone (never
named parameters) and `marks()`, so one translation at execution covers them.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Ids bound in one `IN (...)` list: old SQLite builds allow 999 parameters a statement.
IN_LIST = 500
# A row's own number, which follows the order rows were written in: for tables with no
# column saying it (a PostgreSQL catalog would give them one).
ROW_ID = "rowid"
# How verify names a row whose stored value is damaged.
ROW_NAME = "rowid"
NAME = "sqlite"
BEGIN_WRITE = "BEGIN IMMEDIATE"  # takes the write lock now, not at the first write
BEGIN_MIGRATION = BEGIN_WRITE
BEGIN_READ = "BEGIN"


def marks(count: int) -> str:
    """Placeholders for an `IN (...)` list of `count` values."""
    return ",".join("?" * count)


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in lists short enough to bind in one statement."""
    for start in range(0, len(values), IN_LIST):
        yield values[start:start + IN_LIST]


def connect(path: Path, readonly: bool, immutable: bool = False,
            factory: type[sqlite3.Connection] = sqlite3.Connection) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are ours to begin)."""
    if not readonly:
        return sqlite3.connect(path, isolation_level=None, timeout=30, factory=factory)
    # A URI, so the path is quoted: '?', '#' or '%' in a folder name are not parameters.
    uri = f"file:{urllib.parse.quote(os.fsencode(path))}?mode=ro"
    return sqlite3.connect(uri + ("&immutable=1" if immutable else ""), uri=True,
                           isolation_level=None, check_same_thread=False, factory=factory)


def prepare(db: sqlite3.Connection, readonly: bool) -> None:
    """Settings of every connection: foreign keys enforced, waits for a lock; the writer
    keeps a write-ahead log, so readers (search, the site) never block it."""
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 30000")
    if not readonly:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")


def schema_version(db: sqlite3.Connection) -> int:
    """The number of migrations applied; reading it opens the log, so a catalog that
    cannot be read fails here."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def set_schema_version(db: sqlite3.Connection, version: int) -> None:
    db.execute(f"PRAGMA user_version = {int(version)}")


def migration(number: int, script: str) -> list[str]:
    """The statements of migration `number` (from 1): SQLite runs them as written."""
    return [statement for statement in script.split(";") if statement.strip()]


def shadow_table(db: sqlite3.Connection, name: str, select: str) -> None:
    """Make every query of this connection read `select` where it names table `name`:
    SQLite looks a name up in the connection's own `temp` schema before `main` (a
    PostgreSQL catalog would put a view first on the search_path). The temp schema is
    the connection's alone, so this works on a read-only catalog too."""
    db.execute(f"CREATE TEMP VIEW {name} AS {select}")


def integrity_problems(db: sqlite3.Connection, most: int = 5) -> list[str]:
    """What SQLite's own check finds wrong with pages and indexes (not inside rows)."""
    return [r[0] for r in db.execute(f"PRAGMA integrity_check({int(most)})") if r[0] != "ok"]


def file_pages(db: sqlite3.Connection) -> tuple[int, int]:
    """The page size and the number of pages the database file says it holds."""
    return (db.execute("PRAGMA page_size").fetchone()[0],
            db.execute("PRAGMA page_count").fetchone()[0])


def not_a_database(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file is no database of its own, or a damaged one."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


# What SQLite says when it cannot make the log's shared-memory file: "unable to open
# database file" (a log without it), "attempt to write a readonly database" (no log).
_CANNOT_MAKE_SHM = (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY)


def cannot_make_shm(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF in _CANNOT_MAKE_SHM


def log_files(path: Path) -> tuple[Path, Path]:
    """The write-ahead log's shared-memory file and the log itself."""
    return path.with_name(path.name + "-shm"), path.with_name(path.name + "-wal")


# ---- JSON inside columns ---------------------------------------------------------
# `path` is a dotted key path into the column's JSON object ("camera.make"); both are
# fixed names of ours, never input.

def json_value(column: str, path: str) -> str:
    """The value at `path`, as SQL sees it (text, number, JSON text for an array)."""
    return f"json_extract({column}, '$.{path}')"


def json_true(column: str, path: str) -> str:
    """A condition: the value at `path` is true (a missing one is false)."""
    return f"COALESCE(json_extract({column}, '$.{path}'), 0)"


def json_length(column: str, path: str) -> str:
    """The length of the array at `path`."""
    return f"json_array_length({column}, '$.{path}')"


def json_elements(column: str, path: str, alias: str) -> str:
    """A table of the array at `path`, one row per element, its column `value`."""
    return f"json_each({column}, '$.{path}') AS {alias}"


def holds_text(column: str) -> str:
    """A condition with one parameter: the column's text holds the parameter's."""
    return f"instr({column}, ?) > 0"


def joined_text(expression: str) -> str:
    """The values of `expression` in a group, joined by newlines."""
    return f"group_concat({expression}, char(10))"


def nulls_first(expression: str) -> str:
    """An ORDER BY term that puts NULL first (SQLite's own order)."""
    return expression
