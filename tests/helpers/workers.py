"""Real `event-archive worker` processes for the tests of ingest workers on Celery, each
in a session of its own (its pool processes and their ffmpeg with it), stopped
afterwards; a Redis database of its own per test."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis

from archive.ingest.remote import Broker

from helpers.processes import EVENT_ARCHIVE, poll_until
from helpers.services import RedisServer

_databases = itertools.count(1)


def fresh_database(server: RedisServer) -> str:
    """The address of an empty database of `server` (one of 1 to 15, in turn): what a
    test leaves queued (a killed ingest's files) is never another test's work."""
    url = f"redis://127.0.0.1:{server.port}/{next(_databases) % 15 + 1}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@dataclass
class Worker:
    proc: subprocess.Popen
    name: str
    log: Path

    def pool(self) -> list[psutil.Process]:
        """Its pool processes, which read the files."""
        try:
            return psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return []

    def reading(self, path: Path) -> psutil.Process | None:
        """Its pool process running ffprobe or ffmpeg on `path`, if one is."""
        for process in self.pool():
            try:
                if any(str(path) in child.cmdline() for child in process.children()):
                    return process
            except psutil.Error:
                continue
        return None

    def kill(self) -> None:
        """SIGKILL the worker and every process of its session, as a machine stops."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=60)

    def stop(self) -> None:
        """SIGTERM (it finishes the files it reads), then whatever is left is killed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_worker(url: str, folder: Path, name: str, *options: str) -> Worker:
    log = folder / f"{name}.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([str(EVENT_ARCHIVE), "worker", "--broker", url, "--name",
                                 f"{name}@tests", *options], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return Worker(proc, f"{name}@tests", log)


@contextmanager
def running_workers(url: str, folder: Path, count: int, *options: str
                    ) -> Iterator[list[Worker]]:
    """`count` workers of one process each on the broker at `url`, once every one
    answers a ping; stopped when the block ends."""
    with ExitStack() as stack:
        workers = []
        for n in range(count):
            worker = start_worker(url, folder, f"worker{n}", "--concurrency", "1", *options)
            stack.callback(worker.stop)
            workers.append(worker)
        wait_answering(url, workers)
        yield workers


def wait_answering(url: str, workers: list[Worker]) -> None:
    broker = Broker(url)

    def answering() -> bool:
        for worker in workers:
            assert worker.proc.poll() is None, worker.output()
        return {w.name for w in workers} <= broker.workers()

    poll_until(answering, "the workers to answer", timeout=120)
