"""Real `event-archive` processes for tests: the site served by `serve` in a subprocess,
and waiting for states a test can observe (never for a fixed time)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

# The console script installed beside the interpreter running the tests (scripts/setup).
EVENT_ARCHIVE = Path(sys.executable).with_name("event-archive")
START_TIMEOUT = 120.0


def poll_until(ready: Callable[[], object], what: str, timeout: float = 120.0,
               interval: float = 0.01) -> object:
    """Return ready()'s first true value; fail naming `what` if none comes in time."""
    deadline = time.monotonic() + timeout
    while not (value := ready()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    """One GET on a fresh connection: status, headers, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@dataclass
class LiveServer:
    """A running `event-archive serve`; its stdout and stderr go to `log`."""

    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return get(self.port, path)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def listens(self) -> bool:
        """Our process holds the port (not another that took it first)."""
        try:
            sockets = psutil.Process(self.proc.pid).net_connections("tcp")
        except psutil.NoSuchProcess:
            return False
        return any(s.status == psutil.CONN_LISTEN and s.laddr.port == self.port
                   for s in sockets)

    def answers(self) -> bool:
        try:
            get(self.port, "/static/style.css", timeout=5)
        except (OSError, http.client.HTTPException):
            return False
        return True

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; its workers go with it."""
        try:
            workers = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            workers = []
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=30)
        for worker in alive:
            worker.kill()


def _start(command: Sequence[str], log: Path, cwd: Path | None,
           env: dict[str, str] | None) -> LiveServer | None:
    """Start the server on a free port and wait until it answers; None when another
    process took the port first."""
    port = free_port()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([*command, "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                env=env)
    server = LiveServer(proc, port, log)
    try:
        poll_until(lambda: (server.listens() and server.answers()) or proc.poll() is not None,
                   f"the server on port {port} to answer", START_TIMEOUT, interval=0.05)
    except AssertionError:
        server.stop()
        raise
    if proc.poll() is None:
        return server
    if "cannot listen" in server.output():
        return None
    raise AssertionError(f"the server exited with {proc.returncode}:\n{server.output()}")


@contextmanager
def serving(archive_dir: Path, log: Path, *options: str,
            executable: Path | str = EVENT_ARCHIVE, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """The real `event-archive serve --archive DIR` on a free port, until the block ends.

    The block fails if the server logged a traceback.
    """
    command = [str(executable), "serve", "--archive", str(archive_dir), *options]
    for _ in range(5):  # a free port can be taken by another process before we bind it
        server = _start(command, log, cwd, env)
        if server is not None:
            break
    else:
        raise AssertionError(f"no free port to listen on:\n{log.read_text()}")
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


def environment_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


# ---- watching an ingest ----------------------------------------------------------------

def catalogued(root: Path, mode: str = "ro") -> int | None:
    """Items committed in the catalog at `root`; None while it has none to read (not
    made yet, schema not written, or locked: never waits)."""
    try:
        with closing(sqlite3.connect(f"file:{root / 'catalog.sqlite3'}?mode={mode}",
                                     uri=True, timeout=0)) as db:
            return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.Error:
        return None


def thumbnails(root: Path) -> int:
    """Thumbnails the ingest's workers have finished (written before their batch commits)."""
    return sum(1 for _ in (root / "thumbs").glob("*/*.jpg"))


def stopped_when(proc: subprocess.Popen, seen: Callable[[], object], what: str) -> bool:
    """Look at `seen()` while `proc` is stopped (SIGSTOP), until it holds; then leave `proc`
    stopped, so a signal sent next lands exactly at what was seen. False when `proc` ended
    before that."""
    def look() -> bool:
        if proc.poll() is not None:
            return True
        proc.send_signal(signal.SIGSTOP)
        if seen():
            return True
        proc.send_signal(signal.SIGCONT)
        return False

    poll_until(look, what, interval=0.002)
    return proc.poll() is None
