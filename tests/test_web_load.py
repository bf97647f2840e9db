"""The site under load while an ingest and a reindex write the archive: zero errors."""

from __future__ import annotations

import http.client
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import waitress
from media import make_exif, make_jpeg

from archive.ingest import ingest_folder
from archive.store import Archive
from indexer.sync import sync
from web import create_app


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


def test_pages_stay_up_while_ingest_and_reindex_write(tmp_path: Path, sample: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root) as archive:
        ingest_folder(archive, sample, jobs=1, progress=False)
        sync(archive)
        items = [r["id"] for r in archive.catalog.query("SELECT id FROM items")]
    second = tmp_path / "second"
    shutil.copytree(sample, second)
    (second / "event.toml").write_text((second / "event.toml").read_text(
        encoding="utf-8").replace('id = "florence-2019"', 'id = "florence-2019-bis"'),
        encoding="utf-8")
    for n in range(40):
        make_jpeg(second / "extra" / f"x{n}.jpg", size=(300 + n, 200), exif=make_exif())
    server = waitress.create_server(create_app(root), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    urls = ["/?q=keller", "/?q=session:s2", "/api/search?q=kind:photo", "/credits?q=s3a",
            "/events/florence-2019"] + [f"/items/{i}" for i in items[:10]] + [
            f"/media/{i}/small" for i in items[:10]]
    stop, statuses = threading.Event(), []
    clients = [threading.Thread(target=hammer, args=(server.effective_port, urls, stop,
                                                     statuses, n)) for n in range(8)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)
        for command in (["ingest", "-j", "1", str(second)], ["reindex"],
                        ["ingest", "-j", "1", str(sample), "--prune"]):
            done = subprocess.run([sys.executable, "-m", "archive", "--archive", str(root),
                                   *command], capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        conn.request("GET", "/api/search?q=event:florence-2019-bis")
        # The copied sample files are the first event's items; the 40 new photos are new.
        assert b'"total":40' in conn.getresponse().read().replace(b" ", b"")
        conn.close()
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
        server.close()
    assert len(statuses) > 100
    bad = [s for s in statuses if s[0] != 200]
    assert bad == [], bad[:10]
