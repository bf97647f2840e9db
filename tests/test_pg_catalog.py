"""The catalog on a real PostgreSQL server: what only a shared server has (advisory
locks per event, a revision sequence, migrations raced by several processes, a server
that restarts) and the faults a killed committer leaves. Everything else about the
catalog runs against PostgreSQL in the modules marked `engines`."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.catalog import count_items
from archive.catalog.pgdatabase import PgCatalog
from archive.catalog.schema import MIGRATIONS
from archive.store import Archive, record_catalog

from helpers.archives import snapshot
from helpers.media import make_jpeg
from helpers.processes import poll_until, stopped_when
from helpers.services import PostgresServer, running

# Slow: real ingests of a hundred photos, stopped, killed and resumed.
pytestmark = pytest.mark.slow

COUNT = 120


def event_folder(folder: Path, event_id: str, count: int = COUNT, first: int = 0) -> Path:
    """An event of `count` photos, each its own content (numbered from `first`)."""
    (folder / "event.toml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "event.toml").write_text(f'[event]\nid = "{event_id}"\ntitle = "{event_id}"\n',
                                       encoding="utf-8")
    for i in range(first, first + count):
        make_jpeg(folder / f"d{i % 3}" / f"IMG_{i:04d}.jpg", size=(700 + i, 500))
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return event_folder(tmp_path_factory.mktemp("pg-event") / "event", "pg-event")


@pytest.fixture(scope="module")
def reference(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The photos ingested in one go into an SQLite archive: what every run must equal."""
    root = tmp_path_factory.mktemp("reference") / "archive"
    assert run_ingest(root, photos).returncode == 0
    return root


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A cluster of this module's own, which its tests restart."""
    with running(PostgresServer, "event-archive-pg-restart-") as server:
        yield server


def pg_archive(server: PostgresServer, root: Path, name: str) -> Path:
    Archive.open(root, catalog=server.create_database(name)).close()
    return root


def ingest_command(root: Path, *folders: Path) -> list[str]:
    return [sys.executable, "-m", "archive", "--archive", str(root), "ingest", "-j", "2",
            *map(str, folders)]


def run_ingest(root: Path, *folders: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(ingest_command(root, *folders), capture_output=True, timeout=300)


def start_ingest(root: Path, *folders: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(ingest_command(root, *folders), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def between_transactions(root: Path) -> bool:
    """Whether some items are committed and no other session is inside a transaction:
    a process stopped now holds no lock that writers wait for."""
    with Archive.open(root, readonly=True) as archive:
        busy = archive.catalog.query(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
            "pid <> pg_backend_pid() AND state <> 'idle'")[0][0]
        return busy == 0 and count_items(archive.catalog) > 0


def items_of(root: Path) -> int:
    """Items committed (PostgreSQL's readers never wait for its writers)."""
    with Archive.open(root, readonly=True) as archive:
        return count_items(archive.catalog)


def interrupted(root: Path, folder: Path, interrupt: Callable[[subprocess.Popen[bytes]], object]
                ) -> tuple[int, str]:
    """An ingest of `folder` stopped once it has committed a batch, `interrupt(it)` done
    then, and left to end: its exit code and what it said on stderr."""
    proc = start_ingest(root, folder)
    try:
        assert stopped_when(proc, lambda: items_of(root) > 0, "a committed batch")
        interrupt(proc)
    finally:
        proc.send_signal(signal.SIGCONT)
    stderr = proc.communicate(timeout=120)[1].decode()
    assert 0 < items_of(root) < COUNT
    return proc.returncode, stderr


def rerun_completes(root: Path, folder: Path, reference: Path) -> None:
    again = run_ingest(root, folder)
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == snapshot(reference)


def test_a_postgresql_restart_mid_ingest_is_one_line_and_a_rerun_completes(
        own_server: PostgresServer, photos: Path, reference: Path, tmp_path: Path) -> None:
    root = pg_archive(own_server, tmp_path / "archive", "restarted")

    def restart(_proc: object) -> None:
        own_server.stop(fast=True)  # sessions cut, as a server restart cuts them
        own_server.launch()

    code, stderr = interrupted(root, photos, restart)
    lines = stderr.strip().splitlines()
    assert code == 1, lines
    assert len(lines) == 1 and lines[0].startswith("error: ") and "catalog" in lines[0], lines
    rerun_completes(root, photos, reference)


def test_a_killed_committer_loses_nothing_and_doubles_nothing(
        pg_server: PostgresServer, photos: Path, reference: Path, tmp_path: Path) -> None:
    root = pg_archive(pg_server, tmp_path / "archive", "killed_committer")
    interrupted(root, photos, lambda proc: proc.kill())
    rerun_completes(root, photos, reference)


def test_ingests_of_two_events_write_together_and_one_event_waits_for_itself(
        pg_server: PostgresServer, tmp_path: Path) -> None:
    first = event_folder(tmp_path / "first", "first", 60)
    second = event_folder(tmp_path / "second", "second", 30, first=500)
    root = pg_archive(pg_server, tmp_path / "archive", "two_events")
    proc = start_ingest(root, first)
    try:
        # The first ingest holds its event, stopped half-way: the second event's ingest
        # runs to its end meanwhile, index sync included.
        assert stopped_when(proc, lambda: between_transactions(root),
                            "a committed batch, between transactions")
        done = run_ingest(root, second)
        assert done.returncode == 0, done.stderr
        assert items_of(root) < 90
        # Another ingest of the first event waits for the one holding it.
        same = start_ingest(root, first)
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.extend(
            line.decode() for line in same.stderr))  # type: ignore[union-attr]
        reader.start()
        poll_until(lambda: any("waiting: " in line for line in said),
                   "the second ingest of the first event to say it waits")
    finally:
        proc.send_signal(signal.SIGCONT)
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert same.wait(timeout=120) == 0
    reader.join()
    same.stderr.close()  # type: ignore[union-attr]
    assert items_of(root) == 90
    out = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root), "search",
                          "--json", "kind:photo"], capture_output=True, timeout=120, check=True)
    import json

    assert json.loads(out.stdout)["total"] == 90


