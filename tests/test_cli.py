from __future__ import annotations

import datetime as dt
from pathlib import Path

from media import make_exif, make_jpeg

from archive.cli import main

ITEM_KEYS = {"id", "event", "kind", "path", "relpath", "mime", "size", "width", "height",
             "orientation", "taken", "taken_source", "camera", "exposure", "gps", "duration",
             "video", "audio", "title", "description", "keywords", "sessions", "people",
             "credit", "thumbnails", "transcript", "duplicates"}


def test_list_and_show_print_the_item_shape(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(taken=dt.datetime(2019, 3, 19, 9, 0),
                                                  gps=(43.77, 11.25, None)))
    make_jpeg(event_dir / "b.jpg", exif=make_exif(make=None, model=None))
    summary = cli.json("ingest", "-j", "1", str(event_dir))
    assert summary["events"][0]["added"] == 2
    items = cli.json("list")
    assert [i["relpath"] for i in items] == ["a.jpg", "b.jpg"]
    for item in items:
        assert set(item) >= ITEM_KEYS
        assert item["kind"] == "photo"
        assert len(item["id"]) == 64
        assert item["duration"] is None and item["video"] is None
        assert item["sessions"] == [] and item["transcript"] == []
    a, b = items
    assert a["gps"] == {"lat": 43.77, "lon": 11.25, "alt": None}
    assert b["camera"] is None and b["gps"] is None
    assert set(a["credit"]) >= {"creator", "organisation", "project", "copyright", "license",
                                "line", "sources"}
    assert a["thumbnails"]["small"].startswith(f"thumbs/{a['id'][:2]}/")
    assert cli.json("show", a["id"][:10]) == a
    assert cli.json("show", str(event_dir / "b.jpg")) == b
    assert cli.json("show", "b.jpg") == b
    assert "no item" in cli("show", "ffffffffff", code=1)


def test_text_output_and_report(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    (event_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff\x00")
    out = cli("ingest", "-j", "1", str(event_dir))
    assert "1 added" in out and "1 failed" in out
    assert "a.jpg" in cli("list")
    report = cli("report")
    assert "Errors (1):" in report and "broken.jpg" in report
    data = cli.json("report")
    assert [e["stage"] for e in data["errors"]] == ["decode"]
    assert data["without_creator"][0]["path"].endswith("a.jpg")


def test_user_errors_are_one_line_and_exit_1(cli, tmp_path: Path, event_dir: Path) -> None:
    (event_dir / "event.toml").write_text('[event]\nid = "x"\ntitle = "X"\nbogus = 1\n')
    result = cli.runner.invoke(main,
                               ["--archive", str(cli.archive_dir), "ingest", str(event_dir)])
    assert result.exit_code == 1
    assert "event.toml: event.bogus: unknown key" in result.output
    assert "Traceback" not in result.output
    missing = cli.runner.invoke(main,
                                ["--archive", str(tmp_path / "none"), "list"])
    assert missing.exit_code != 0
