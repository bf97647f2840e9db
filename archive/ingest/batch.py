"""Batch ingest: every event folder under some roots, into one archive, for cron."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archive.catalog.database import CatalogError
from archive.errors import ArchiveError
from archive.ingest.pipeline import FaceStage, IngestSummary, ingest_folder
from archive.resolve.eventfile import EVENT_FILE
from archive.store import Archive

if TYPE_CHECKING:  # Celery is the scale extra's, loaded only with a broker
    from archive.ingest.remote import Broker


@dataclass
class BatchLine:
    folder: Path
    summary: IngestSummary | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def event_folders(roots: list[Path]) -> Iterator[Path]:
    """Every folder holding an event.toml under the roots (a root may be one itself).

    Links to folders are followed (archivists gather events with them), each real
    folder walked once, so a link back up the tree cannot loop.
    """
    seen: set[Path] = set()
    walked: set[str] = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in walked:
                dirnames[:] = []
                continue
            walked.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if EVENT_FILE in filenames:
                folder = Path(real)
                if folder not in seen:
                    seen.add(folder)
                    yield folder
                dirnames[:] = []  # an event's own subfolders are its media


def batch_ingest(archive: Archive, roots: list[Path], jobs: int | None = None,
                 debug: bool = False, quiet: bool = False, broker: Broker | None = None
                 ) -> list[BatchLine]:
    """Ingest each event folder in turn; a failing event is recorded and the rest go on
    (`quiet`: not even a notice that faces are off; `broker`: read by workers on Celery)."""
    faces = FaceStage(quiet=quiet)  # said once for the batch
    lines = []
    for folder in event_folders(roots):
        try:
            lines.append(BatchLine(folder, ingest_folder(archive, folder, jobs=jobs,
                                                         debug=debug, progress=False,
                                                         faces=faces, broker=broker)))
        except CatalogError:
            raise  # the archive itself: no other event can go in either
        except ArchiveError as exc:
            if debug:
                raise
            lines.append(BatchLine(folder, error=str(exc)))
    return lines


def table(lines: list[BatchLine]) -> str:
    """The summary table printed at the end of a batch."""
    head = (f"{'event folder':40} {'added':>7} {'updated':>7} {'same':>7} {'copies':>7} "
            f"{'failed':>7}  result")
    rows = [head, "-" * len(head)]
    for line in lines:
        name = str(line.folder)[-40:]
        if line.summary:
            s = line.summary
            rows.append(f"{name:40} {s.added:7} {s.updated:7} {s.unchanged:7} "
                        f"{s.duplicate:7} {s.failed:7}  ok")
        else:
            rows.append(f"{name:40} {'':7} {'':7} {'':7} {'':7} {'':7}  FAILED: {line.error}")
    failed = sum(1 for line in lines if not line.ok)
    rows.append(f"{len(lines)} event(s), {failed} failed")
    return "\n".join(rows)