def test_the_revision_is_a_sequence_and_deletions_are_logged(
        pg_server: PostgresServer, tmp_path: Path) -> None:
    folder = event_folder(tmp_path / "event", "seq", 3)
    root = pg_archive(pg_server, tmp_path / "archive", "sequence")
    assert run_ingest(root, folder).returncode == 0
    (folder / "d0" / "IMG_0000.jpg").unlink()
    assert subprocess.run([*ingest_command(root, folder), "--prune"],
                          capture_output=True, timeout=120).returncode == 0
    with Archive.open(root) as archive:
        catalog = archive.catalog
        last = catalog.query("SELECT last_value FROM catalog_revision")[0][0]
        assert catalog.revision == last > 1
        deleted = catalog.query("SELECT item_id, revision FROM deletions")
        assert len(deleted) == 1 and deleted[0][1] <= last
        assert count_items(catalog) == 2


def test_migrations_run_once_when_several_processes_open_an_old_catalog(
        pg_server: PostgresServer) -> None:
    from archive.catalog import pgdialect
    from archive.catalog.pgconnection import PgConnection

    url = pg_server.create_database("old_schema")
    db = PgConnection(url, readonly=False)  # a catalog left at schema 3 by an old program
    for number in range(3):
        db.execute("BEGIN")
        for statement in pgdialect.migration(number + 1, MIGRATIONS[number]):
            db.execute(statement)
        pgdialect.set_schema_version(db, number + 1)
        db.execute("COMMIT")
    db.close()
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            PgCatalog(url).close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    catalog = PgCatalog(url, readonly=True)
    try:
        assert catalog.schema_version == len(MIGRATIONS)
        assert catalog.query("SELECT COUNT(*) FROM faces")[0][0] == 0  # schema 4 made it
    finally:
        catalog.close()


def test_an_archive_keeps_its_catalog_and_refuses_another(
        pg_server: PostgresServer, tmp_path: Path) -> None:
    from archive.catalog import CatalogError

    url = pg_server.create_database("recorded")
    root = tmp_path / "archive"
    Archive.open(root, catalog=url).close()
    assert "postgresql://" in (root / "archive.toml").read_text(encoding="utf-8")
    with Archive.open(root, readonly=True) as archive:  # no address needed again
        assert archive.shared
    with pytest.raises(CatalogError, match="this archive's catalog is"):
        Archive.open(root, catalog=pg_server.url("other"))
    sqlite = tmp_path / "sqlite"
    Archive.open(sqlite).close()
    with pytest.raises(CatalogError, match="its SQLite file"):
        Archive.open(sqlite, catalog=url)
    with pytest.raises(CatalogError, match="not a postgresql:// address"):
        Archive.open(tmp_path / "x", catalog="mysql://nope")
    with pytest.raises(CatalogError, match="cannot reach the catalog"):
        Archive.open(tmp_path / "y", catalog="postgresql://postgres@127.0.0.1:1/none")
    assert not (tmp_path / "y" / "archive.toml").exists()
    emptied = tmp_path / "emptied"
    emptied.mkdir()
    record_catalog(emptied, pg_server.create_database("emptied"))
    for readonly in (True, False):
        with pytest.raises(CatalogError, match="holds no catalog"):
            Archive.open(emptied, readonly=readonly)


