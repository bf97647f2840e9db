"""`PgCatalog`: the catalog on a PostgreSQL server, the same tables and behaviour as
the SQLite file's (`Catalog`), for archives that outgrow one machine.

What differs is below the query modules: the revision comes from a sequence, each
write transaction takes one advisory lock so that revisions commit in order, and
ingests lock their event alone (`event_lock`), not the whole archive.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from archive.catalog import pgdialect
from archive.catalog.database import Catalog
from archive.catalog.errors import RECOVER, CatalogError
from archive.catalog.pgconnection import PgConnection, first_line, shown_url
from archive.catalog.schema import migrate, refuse_newer, show_published_only

# How often a lock that may wait only so long is asked for again.
LOCK_POLL = 0.05
# Tries at migrating a catalog that other processes are making at the same moment.
MIGRATE_ATTEMPTS = 3


class PgCatalog(Catalog):
    """A connection to a PostgreSQL catalog (`url`: libpq's postgresql://... address)."""

    dialect: Any = pgdialect

    def __init__(self, url: str, readonly: bool = False, public: bool = False,
                 new: bool = True) -> None:
        """`new`: the database may be empty (a new archive); else an empty one was
        emptied or replaced, and opening it would make an empty archive of it."""
        self.url, self.public = url, public
        self.path = shown_url(url)  # type: ignore[assignment]  # names it in messages
        readonly = readonly or public
        self.db = PgConnection(url, readonly)  # type: ignore[assignment]
        import psycopg

        self.Error = psycopg.Error
        try:
            self._prepare(new, readonly, public)
        except BaseException:
            self.db.close()
            raise
        self.revision_in_tx: int | None = None
        self._sound = True

    def _prepare(self, new: bool, readonly: bool, public: bool) -> None:
        """Check and migrate the catalog, and set the connection up."""
        version = pgdialect.schema_version(self.db)
        if version == 0 and not new:
            raise CatalogError(f"{self.name}: the archive's catalog database holds no "
                               f"catalog (emptied, or another database); {RECOVER}")
        if version == 0:
            self._refuse_foreign_tables()
        if readonly:
            refuse_newer(version, self.name)
        else:
            self._migrate()
        if public:
            show_published_only(self.db, pgdialect)
        if readonly:
            self.db.make_readonly()

    def _refuse_foreign_tables(self) -> None:
        """A catalog goes into an empty database (or schema), never beside another
        application's tables, whose names may be ours."""
        found = [r[0] for r in self.db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename = 'meta' DESC, 1 LIMIT 4")]
        if found and found[0] != "meta":  # meta: another process is making the catalog
            listed = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
            raise CatalogError(f"{self.name}: the database holds tables of something else "
                               f"({listed}); give the archive an empty database, or a "
                               "schema of its own (?options=-csearch_path%3DNAME)")

    def _migrate(self) -> None:
        import psycopg

        for attempt in range(MIGRATE_ATTEMPTS):
            try:
                migrate(self.db, self.name, pgdialect)
                return
            except psycopg.errors.DuplicateTable:
                # Another process made the tables while this one waited for the lock,
                # and the server answered from what it knew before: look again.
                self._settle()
                if attempt == MIGRATE_ATTEMPTS - 1:
                    raise CatalogError(f"{self.name}: the database holds tables of "
                                       "something else; give the archive an empty "
                                       "database, or a schema of its own") from None
            except self.Error as exc:  # a lost server is CatalogUnreachable already
                self._settle()
                raise CatalogError(f"{self.name}: cannot make the catalog's tables "
                                   f"({first_line(exc)}); the role needs a database, or a "
                                   "schema, that it owns") from None

    @property
    def name(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        """Whether the database holds a catalog (an empty one holds nothing yet)."""
        return self.schema_version > 0

    @contextmanager
    def transaction(self) -> Iterator[int]:
        """As Catalog.transaction, its statements pipelined: an ingest's batch writes
        a dozen rows per item, and waiting for each answer would cost a round trip each.
        An error the server reports only when the pipeline ends is the batch's too."""
        try:
            with self.db.pipelined(), super().transaction() as revision:
                yield revision
        except self.Error as exc:
            raise self.write_failed(first_line(exc)) from None
        finally:
            self._settle()

    def _settle(self) -> None:
        """After a failed write, end the transaction the aborted pipeline could not: the
        connection must take the next statement (an unlock, the next batch)."""
        if not self.db.broken and self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except (self.Error, CatalogError):
                pass  # gone with the connection

    def _begin_write(self) -> None:
        for statement in pgdialect.BEGIN_WRITE:
            self.db.execute(statement)

    def _next_revision(self) -> int:
        return self.db.execute(
            f"SELECT nextval('{pgdialect.REVISION_SEQUENCE}')").fetchone()[0]

    @contextmanager
    def locked(self, names: Iterable[str], shared: Iterable[str] = (),
               wait: bool = True, timeout: float | None = None) -> Iterator[bool]:
        """Hold advisory locks while the block runs: exclusive ones on `names`, shared
        ones on `shared`. Session locks, so the server drops them when this connection
        ends, killed or not. Yields False, holding nothing, when another session holds
        one and it may not wait (`wait` false, or `timeout` seconds passed)."""
        wanted = [(lock_key(n), False) for n in names] + \
            [(lock_key(n), True) for n in shared]
        wanted.sort()  # one order for every process: no deadlock between two of them
        held: list[tuple[int, bool]] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for key, is_shared in wanted:
                if not self._lock(key, is_shared, wait, deadline):
                    yield False
                    return
                held.append((key, is_shared))
            yield True
        finally:
            for key, is_shared in reversed(held):
                unlock = "pg_advisory_unlock_shared" if is_shared else "pg_advisory_unlock"
                try:
                    self.db.execute(f"SELECT {unlock}(?)", (key,))
                except CatalogError:
                    break  # the connection is gone, and its locks with it

    def _lock(self, key: int, shared: bool, wait: bool, deadline: float | None) -> bool:
        suffix = "_shared" if shared else ""
        if wait and deadline is None:
            self.db.execute(f"SELECT pg_advisory_lock{suffix}(?)", (key,))
            return True
        while True:
            if self.db.execute(f"SELECT pg_try_advisory_lock{suffix}(?)",
                               (key,)).fetchone()[0]:
                return True
            if not wait or deadline is None or time.monotonic() >= deadline:
                return False
            time.sleep(LOCK_POLL)


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1
