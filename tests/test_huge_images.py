"""Huge images: refused above the pixel limit, and memory bounded below it.

Measured on the real `event-archive ingest` in a subprocess: the largest resident set of
the ingest and its workers (RUSAGE_CHILDREN of a wrapper that waits for them all).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from archive import settings

from helpers.media import make_png16, make_tiff16

pytestmark = pytest.mark.slow

GB = 1024**3
_MEASURED = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr,
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def ingest_measured(archive: Path, folder: Path) -> tuple[dict, int]:
    """The ingest's --json output and the peak resident memory of any of its processes."""
    run = subprocess.run([sys.executable, "-c", _MEASURED, sys.executable, "-m", "archive",
                          "--archive", str(archive), "ingest", str(folder), "--jobs", "2",
                          "--json"], capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(run.stdout)
    assert result["code"] == 0, result["err"]
    return json.loads(result["out"]), result["peak"]


def test_pixel_limit_is_pillows_too() -> None:
    assert settings.value("max_pixels") == 100_000_000
    assert Image.MAX_IMAGE_PIXELS == settings.value("max_pixels")


def test_images_above_the_limit_are_refused_without_decoding(tmp_path: Path) -> None:
    folder = tmp_path / "event"
    make_png16(folder / "scan-1.png", 15_000, 15_000)
    make_png16(folder / "scan-2.png", 15_000, 15_000, alpha=False)
    make_png16(folder / "wide.png", 12_000, 9_000)  # 108 MP: just above
    out, peak = ingest_measured(tmp_path / "arch", folder)
    (summary,) = out["events"]
    assert (summary["added"], summary["failed"]) == (0, 3)
    messages = {Path(e["path"]).name: e["message"] for e in summary["errors"]}
    assert "225 MP" in messages["scan-1.png"] and "limit of 100 MP" in messages["scan-1.png"]
    assert "225 MP" in messages["scan-2.png"]
    assert "12000 × 9000 pixels (108 MP)" in messages["wide.png"]
    assert "limit of 100 MP" in messages["wide.png"]
    assert peak < GB / 2


def test_an_image_at_the_limit_is_ingested_within_a_gigabyte(tmp_path: Path) -> None:
    folder = tmp_path / "event"
    make_png16(folder / "scan.png", 10_000, 10_000)  # 16-bit RGBA: 400 MB decoded
    out, peak = ingest_measured(tmp_path / "arch", folder)
    (summary,) = out["events"]
    assert summary["added"] == 1, summary["errors"]
    assert peak < GB
    thumb = next((tmp_path / "arch" / "thumbs").rglob("*-1280.jpg"))
    with Image.open(thumb) as im:
        assert im.size == (1280, 1280)
        left, middle, right = (im.getpixel((x, 640)) for x in (2, 640, 1277))
    assert max(left) < 10 and min(right) > 245 and 110 < middle[0] < 145


def test_a_tiff_of_one_huge_strip_is_kept_without_thumbnails(tmp_path: Path) -> None:
    """Pillow's libtiff decoder fills a whole strip at 16 bits before making 8-bit pixels:
    for one strip of 100 MP that is 800 MB (RGBA) or 600 MB (RGB) besides the 400 MB of
    pixels. Such a file is not decoded; the same pixels in strips are."""
    folder = tmp_path / "event"
    make_tiff16(folder / "one-strip.tif", 9999, 9990)
    make_tiff16(folder / "one-strip-rgb.tif", 9999, 9990, alpha=False)
    make_tiff16(folder / "strips.tif", 9999, 9990, rows_per_strip=64)
    out, peak = ingest_measured(tmp_path / "arch", folder)
    (summary,) = out["events"]
    assert (summary["added"], summary["failed"]) == (3, 0)
    assert peak < GB
    problems = {Path(e["path"]).name: (e["stage"], e["level"], e["message"])
                for e in summary["errors"]}
    assert set(problems) == {"one-strip.tif", "one-strip-rgb.tif"}
    for stage, level, message in problems.values():
        assert (stage, level) == ("thumbnail", "warning")
        assert message.startswith("no thumbnail: decoding it would take about ")
        assert "one strip or tile of" in message and "smaller strips" in message
    thumb = next((tmp_path / "arch" / "thumbs").rglob("*-1280.jpg"))
    with Image.open(thumb) as im:
        assert im.width == 1280
        left, right = im.getpixel((2, 100)), im.getpixel((1277, 100))
    assert max(left) < 10 and min(right) > 245
