"""Capture times at the edges of the calendar: absurd dates are warnings, never crashes.

A capture time before 1826 (the oldest surviving photograph) or more than a day after
the ingest is ignored with a warning, and the next time source is used.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive import dates
from archive.catalog import sortable_time
from archive.media.extract import exif, video, xmp
from archive.model import Event
from archive.resolve.rules import ItemFacts, resolve_taken

from helpers.media import EXIF_IFD, T, add_iptc, make_exif, make_jpeg, make_xmp

MARCH_19 = dt.datetime(2019, 3, 19, 16, 30, tzinfo=dt.UTC)


def exif_dated(original: str, offset: str) -> object:
    """EXIF written as a camera with a flat clock battery or a bad editor leaves it."""
    tags = make_exif(offset=offset)
    tags.get_ifd(EXIF_IFD)[T.DateTimeOriginal] = original
    return tags


def set_mtime(path: Path, when: dt.datetime) -> Path:
    stamp = int(when.timestamp()) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


def make_mov(path: Path, creationdate: str) -> Path:
    """A long-GOP H.264 QuickTime file with the creation date tag iPhones write."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=25:duration=1", "-c:v", "libx264", "-g", "250",
                    "-movflags", "use_metadata_tags", "-metadata",
                    f"com.apple.quicktime.creationdate={creationdate}", str(path)],
                   check=True, capture_output=True, timeout=120)
    return path


@pytest.mark.slow
def test_absurd_dates_are_warnings_and_the_next_source_is_used(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "year-one.jpg", exif=exif_dated("0001:01:01 00:00:00", "+14:00"),
              xmp=make_xmp(date_created="2019-03-19T11:42:07+01:00"))
    set_mtime(make_jpeg(event_dir / "year-9999.jpg", size=(70, 50),
                        exif=exif_dated("9999:12:31 23:59:59", "-05:00")), MARCH_19)
    set_mtime(make_mov(event_dir / "clip.mov", "9999-12-31T23:59:59-0500"), MARCH_19)
    iptc = make_jpeg(event_dir / "iptc.jpg", size=(80, 50))
    add_iptc(iptc, {(2, 55): "00010101", (2, 60): "000000+1400"})
    set_mtime(iptc, MARCH_19)
    set_mtime(make_jpeg(event_dir / "future.jpg", size=(90, 50)),
              dt.datetime(2200, 1, 1, tzinfo=dt.UTC))
    summary = cli.json("ingest", str(event_dir))["events"][0]
    assert (summary["added"], summary["failed"]) == (5, 0)
    taken = {Path(i["path"]).name: (i["taken"], i["taken_source"]) for i in cli.json("list")}
    assert taken == {
        "year-one.jpg": ("2019-03-19T11:42:07+01:00", "xmp"),
        "year-9999.jpg": ("2019-03-19T16:30:00+00:00", "file"),
        "clip.mov": ("2019-03-19T16:30:00+00:00", "file"),
        "iptc.jpg": ("2019-03-19T16:30:00+00:00", "file"),
        "future.jpg": (None, None),
    }
    warned = {Path(w["path"]).name: w["message"] for w in cli.json("report")["warnings"]}
    assert "0001-01-01T00:00:00+14:00 is before 1826" in warned["year-one.jpg"]
    assert "9999-12-31T23:59:59-05:00 is" in warned["year-9999.jpg"]
    assert "9999-12-31T23:59:59-05:00 is" in warned["clip.mov"]
    assert "0001-01-01T00:00:00+14:00 is before 1826" in warned["iptc.jpg"]
    assert "2200-01-01" in warned["future.jpg"] and "after the ingest" in warned["future.jpg"]
    assert cli.json("search", "kind:photo")["total"] == 4  # the index is in sync



def test_every_warning_of_a_stage_is_kept(cli, event_dir: Path) -> None:
    """The catalog keeps one row per file and stage: two warnings share it."""
    photo = make_jpeg(event_dir / "both.jpg", exif=exif_dated("0001:01:01 00:00:00", "+14:00"))
    set_mtime(photo, dt.datetime(2200, 1, 1, tzinfo=dt.UTC))
    cli("ingest", str(event_dir))
    (warning,) = cli.json("report")["warnings"]
    assert warning["stage"] == "extract"
    assert "EXIF DateTimeOriginal 0001-01-01" in warning["message"]
    assert "file modification time 2200-01-01" in warning["message"]

