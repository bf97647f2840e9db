"""Web nodes with their own index replica (`serve --replica DIR`): each node syncs its
replica from the catalog's revision log, at start-up and on a timer, and any number of
nodes answer searches alike without sharing an index folder.

The archive under test comes from the `archive_dir` and `cli` fixtures, and a node is
known to have caught up by what it reports (`/api/status`), never by the time waited:
the same tests serve for any catalog engine behind `Archive.open`."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archive.locking import write_lock
from archive.store import Archive
from indexer.generations import current_dir, read_checksums
from indexer.replica import Replica
from web.app import create_app

from helpers.cli import Cli
from helpers.consent import make_event
from helpers.media import make_exif, make_jpeg, make_xmp
from helpers.processes import LiveServer, poll_until

# Every test here runs against both catalog engines (tests/conftest.py): web nodes with
# replicas are what a PostgreSQL catalog is for.
pytestmark = pytest.mark.engines

QUICK = ("--replica-interval", "0.1")
EVERYTHING = "/api/search?q=&sort=date&limit=200"


@pytest.fixture
def event(tmp_path: Path) -> Path:
    """Three published photos in one session (Keller, Pini, both) and a withheld video."""
    return make_event(tmp_path / "event", consent="")


@pytest.fixture
def ingested(event: Path, cli: Cli, archive_dir: Path) -> Path:
    cli("ingest", str(event))
    return archive_dir


def catalog_revision(root: Path) -> int:
    with Archive.open(root, readonly=True) as archive:
        return archive.catalog.revision


def status(server: LiveServer) -> dict[str, Any]:
    code, _, body = server.get("/api/status")
    assert code == 200, body
    return json.loads(body)


def caught_up(server: LiveServer, revision: int) -> dict[str, Any]:
    """Wait until the node says its index holds `revision` (the catalog's, read after a
    change); its status then."""
    return poll_until(lambda: (s := status(server))["index_revision"] >= revision and s,
                      f"the node on port {server.port} to reach revision {revision}",
                      timeout=30, interval=0.05)


def search(server: LiveServer, path: str = EVERYTHING) -> dict[str, Any]:
    code, _, body = server.get(path)
    assert code == 200, body
    result = json.loads(body)
    for hit in result["results"]:
        del hit["score"]  # relevance weighs each replica's own segments; not compared
    return result


def ids(result: dict[str, Any]) -> set[str]:
    return {hit["id"] for hit in result["results"]}


def by_name(cli: Cli) -> dict[str, str]:
    return {Path(item["relpath"]).stem: item["id"] for item in cli.json("list")}


def edit(event: Path, old: str, new: str) -> None:
    toml = event / "event.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")


def partner(number: int) -> str:
    """The event's organisation after `number` edits."""
    return f"Partner {number}" if number else "ASEV"


# ---- many nodes ---------------------------------------------------------------------

@pytest.mark.slow
def test_two_nodes_with_separate_replicas_answer_alike_after_a_change(
        ingested: Path, event: Path, cli: Cli, tmp_path: Path,
        live_server: Callable[..., LiveServer]) -> None:
    first = live_server(ingested, "--replica", str(tmp_path / "node-a"), *QUICK)
    second = live_server(ingested, "--replica", str(tmp_path / "node-b"), *QUICK,
                         "--workers", "2")
    before = search(first)
    assert before == search(second) and before["total"] == 3
    # Through the command line: a photo added, another taken down in the event file.
    make_jpeg(event / "photos" / "zanzibar.jpg", xmp=make_xmp(title="Zanzibar harbour"),
              exif=make_exif(taken=dt.datetime(2019, 3, 19, 12, 40)))
    edit(event, "[[media]]", '[[media]]\npath = "photos/pini.jpg"\npublish = false\n\n'
         "[[media]]")
    cli("ingest", str(event))
    revision = catalog_revision(ingested)
    for node in (first, second):
        assert caught_up(node, revision)["behind"] == 0
    after = search(first)
    assert after == search(second)
    names = by_name(cli)
    assert ids(after) == {names["keller"], names["together"], names["zanzibar"]}
    # What the archive's own index, synced by the ingest, finds.
    assert ids(after) == ids(cli.json("search", "", "--limit", "200"))
    for node in (first, second):
        assert ids(search(node, "/api/search?q=zanzibar")) == {names["zanzibar"]}
        # Every photo of Pini's session; the one of him alone is withheld now.
        assert ids(search(node, "/api/search?q=pini")) == ids(after)
        assert node.get(f"/api/items/{names['zanzibar']}")[0] == 200
        assert node.get(f"/api/items/{names['pini']}")[0] == 404


