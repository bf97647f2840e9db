"""Serving the site with waitress, in one process per core.

waitress runs requests in threads, which share one interpreter lock: a
search uses one core however many threads wait. The listening socket is
made here and shared by forked worker processes, each a waitress server, so
the kernel spreads connections over the cores (the pre-fork model of
gunicorn, kept to the standard library).
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import waitress

from archive import settings
from archive.errors import ArchiveError
from archive.processes import end_with_parent
from indexer.cache import SharedResultCache
from indexer.replica import Replica, ReplicaSyncer

from .app import create_app

log = logging.getLogger(__name__)

def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ArchiveError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def waitress_limits(connection_limit: int, channel_timeout: int) -> dict[str, int]:
    """waitress settings against clients that open connections and stay idle or trickle
    (slowloris): many connections, since an idle one costs a file descriptor and no
    thread, each closed after `channel_timeout` seconds of silence."""
    # Idle connections are looked for every third of the timeout (waitress: every 30 s).
    return {"connection_limit": connection_limit, "channel_timeout": channel_timeout,
            "cleanup_interval": max(1, channel_timeout // 3)}


def _allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit towards `wanted` (as far as the hard limit
    lets it): the usual soft limit of 1,024 is below the connection limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def _keep_replica(archive_dir: Path, config: dict, interval: float) -> None:
    """Sync the node's index replica (config REPLICA_DIR), if it has one, from a thread of
    this serving process. Each worker runs one: the replica's lock lets one write at a
    time, and a worker that dies takes no other's syncs with it."""
    if config.get("REPLICA_DIR"):
        ReplicaSyncer(Replica(Path(config["REPLICA_DIR"]), archive_dir), interval).start()


def _worker(archive_dir: Path, sock: socket.socket, threads: int, config: dict,
            options: dict[str, int], replica_interval: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    app = create_app(archive_dir, config)
    _keep_replica(archive_dir, config, replica_interval)
    waitress.serve(app, sockets=[sock], threads=threads, ident="event-archive",
                   _quiet=True, **options)


def serve(archive_dir: Path, host: str, port: int, threads: int, workers: int,
          config: dict | None = None, *, connection_limit: int,
          channel_timeout: int,
          replica_interval: float = settings.value("replica_interval")) -> None:
    """Serve until interrupted; with workers > 1, fork that many waitress processes,
    each taking up to `connection_limit` connections. With config REPLICA_DIR, each
    syncs that index replica every `replica_interval` seconds (the caller brought it
    up to date before)."""
    config = config or {}
    # waitress warns "Task queue depth is N" whenever a request waits for a thread, which
    # is ordinary under any load and reads like trouble in the log.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    create_app(archive_dir, config)  # fail in the parent, with a clear message, if unusable
    _allow_open_files(connection_limit + 256)  # plus the catalog, index files, pipes
    options = waitress_limits(connection_limit, channel_timeout)
    sock = listen(host, port)
    if workers <= 1:
        app = create_app(archive_dir, config)
        _keep_replica(archive_dir, config, replica_interval)
        waitress.serve(app, sockets=[sock], threads=threads, ident="event-archive",
                       **options)
        return
    with ExitStack() as stack:
        shared = _shared_cache(stack)
        _fork(archive_dir, sock, threads, workers,
              {**config, "SEARCH_CACHE_DIR": shared} if shared else config, options,
              replica_interval)
    sock.close()
    log.info("stopped")


def _shared_cache(stack: ExitStack) -> str | None:
    """A private folder for the result cache all workers share (each would otherwise
    search every query again), removed when the stack closes; None, and a cache per
    worker, when no temporary folder can be made."""
    try:
        shared = stack.enter_context(tempfile.TemporaryDirectory(
            prefix="event-archive-results-", ignore_cleanup_errors=True))
        SharedResultCache.create(Path(shared))
    except (OSError, sqlite3.Error) as exc:
        log.warning("no shared search result cache (%s): each worker keeps its own", exc)
        return None
    return shared


# A worker that ends sooner than this after its start failed to start; after this many
# such ends in a row, serve gives up instead of starting workers for ever.
QUICK_END = 10.0
QUICK_ENDS = 5


def _fork(archive_dir: Path, sock: socket.socket, threads: int, workers: int,
          config: dict, options: dict[str, int], replica_interval: float) -> None:
    """Run `workers` waitress processes on the socket until stopped; one that ends (killed,
    out of memory) is replaced. Raises ArchiveError when they keep ending at once."""
    pool = _Workers(lambda: _worker(archive_dir, sock, threads, config, options,
                                    replica_interval))
    signal.signal(signal.SIGTERM, pool.stop)
    if not pool.run(workers):
        raise ArchiveError("the server's worker processes keep ending as soon as they "
                           "start; see the messages above")


class _Workers:
    """The forked worker processes of one server."""

    def __init__(self, work: Callable[[], None]) -> None:
        self.work = work
        self.started: dict[int, float] = {}  # pid: when
        self.stopping = False

    def spawn(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                # A worker left behind would hold the port and answer from an archive
                # nobody serves.
                end_with_parent(parent)
                self.work()
            finally:
                os._exit(0)
        self.started[pid] = time.monotonic()

    def stop(self, *_args: object) -> None:
        self.stopping = True
        for pid in self.started:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self, count: int) -> bool:
        """Until every worker has ended; False when they kept ending as they started."""
        for _ in range(count):
            self.spawn()
        quick, gave_up = 0, False
        while self.started:
            try:
                pid, status = os.wait()
            except KeyboardInterrupt:
                self.stop()
                continue
            began = self.started.pop(pid, None)
            if began is None or self.stopping:
                continue
            quick = quick + 1 if time.monotonic() - began < QUICK_END else 0
            if quick >= QUICK_ENDS:
                gave_up = True
                self.stop()
                continue
            log.warning("worker %d ended (%s); starting another", pid, _how(status))
            self.spawn()
        return not gave_up


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


