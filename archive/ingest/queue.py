"""Ingest workers on Celery, with Redis as the broker: the Celery app, its one task
(`examine` of one file) and what runs in a worker.

`ingest --broker URL` sends one task per file (`remote.py`); `event-archive worker
--broker URL` runs them on any machine that sees the media and the archive at the same
paths. Messages and results are JSON (`wire.py`), never pickle. A task is acknowledged
only once it is done (late), so a worker process killed mid-file gives its file back
to the queue; the task counts its own deliveries in Redis, so a file that kills its
worker every time ends as a recorded problem, not an endless loop.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import Celery
from celery import Task as CeleryTask
from celery.backends.redis import RedisBackend

from archive import settings
from archive.fsnames import readable
from archive.ingest.tasks import WORKER_STAGE, Outcome, Task
from archive.ingest.wire import outcome_to_json, task_from_json
from archive.store import CATALOG_FILE, SETTINGS_FILE

log = logging.getLogger(__name__)

TASK_NAME = "event_archive.examine"  # stable: workers and ingests of other versions meet
QUEUE = "event-archive"  # not Celery's "celery": a Redis shared with other apps stays apart
KEPT = 24 * 3600  # seconds a result nobody collected (its ingest was killed) is kept
DELIVERIES = "event-archive:deliveries:{}"  # Redis key counting one file's deliveries
# Seconds between the soft time limit (the task gives up on its file and says so) and the
# hard one (its process is killed: a decoder stuck in C code never sees the soft one).
GRACE = 10.0
TIMED_OUT = "timed out: gave up on this file"
SCHEMES = ("redis://", "rediss://", "unix://")
# What an archive directory holds, whatever its catalog's engine.
ARCHIVE_MARKS = (CATALOG_FILE, SETTINGS_FILE)


def visibility_timeout() -> float:
    """Seconds before a file taken by a worker that vanished with its machine (no process
    left to give it back) goes to another worker. Kombu's Redis transport hands back a
    message unacknowledged for this long, so it must exceed the longest a task can
    legitimately run (file_timeout and the grace), or a slow file would run twice."""
    return 3 * (settings.value("file_timeout") + GRACE)


class PolledRedisBackend(RedisBackend):
    """Celery's Redis result backend, without a subscription per task sent: the ingest
    reads results by polling (`remote.py`), and thousands of subscriptions nobody reads
    would fill Redis's output buffer for this client until Redis dropped it."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        pass


def make_app(url: str) -> Celery:
    """A Celery app on the Redis at `url` (broker and results both), with the task
    registered. Raises ValueError for a URL that is not Redis's."""
    if not url.startswith(SCHEMES):
        raise ValueError("the broker must be Redis: redis://HOST[:PORT][/DB], rediss:// "
                         "or unix://PATH")
    backend = f"{PolledRedisBackend.__module__}:{PolledRedisBackend.__name__}+{url}"
    app = Celery("event_archive", broker=url, backend=backend, set_as_current=False)
    app.conf.update(_config())
    app.task(name=TASK_NAME, bind=True)(_run_task)
    return app


def _config() -> dict[str, Any]:
    limit = settings.value("file_timeout")
    return {
        "task_serializer": "json", "result_serializer": "json", "accept_content": ["json"],
        "task_default_queue": QUEUE,
        "task_acks_late": True,  # a worker killed mid-file leaves the file in the queue
        "task_reject_on_worker_lost": True,  # ... and its worker gives it back at once
        "worker_prefetch_multiplier": 1,  # a worker holds only the files it is reading
        "task_track_started": True,  # which worker reads a file: the ingest watches it
        "task_soft_time_limit": limit, "task_time_limit": limit + GRACE,
        "result_expires": KEPT,
        "broker_transport_options": {"visibility_timeout": visibility_timeout()},
        "broker_connection_retry_on_startup": True,
        # After a lost connection the broker hands the running files out again anyway.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "redis_socket_connect_timeout": 10, "broker_connection_timeout": 10,
    }


def _run_task(self: CeleryTask, task_json: dict[str, Any], key: str) -> dict[str, Any]:
    """The task: examine one file (`key` counts its deliveries); its outcome as JSON."""
    task = task_from_json(task_json)
    client = self.backend.client
    counted = client.pipeline().incr(DELIVERIES.format(key)).expire(
        DELIVERIES.format(key), KEPT).execute()[0]
    return outcome_to_json(examined(task, counted))


class OutOfTime(BaseException):
    """The task's soft time limit passed. Not an Exception, so that no handler on the
    way (examine records every Exception as the file's own error) takes it for one."""


def _out_of_time(_signum: int, _frame: object) -> None:
    raise OutOfTime


@contextmanager
def _soft_limit_raises_out_of_time() -> Iterator[None]:
    """Billiard's pool signals a task's soft time limit with SIGUSR1, whose handler
    raises SoftTimeLimitExceeded, an Exception; OutOfTime is raised instead meanwhile."""
    previous = signal.signal(signal.SIGUSR1, _out_of_time)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


def examined(task: Task, delivery: int) -> Outcome:
    """What a worker makes of its `delivery`-th delivery of `task`: the file examined,
    else a problem of stage "worker", which the next ingest tries again (lost too often,
    out of time, or not visible on this machine)."""
    from archive.ingest.examine import examine

    if delivery > settings.value("broker_deliveries"):
        return lost(task, f"given up after {delivery - 1} workers were lost reading this "
                    "file (killed, out of memory, or their machine stopped)")
    unseen = _unseen(task)
    if unseen:
        log.error("%s", unseen)
        return lost(task, unseen)
    try:
        with _soft_limit_raises_out_of_time():
            return examine(task)
    except OutOfTime:
        return lost(task, TIMED_OUT)


def lost(task: Task, reason: str) -> Outcome:
    """The outcome of a file a worker could not read through, for reasons not the file's."""
    outcome = Outcome(task)
    outcome.problem(WORKER_STAGE, f"{reason}; the next ingest tries again")
    return outcome


def _unseen(task: Task) -> str | None:
    """Why this machine cannot do the task: the archive or the event's file is not at
    the path the ingest gave (each worker must see them where the ingest does). An empty
    mount point is a folder too: the archive must hold its catalog's file, and the file
    itself must be there."""
    host = socket.gethostname()
    root = Path(task.root)
    if not any((root / name).is_file() for name in ARCHIVE_MARKS):
        return (f"the worker on {host} does not see the archive directory "
                f"{readable(task.root)}; mount it at that path")
    if task.scan is None and not os.path.lexists(task.path):
        return (f"the worker on {host} does not see {readable(task.path)}; mount the "
                "event folder at that path")
    return None