def test_the_site_answers_again_once_a_restarted_server_is_back(
        own_server: PostgresServer, tmp_path: Path) -> None:
    from web.app import create_app

    folder = event_folder(tmp_path / "event", "site", 3)
    root = pg_archive(own_server, tmp_path / "archive", "site_restart")
    assert run_ingest(root, folder).returncode == 0
    client = create_app(root, {"TESTING": True}).test_client()
    pages = ("/", "/?q=IMG", "/api/search?q=kind:photo", "/events/site")
    before = [client.get(url) for url in pages]
    assert [r.status_code for r in before] == [200] * len(pages)
    own_server.stop(fast=True)
    down = client.get("/api/search?q=kind:photo")
    assert down.status_code == 503 and b"Traceback" not in down.data
    own_server.launch()
    # Kept connections are found gone and made again: no request fails once it is back.
    after = [client.get(url) for url in pages * 3]
    assert [r.status_code for r in after] == [200] * len(pages) * 3
    assert after[2].json["total"] == before[2].json["total"] == 3


def test_a_database_that_is_not_this_archives_own_is_refused_in_one_line(
        pg_server: PostgresServer, tmp_path: Path) -> None:
    import psycopg

    from archive.catalog import CatalogError

    foreign = pg_server.create_database("foreign_app")
    with psycopg.connect(foreign, autocommit=True) as db:
        db.execute("CREATE TABLE customers (id int)")
    with pytest.raises(CatalogError, match=r"tables of something else \(customers\)"):
        Archive.open(tmp_path / "a", catalog=foreign)
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as db:
        db.execute("CREATE ROLE visitor LOGIN")
    # PostgreSQL 15 lets only a database's owner create tables in its public schema.
    locked = pg_server.create_database("not_visitors").replace("postgres@", "visitor@")
    with pytest.raises(CatalogError, match="cannot make the catalog's tables .*permission "
                                           "denied.*a database, or a schema, that it owns"):
        Archive.open(tmp_path / "b", catalog=locked)
    shared = pg_server.create_database("first_archives")
    Archive.open(tmp_path / "first", catalog=shared).close()
    with pytest.raises(CatalogError, match=f"already the catalog of the archive at "
                                           f"{tmp_path / 'first'}"):
        Archive.open(tmp_path / "second", catalog=shared)
    assert not (tmp_path / "second" / "archive.toml").exists()
    # archive.toml edited to name another archive's catalog
    other = pg_server.create_database("third_archives")
    Archive.open(tmp_path / "third", catalog=other).close()
    settings = tmp_path / "first" / "archive.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(shared, other),
                        encoding="utf-8")
    with pytest.raises(CatalogError, match=f"catalog of another archive directory "
                                           f"\\({tmp_path / 'third'}\\)"):
        Archive.open(tmp_path / "first")


