from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from archive.store import Archive

from helpers.cli import Cli
from helpers.corpus import corpus_or_skip
from helpers.processes import LiveServer, serving
from helpers.sample import SampleBuild
from helpers.services import PostgresServer, RedisServer, running

ROOT = Path(__file__).resolve().parents[1]
# The sample event's file; scripts/make_sample_event.py adds the media.
SAMPLE_EVENT_FILE = ROOT / "tests" / "data" / "sample" / "event.toml"
SAMPLE_BUILD = pytest.StashKey[SampleBuild]()


def _sample_build(config: pytest.Config) -> SampleBuild:
    if SAMPLE_BUILD not in config.stash:
        config.stash[SAMPLE_BUILD] = SampleBuild(Path(tempfile.mkdtemp(
            prefix="event-archive-sample-")))
    return config.stash[SAMPLE_BUILD]


def pytest_sessionstart(session: pytest.Session) -> None:
    # Started before collecting, so the sample is ready (or nearly) when a test asks.
    if not session.config.option.collectonly:
        _sample_build(session.config).start()


def pytest_collection_finish(session: pytest.Session) -> None:
    # No test of this run uses the sample: stop building it.
    build = session.config.stash.get(SAMPLE_BUILD, None)
    if build is not None and not any({"sample", "sample_archive", "sample_archive_sqlite"} & set(
            getattr(item, "fixturenames", ())) for item in session.items):
        build.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    build = session.config.stash.get(SAMPLE_BUILD, None)
    if build is not None:
        build.stop()
        shutil.rmtree(build.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sample(pytestconfig: pytest.Config) -> Path:
    """The sample event (SAMPLE_EVENT_FILE with the media scripts/make_sample_event.py
    makes), made once per test run. Tests that change it work on a copy."""
    folder = _sample_build(pytestconfig).wait_event()
    assert (folder / "event.toml").read_bytes() == SAMPLE_EVENT_FILE.read_bytes()
    return folder


@pytest.fixture(scope="module")
def sample_archive(catalog_engine: str, request: pytest.FixtureRequest) -> Path:
    """The sample event ingested and indexed once per test run (and catalog engine),
    shared by the tests that only read it (open it with `readonly=True`, or serve it). A
    test that writes to an archive works on its own copy: `copy_archive(sample_archive,
    dest)` costs a fraction of an ingest (the index is a relative symbolic link)."""
    return request.getfixturevalue(f"sample_archive_{catalog_engine}")


@pytest.fixture(scope="session")
def sample_archive_postgresql(sample: Path, pg_server: PostgresServer,
                              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("sample-pg") / "archive"
    Cli(root)("--catalog", pg_server.create_database(next(DATABASE_NAMES)), "ingest",
              str(sample))
    before = _state(root)
    yield root
    assert _state(root) == before, "a test changed the shared sample archive; copy it first"


@pytest.fixture(scope="session")
def sample_archive_sqlite(sample: Path, pytestconfig: pytest.Config) -> Iterator[Path]:
    root = _sample_build(pytestconfig).wait_archive()
    before = _state(root)
    yield root
    # A test that wrote to it would change what the tests after it see, depending on order.
    assert _state(root) == before, "a test changed the shared sample archive; copy it first"


def _state(root: Path) -> tuple[int, str]:
    with Archive.open(root, readonly=True) as archive:
        return archive.catalog.revision, os.readlink(archive.index_dir)


# The catalog engines a test module marked `engines` runs against, each test once per
# engine; the other modules use the embedded default.
ENGINES = ("sqlite", "postgresql")
DATABASE_NAMES = (f"archive_{n}" for n in itertools.count())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "catalog_engine" in metafunc.fixturenames and \
            metafunc.definition.get_closest_marker("engines"):
        metafunc.parametrize("catalog_engine", ENGINES, indirect=True, scope="module")


@pytest.fixture(scope="module")
def catalog_engine(request: pytest.FixtureRequest) -> str:
    """The catalog engine of the archives this module's tests make."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="module")
def new_archive(catalog_engine: str, request: pytest.FixtureRequest) -> Callable[[Path], Path]:
    """`new_archive(root)`: make `root` an archive whose catalog is on this test's engine
    (a PostgreSQL archive gets a database of its own); SQLite's needs nothing yet."""
    def make(root: Path) -> Path:
        if catalog_engine == "postgresql":
            server = request.getfixturevalue("pg_server")
            Archive.open(root, catalog=server.create_database(next(DATABASE_NAMES))).close()
        return root
    return make


@pytest.fixture
def archive_dir(tmp_path: Path, new_archive: Callable[[Path], Path]) -> Path:
    return new_archive(tmp_path / "archive")


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of this test run's own (initdb in a temporary folder)."""
    with running(PostgresServer, "event-archive-pg-") as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server of this test run's own, on a free loopback port."""
    with running(RedisServer, "event-archive-redis-") as server:
        yield server
