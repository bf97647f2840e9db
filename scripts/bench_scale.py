"""Scale: ingest, sync and search at 1x, 10x and 100x the sample event.

Each scale is that many copies of the sample event (each its own event id, every
photo made unique by a JPEG comment, the video by trailing bytes), ingested with
--jobs 2 into a fresh archive (catalog, thumbnails and index sync). Prints how
ingest time, index size, catalog size and search p95 grow against 1x, in the
same run: ingest should grow about linearly, search p95 sub-linearly.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from archive import settings  # noqa: E402
from archive.store import Archive  # noqa: E402
from indexer.search import Page, SearchIndex  # noqa: E402

QUERIES = ["keller", "Peter Keller", "session:s2", '"advanced materials"', "person:bramanti",
           "kind:video", "taken:2019-03-19", "credit:guckian", "camera:nikon session:s3b",
           "room:donatello", "innoprovement", "martinez OR pini", "-kind:photo",
           "taken:2019-03-19T14:00..2019-03-19T16:00 kind:photo", "bramantti"]


def copies(sample: Path, target: Path, count: int) -> list[Path]:
    folders = []
    for n in range(count):
        folder = target / f"event-{n:03d}"
        shutil.copytree(sample, folder)
        toml = folder / "event.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            'id = "florence-2019"', f'id = "florence-2019-{n:03d}"'), encoding="utf-8")
        for photo in folder.rglob("*.jpg"):
            data = photo.read_bytes()
            tag = f"copy {n} {photo.name}".encode()
            photo.write_bytes(data[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big")
                              + tag + data[2:])
        for video in folder.rglob("*.mp4"):
            with video.open("ab") as fh:
                fh.write(f"copy {n}".encode())
        folders.append(folder)
    return folders


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(sample: Path, scale: int, work: Path) -> dict[str, float]:
    events = copies(sample, work / f"events-{scale}", scale)
    root = work / f"archive-{scale}"
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "event-archive"), "--archive", str(root),
                    "-q", "ingest", "--jobs", "2", *map(str, events)], check=True)
    ingest = time.perf_counter() - started
    with Archive.open(root, readonly=True) as archive:
        items = archive.catalog.query("SELECT COUNT(*) FROM items")[0][0]
        index = SearchIndex(archive, rebuild_missing=False, persist=False)
        for text in QUERIES:
            index.search(text, Page(1, settings.value("per_page")))
        times = []
        for _ in range(3):
            for text in QUERIES:
                t0 = time.perf_counter()
                index.search(text, Page(1, settings.value("per_page")))
                times.append((time.perf_counter() - t0) * 1000)
        index.close()
    times.sort()
    return {"items": items, "ingest": ingest,
            "index_mb_real": size_of((root / "index").resolve()) / 2**20,
            "catalog_mb": (root / "catalog.sqlite3").stat().st_size / 2**20,
            "p95": times[int(len(times) * 0.95)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,10,100")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        sample = work / "sample"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_event.py"),
                        str(sample)], check=True, capture_output=True)
        results = {scale: measure(sample, scale, work) for scale in scales}
    base = results[scales[0]]
    print("scale  items  ingest s  per item ms  index MB  catalog MB  search p95 ms")
    for scale, r in results.items():
        print(f"{scale:5} {r['items']:6} {r['ingest']:9.1f} {r['ingest'] / r['items'] * 1000:12.1f}"
              f" {r['index_mb_real']:9.1f} {r['catalog_mb']:11.1f} {r['p95']:14.1f}")
    for scale, r in results.items():
        if scale == scales[0]:
            continue
        growth = r["items"] / base["items"]
        ingest_growth = r["ingest"] / base["ingest"]
        search_growth = r["p95"] / base["p95"]
        print(f"x{growth:.0f} items: ingest x{ingest_growth:.1f} "
              f"({'about linear' if ingest_growth <= growth * 1.3 else 'SUPER-LINEAR'}), "
              f"index x{r['index_mb_real'] / base['index_mb_real']:.1f}, "
              f"catalog x{r['catalog_mb'] / base['catalog_mb']:.1f}, search p95 "
              f"x{search_growth:.1f} ({'sub-linear' if search_growth < growth else 'NOT'})")


if __name__ == "__main__":
    main()