@pytest.mark.slow
def test_a_node_never_serves_a_half_synced_replica(
        ingested: Path, event: Path, cli: Cli, tmp_path: Path,
        live_server: Callable[..., LiveServer]) -> None:
    """Each edit of the event file re-credits every item in one catalog transaction; two
    clients searching all along, from both workers of a node that syncs every 50 ms, see
    every answer whole (each item credited alike, old or new; totals and facets of one
    state) and never one older than the last."""
    node = live_server(ingested, "--replica", str(tmp_path / "replica"),
                       "--replica-interval", "0.05", "--workers", "2")
    partners = [partner(number) for number in range(5)]
    seen: list[int] = []
    problems: list[str] = []
    done = threading.Event()

    def client() -> None:
        last = 0
        while not done.is_set() and not problems:
            try:
                code, _, body = node.get(EVERYTHING)
            except OSError as exc:
                problems.append(repr(exc))
                return
            result = json.loads(body) if code == 200 else {"error": body[:300]}
            states = {hit["credit"]["organisation"] for hit in result.get("results", [])}
            kinds = sum(result.get("facets", {}).get("kind", {}).values())
            if len(states) != 1 or result["total"] != 3 or kinds != 3:
                problems.append(f"{code}: {states} {result.get('total')} {result}")
                continue
            number = partners.index(states.pop())
            if number < last:
                problems.append(f"partner {number} after partner {last}")
            last = number
            seen.append(number)

    clients = [threading.Thread(target=client) for _ in range(2)]
    for thread in clients:
        thread.start()
    try:
        poll_until(lambda: seen, "a first answer")
        for number in range(1, 5):
            edit(event, f'organisation = "{partner(number - 1)}"',
                 f'organisation = "{partner(number)}"')
            cli("ingest", str(event))
            caught_up(node, catalog_revision(ingested))
            poll_until(lambda n=number: problems or seen[-1] == n,
                       f"an answer crediting partner {number}", timeout=30)
            if problems:
                break
    finally:
        done.set()
        for thread in clients:
            thread.join()
    assert problems == [], problems[:3]
    assert seen[0] == 0 and seen[-1] == 4


# ---- start-up -----------------------------------------------------------------------

@pytest.mark.slow
def test_a_first_start_builds_the_replica_from_the_catalog_and_a_damaged_one_is_rebuilt(
        ingested: Path, tmp_path: Path, live_server: Callable[..., LiveServer]) -> None:
    # Without the archive's own index: a node with a replica needs none.
    for generation in ingested.glob("index*"):
        (generation.unlink if generation.is_symlink() else shutil.rmtree)(generation)
    folder = tmp_path / "replica"
    node = live_server(ingested, "--replica", str(folder), *QUICK)
    revision = catalog_revision(ingested)
    assert status(node) == {"catalog_revision": revision, "index_revision": revision,
                            "behind": 0, "replica": True}
    first = search(node)
    assert first["total"] == 3
    assert "building the search index" in node.output()
    assert not (ingested / "index").exists()
    node.stop()
    # Damaged while the node was down: rebuilt as it starts again.
    segment = next(current_dir(folder / "index").glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:-100])
    again = live_server(ingested, "--replica", str(folder), *QUICK)
    assert re.search(r"rebuilding the search index: .*not the size it was written with",
                     again.output())
    assert search(again) == first


def test_a_replica_folder_that_cannot_be_written_is_one_line(
        ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    # From the environment, as a service would set it.
    monkeypatch.setenv("EVENT_ARCHIVE_REPLICA", str(tmp_path / "a-file" / "replica"))
    # Refused before it listens (on no address: a test that failed would not hang).
    out = Cli(ingested)("serve", "--host", "256.0.0.0", code=1)
    assert re.fullmatch(r"error: .*a-file/replica: cannot write the replica of the search "
                        r"index there \(Not a directory\); .*\n", out)
    out = Cli(ingested)("serve", "--host", "256.0.0.0", "--replica", str(ingested), code=1)
    assert "needs a folder of its own, not the archive" in out


# ---- in process ---------------------------------------------------------------------

def test_a_sync_writes_a_new_generation_and_leaves_the_one_read_untouched(
        ingested: Path, event: Path, cli: Cli, tmp_path: Path) -> None:
    replica = Replica(tmp_path / "replica", ingested)
    replica.prepare()
    assert replica.catch_up(wait=True).rebuilt
    read = current_dir(replica.folder / "index")
    files = {f.name: f.read_bytes() for f in read.iterdir() if f.is_file()}
    edit(event, 'organisation = "ASEV"', 'organisation = "Partner 1"')
    cli("ingest", str(event))
    result = replica.catch_up()
    assert (result.updated, result.revision) == (4, catalog_revision(ingested))
    now = current_dir(replica.folder / "index")
    assert now != read
    assert {f.name: f.read_bytes() for f in read.iterdir() if f.is_file()} == files
    assert set(read_checksums(now)) - set(read_checksums(read))  # the commit's segment
    assert list(now.glob("facets-*.npz"))  # saved once, before any reader opens it
    assert replica.catch_up().updated == 0  # nothing new


def test_only_the_holder_of_the_replicas_lock_writes_it(
        ingested: Path, event: Path, cli: Cli, tmp_path: Path) -> None:
    """Of a node's processes, one syncs at a time; the others leave the replica alone."""
    replica = Replica(tmp_path / "replica", ingested)
    replica.prepare()
    replica.catch_up(wait=True)
    read = current_dir(replica.folder / "index")
    edit(event, 'organisation = "ASEV"', 'organisation = "Partner 1"')
    cli("ingest", str(event))
    with write_lock(replica.lock_path, wait=False):  # as another worker syncing
        assert replica.catch_up() is None
        assert current_dir(replica.folder / "index") == read
    assert replica.catch_up().revision == catalog_revision(ingested)


def test_the_status_of_a_site_on_the_archives_own_index(ingested: Path) -> None:
    client = create_app(ingested, {"TESTING": True}).test_client()
    revision = catalog_revision(ingested)
    assert client.get("/api/status").json == {
        "catalog_revision": revision, "index_revision": revision, "behind": 0,
        "replica": False}