# ---- properties of the parsers: a plausible time or None, never an exception ----------

def usable(stamp: dt.datetime | str | None) -> bool:
    """None, or a time inside the bounds that every zone on Earth can show."""
    if stamp is None:
        return True
    if isinstance(stamp, str):
        stamp = dt.datetime.fromisoformat(stamp)
    aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "UTC"):
        aware.astimezone(ZoneInfo(zone))
    return dates.implausible(stamp) is None and sortable_time(aware.isoformat()) is not None


digits = st.integers(0, 9999).map(lambda n: f"{n:04d}")
two = st.integers(0, 99).map(lambda n: f"{n:02d}")
offsets = st.one_of(st.none(), st.text(max_size=8),
                    st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), two, two),
                    st.builds(lambda s, h, m: f"{s}{h}{m}", st.sampled_from("+-"), two, two))
exif_stamps = st.one_of(st.text(max_size=30), st.builds(
    lambda y, mo, d, h, mi, s: f"{y}:{mo}:{d} {h}:{mi}:{s}", digits, two, two, two, two, two))
iso_stamps = st.one_of(st.text(max_size=40), st.builds(
    lambda y, mo, d, h, mi, s, z: f"{y}-{mo}-{d}T{h}:{mi}:{s}{z or ''}",
    digits, two, two, two, two, two, offsets))


@pytest.mark.parametrize(("written", "noted"), [
    ("2019:02:30 12:00:00", True),   # a day that does not exist: said, not dropped silently
    ("2019:13:01 12:00:00", True),
    ("    :  :     :  :  ", False),  # what cameras without a clock write: nothing to say
    ("0000:00:00 00:00:00", False),
    ("", False),
])
def test_an_impossible_exif_date_is_a_warning(written: str, noted: bool) -> None:
    fields, problems = exif.normalise({"DateTimeOriginal": written})
    assert fields["taken"] is None
    said = [p for p in problems if "DateTimeOriginal" in p]
    assert bool(said) == noted, problems
    if noted:
        assert repr(written) in said[0] and "not a date" in said[0]


@settings(deadline=None)  # timing on a shared machine is no property
@given(exif_stamps, st.one_of(st.none(), st.text(max_size=12)), offsets)
def test_exif_dates_are_plausible_or_none(text: str, subsec: str | None,
                                          offset: str | None) -> None:
    notes: list[str] = []
    parsed = exif.parse_exif_datetime(text, subsec, offset)
    assert usable(dates.capture_time(parsed, "EXIF", notes))
    fields, _problems = exif.normalise({"DateTimeOriginal": text, "OffsetTimeOriginal": offset})
    assert usable(fields["taken"])


@settings(deadline=None)  # timing on a shared machine is no property
@given(iso_stamps.filter(lambda text: text.isprintable()))  # XML has no control characters
def test_xmp_dates_are_plausible_or_none(text: str) -> None:
    assert usable(xmp.parse_packet(make_xmp(date_created=escape(text)))["taken"])


@settings(deadline=None)  # timing on a shared machine is no property
@given(iso_stamps)
def test_video_creation_times_are_plausible_or_none(text: str) -> None:
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        assert usable(video.normalise({"streams": [{"codec_type": "video"}],
                                       "format": {"tags": {key: text}}})["taken"])


@settings(deadline=None)  # timing on a shared machine is no property
@given(st.one_of(st.text(max_size=10), digits.map(lambda y: f"{y}0101")),
       st.one_of(st.text(max_size=12), st.builds(lambda o: f"120000{o or ''}", offsets)),
       st.integers(-2**70, 2**70), st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12"]))
def test_resolved_times_are_plausible_or_none(date: str, clock: str, mtime_ns: int,
                                              zone: str) -> None:
    """Whatever a catalogue holds (an archive ingested before these checks, too)."""
    event = Event(id="e", title="E", folder=Path("/e"), timezone=zone)
    meta = {"taken": "0001-01-01T00:00:00+14:00", "iptc": {"date": date, "time": clock},
            "xmp": {"taken": "9999-12-31T23:59:59"}}
    when, source = resolve_taken(ItemFacts("i", "photo", "a.jpg", meta, mtime_ns), event)
    assert usable(when)
    assert source in (None, "iptc", "file")
    assert usable(dates.file_time(mtime_ns, ZoneInfo(zone)))