def test_a_password_is_never_written_down_and_the_variable_names_new_archives_only(
        pg_server: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.cli import Cli

    url = pg_server.create_database("with_password").replace("postgres@",
                                                               "postgres:s3cret@")
    Archive.open(tmp_path / "pg", catalog=url).close()  # trust: the password is not asked
    assert "s3cret" not in (tmp_path / "pg" / "archive.toml").read_text(encoding="utf-8")
    assert "without its password" in caplog.text and "~/.pgpass" in caplog.text
    Cli(tmp_path / "sqlite")("ingest", str(event_folder(tmp_path / "event", "env", 2)))
    monkeypatch.setenv("EVENT_ARCHIVE_CATALOG", pg_server.url("somewhere_else"))
    assert len(Cli(tmp_path / "sqlite").json("list")) == 2  # its own catalog, as before
    assert Cli(tmp_path / "pg").json("list") == []
    out = Cli(tmp_path / "sqlite")("--catalog", pg_server.url("x"), "list", code=1)
    assert "its SQLite file" in out  # said on the command line: refused


@pytest.mark.engines
def test_a_nul_in_stored_values_reads_back_on_every_page(archive_dir: Path,
                                                          tmp_path: Path) -> None:
    """TOML and IPTC can carry U+0000; PostgreSQL's JSON cannot: it is read as U+FFFD
    where the catalog's SQL looks inside the JSON, and the pages answer as on SQLite."""
    from web.app import create_app

    from helpers.cli import Cli
    from helpers.media import make_exif

    event = tmp_path / "event"
    sample = (Path(__file__).parent / "data" / "sample" / "event.toml").read_text(
        encoding="utf-8")
    event.mkdir()
    (event / "event.toml").write_text(
        sample.replace('organisation = "ASEV"', 'organisation = "AS\\u0000EV"', 1)
        .replace('affiliation = "FUTOUR"', 'affiliation = "FU\\u0000TOUR"', 1),
        encoding="utf-8")
    make_jpeg(event / "photo.jpg", exif=make_exif())
    cli = Cli(archive_dir)
    cli("ingest", str(event))
    report = cli.json("report")
    assert report["errors"] == []
    client = create_app(archive_dir, {"TESTING": True}).test_client()
    for url in ("/events/florence-2019", "/events/florence-2019/people/paolo-martinez",
                "/api/people/paolo-martinez", "/?q=photo"):
        assert client.get(url).status_code == 200, url


def test_a_failed_write_leaves_the_connection_usable_and_says_one_line(
        pg_server: PostgresServer, tmp_path: Path) -> None:
    from archive.catalog import CatalogError

    root = pg_archive(pg_server, tmp_path / "archive", "failed_write")
    with Archive.open(root) as archive:
        catalog = archive.catalog
        with archive.write_lock(["e"]):
            for _ in range(2):  # the second shows the first left nothing half-done
                with pytest.raises(CatalogError, match="cannot write the catalog"), \
                        catalog.transaction():
                    # no answer is read: the server's error comes as the pipeline ends
                    catalog.execute("INSERT INTO meta (key, value) VALUES ('x', NULL)")
        assert catalog.get_meta("x") is None
        with catalog.transaction():
            catalog.set_meta("x", "written")
        assert catalog.get_meta("x") == "written"


@pytest.mark.parametrize(("given", "shown"), [
    ("postgresql://a:pw@h:5/db", "postgresql://a@h:5/db"),
    ("postgresql://a@h/db?password=x&sslmode=require", "postgresql://a@h/db?sslmode=require"),
    ("postgresql://a%40b:p%3A@[::1]:5432/db", "postgresql://a%40b@[::1]:5432/db"),
    ("postgresql://h/db?options=-csearch_path%3Dx", "postgresql://h/db?options=-csearch_path%3Dx"),
])
def test_a_catalog_address_is_shown_and_kept_without_its_password(given: str,
                                                                   shown: str) -> None:
    from archive.catalog.pgconnection import shown_url

    assert shown_url(given) == shown


@given(user=st.text(min_size=1, max_size=12), password=st.text(min_size=1, max_size=12),
       query=st.sampled_from(["", "?sslmode=require", "?password=PWQ&application_name=x"]))
def test_no_password_survives_in_a_shown_address(user: str, password: str,
                                                 query: str) -> None:
    from urllib.parse import quote

    from archive.catalog.pgconnection import shown_url

    secret = quote("PW" + password, safe="")
    shown = shown_url(f"postgresql://{quote(user, safe='')}:{secret}@db.example/events"
                      f"{query}")
    assert secret not in shown and "PWQ" not in shown
    assert shown.startswith(f"postgresql://{quote(user, safe='')}@db.example/events")


@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_archive_toml_is_read_or_refused_in_one_line(content: bytes) -> None:
    import tempfile

    from archive.catalog import CatalogError
    from archive.store import recorded_catalog

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "archive.toml").write_bytes(content)
        try:
            found: str | None = recorded_catalog(Path(folder))
        except CatalogError as exc:
            found = str(exc)
            assert "\n" not in found.split("archive.toml: ", 1)[1]  # noqa: PT017
        else:
            assert found is not None and found.startswith(("postgresql://", "postgres://"))
