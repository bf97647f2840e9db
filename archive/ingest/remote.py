"""The ingest's side of workers on Celery: one task per file sent to the broker, and
what the workers found handed back in the order it comes, as the local pool does.

The catalog stays the truth: results are committed as they come (by the single
committer, `commit.py`), so a killed ingest's re-run plans only what was not committed
and waits only for its own tasks; what the killed one left queued is read in vain
(at most `queued_files`) and its results expire. Workers that vanish with their
machine are noticed, when no result has come for a while, by asking every worker to
answer: a file one of them had started is sent again.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from celery import states
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url
from redis.exceptions import RedisError

from archive import settings
from archive.errors import ArchiveError
from archive.fsnames import readable
from archive.ingest.pool import TaskFailed
from archive.ingest.queue import DELIVERIES, GRACE, TASK_NAME, TIMED_OUT, make_app
from archive.ingest.tasks import Outcome, Task
from archive.ingest.wire import outcome_from_json, task_to_json

log = logging.getLogger(__name__)

POLL = 0.1  # seconds between two looks at the results still awaited
SILENCE = 5.0  # seconds without a result after which the ingest asks who is working
PING = 1.0  # seconds the workers have to answer


class BrokerError(ArchiveError):
    """The broker cannot be reached or is not one we can use."""


class Broker:
    """The Redis at `url`, as broker and result store of the ingest workers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = maybe_sanitize_url(url)  # its password masked
        try:
            self.app = make_app(url)
        except ValueError as exc:
            raise BrokerError(f"--broker {self.shown}: {exc}") from None

    @classmethod
    def connect(cls, url: str) -> Broker:
        """The broker at `url`, checked to answer; raises BrokerError (one line saying
        where and why) when it does not."""
        broker = cls(url)
        try:
            with broker.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0)
            broker.app.backend.client.ping()
        except Exception as exc:  # noqa: BLE001 - kombu and redis raise their own kinds
            reason = str(exc).rstrip(".")
            raise BrokerError(f"cannot reach the broker at {broker.shown}: {reason}; is "
                              "Redis running there?") from None
        return broker

    def workers(self, first: bool = False) -> set[str]:
        """The workers that answer (`first`: stop at the first one)."""
        # A connection of its own, closed here: one left in the app's pool while it waits
        # for replies hangs any process forked later (an index build's), whose kombu
        # closes it after the fork and waits for those replies on the shared socket.
        with self.app.connection_for_write() as connection:
            replies = self.app.control.ping(timeout=PING, limit=1 if first else None,
                                            connection=connection)
        return {name for reply in replies or [] for name in reply}

    def run(self, tasks: Iterable[Task], timeout: float
            ) -> Iterator[tuple[Task, Outcome | TaskFailed]]:
        """Yield (task, its outcome) as workers finish them; a TaskFailed stands for a
        task whose worker failed (its time limit, `timeout` seconds, passed). Files
        still queued when the caller stops (an error, Ctrl-C) are revoked."""
        run = _Run(self, iter(tasks), timeout)
        try:
            run.fill()
            run.greet()
            while run.pending:
                done = run.collect()
                yield from done
                run.fill()
                if not done:
                    run.idle()
        except (RedisError, OperationalError) as exc:
            raise BrokerError(f"lost the broker at {self.shown} ({exc}); the batches "
                              "committed so far are kept: run ingest again") from None
        finally:
            run.cancel()


@dataclass
class _Sent:
    task: Task
    key: str  # counts its deliveries in Redis, across sends of the same file


@dataclass
class _Run:
    """One ingest's tasks in flight: sent and not yet back, by Celery task id."""

    broker: Broker
    todo: Iterator[Task]
    timeout: float
    pending: dict[str, _Sent] = field(default_factory=dict)
    started: dict[str, str] = field(default_factory=dict)  # task id: worker reading it
    heard: float = field(default_factory=time.monotonic)  # the last result, or check
    warned: bool = False

    def fill(self) -> None:
        """Queue more files, up to `queued_files` in flight."""
        room = settings.value("queued_files") - len(self.pending)
        if room > 0:
            self.send([_Sent(t, str(uuid.uuid4())) for t in itertools.islice(self.todo, room)])

    def send(self, files: list[_Sent]) -> None:
        if not files:
            return
        app = self.broker.app
        with app.producer_or_acquire() as producer:
            for sent in files:
                result = app.send_task(TASK_NAME, args=[task_to_json(sent.task), sent.key],
                                       soft_time_limit=self.timeout,
                                       time_limit=self.timeout + GRACE, producer=producer)
                self.pending[result.id] = sent

    def greet(self) -> None:
        if self.pending and not self.broker.workers(first=True):
            self.warn()

    def warn(self) -> None:
        if not self.warned:
            shown = self.broker.shown
            log.warning("no ingest worker answers on %s: the files wait in its queue until "
                        "one starts ('event-archive worker --broker %s')", shown, shown)
        self.warned = True

    def collect(self) -> list[tuple[Task, Outcome | TaskFailed]]:
        """The results come back since the last look, their keys removed from Redis."""
        backend = self.broker.app.backend
        ids = list(self.pending)
        values = backend.client.mget([backend.get_key_for_task(i) for i in ids])
        done, self.started = [], {}
        for task_id, value in zip(ids, values, strict=True):
            meta = backend.decode_result(value) if value is not None else None
            if meta is None or meta["status"] not in states.READY_STATES:
                if meta is not None and meta["status"] == states.STARTED:
                    self.started[task_id] = meta["result"].get("hostname", "")
                continue
            sent = self.pending.pop(task_id)
            done.append((task_id, sent, _result(meta)))
        if done:
            self.heard = time.monotonic()
            backend.client.delete(*(key for task_id, sent, _ in done for key in (
                backend.get_key_for_task(task_id), DELIVERIES.format(sent.key))))
        return [(sent.task, result) for _, sent, result in done]

    def idle(self) -> None:
        """Wait a moment; after a silence, ask the workers to answer: warn when none
        does, and send again the files started by workers that no longer answer."""
        time.sleep(POLL)
        if time.monotonic() - self.heard < SILENCE:
            return
        alive = self.broker.workers()
        self.heard = time.monotonic()
        if alive:
            self.warned = False  # so that losing them all again is said again
        else:
            self.warn()
        lost = [task_id for task_id, host in self.started.items() if host not in alive]
        for task_id in lost:
            log.warning("%s: its worker %s no longer answers; sending the file again",
                        readable(self.pending[task_id].task.path), self.started[task_id])
        self.send([self.pending.pop(task_id) for task_id in lost])
        if lost:  # their "started" states: nobody will look at them again
            backend = self.broker.app.backend
            backend.client.delete(*(backend.get_key_for_task(i) for i in lost))

    def cancel(self) -> None:
        """Revoke what is still queued (a best effort: the broker may be gone)."""
        if not self.pending:
            return
        try:
            self.broker.app.control.revoke(list(self.pending))
        except Exception as exc:  # noqa: BLE001 - the files only get read in vain
            log.debug("could not revoke the queued files: %s", exc)


def _result(meta: dict) -> Outcome | TaskFailed:
    """A finished task's outcome; TaskFailed when its worker failed."""
    if meta["status"] == states.SUCCESS:
        return outcome_from_json(meta["result"])
    error = meta["result"]
    name = type(error).__name__
    if name == "TimeLimitExceeded":
        return TaskFailed(TIMED_OUT)
    if name == "WorkerLostError":
        return TaskFailed("worker died reading this file")
    return TaskFailed(f"the worker failed: {name}: {error}")
