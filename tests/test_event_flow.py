"""The sample-like event end to end: resolution stored, exports, re-resolution."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers.media import make_exif, make_jpeg, make_video, make_xmp

# Slow: every test makes an event with a video and ingests it, some several times.
# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.engines]

EVENT_TOML = """
[event]
id = "florence-2019"
title = "Florence"
date = 2019-03-19
timezone = "Europe/Rome"

[credit]
organisation = "ASEV"
license = "CC-BY-4.0"

[[credit.rules]]
match = "video/**"
creator = "Barry Guckian"
organisation = "Northern and Western Regional Assembly"
project = "TRINNO"

[[people]]
id = "peter-keller"
name = "Péter Keller"
aliases = ["Peter Keller"]

# The event's photographers: their photos take [credit]'s organisation and licence.
[[people]]
id = "anna-rossi"
name = "Anna Rossi"

[[people]]
id = "luca-bianchi"
name = "Luca Bianchi"

[[sessions]]
id = "s2"
title = "Interreg Europe"
start = 11:15
end = 13:00
speakers = ["peter-keller"]

[[sessions]]
id = "s3a"
title = "Workshop A"
start = 14:30
end = 17:00
room = "Sala A"

[[sessions]]
id = "s3b"
title = "Workshop B"
start = 14:30
end = 17:00
room = "Sala B"

