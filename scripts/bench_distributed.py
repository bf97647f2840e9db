"""Beyond one machine, measured (`scripts/bench distributed`): each figure against a
reference run in the same invocation, on servers this script starts itself (a
PostgreSQL cluster made by initdb and a Redis server, on free loopback ports).

- Queue overhead: ingest files/s through Celery with 2 local workers against the local
  process pool with --jobs 2, on the same files. Target: at least 0.85.
- Write throughput: items/s the single committer commits (commit_all: the items, their
  files, thumbnails, resolution, tags and credits, in batch transactions) into a
  PostgreSQL catalog against an SQLite one, from the same examined files.
- Replica lag: how long a web node's replica (`serve --replica`) takes to catch up after
  an ingest of 1,000 items into a PostgreSQL catalog.
- Web nodes: requests/s of one node serving 10,000 synthetic items (search, item and
  thumbnail pages; each request reads the catalog) on PostgreSQL against SQLite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_ingest import CLI, make_photos  # noqa: E402
from bench_replica import make_event, replica_lag  # noqa: E402
from bench_web import Load, build, free_port, serve  # noqa: E402

from archive import settings  # noqa: E402
from archive.ingest.commit import commit_all  # noqa: E402
from archive.ingest.examine import examine, prepare_worker  # noqa: E402
from archive.ingest.plan import plan  # noqa: E402
from archive.ingest.pool import run_tasks  # noqa: E402
from archive.ingest.scan import scan  # noqa: E402
from archive.ingest.summary import IngestSummary  # noqa: E402
from archive.resolve.eventfile import load_event  # noqa: E402
from archive.store import Archive  # noqa: E402

from helpers.services import PostgresServer, RedisServer, temporary_folder  # noqa: E402
from helpers.workers import running_workers  # noqa: E402


@contextmanager
def servers() -> Iterator[tuple[PostgresServer, RedisServer]]:
    folder = temporary_folder("bench-distributed-")
    pg = PostgresServer(folder / "pg").start()
    redis = RedisServer(folder / "redis").start()
    try:
        yield pg, redis
    finally:
        redis.stop()
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


# ---- write throughput ------------------------------------------------------------

def examined(folder: Path, scratch: Path) -> tuple[object, object, list[object]]:
    """The event, its plan and every file's outcome, examined once (2 processes)."""
    event = load_event(folder)
    with Archive.open(scratch) as archive:
        work = plan(archive.catalog, event, scan(event.folder), archive.root)
    outcomes = [o for _task, o in run_tasks(examine, work.tasks, 2, 120.0, prepare_worker)]
    return event, work, outcomes


def commit_rate(root: Path, catalog: str | None, event: object, work: object,
                outcomes: list[object]) -> float:
    """Items per second the committer writes into a fresh archive."""
    with Archive.open(root, catalog=catalog) as archive:
        started = time.perf_counter()
        commit_all(archive.catalog, event, iter(outcomes), work.present,  # type: ignore
                   IngestSummary(event.id), set(), settings.value("batch_size"))  # type: ignore
        seconds = time.perf_counter() - started
    return len(outcomes) / seconds


def write_throughput(pg: PostgresServer, work_dir: Path, count: int, rounds: int) -> float:
    folder = make_event(work_dir / "writes", "writes", count)
    event, work, outcomes = examined(folder, work_dir / "scratch")
    sqlite, postgres = [], []
    for n in range(rounds):
        sqlite.append(commit_rate(work_dir / f"w-sqlite-{n}", None, event, work, outcomes))
        postgres.append(commit_rate(work_dir / f"w-pg-{n}",
                                    pg.create_database(f"writes_{n}"), event, work, outcomes))
    s, p = statistics.median(sqlite), statistics.median(postgres)
    print(f"write throughput ({count:,} items, batches of {settings.value('batch_size')}, "
          f"median of {rounds}): PostgreSQL {p:,.0f} items/s, SQLite {s:,.0f} items/s: "
          f"ratio {p / s:.2f}")
    return p / s


