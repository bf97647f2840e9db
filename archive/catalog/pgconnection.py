"""A PostgreSQL catalog connection that the catalog's modules use as they use SQLite's:
`execute(sql, params)` with `?` placeholders, rows read by position or column name,
transactions begun and ended by the SQL they run.

psycopg is imported here alone (the `scale` extra), and only when a catalog address
names PostgreSQL.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from archive.catalog.connection import escape_params, unescape_text
from archive.catalog.errors import CatalogError, CatalogUnreachable

INSTALL_HINT = "pip install 'event-archive[scale]'"
# How long to wait for the server to answer a connection.
CONNECT_TIMEOUT = 10
# PostgreSQL's text cannot hold NUL, which SQLite's can: stored escaped as well.
_TO_STORE = re.compile("[\U0010fffd\ud800-\udfff\x00]")


def shown_url(url: str) -> str:
    """The address without its password (given before the host, or as `?password=`),
    to name the catalog in messages and files."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "password"]
    if parts.password is None and len(kept) == len(query):
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]  # as written (percent-encoded), not decoded
    netloc = f"{user}@{host}" if user else host
    return urllib.parse.urlunsplit(parts._replace(
        netloc=netloc, query=urllib.parse.urlencode(kept) if len(kept) != len(query)
        else parts.query))


class Row(tuple):
    """A result row: a tuple that also answers to its columns' names (as sqlite3.Row)."""

    __slots__ = ()
    names: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        return list(self.names)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self.names.index(key))
            except ValueError:
                raise IndexError(f"no column {key!r}") from None
        return tuple.__getitem__(self, key)


@functools.lru_cache(maxsize=64)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "names": names})


def _row_factory(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return None
    cls = _row_class(tuple(column.name for column in description))

    def make(values: Sequence[Any]) -> Row:
        return cls(unescape_text(v) if type(v) is str else v for v in values)
    return make


@functools.lru_cache(maxsize=1024)
def _translate(sql: str, schema: str, placeholders: bool = True) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled), and `main.`, which
    names the catalog's own tables past a connection's temporary views, as its schema."""
    if placeholders:
        sql = sql.replace("%", "%%").replace("?", "%s")
    return re.sub(r"\bmain\.", f'"{schema}".', sql)


class PgConnection:
    """One psycopg connection in autocommit mode: transactions are ours to begin."""

    def __init__(self, url: str, readonly: bool) -> None:
        try:
            import psycopg
        except ImportError:
            raise CatalogError(f"{shown_url(url)}: a PostgreSQL catalog needs psycopg; "
                               f"{INSTALL_HINT}") from None
        self.url, self._psycopg = url, psycopg
        try:
            self.db = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                      row_factory=_row_factory)
        except psycopg.Error as exc:
            raise CatalogUnreachable(f"{shown_url(url)}: cannot reach the catalog: "
                                     f"{first_line(exc)}{_password_hint(exc)}") from None
        self.schema = "public"
        self.schema = self.execute("SELECT current_schema()").fetchone()[0]
        self.readonly = readonly

    def make_readonly(self) -> None:
        """From now on, every transaction of this connection is read-only."""
        self.execute("SET default_transaction_read_only = on")

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        params = escape_params(tuple(params), _TO_STORE)
        try:
            return self.db.execute(_translate(sql, self.schema, bool(params)),
                                   params or None)
        except self._psycopg.OperationalError as exc:
            raise self.lost(exc) from None

    def executemany(self, sql: str, seq: Iterable[Iterable[Any]]) -> Any:
        rows = [escape_params(tuple(params), _TO_STORE) for params in seq]
        if not rows:
            return None
        try:
            with self.db.cursor() as cursor:
                cursor.executemany(_translate(sql, self.schema), rows)
                return cursor
        except self._psycopg.OperationalError as exc:
            raise self.lost(exc) from None

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Send statements without waiting for each one's answer until a result is read
        or the block ends (psycopg's pipeline mode): a batch's writes then cost one
        round trip to the server, not one each."""
        try:
            with self.db.pipeline():
                yield
        except self._psycopg.OperationalError as exc:
            raise self.lost(exc) from None

    def lost(self, exc: Exception) -> CatalogError:
        """What to say when the server went away or refused us."""
        return CatalogUnreachable(f"{shown_url(self.url)}: the catalog's server failed: "
                            f"{first_line(exc)}; run again when it is back")

    @property
    def in_transaction(self) -> bool:
        status = self.db.info.transaction_status
        return status != self._psycopg.pq.TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        return self.db.broken or self.db.closed

    def close(self) -> None:
        self.db.close()

    def __del__(self) -> None:
        # As an sqlite3 connection is: closed when its catalog is dropped unclosed (the
        # site's long-lived index reader, say), not left for psycopg to warn about.
        db = getattr(self, "db", None)
        if db is not None and not db.closed:
            db.close()


def _password_hint(exc: Exception) -> str:
    """Where a password goes, when the server asked for one: archive.toml keeps none."""
    text = str(exc)
    if "no password supplied" in text or "password authentication failed" in text:
        return ("; the archive keeps its address without a password: put it in "
                "~/.pgpass or $PGPASSWORD")
    return ""


def first_line(exc: Exception) -> str:
    """The first line of what the server (or psycopg) said."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
