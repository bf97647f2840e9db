"""Tasks and outcomes as JSON values, for the broker that carries them to workers on
other machines (`queue.py`).

Written out field by field rather than pickled: a message on a shared Redis is then
data, never code a worker would run. A file name that is not UTF-8 keeps its lone
surrogates (JSON escapes them as `\\udce9`, and reads them back), so the names the
committer gets back are the names it sent.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from archive.ingest.tasks import Outcome, Task
from archive.model import Face, Problem, Thumbnail, UnscannedItem


def task_to_json(task: Task) -> dict[str, Any]:
    return dataclasses.asdict(task)  # its scan's thumbnails too; tuples become lists


def task_from_json(data: dict[str, Any]) -> Task:
    """The Task a worker was sent; raises KeyError or TypeError for a message that is
    not one (another program's, or an older version's)."""
    return Task(**{**data, "sidecars": tuple(tuple(s) for s in data["sidecars"]),
                   "scan": _scan_from_json(data["scan"]) if data["scan"] else None})


def _scan_from_json(data: dict[str, Any]) -> UnscannedItem:
    thumbnails = {name: Thumbnail(**thumb) for name, thumb in data["thumbnails"].items()}
    return UnscannedItem(**{**data, "thumbnails": thumbnails})


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    return {"task": task_to_json(outcome.task), "item_id": outcome.item_id,
            "kind": outcome.kind, "mime": outcome.mime, "metadata": outcome.metadata,
            "thumbnails": outcome.thumbnails,
            "problems": [dataclasses.asdict(p) for p in outcome.problems],
            "faces": None if outcome.faces is None else [_face_to_json(f)
                                                         for f in outcome.faces],
            "fatal": outcome.fatal}


def outcome_from_json(data: dict[str, Any]) -> Outcome:
    """The Outcome a worker sent back; raises KeyError or TypeError for a result that is
    not one."""
    faces = data["faces"]
    return Outcome(task_from_json(data["task"]), data["item_id"], data["kind"], data["mime"],
                   data["metadata"], data["thumbnails"],
                   [Problem(**p) for p in data["problems"]],
                   None if faces is None else [_face_from_json(f) for f in faces],
                   data["fatal"])


def _face_to_json(face: Face) -> dict[str, Any]:
    descriptor = face.descriptor
    return {"box": list(face.box), "score": face.score, "time": face.time,
            "descriptor": None if descriptor is None else base64.b64encode(descriptor)
            .decode("ascii")}


def _face_from_json(data: dict[str, Any]) -> Face:
    descriptor = data["descriptor"]
    return Face(tuple(data["box"]), data["score"],  # type: ignore[arg-type]
                None if descriptor is None else base64.b64decode(descriptor), data["time"])
