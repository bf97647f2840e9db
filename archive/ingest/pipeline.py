"""The ingest pipeline: scan -> plan -> examine -> commit and resolve -> missing files.

`ingest_folder` reads as the whole flow; each stage lives in its own module.
Extraction runs in a process pool, or on workers on Celery (`broker`); the catalog
is written by this process alone, in batches, each one transaction that also resolves
the batch's items, so a kill at any moment leaves a consistent catalog, with no item
lacking its time, sessions or credit, and a re-run finishes the job.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from archive import settings
from archive.catalog import Catalog, event_differs, problems_of_event
from archive.fsnames import readable
from archive.ingest.clustering import cluster_new_faces
from archive.ingest.commit import commit_all
from archive.ingest.missing import record_missing
from archive.ingest.plan import Plan, check_event_id, face_scans, plan, record_scan_problems
from archive.ingest.pool import TaskFailed, run_tasks
from archive.ingest.resolution import follow_event_file, settle
from archive.ingest.scan import scan
from archive.ingest.summary import IngestSummary
from archive.ingest.tasks import WORKER_STAGE, Outcome, Task
from archive.model import Event, Problem
from archive.outputs.report import unmatched_media
from archive.resolve.eventfile import load_event
from archive.store import Archive

if TYPE_CHECKING:  # Celery is the scale extra's, loaded only with a broker
    from archive.ingest.remote import Broker

__all__ = ["FaceStage", "IngestSummary", "ingest_folder"]

log = logging.getLogger(__name__)


class _Bar(tqdm):
    # No monitor thread: the pool forks its workers, which is only safe single-threaded.
    monitor_interval = 0


def _bar_size(stream: TextIO) -> dict[str, object]:
    """tqdm's size options: follow the terminal's size, or 80 x 24 when it reports none.

    A pseudo-terminal opened without a size (by `script`, CI runners, editors' consoles)
    reports 0 x 0, for which tqdm draws nothing at all: the ingest looked silent.
    """
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):  # not a terminal, or no file behind it
        return {}
    if size.columns and size.lines:
        return {"dynamic_ncols": True}
    return {"ncols": 80, "nrows": 24}


def _faces_available(quiet: bool) -> bool:
    from archive.media.faces import INSTALL_HINT, unavailable

    reason = unavailable()
    if reason and not quiet:
        log.info("faces are off: %s; %s", reason, INSTALL_HINT)
    return reason is None


@dataclass
class FaceStage:
    """Whether one command's ingest finds faces: `wanted`, and the `faces` extra
    installed. Decided at the first file to read, when it says (a notice, unless
    `quiet`: --json output) that faces are off: once per command, however many folders
    it ingests, and not at all when there is nothing to read."""

    wanted: bool = True
    quiet: bool = False
    decided: bool | None = None

    def on(self, reading: bool = True) -> bool:
        """Whether faces are found. Without a file to read (`reading` false: only items
        to read from their thumbnails, perhaps), asked without a word and not decided,
        so that a machine without the extra hears of it only when files come."""
        if self.decided is None and not reading:
            return self.wanted and _faces_available(quiet=True)
        if self.decided is None:
            self.decided = self.wanted and _faces_available(self.quiet)
        return self.decided


def _face_work(catalog: Catalog, event: Event, work: Plan, stage: FaceStage,
               root: Path, debug: bool) -> None:
    """With faces on: the files to read find faces too, and the unchanged items the face
    stage has not read are read from their thumbnails."""
    if not stage.on(reading=bool(work.tasks)):
        return
    work.tasks = [replace(task, faces=True) for task in work.tasks]
    work.scans = face_scans(catalog, event.id, work, root, debug)


def _examined_here(tasks: list[Task], jobs: int, timeout: float
                   ) -> Iterator[tuple[Task, Outcome | TaskFailed]]:
    """The tasks run by this machine's pool, in the order they finish."""
    # The readers (Pillow, exifread, ffmpeg bindings) load only when a file needs them.
    from archive.ingest.examine import examine, prepare_worker

    with_faces = any(task.faces for task in tasks)
    if with_faces:
        from archive.media.faces import load_models

        # Loaded before the workers fork, the models are shared by them (copy on write,
        # never written): one load, not one per worker. A worker started otherwise
        # (forkserver, spawn) loads its own when it starts.
        load_models()
    init = partial(prepare_worker, with_faces)
    return run_tasks(examine, tasks, jobs, timeout, init)


def _outcomes(tasks: list[Task], jobs: int, progress: bool,
              timeout: float = settings.value("file_timeout"),
              broker: Broker | None = None) -> Iterable[Outcome]:
    """What examining each task found, in the order the workers finish: this machine's
    pool, or the workers on Celery behind `broker`."""
    results = broker.run(tasks, timeout) if broker else _examined_here(tasks, jobs, timeout)
    bar = _Bar(total=len(tasks), unit="file", disable=None if progress else True,
               leave=False, **_bar_size(sys.stderr))
    with bar:
        for task, result in results:
            bar.update()
            if isinstance(result, TaskFailed):
                result = Outcome(task, problems=[Problem(
                    task.path, WORKER_STAGE, "error",
                    f"{result}; the next ingest tries again")])
            yield result


def _problems(catalog: Catalog, event_id: str) -> list[dict[str, str]]:
    """The event's problems as `ingest --json` gives them, files named as shown."""
    return [{"path": readable(p.path), "stage": p.stage, "message": p.message,
             "level": p.kind, "kind": p.kind} for p in problems_of_event(catalog, event_id)]


def ingest_folder(archive: Archive, folder: Path, jobs: int | None = None,
                  prune: bool = False, debug: bool = False, progress: bool = True,
                  timeout: float = settings.value("file_timeout"),
                  event: Event | None = None, faces: FaceStage | None = None,
                  broker: Broker | None = None) -> IngestSummary:
    """Ingest one event folder into the archive (`event`: its event file, if already
    read; `faces`: the command's face stage, by default wanted if installed; `broker`:
    files are read by the workers on Celery behind it, else by a local pool of `jobs`).

    Raises ManifestError for a wrong event file (nothing is written then) and
    CatalogError when the archive cannot be written or its catalog is damaged (then
    nothing is written into it); per-file problems are recorded in the catalog and
    counted, never raised.
    """
    started = time.monotonic()
    event = event or load_event(Path(folder))
    catalog = archive.catalog
    catalog.ensure_sound()
    check_event_id(catalog, event)
    summary = IngestSummary(event.id)
    event_changed = event_differs(catalog, event)
    before = catalog.revision
    found = scan(event.folder)
    record_scan_problems(catalog, event.id, found)
    work = plan(catalog, event, found, archive.root, debug)
    _face_work(catalog, event, work, faces or FaceStage(), archive.root, debug)
    summary.unchanged = work.unchanged
    summary.resolved = follow_event_file(catalog, event, event_changed, before, work.rereads)
    if work.tasks or work.scans:
        outcomes = _outcomes(work.tasks + work.scans, jobs or os.cpu_count() or 1, progress,
                             timeout, broker)
        commit_all(catalog, event, outcomes, work.present, summary, work.retry,
                   settings.value("batch_size"))
    summary.missing, summary.pruned = record_missing(catalog, event.id, work.seen, prune)
    cluster_new_faces(catalog)
    summary.resolved += settle(catalog, event, before)
    summary.unmatched_media = unmatched_media(catalog, event.id)
    summary.errors = _problems(catalog, event.id)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary
