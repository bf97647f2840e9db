"""What the ingest pool passes to a worker for one file, and what it gets back.

Kept apart from `examine` so the parent process can plan and commit work
without loading the media readers (Pillow, exifread, ffmpeg bindings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.model import Face, Problem, UnscannedItem

# Stages that make what is derived from a file (thumbnails, the poster and strip):
# an error there keeps the item, and the file is examined again by the next ingest.
DERIVED_STAGES = ("poster", "thumbnail")
# A failure of the worker rather than of the file (killed, out of time or memory): the
# file gives no item this time and is examined again by the next ingest.
WORKER_STAGE = "worker"
RETRIED_STAGES = (*DERIVED_STAGES, WORKER_STAGE)


@dataclass(frozen=True)
class Task:
    path: str
    relpath: str
    size: int
    mtime_ns: int
    sidecars: tuple[tuple[str, int, int], ...]  # path, size, mtime_ns
    root: str  # the archive directory, for thumbnails
    debug: bool = False
    faces: bool = False  # run the face stage
    # Set: not the file but this unchanged item's stored thumbnails are read, for faces
    # alone (the item was ingested without the face stage).
    scan: UnscannedItem | None = None


@dataclass
class Outcome:
    """What a worker found; `item_id` is None when the file gives no item."""

    task: Task
    item_id: str | None = None
    kind: str | None = None
    mime: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    thumbnails: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    faces: list[Face] | None = None  # None: the face stage did not run (keep the catalog's)
    fatal: str | None = None  # the archive itself could not be written

    def problem(self, stage: str, message: str, kind: str = "error") -> None:
        self.problems.append(Problem(self.task.path, stage, kind, message))
