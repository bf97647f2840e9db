from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from archive.store import Archive

from helpers.cli import Cli
from helpers.corpus import corpus_or_skip
from helpers.processes import LiveServer, serving

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample event (scripts/make_sample_event.py), made once per test run.
    Tests that change it work on a copy."""
    folder = tmp_path_factory.mktemp("sample") / "event"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_event.py"),
                    str(folder)], check=True, capture_output=True, timeout=300)
    return folder


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def archive(archive_dir: Path) -> Iterator[Archive]:
    with Archive.open(archive_dir) as opened:
        yield opened


@pytest.fixture
def event_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "event"
    folder.mkdir()
    return folder


@pytest.fixture
def cli(archive_dir: Path) -> Cli:
    return Cli(archive_dir)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start the real `event-archive serve` on an archive: `live_server(archive_dir,
    *options)` returns once it answers; it is stopped (SIGTERM, then waited) after the test."""
    numbers = itertools.count()
    with ExitStack() as running:
        def start(archive_dir: Path, *options: str) -> LiveServer:
            log = tmp_path / f"serve-{next(numbers)}.log"
            return running.enter_context(serving(archive_dir, log, *options))

        yield start


@pytest.fixture
def corpus() -> Path:
    return corpus_or_skip()


def pytest_configure(config: pytest.Config) -> None:
    # Worker processes start with forkserver; they must find the project's packages.
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
