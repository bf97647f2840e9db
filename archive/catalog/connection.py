"""Opening the catalog file: refusing one that is not a whole SQLite database, reading
one left without its log's shared-memory file, and keeping every file name exact."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from archive.catalog import dialect
from archive.catalog.errors import RECOVER, CatalogError

SQLITE_MAGIC = b"SQLite format 3\x00"

# A file name that is not UTF-8 reaches us with lone surrogates (os.fsdecode), which
# SQLite's UTF-8 cannot hold. They are stored as this private-use character and four hex
# digits (the character itself doubled), and read back exactly.
_ESC = "\U0010fffd"
_TO_STORE = re.compile("[\U0010fffd\ud800-\udfff]")
_STORED = re.compile("\U0010fffd(\U0010fffd|[0-9a-f]{4})")


def _storable(value: Any, to_store: re.Pattern[str]) -> Any:
    if type(value) is not str or (value.isascii() and "\x00" not in value) or \
            not to_store.search(value):
        return value
    return to_store.sub(lambda m: _ESC * 2 if m[0] == _ESC else f"{_ESC}{ord(m[0]):04x}",
                        value)


def escape_params(params: Any, to_store: re.Pattern[str] = _TO_STORE) -> Any:
    """Query parameters with what the engine's text cannot hold (`to_store`) escaped."""
    if isinstance(params, dict):
        return {key: _storable(value, to_store) for key, value in params.items()}
    return tuple(_storable(value, to_store) for value in params)


def unescape_text(text: str) -> str:
    """A stored text as it was before escape_params."""
    if _ESC not in text:
        return text
    return _STORED.sub(lambda m: _ESC if m[1] == _ESC else chr(int(m[1], 16)), text)


def _text(data: bytes) -> str:
    return unescape_text(data.decode("utf-8", "surrogateescape"))


class _Connection(sqlite3.Connection):
    """A connection whose text parameters and results may hold lone surrogates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text_factory = _text

    def execute(self, sql: str, params: Any = (), /) -> sqlite3.Cursor:
        return super().execute(sql, escape_params(params))

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:
        return super().executemany(sql, (escape_params(params) for params in seq))


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
    page_size, pages = dialect.file_pages(db)
    # SQLite takes the page count from the header when its change counter is valid;
    # pages still in the write-ahead log (a checkpoint cut short) may be missing from
    # the file itself.
    wal = dialect.log_files(path)[1]
    if size < pages * page_size and not (wal.exists() and wal.stat().st_size > 0):
        # `size` was read before opening: a writer may have grown the file since, and
        # its last connection moved the log into it and deleted the log (seen while an
        # ingest ran, by a reader opening the catalog every few milliseconds).
        size = path.stat().st_size
    if size < pages * page_size and not (wal.exists() and wal.stat().st_size > 0):
        raise CatalogError(f"{path}: the catalog is cut short ({size:,} of "
                           f"{pages * page_size:,} bytes); {RECOVER}")


def unopenable(path: Path, exc: sqlite3.Error) -> CatalogError:
    """What to say when SQLite cannot open the catalog: why, where the file tells."""
    if dialect.not_a_database(exc):
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
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "not an SQLite catalog (damaged or overwritten)"
    page_size = int.from_bytes(header[16:18], "big")
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter matches its copy.
    expected = pages * (65536 if page_size == 1 else page_size)
    if header[24:28] == header[92:96] and size < expected:
        return f"the catalog is cut short ({size:,} of {expected:,} bytes)"
    return None


def open_catalog(path: Path, readonly: bool) -> tuple[sqlite3.Connection, bool]:
    """A connection to the catalog, and whether it is read-only.

    Reading a catalog in WAL mode needs the log's shared-memory file (`-shm`); where it
    is missing and cannot be made (a folder we may not write, a read-only disk), SQLite
    cannot open the catalog. If the log (`-wal`) is missing or empty, the file alone
    holds the whole catalog and is opened as immutable, read-only; if the log holds
    changes, raises CatalogError.
    """
    db = dialect.connect(path, readonly, factory=_Connection)
    try:
        dialect.schema_version(db)  # opens the log: fails here, not in a query
        return db, readonly
    except sqlite3.OperationalError as exc:
        db.close()
        shm, wal = dialect.log_files(path)
        if not dialect.cannot_make_shm(exc) or shm.exists():
            raise
        if wal.exists() and wal.stat().st_size > 0:
            raise CatalogError(
                f"{path}: its write-ahead log holds changes that only a process allowed "
                "to write the archive can apply; run 'event-archive verify' once where "
                "the archive is writable") from None
    return dialect.connect(path, True, immutable=True, factory=_Connection), True