# ---- queue overhead --------------------------------------------------------------

def ingest_seconds(root: Path, folder: Path, *options: str) -> float:
    started = time.perf_counter()
    subprocess.run([*CLI, "--archive", str(root), "-q", "ingest", "--no-faces", *options,
                    str(folder)], check=True)
    return time.perf_counter() - started


# Camera photos: 12 MP JPEGs with EXIF, XMP and IPTC, as bench_ingest makes them.
CAMERA = (4000, 3000)


def queue_overhead(redis: RedisServer, work_dir: Path, count: int, rounds: int) -> float:
    folder = work_dir / "queue" / "photos"
    make_photos(folder, count, CAMERA)
    local, queued = [], []
    with running_workers(redis.url, work_dir, 2):  # one process each, as --jobs 2 has
        for n in range(rounds):  # alternated, so a slower moment of the machine hits both
            local.append(count / ingest_seconds(work_dir / f"q-local-{n}", folder,
                                                "--jobs", "2"))
            queued.append(count / ingest_seconds(work_dir / f"q-celery-{n}", folder,
                                                 "--broker", redis.url))
    lo, qu = statistics.median(local), statistics.median(queued)
    print(f"queue overhead ({count:,} 12 MP photos, median of {rounds}): Celery with 2 workers "
          f"{qu:,.1f} files/s, local pool --jobs 2 {lo:,.1f} files/s: ratio {qu / lo:.2f} "
          f"(target >= 0.85)")
    return qu / lo


# ---- web nodes -------------------------------------------------------------------

def requests_per_second(root: Path, seconds: float, texts: list[str], ids: list[str],
                        log: Path) -> tuple[float, int]:
    """Requests/s of one node (2 workers, 8 clients over search, item and thumbnail
    pages) and its errors."""
    port = free_port()
    proc = serve(root, port, 256, log, ["--workers", "2"])
    try:
        load = Load(port, texts, ids, seconds)
        elapsed = load.run(8)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    done = sum(len(v) for v in load.latency.values())
    return done / elapsed, len(load.errors)


def web_throughput(pg: PostgresServer, work_dir: Path, count: int, seconds: float) -> float:
    rates = {}
    for engine, catalog in (("SQLite", None), ("PostgreSQL", pg.create_database("web"))):
        folder = work_dir / f"web-{engine}"
        texts, ids = build(folder, count, catalog)
        rate, errors = requests_per_second(folder / "archive", seconds, texts, ids,
                                           work_dir / f"serve-{engine}.log")
        if errors:
            raise SystemExit(f"{errors} failed requests on {engine}'s node")
        rates[engine] = rate
    ratio = rates["PostgreSQL"] / rates["SQLite"]
    print(f"web node ({count:,} synthetic items, 2 workers, 8 clients, {seconds:g} s): "
          f"PostgreSQL catalog {rates['PostgreSQL']:,.0f} requests/s, SQLite "
          f"{rates['SQLite']:,.0f} requests/s: ratio {ratio:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=120, help="photos per queue round")
    parser.add_argument("--writes", type=int, default=1000, help="items committed")
    parser.add_argument("--lag-items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web-items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="of web load")
    parser.add_argument("--only", choices=("queue", "writes", "lag", "web"), action="append")
    args = parser.parse_args()
    only = set(args.only or ("queue", "writes", "lag", "web"))
    with servers() as (pg, redis), tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work_dir = Path(tmp)
        if "queue" in only:
            queue_overhead(redis, work_dir, args.files, args.rounds)
        if "writes" in only:
            write_throughput(pg, work_dir, args.writes, args.rounds)
        if "lag" in only:
            replica_lag(args.lag_items, bulk=False, work=work_dir,
                        catalog=pg.create_database("lag"))
        if "web" in only:
            web_throughput(pg, work_dir, args.web_items, args.seconds)


if __name__ == "__main__":
    main()
