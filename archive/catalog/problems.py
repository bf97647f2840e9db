"""Problems: what went wrong with each file at each stage of ingest, kept until the
file is read again (one per file and stage)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from archive.catalog.database import Catalog
from archive.catalog.dialect import marks
from archive.model import Problem


def _problem(row: sqlite3.Row) -> Problem:
    return Problem(row["path"], row["stage"], row["level"], row["message"], row["event_id"])


def _problems(catalog: Catalog, sql: str, params: Iterable[object] = ()) -> list[Problem]:
    return [_problem(row) for row in catalog.db.execute(sql, tuple(params))]


def record_problem(catalog: Catalog, event_id: str, problem: Problem) -> None:
    """Keep the problem, replacing the file's last one at the same stage."""
    catalog.db.execute(
        "INSERT INTO errors (path, stage, event_id, message, level, revision, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path, stage) DO UPDATE SET "
        "event_id = excluded.event_id, message = excluded.message, level = excluded.level, "
        "revision = excluded.revision, at = excluded.at",
        (problem.path, problem.stage, event_id, problem.message, problem.kind,
         catalog.tx_revision(), time.time()))


def clear_problems(catalog: Catalog, path: str) -> None:
    """Forget the file's problems (it was read again, or it is gone)."""
    catalog.db.execute("DELETE FROM errors WHERE path = ?", (path,))


def problems_of_file(catalog: Catalog, path: str) -> list[Problem]:
    return _problems(catalog, "SELECT * FROM errors WHERE path = ?", (path,))


def problems_of_event(catalog: Catalog, event_id: str) -> list[Problem]:
    """The event's problems, by path."""
    return _problems(catalog, "SELECT * FROM errors WHERE event_id = ? ORDER BY path",
                     (event_id,))


def scan_problems(catalog: Catalog, event_id: str) -> list[Problem]:
    """What the event's last scan found wrong (unreadable entries, links not followed)."""
    return _problems(catalog, "SELECT * FROM errors WHERE event_id = ? AND stage = 'scan'",
                     (event_id,))


def replace_scan_problems(catalog: Catalog, event_id: str, found: Iterable[Problem]) -> None:
    """The event's scan problems are now `found`, in that order."""
    catalog.db.execute("DELETE FROM errors WHERE event_id = ? AND stage = 'scan'",
                       (event_id,))
    for problem in found:
        record_problem(catalog, event_id, problem)


def error_paths(catalog: Catalog, event_id: str, stages: tuple[str, ...]) -> set[str]:
    """Paths of the event's files with an error at one of `stages`."""
    return {r[0] for r in catalog.db.execute(
        f"SELECT path FROM errors WHERE event_id = ? AND level = 'error' AND stage IN "
        f"({marks(len(stages))})", (event_id, *stages))}


def problems_of_kind(catalog: Catalog, kind: str, event_id: str | None = None
                     ) -> list[Problem]:
    """Errors or warnings (of one event), by path and stage."""
    scope, params = ("AND event_id = ?", (kind, event_id)) if event_id else ("", (kind,))
    return _problems(catalog, f"SELECT * FROM errors WHERE level = ? {scope} "
                     "ORDER BY path, stage", params)


def underived_items(catalog: Catalog, stages: tuple[str, ...]) -> list[Problem]:
    """Errors at `stages` of files that gave an item and are present: items lacking
    what those stages derive (a poster, thumbnails), by path."""
    return _problems(catalog, (
        "SELECT e.* FROM errors e JOIN files f ON f.path = e.path WHERE e.level = 'error' "
        f"AND e.stage IN ({marks(len(stages))}) AND f.state = 'present' "
        "AND f.item_id IS NOT NULL ORDER BY e.path"), stages)


def unread_files(catalog: Catalog, stage: str) -> list[Problem]:
    """Problems at `stage` of files that gave no item (their reading failed), by path."""
    return _problems(catalog, "SELECT e.* FROM errors e JOIN files f ON f.path = e.path "
                     "WHERE e.stage = ? AND f.state = 'failed' ORDER BY e.path", (stage,))
