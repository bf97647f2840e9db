"""Replica lag: how long a web node's own index replica (`serve --replica`) takes to catch
up with the catalog after an ingest of N items (default 1,000).

An archive holding a small seed event is served by one node keeping a replica (two
worker processes, the sync interval of the settings table unless told); N distinct
small photos of a second event are then ingested through the command line (--jobs 2,
--no-faces) while the node runs. The lag is the time from the ingest's last catalog
commit (a watcher reads the catalog's revision every 10 ms) to the node's
/api/status reporting that revision. The node syncs along during the ingest, so what
is left at the end is the last batches; `--bulk` also writes N synthetic items
(scripts/synthetic.py) in one transaction, which the replica takes in one sync.

`replica_lag()` is the measurement, for `scripts/bench distributed` to call.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from bench_ingest import CLI, photo_like, unique_copy  # noqa: E402
from bench_web import free_port, serve  # noqa: E402
from synthetic import generate, write_catalog  # noqa: E402

from archive import settings  # noqa: E402
from archive.errors import ArchiveError  # noqa: E402
from archive.store import Archive  # noqa: E402

EVENT = """[event]
id = "{id}"
title = "Replica lag {id}"
date = 2019-03-19
timezone = "Europe/Rome"

[credit]
creator = "Bench Photographer"
"""


def make_event(folder: Path, event_id: str, count: int) -> Path:
    """An event folder of `count` distinct 640 x 480 JPEGs (one picture, each copy made
    unique by a JPEG comment: ingest reads them as it would any photo)."""
    folder.mkdir(parents=True)
    (folder / "event.toml").write_text(EVENT.format(id=event_id), encoding="utf-8")
    base = folder / "base.jpg"
    photo_like((640, 480), 3).save(base, "JPEG", quality=85)
    data = base.read_bytes()
    base.unlink()
    for n in range(count):
        unique_copy(data, folder / f"P{n:05d}.jpg", f"{event_id} {n}")
    return folder


def catalog_revision(root: Path) -> int:
    with Archive.open(root, create=False, readonly=True) as archive:
        return archive.catalog.revision


class RevisionWatch:
    """When each revision `read()` gives was first seen, read every 10 ms from a thread."""

    def __init__(self, read: Callable[[], int]) -> None:
        self.read, self.seen, self._done = read, {}, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set():
            try:
                self.seen.setdefault(self.read(), time.perf_counter())
            except (OSError, http.client.HTTPException, ArchiveError):
                pass  # a moment the catalog or the node could not be read: look again
            time.sleep(0.01)

    def first(self, revision: int, timeout: float = 300.0) -> float:
        """When a revision at least `revision` was first seen (waiting for it)."""
        deadline = time.monotonic() + timeout
        while not (times := [t for r, t in list(self.seen.items()) if r >= revision]):
            if time.monotonic() > deadline:
                raise SystemExit(f"revision {revision} not seen in {timeout:g} s")
            time.sleep(0.01)
        return min(times)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def node_revision(port: int) -> int:
    """The revision the node's index holds, as its /api/status says."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/api/status")
        return json.loads(conn.getresponse().read())["index_revision"]
    finally:
        conn.close()


@contextmanager
def node(root: Path, replica: Path, interval: float, log: Path) -> Iterator[int]:
    """`event-archive serve --replica` on a free port, until the block ends; its port."""
    port = free_port()
    proc = serve(root, port, 256, log, ["--replica", str(replica), "--replica-interval",
                                        str(interval), "--workers", "2"])
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ingest(root: Path, folder: Path, catalog: str | None = None) -> float:
    """Seconds to ingest `folder` (into a new archive whose catalog is `catalog`)."""
    started = time.perf_counter()
    where = ["--catalog", catalog] if catalog else []
    subprocess.run([*CLI, "--archive", str(root), *where, "-q", "ingest", "--no-faces",
                    "--jobs", "2", str(folder)], check=True)
    return time.perf_counter() - started


def ingest_lag(root: Path, port: int, folder: Path) -> dict[str, float]:
    """Ingest `folder` while the node runs: the ingest's time, and the node's lag behind
    its last commit (and behind the ingest's exit, after it synced the archive's index:
    negative when the node was first)."""
    catalog = RevisionWatch(lambda: catalog_revision(root))
    served = RevisionWatch(lambda: node_revision(port))
    seconds = ingest(root, folder)
    ended = time.perf_counter()
    revision = catalog_revision(root)
    reached, committed = served.first(revision), catalog.first(revision)
    catalog.stop()
    served.stop()
    return {"ingest": seconds, "lag": reached - committed, "after_exit": reached - ended}


def bulk_lag(root: Path, port: int, count: int) -> float:
    """`count` synthetic items written in one transaction: seconds until the node has them."""
    events, items = generate(count, seed=23)
    served = RevisionWatch(lambda: node_revision(port))
    with Archive.open(root) as archive, archive.write_lock():
        write_catalog(archive, events, items, [("thumbs/none-320.jpg",
                                                "thumbs/none-1280.jpg")])
        revision = archive.catalog.revision
    committed = time.perf_counter()
    reached = served.first(revision)
    served.stop()
    return reached - committed


def replica_lag(count: int = 1000, interval: float = settings.value("replica_interval"),
                bulk: bool = False, work: Path | None = None,
                catalog: str | None = None) -> dict[str, float]:
    """Measure (and print) how long a serving node's replica takes to catch up after an
    ingest of `count` items; with `bulk`, after `count` items committed at once too.
    `catalog`: a PostgreSQL catalog's address (else the archive's SQLite file)."""
    with tempfile.TemporaryDirectory(prefix="bench-replica-", dir=work) as tmp:
        folder = Path(tmp)
        root = folder / "archive"
        ingest(root, make_event(folder / "seed", "seed", 10), catalog)
        event = make_event(folder / "lag", "lag", count)
        with node(root, folder / "replica", interval, folder / "serve.log") as port:
            figures = ingest_lag(root, port, event)
            if bulk:
                figures["bulk"] = bulk_lag(root, port, count)
    gap = figures["after_exit"]
    engine = "PostgreSQL" if catalog else "SQLite"
    print(f"replica lag ({engine} catalog) after an ingest of {count:,} photos "
          f"({figures['ingest']:.1f} s, --jobs 2), sync interval {interval:g} s: "
          f"{figures['lag']:.2f} s after its last commit ({abs(gap):.2f} s "
          f"{'after' if gap >= 0 else 'before'} the ingest command ended)")
    if bulk:
        print(f"replica lag after {count:,} items committed in one transaction: "
              f"{figures['bulk']:.2f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=settings.value("replica_interval"),
                        help="the node's --replica-interval")
    parser.add_argument("--bulk", action="store_true",
                        help="also time items committed in one transaction")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    lags = [replica_lag(args.items, args.interval, args.bulk)["lag"]
            for _ in range(args.rounds)]
    if args.rounds > 1:
        print(f"median replica lag of {args.rounds} rounds: {statistics.median(lags):.2f} s "
              f"(from {min(lags):.2f} to {max(lags):.2f} s)")


if __name__ == "__main__":
    main()
