from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import LiveServer, serving

from archive.cli import main
from archive.store import Archive

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


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


class Cli:
    """Runs `event-archive` in-process against one archive, checking the exit code."""

    def __init__(self, archive_dir: Path) -> None:
        self.archive_dir = archive_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(main, ["--archive", str(self.archive_dir), *args])
        if result.exit_code != code:
            raise AssertionError(f"exit {result.exit_code} != {code}\n{result.output}"
                                 f"\n{result.exception!r}")
        return result.output

    def json(self, *args: str, code: int = 0) -> object:
        return json.loads(self.__call__(*args, "--json", code=code))


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


def corpus_or_skip() -> Path:
    """The shared real-camera corpus; a fresh clone has none, and the test says so."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present (fresh clone)")
    return CORPUS


@pytest.fixture
def corpus() -> Path:
    return corpus_or_skip()


def pytest_configure(config: pytest.Config) -> None:
    # Worker processes start with forkserver; they must find the project's packages.
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