[[cameras]]
model = "Canon EOS 80D"
clock_offset = "-00:03:20"
room = "ROOM"
"""


@pytest.fixture
def florence(event_dir: Path) -> Path:
    (event_dir / "event.toml").write_text(EVENT_TOML.replace("ROOM", "Sala A"),
                                          encoding="utf-8")
    day = dt.datetime(2019, 3, 19)
    make_jpeg(event_dir / "photos" / "keller.jpg", exif=make_exif(
        taken=day.replace(hour=11, minute=12)), xmp=make_xmp(persons=["Peter Keller"],
                                                             creator=["Anna <Rossi>"]))
    make_jpeg(event_dir / "photos" / "afternoon.jpg",
              exif=make_exif(taken=day.replace(hour=15), artist="Luca Bianchi"))
    make_jpeg(event_dir / "photos" / "nocredit.jpg", exif=make_exif(model="Other"))
    make_video(event_dir / "video" / "summary.mp4", seconds=1)
    (event_dir / "video" / "summary.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:01.000\nPeter Keller presented.\n", encoding="utf-8")
    return event_dir


def by_file(items: list[dict]) -> dict[str, dict]:
    return {i["relpath"]: i for i in items}


def test_resolution_is_stored_and_shown(cli, florence: Path) -> None:
    cli("ingest", "-j", "2", str(florence))
    items = by_file(cli.json("list"))
    keller = items["photos/keller.jpg"]
    assert keller["sessions"] == [{"id": "s2", "source": "time"}]
    assert keller["people"] == [{"id": "peter-keller", "name": "Péter Keller",
                                 "relation": "shown", "source": "xmp"}]
    assert keller["credit"]["line"] == "Photo: Anna <Rossi> / ASEV, CC BY 4.0"
    assert keller["credit"]["sources"] == {"creator": "xmp", "organisation": "default",
                                           "license": "default"}
    assert items["photos/afternoon.jpg"]["sessions"] == [{"id": "s3a", "source": "time"}]
    video = items["video/summary.mp4"]
    assert video["credit"]["line"] == ("Video: Barry Guckian / Northern and Western Regional "
                                       "Assembly (TRINNO), CC BY 4.0")
    assert video["people"][0]["relation"] == "mentioned"
    assert video["transcript"][0]["text"] == "Peter Keller presented."


def test_editing_the_event_file_re_resolves_without_reading_media(cli, florence: Path
                                                                  ) -> None:
    cli("ingest", "-j", "2", str(florence))
    toml = florence / "event.toml"
    toml.write_text(EVENT_TOML.replace("ROOM", "Sala B"), encoding="utf-8")
    summary = cli.json("ingest", str(florence))["events"][0]
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 0, 4)
    assert by_file(cli.json("list"))["photos/afternoon.jpg"]["sessions"] == [
        {"id": "s3b", "source": "time"}]
    toml.write_text(EVENT_TOML.replace('room = "ROOM"\n', ""), encoding="utf-8")
    cli("ingest", str(florence))
    assert by_file(cli.json("list"))["photos/afternoon.jpg"]["sessions"] == []
    report = cli.json("report")
    assert [Path(a["path"]).name for a in report["ambiguous"]] == ["afternoon.jpg"]
    assert json.loads(report["ambiguous"][0]["sessions"]) == ["s3a", "s3b"]
    assert {c["model"] for c in report["unknown_cameras"]} == {"Other"}


MEDIA_ENTRY = """
[[media]]
path = "photos/nocredit.jpg"
title = "Closing remarks"
people = ["peter-keller"]
"""


def test_editing_media_entries_re_resolves_and_is_counted(cli, florence: Path) -> None:
    toml = florence / "event.toml"
    base = EVENT_TOML.replace("ROOM", "Sala A")
    cli("ingest", str(florence))

    def ingest_with(text: str) -> tuple[dict, dict]:
        toml.write_text(text, encoding="utf-8")
        summary = cli.json("ingest", str(florence))["events"][0]
        assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 0, 4)
        return summary, by_file(cli.json("list"))["photos/nocredit.jpg"]

    summary, item = ingest_with(base + MEDIA_ENTRY)
    assert (item["title"], item["people"][0]["source"]) == ("Closing remarks", "media")
    assert summary["resolved"] == 1
    summary, item = ingest_with(base + MEDIA_ENTRY.replace("Closing", "Final"))
    assert (item["title"], summary["resolved"]) == ("Final remarks", 1)
    summary, item = ingest_with(base)
    assert (item["title"], item["people"], summary["resolved"]) == (None, [], 1)
    assert cli.json("ingest", str(florence))["events"][0]["resolved"] == 0


def test_summary_line_counts_items_re_resolved_by_credit_and_session_edits(
        cli, florence: Path) -> None:
    toml = florence / "event.toml"
    cli("ingest", str(florence))
    # Three items take their organisation from [credit]; the video from its rule.
    toml.write_text(EVENT_TOML.replace("ROOM", "Sala A").replace('"ASEV"', '"ASEV Srl"'),
                    encoding="utf-8")
    assert cli("ingest", str(florence)).startswith(
        "florence-2019: 0 added, 0 updated, 4 unchanged, 3 re-resolved in ")
    toml.write_text(EVENT_TOML.replace("ROOM", "Sala B").replace('"ASEV"', '"ASEV Srl"'),
                    encoding="utf-8")
    assert cli("ingest", str(florence)).startswith(
        "florence-2019: 0 added, 0 updated, 4 unchanged, 1 re-resolved in ")
    assert cli("ingest", str(florence)).startswith(
        "florence-2019: 0 added, 0 updated, 4 unchanged in ")


def test_media_entries_matching_no_file_are_warned_and_reported(cli, florence: Path) -> None:
    toml = florence / "event.toml"
    base = EVENT_TOML.replace("ROOM", "Sala A")
    toml.write_text(base + MEDIA_ENTRY + '[[media]]\npath = "photos/Keller.JPG"\ntitle = "K"\n'
                    '[[media]]\npath = "slides/*.jpg"\npublish = false\n', encoding="utf-8")
    out = cli("ingest", str(florence))
    where = f"warning: {toml.resolve()}: "
    assert f"{where}media[path='photos/Keller.JPG']: matches no file; did you mean " \
        "'photos/keller.jpg'?" in out
    assert f"{where}media[path='slides/*.jpg']: matches no file (a glob; '*' stays inside " \
        "one folder, '**' spans folders)" in out
    assert "photos/nocredit.jpg" not in out
    expected = [{"event": "florence-2019", "event_file": str(toml.resolve()),
                 "path": "photos/Keller.JPG", "suggestion": "photos/keller.jpg",
                 "duplicate_of": None},
                {"event": "florence-2019", "event_file": str(toml.resolve()),
                 "path": "slides/*.jpg", "suggestion": None, "duplicate_of": None}]
    assert cli.json("report")["unmatched_media"] == expected
    # -q says only what went wrong: the warnings, not the summary line.
    quiet = cli("-q", "ingest", str(florence))
    assert f"{where}media[path='photos/Keller.JPG']: matches no file" in quiet
    assert "florence-2019:" not in quiet.replace(f"{toml.resolve()}", "")
    assert cli.json("ingest", str(florence))["events"][0]["unmatched_media"] == expected
    assert "[[media]] entries that apply to no item (2):" in cli("report")

    toml.write_text(base + MEDIA_ENTRY, encoding="utf-8")
    assert "warning" not in cli("ingest", str(florence))
    assert cli.json("report")["unmatched_media"] == []


@pytest.fixture
def clocks(tmp_path: Path) -> Path:
    """A slow camera, a video stamped in UTC and a photo dated only by its file."""
    folder = tmp_path / "clocks"
    folder.mkdir()
    (folder / "event.toml").write_text(EVENT_TOML.replace("ROOM", "Sala A"), encoding="utf-8")
    day = dt.datetime(2019, 3, 19)
    # The Canon runs 3 min 20 s slow: its 11:00:00.45 is 11:03:20 in Rome.
    make_jpeg(folder / "slow.jpg", exif=make_exif(taken=day.replace(hour=11), subsec="45"))
    make_jpeg(folder / "other.jpg", exif=make_exif(model="Other",
                                                   taken=day.replace(hour=11, minute=2)))
    make_video(folder / "clip.mp4", metadata={"creation_time": "2019-03-19T10:02:30Z"})
    make_jpeg(folder / "undated.jpg", exif=make_exif(model="Other"))
    return folder


def test_times_are_corrected_and_shown_and_sorted_in_the_event_zone(cli, clocks: Path,
                                                                    archive_dir: Path) -> None:
    from web import create_app

    cli("ingest", "-j", "2", str(clocks))
    items = cli.json("list")
    assert [i["relpath"] for i in items] == ["other.jpg", "clip.mp4", "slow.jpg", "undated.jpg"]
    found = by_file(items)
    assert found["slow.jpg"]["taken"] == "2019-03-19T11:03:20.450000+01:00"
    assert found["clip.mp4"]["taken"] == "2019-03-19T10:02:30+00:00"
    assert found["clip.mp4"]["taken_local"] == "2019-03-19T11:02:30"
    listed = cli("list")
    assert "2019-03-19 11:03:20  slow.jpg" in listed and ".45" not in listed
    assert "2019-03-19 11:02:30  clip.mp4" in listed

    by_date = cli.json("search", "taken:2019-03-19", "--sort", "date")["results"]
    assert [r["relpath"] for r in by_date] == ["other.jpg", "clip.mp4", "slow.jpg"]
    minute = cli.json("search", "taken:2019-03-19T11:02")["results"]
    assert sorted(r["relpath"] for r in minute) == ["clip.mp4", "other.jpg"]

    client = create_app(archive_dir, {"TESTING": True}).test_client()
    page = client.get(f"/items/{found['clip.mp4']['id']}").get_data(as_text=True)
    assert "2019-03-19 11:02:30" in page and "10:02:30" not in page
    page = client.get(f"/items/{found['slow.jpg']['id']}").get_data(as_text=True)
    assert "2019-03-19 11:03:20" in page and "11:03:20.45" not in page
    page = client.get(f"/items/{found['undated.jpg']['id']}").get_data(as_text=True)
    assert "the file's modification time; the file records no capture time" in page

    report = cli.json("report")
    assert [Path(r["path"]).name for r in report["dated_by_file"]] == ["undated.jpg"]
    assert "Items dated only by their file's modification time (1):" in cli("report")


def test_bad_event_file_writes_nothing(cli, florence: Path) -> None:
    cli("ingest", str(florence))
    before = cli.json("list")
    (florence / "event.toml").write_text(EVENT_TOML.replace('"-00:03:20"', '"3 min"'),
                                         encoding="utf-8")
    out = cli("ingest", str(florence), code=1)
    assert "cameras[0].clock_offset" in out and "±HH:MM:SS" in out
    assert cli.json("list") == before


def test_exports_parse_back(cli, florence: Path, tmp_path: Path) -> None:
    cli("ingest", str(florence))
    rows = list(csv.DictReader(io.StringIO(cli("export", "credits", "--format", "csv"))))
    assert len(rows) == 4
    keller = next(r for r in rows if r["file"] == "photos/keller.jpg")
    assert (keller["creator"], keller["creator_source"], keller["session"]) == (
        "Anna <Rossi>", "xmp", "s2")
    assert keller["credit_line"] == "Photo: Anna <Rossi> / ASEV, CC BY 4.0"

    data = json.loads(cli("export", "credits", "--format", "json", "--session", "s2"))
    assert [d["file"] for d in data] == ["photos/keller.jpg"]
    assert data[0]["sources"]["creator"] == "xmp"

    ld = json.loads(cli("export", "credits", "--format", "jsonld", "--base-url",
                        "https://media.example.org"))
    assert ld["@context"] == "https://schema.org"
    types = {o["contentUrl"].rsplit("/", 2)[-2]: o for o in ld["@graph"]}
    assert {o["@type"] for o in ld["@graph"]} == {"ImageObject", "VideoObject"}
    video = next(o for o in ld["@graph"] if o["@type"] == "VideoObject")
    assert video["creator"] == {"@type": "Person", "name": "Barry Guckian", "affiliation": {
        "@type": "Organization", "name": "Northern and Western Regional Assembly"}}
    assert video["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert video["creditText"].startswith("Video: Barry Guckian")
    assert all(url.startswith("https://media.example.org/media/") for url in
               (o["contentUrl"] for o in types.values()))

    target = tmp_path / "credits.html"
    cli("export", "credits", "--format", "html", "-o", str(target))
    page = target.read_text(encoding="utf-8")
    assert "Anna &lt;Rossi&gt;" in page and "<Rossi>" not in page
    headings = _headings(page)
    assert headings[:2] == ["Credits", "Anna <Rossi>"]
    assert "Creator unknown" in headings


def test_strict_refuses_items_without_creator(cli, florence: Path) -> None:
    cli("ingest", str(florence))
    out = cli("export", "credits", "--strict", code=1)
    assert "no creator: " in out and "nocredit.jpg" in out
    assert "1 selected item(s) have no creator" in out
    assert cli("export", "credits", "--strict", "--session", "s2").startswith("id,file")


def _headings(page: str) -> list[str]:
    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []
            self.inside = False

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.inside = tag in ("h1", "h2")
            if self.inside:
                self.found.append("")

        def handle_endtag(self, tag: str) -> None:
            self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.found[-1] += data

    parser = Collect()
    parser.feed(page)
    return [h.strip() for h in parser.found]
