"""Web speed: the site under waitress with 8 concurrent clients, against in-process search.

Builds (once, cached in bench-out/) an archive of N synthetic items (default
100,000) with its index, serves it with `event-archive serve` (waitress), and
runs 8 client threads on loopback for 30 s over the search, item and
thumbnail routes. Prints requests/s, errors (target 0), and the search page
p95 against the p95 of the same queries run in process, bare (target <= 2x).
"""

from __future__ import annotations

import argparse
import http.client
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from bench_search import query_mix  # noqa: E402
from PIL import Image  # noqa: E402
from synthetic import generate, write_catalog  # noqa: E402

from archive import settings  # noqa: E402
from archive.store import Archive  # noqa: E402
from indexer.search import Page, SearchIndex  # noqa: E402
from indexer.sync import rebuild, sync  # noqa: E402

PER_PAGE = settings.value("per_page")  # as the site pages its results


def build(folder: Path, count: int, catalog: str | None = None
          ) -> tuple[list[str], list[str]]:
    """The archive (built once; `catalog`: on that PostgreSQL database) and the query
    texts and item ids to request."""
    events, items = generate(count)
    root = folder / "archive"
    done = folder / "complete"
    if not done.exists():
        thumbs = []
        (root / "thumbs" / "bench").mkdir(parents=True, exist_ok=True)
        for k in range(16):
            pair = []
            for size in (320, 1280):
                rel = f"thumbs/bench/t{k}-{size}.jpg"
                Image.new("RGB", (size, size * 2 // 3), (20 * k, 90, 160)).save(root / rel)
                pair.append(rel)
            thumbs.append(tuple(pair))
        with Archive.open(root, catalog=catalog) as archive:
            write_catalog(archive, events, items, thumbs)
            rebuild(archive)
        done.touch()
    with Archive.open(root) as archive:
        # An archive built by older code: its catalog migrated, its index brought to the
        # present schema (the site answers 503 rather than rebuild it itself).
        sync(archive)
    texts = [spec.text() for spec in query_mix(events, 200)]
    ids = [item["id"] for item in random.Random(5).sample(items, 2000)]
    return texts, ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, port: int, cache: int, log: Path,
          extra: list[str]) -> subprocess.Popen:
    """`event-archive serve`, its output in `log`: a pipe nobody reads would hide the
    tracebacks behind 500s, and stall the server once the pipe is full."""
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "event-archive"), "--archive",
                                 str(root), "serve", "--port", str(port), "--cache-size",
                                 str(cache), *extra],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


class Load:
    """Closed-loop clients: each sends its next request when the last one is answered."""

    def __init__(self, port: int, texts: list[str], ids: list[str], seconds: float) -> None:
        self.port, self.texts, self.ids, self.seconds = port, texts, ids, seconds
        self.latency: dict[str, list[float]] = {"search": [], "item": [], "thumb": []}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def url(self, rng: random.Random) -> tuple[str, str]:
        roll = rng.random()
        if roll < 0.5:
            return "search", f"/?q={quote(rng.choice(self.texts))}"
        if roll < 0.8:
            return "item", f"/items/{rng.choice(self.ids)}"
        return "thumb", f"/media/{rng.choice(self.ids)}/small"

    def client(self, seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while time.monotonic() < deadline:
            route, url = self.url(rng)
            started = time.perf_counter()
            try:
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = f"{type(exc).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                if status != 200:
                    self.errors.append(f"{status} {url}")
                else:
                    self.latency[route].append(elapsed)
        conn.close()

    def run(self, clients: int = 8) -> float:
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.client, args=(n, deadline))
                   for n in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def first_traceback(log: Path) -> str | None:
    """The first traceback the server logged, from its header to the exception line."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("Traceback")), None)
    if start is None:
        return None
    end = next((n for n in range(start + 1, len(lines))
                if lines[n] and not lines[n].startswith(" ")), len(lines) - 1)
    return "\n".join(lines[start:end + 1])


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--serve", default="", help="more options for `serve`, as one string")
    args = parser.parse_args()
    folder = ROOT / "bench-out" / f"web-{args.items}"
    texts, ids = build(folder, args.items)
    root = folder / "archive"
    with Archive.open(root, readonly=True) as archive:
        index = SearchIndex(archive, rebuild_missing=False, persist=False)
        for text in texts[:10]:
            index.search(text, Page(1, PER_PAGE))
        bare = []
        for text in texts:
            started = time.perf_counter()
            index.search(text, Page(1, PER_PAGE))
            bare.append((time.perf_counter() - started) * 1000)
        index.close()
    for cache in (0, 256):
        port, log = free_port(), folder / f"serve-cache-{cache}.log"
        server = serve(root, port, cache, log, args.serve.split())
        try:
            load = Load(port, texts, ids, args.seconds)
            elapsed = load.run(args.clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(args, load, elapsed, bare, cache)
        traceback = first_traceback(log)
        if load.errors or traceback:
            print(f"  server log: {log}")
            print("  first traceback:\n" + "\n".join(
                "    " + line for line in (traceback or "(none)").splitlines()))


def report(args: argparse.Namespace, load: Load, elapsed: float, bare: list[float],
           cache: int) -> None:
    total = sum(len(v) for v in load.latency.values()) + len(load.errors)
    what = f"result cache of {cache}, shared by the workers" if cache else "no result cache"
    print(f"web, {args.items:,} items, waitress ({what}), {args.clients} clients for "
          f"{args.seconds:g} s: {total / elapsed:.1f} requests/s")
    for route, samples in load.latency.items():
        if samples:
            print(f"  {route:6} {len(samples):6} answered, p50 {statistics.median(samples):.1f}"
                  f" ms, p95 {p95(samples):.1f} ms")
    print(f"  errors: {len(load.errors)} (target 0: {'met' if not load.errors else 'MISSED'})"
          + (f", e.g. {load.errors[:3]}" if load.errors else ""))
    ratio = p95(load.latency["search"]) / p95(bare)
    print(f"  search page p95 {p95(load.latency['search']):.1f} ms vs in-process search p95 "
          f"{p95(bare):.1f} ms: ratio {ratio:.2f} (target <= 2.00: "
          f"{'met' if ratio <= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
