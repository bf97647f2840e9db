"""Real PostgreSQL and Redis servers for the tests: each in a temporary folder, on a free
loopback port, stopped afterwards. A PostgreSQL cluster is made with `initdb` (as the
`postgres` user when the tests run as root: PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

# How long a server may take to start on a busy machine.
START_TIMEOUT = 60
# What PostgreSQL logs once it accepts connections.
READY = b"database system is ready to accept connections"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return versions[-1] if versions else None


def _as_postgres() -> dict[str, object]:
    """subprocess options that run a server program as a user PostgreSQL accepts: the
    process itself becomes `postgres` (no wrapper between it and our signals)."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
            "env": {**os.environ, "HOME": user.pw_dir}}


@dataclass
class PostgresServer:
    """A throwaway cluster; `url(name)` is a database's address, trusted on loopback."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def start(self) -> PostgresServer:
        initdb, postgres = postgres_bin("initdb"), postgres_bin("postgres")
        if not initdb or not postgres:
            pytest.fail("PostgreSQL is not installed: run scripts/setup (apt-get install "
                        "postgresql)")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        if not self.data.exists():
            subprocess.run([initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust",
                            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                           check=True, capture_output=True, cwd=self.folder,
                           **_as_postgres())
        self.launch()
        return self

    def launch(self) -> None:
        """Start the server on its data folder (again, after `stop`) and wait for it."""
        postgres = postgres_bin("postgres")
        assert postgres
        log_path = self.folder / "server.log"
        started = log_path.read_bytes().count(READY) if log_path.exists() else 0
        log = open(log_path, "ab")  # noqa: SIM115 (the server keeps it)
        self.process = subprocess.Popen(
            [postgres, "-D", str(self.data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.folder), "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=log, stderr=log, start_new_session=True, cwd=self.folder,
            **_as_postgres())
        log.close()
        self._wait_ready(log_path, started)

    def _wait_ready(self, log_path: Path, started: int) -> None:
        """Until the server's log says it accepts connections (a connection tried
        earlier fails, and psycopg leaves such a connection unclosed)."""
        deadline = time.monotonic() + START_TIMEOUT
        while log_path.read_bytes().count(READY) <= started:
            if self.process is not None and self.process.poll() is not None:
                log = log_path.read_text(errors="replace")
                pytest.fail(f"PostgreSQL did not start:\n{log[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("PostgreSQL did not answer in time")
            time.sleep(0.05)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); its address."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            suffix = f" TEMPLATE {template}" if template else ""
            db.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def stop(self, fast: bool = True) -> None:
        """Stop the server: at once (`fast`, SIGINT: sessions are cut), or politely."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT if fast else signal.SIGTERM)
        try:
            self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@dataclass
class RedisServer:
    """A throwaway Redis on loopback, keeping nothing on disk."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        server = shutil.which("redis-server")
        if not server:
            pytest.fail("Redis is not installed: run scripts/setup (apt-get install "
                        "redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Redis did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT)
            self.process = None


def temporary_folder(prefix: str) -> Path:
    """A folder the `postgres` user can reach too (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


Server = TypeVar("Server", PostgresServer, RedisServer)


@contextmanager
def running(kind: type[Server], prefix: str) -> Iterator[Server]:
    """A server of `kind` in a temporary folder, stopped and removed afterwards."""
    folder = temporary_folder(prefix)
    server = kind(folder).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
