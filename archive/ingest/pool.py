"""A process pool that runs one file per task with a deadline per task.

`multiprocessing.Pool` cannot stop one hung task: here each worker has its
own pipe, so a task past its deadline (or a worker killed by a crash in a C
decoder) costs that one file, recorded as an error, and a fresh worker
takes its place.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


class TaskFailed(Exception):
    """The worker running a task timed out or died; carries the reason."""


def _serve(conn: Connection, fn: Callable[[Any], Any], init: Callable[[], None] | None,
           siblings: list[Connection]) -> None:
    """Worker loop: receive a task, send back fn(task), until told to stop.

    A forked worker holds copies of its siblings' pipes; closing them lets each
    worker see end-of-file when the parent goes. The parent's pid is watched
    too, so no worker outlives a parent killed with SIGKILL.
    """
    for other in siblings:
        other.close()
    if init is not None:
        init()
    parent = os.getppid()
    try:
        while True:
            if not conn.poll(1.0):
                if os.getppid() != parent:
                    return
                continue
            task = conn.recv()
            if task is None:
                return
            conn.send(fn(task))
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        return


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: Connection
    task: Any = None
    deadline: float = 0.0


def _context() -> mp.context.BaseContext:
    """fork while this process has one thread: workers start at once with every module
    already imported (a fresh interpreter per worker costs ~0.3 s of imports); with
    other threads alive, fork is unsafe and forkserver takes over."""
    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_tasks(fn: Callable[[Any], Any], tasks: Iterable[Any], jobs: int,
              timeout: float, init: Callable[[], None] | None = None
              ) -> Iterator[tuple[Any, Any | TaskFailed]]:
    """Yield (task, fn(task)) in completion order; a TaskFailed stands for a lost task.

    `fn` and `init` (run once in each worker) must be module-level functions;
    with jobs <= 1, `fn` runs in this process (no deadline: for debugging and
    small batches).
    """
    if jobs <= 1:
        for task in tasks:
            yield task, fn(task)
        return
    ctx = _context()
    pending = iter(tasks)
    workers: list[_Worker] = []

    def start() -> _Worker:
        parent, child = ctx.Pipe()
        siblings = [w.conn for w in workers] + [parent] if ctx.get_start_method() == "fork" \
            else []
        process = ctx.Process(target=_serve, args=(child, fn, init, siblings), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def feed(worker: _Worker) -> bool:
        task = next(pending, None)
        worker.task = task
        if task is None:
            return False
        worker.deadline = time.monotonic() + timeout
        worker.conn.send(task)
        return True

    try:
        for _ in range(jobs):
            worker = start()
            workers.append(worker)
            if not feed(worker):
                break
        yield from _drain(workers, start, feed)
    finally:
        for worker in workers:
            _stop(worker)


def _drain(workers: list[_Worker], start: Callable[[], _Worker],
           feed: Callable[[_Worker], bool]) -> Iterator[tuple[Any, Any]]:
    while busy := [w for w in workers if w.task is not None]:
        wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        ready = wait([w.conn for w in busy], timeout=wait_for)
        for worker in busy:
            task = worker.task
            if worker.conn in ready:
                try:
                    result: Any = worker.conn.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)
                    code = worker.process.exitcode
                    result = TaskFailed(f"worker died (exit code {code}) reading this file")
            elif time.monotonic() >= worker.deadline:
                result = TaskFailed("timed out: gave up on this file")
            else:
                continue
            if isinstance(result, TaskFailed):
                _stop(worker, kill=True)
                fresh = start()
                workers[workers.index(worker)] = fresh
                worker = fresh
            yield task, result
            feed(worker)


def _stop(worker: _Worker, kill: bool = False) -> None:
    if worker.process.is_alive() and not kill:
        try:
            worker.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        worker.process.join(timeout=2)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()
    worker.conn.close()
