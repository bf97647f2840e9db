"""The site under load while an ingest and a reindex write the archive, and many threads
of one worker searching at once: zero errors."""

from __future__ import annotations

import http.client
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from archive.store import Archive

from helpers.media import make_exif, make_jpeg
from helpers.processes import EVENT_ARCHIVE, poll_until, serving

# Slow: real servers hammered while ingests and reindexes write.
pytestmark = pytest.mark.slow


def hammer(port: int, urls: list[str], stop: threading.Event, statuses: list,
           seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        url = rng.choice(urls)
        try:
            conn.request("GET", url)
            response = conn.getresponse()
            response.read()
            statuses.append((response.status, url))
        except (OSError, http.client.HTTPException) as exc:
            statuses.append((type(exc).__name__, url))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def test_pages_stay_up_while_ingest_and_reindex_write(tmp_path: Path, sample: Path,
                                                      sample_archive: Path,
                                                      live_server) -> None:
    root = shutil.copytree(sample_archive, tmp_path / "archive", symlinks=True)
    with Archive.open(root) as archive:
        items = [r["id"] for r in archive.catalog.query("SELECT id FROM items")]
    second = tmp_path / "second"
    shutil.copytree(sample, second)
    (second / "event.toml").write_text((second / "event.toml").read_text(
        encoding="utf-8").replace('id = "florence-2019"', 'id = "florence-2019-bis"'),
        encoding="utf-8")
    for n in range(40):
        make_jpeg(second / "extra" / f"x{n}.jpg", size=(300 + n, 200), exif=make_exif())
    server = live_server(root)
    urls = ["/?q=keller", "/?q=session:s2", "/api/search?q=kind:photo", "/credits?q=s3a",
            "/events/florence-2019"] + [f"/items/{i}" for i in items[:10]] + [
            f"/media/{i}/small" for i in items[:10]]
    stop, statuses = threading.Event(), []
    clients = [threading.Thread(target=hammer, args=(server.port, urls, stop, statuses, n))
               for n in range(8)]
    for client in clients:
        client.start()
    try:
        poll_until(lambda: len(statuses) >= 50, "the site to answer 50 requests")
        for command in (["ingest", "-j", "1", str(second)], ["reindex"],
                        ["ingest", "-j", "1", str(sample), "--prune"]):
            done = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root),
                                   *command], capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        written = len(statuses)
        poll_until(lambda: len(statuses) >= written + 50,
                   "the site to answer 50 requests after the last write")
        status, _, body = server.get("/api/search?q=event:florence-2019-bis")
        # The copied sample files are the first event's items; the 40 new photos are new.
        assert status == 200 and b'"total":40' in body.replace(b" ", b"")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    assert not any(client.is_alive() for client in clients)
    bad = [s for s in statuses if s[0] != 200]
    assert bad == [], bad[:10]


def fast_switching(folder: Path) -> Path:
    """`event-archive` whose interpreter switches threads every microsecond (the default
    is 5 ms): races between a worker's threads show within seconds on a small archive,
    as they do under load on a 100,000-item one."""
    script = folder / "event-archive-fast-switching"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.setswitchinterval(1e-6)\n"
                      "from archive.cli import run\nrun()\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_threads_of_one_worker_search_at_once(tmp_path: Path, sample_archive: Path) -> None:
    """One worker's threads share its index: concurrent searches, before and across a
    reindex, all answer 200 and log no traceback (`serving` checks the log)."""
    root = shutil.copytree(sample_archive, tmp_path / "archive", symlinks=True)
    urls = ["/?q=keller", "/?q=session:s2%20kind:photo", "/?q=person:keller%20camera:canon",
            "/?q=advanced%20materials", "/?q=materi*", "/api/search?q=kind:photo"]
    stop, statuses = threading.Event(), []
    with serving(root, tmp_path / "serve.log", "--workers", "1", "--threads", "8",
                 "--cache-size", "0", executable=fast_switching(tmp_path)) as server:
        clients = [threading.Thread(target=hammer, args=(server.port, urls, stop, statuses,
                                                         n)) for n in range(8)]
        for client in clients:
            client.start()
        try:
            poll_until(lambda: len(statuses) >= 300, "the site to answer 300 searches")
            done = subprocess.run([str(EVENT_ARCHIVE), "--archive", str(root), "reindex"],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            written = len(statuses)
            poll_until(lambda: len(statuses) >= written + 300,
                       "the site to answer 300 searches after the reindex")
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=60)
    assert [s for s in statuses if s[0] != 200] == []


def test_a_killed_worker_is_replaced_and_a_killed_server_takes_its_workers(
        tmp_path: Path, sample_archive: Path) -> None:
    root = shutil.copytree(sample_archive, tmp_path / "archive", symlinks=True)
    with serving(root, tmp_path / "serve.log", "--workers", "2") as server:
        parent = psutil.Process(server.proc.pid)
        poll_until(lambda: len(parent.children()) == 2, "two workers")
        first = parent.children()[0]
        first.kill()
        first.wait(timeout=60)
        poll_until(lambda: len(parent.children()) == 2 and first not in parent.children(),
                   "a new worker in the killed one's place")
        assert server.get("/?q=keller")[0] == 200
        workers = parent.children()
        parent.kill()  # SIGKILL: no chance to stop them itself
        gone, alive = psutil.wait_procs(workers, timeout=60)
        assert not alive, "workers outlived the server"
        assert "starting another" in server.output()
