"""Resolution rules of DESIGN.md: each precedence step would fail here if reordered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.resolve.eventfile import parse_event
from archive.resolve.rules import ItemFacts, resolve

EVENT = """
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

[[credit.rules]]
match = "press/**"
creator = "Press Office"
copyright = "© Regione Toscana"
force = true

[[people]]
id = "peter-keller"
name = "Péter Keller"
aliases = ["Peter Keller"]

[[people]]
id = "paolo-martinez"
name = "Paolo Martinez"

[[people]]
id = "alberto-bramanti"
name = "Alberto Bramanti"

[[sessions]]
id = "s2"
title = "Interreg Europe and Industrial Modernisation"
start = 11:15
end = 13:00
room = "Plenary"
moderators = ["paolo-martinez"]
speakers = ["peter-keller"]

[[sessions]]
id = "s3a"
title = "Traditional Manufacturing SMEs"
start = 14:30
end = 17:00
room = "Sala Michelangelo"
moderators = ["alberto-bramanti"]

[[sessions]]
id = "s3b"
title = "Advanced Materials"
start = 14:30
end = 17:00
room = "Sala Donatello"

[[sessions]]
id = "night"
title = "Night shoot"
date = 2019-03-20
start = 00:00
end = 01:00

[[cameras]]
serial = "SN-1"
model = "Canon EOS 80D"
clock_offset = "-00:03:20"
room = "Sala Michelangelo"

[[cameras]]
make = "NIKON"
model = "NIKON D750"
room = "Sala Donatello"

[[cameras]]
model = "Late Cam"
clock_offset = "+00:30:00"

[[media]]
path = "photos/s3a/entry.jpg"
session = "s2"
people = ["peter-keller"]
title = "From the event file"
creator = "Entry Creator"
"""


def event(extra: str = "", timezone: str = "Europe/Rome") -> object:
    text = (EVENT + extra).replace('"Europe/Rome"', f'"{timezone}"')
    return parse_event(text, Path("/ev/event.toml"), Path("/ev"))


def facts(relpath: str = "photos/a.jpg", kind: str = "photo", taken: str | None = None,
          camera: dict | None = None, **meta: object) -> ItemFacts:
    return ItemFacts("id", kind, relpath, {"taken": taken, "camera": camera or {}, **meta})


CANON = {"make": "Canon", "model": "Canon EOS 80D", "serial": "SN-1"}
NIKON = {"make": "NIKON CORPORATION", "model": "NIKON D750"}
OTHER = {"make": "Sony", "model": "ILCE-7M3"}


def sessions(item: ItemFacts, ev: object | None = None) -> list[tuple[str, str]]:
    return [(s["id"], s["source"]) for s in resolve(item, ev or event()).sessions]


# --- sessions: media > folder > embedded > time > none ---------------------------------

def test_media_entry_beats_folder_and_time() -> None:
    item = facts("photos/s3a/entry.jpg", taken="2019-03-19T15:00:00", camera=NIKON,
                 xmp={"event": "s3b"})
    assert sessions(item) == [("s2", "media")]


def test_folder_beats_embedded_and_time() -> None:
    item = facts("photos/s3a/x.jpg", taken="2019-03-19T12:00:00", xmp={"event": "s2"})
    assert sessions(item) == [("s3a", "folder")]


def test_embedded_event_beats_time() -> None:
    item = facts(taken="2019-03-19T15:00:00", camera=NIKON,
                 xmp={"event": "Interreg Europe and Industrial Modernisation"})
    assert sessions(item) == [("s2", "xmp")]
    keyworded = facts(taken="2019-03-19T15:00:00", camera=NIKON, iptc={"keywords": ["S2"]})
    assert sessions(keyworded) == [("s2", "iptc")]


def test_time_with_clock_offset() -> None:
    # The Canon runs 3:20 slow: 11:12:00 on its clock is 11:15:20, inside s2.
    assert sessions(facts(taken="2019-03-19T11:12:00", camera=CANON)) == [("s2", "time")]
    # The same clock reading from a camera not in the event file is the coffee break.
    assert sessions(facts(taken="2019-03-19T11:12:00", camera=OTHER)) == []


def test_session_end_is_exclusive() -> None:
    assert sessions(facts(taken="2019-03-19T13:00:00", camera=OTHER)) == []
    assert sessions(facts(taken="2019-03-19T12:59:59", camera=OTHER)) == [("s2", "time")]


def test_parallel_sessions_told_apart_by_room() -> None:
    assert sessions(facts(taken="2019-03-19T15:00:00", camera=NIKON)) == [("s3b", "time")]
    canon = facts(taken="2019-03-19T15:00:00", camera=CANON)
    assert sessions(canon) == [("s3a", "time")]


def test_parallel_sessions_without_room_are_ambiguous_never_guessed() -> None:
    result = resolve(facts(taken="2019-03-19T15:00:00", camera=OTHER), event())
    assert result.sessions == []
    assert result.ambiguous == ["s3a", "s3b"]


def test_camera_matched_by_serial_before_model() -> None:
    # Same model, other serial: a second Canon body that is not the slow one.
    other_body = {"make": "Canon", "model": "Canon EOS 80D", "serial": "SN-2"}
    assert sessions(facts(taken="2019-03-19T11:12:00", camera=other_body)) == []


def test_clock_offset_across_midnight() -> None:
    # Late Cam runs 30 min fast: 00:20 on 20 March is 23:50 on the 19th, before "night".
    assert sessions(facts(taken="2019-03-20T00:20:00", camera={"model": "Late Cam"})) == []
    assert sessions(facts(taken="2019-03-20T00:40:00", camera={"model": "Late Cam"})) == [
        ("night", "time")]


def test_clock_offset_across_dst_change() -> None:
    # 31 March 2019, Europe/Rome: 02:00 CET became 03:00 CEST.
    ev = event("""
[[sessions]]
id = "dst"
title = "Early"
date = 2019-03-31
start = 03:00
end = 04:00
""")
    late = {"model": "Late Cam"}
    # The camera says 03:40 local (CEST); minus its 30 min lead it is 03:10 CEST.
    assert sessions(facts(taken="2019-03-31T03:40:00", camera=late), ev) == [("dst", "time")]
    # An offset-aware time is compared as an instant: 01:05Z is 03:05 CEST.
    assert sessions(facts(taken="2019-03-31T01:05:00+00:00", camera=OTHER), ev) == [
        ("dst", "time")]


def test_event_timezone_applies_to_naive_times() -> None:
    # 11:30 in UTC is 12:30 in Rome: s2 when the event is in Rome, nothing at 11:30 in UTC.
    aware = facts(taken="2019-03-19T11:30:00+00:00", camera=OTHER)
    assert sessions(aware) == [("s2", "time")]
    assert sessions(facts(taken="2019-03-19T10:30:00", camera=OTHER)) == []


def test_file_time_never_places_an_item_in_a_session() -> None:
    item = ItemFacts("id", "photo", "a.jpg", {}, mtime_ns=int(dt.datetime(
        2019, 3, 19, 11, 30, tzinfo=dt.UTC).timestamp() * 1e9))
    result = resolve(item, event())
    assert result.taken_source == "file"
    assert result.sessions == []


def test_taken_is_corrected_by_the_clock_offset_and_keeps_its_offset() -> None:
    # The Canon runs 3 min 20 s slow: 11:12:00.45 on its clock is 11:15:20.45 in Rome.
    result = resolve(facts(taken="2019-03-19T11:12:00.450000", camera=CANON), event())
    assert result.taken == "2019-03-19T11:15:20.450000+01:00"
    assert result.taken_local == "2019-03-19T11:15:20"


def test_time_given_in_utc_is_local_in_the_event_zone() -> None:
    result = resolve(facts(kind="video", taken="2019-03-19T10:02:30+00:00"), event())
    assert (result.taken, result.taken_source) == ("2019-03-19T10:02:30+00:00", "video")
    assert result.taken_local == "2019-03-19T11:02:30"


def test_file_time_is_not_corrected_by_the_camera_clock() -> None:
    item = ItemFacts("id", "photo", "a.jpg", {"camera": {"model": "Late Cam"}},
                     mtime_ns=int(dt.datetime(2019, 3, 19, 11, 30, 5, 250_000,
                                              tzinfo=dt.UTC).timestamp() * 1e9))
    result = resolve(item, event())
    assert (result.taken_local, result.taken_source) == ("2019-03-19T12:30:05", "file")


# --- people ------------------------------------------------------------------------------

def people(item: ItemFacts) -> list[tuple[str, str, str]]:
    return [(p["id"], p["relation"], p["source"]) for p in resolve(item, event()).people]


def test_people_relations_and_ranking() -> None:
    item = facts(taken="2019-03-19T11:30:00", camera=OTHER,
                 xmp={"persons": ["peter keller"]},
                 transcript=[{"start": 1, "end": 2, "text": "Alberto Bramanti spoke"}])
    assert people(item) == [("peter-keller", "shown", "xmp"),
                            ("paolo-martinez", "session", "time"),
                            ("alberto-bramanti", "mentioned", "subtitle")]


def test_accent_and_case_insensitive_names_and_aliases() -> None:
    for written in ("Peter Keller", "PÉTER KELLER", "péter  keller"):
        assert people(facts(iptc={"keywords": [written]})) == [
            ("peter-keller", "shown", "iptc")]
    assert people(facts(xmp={"persons": ["Peter Kellerman"]})) == []


def test_media_entry_people_are_shown() -> None:
    item = facts("photos/s3a/entry.jpg")
    assert ("peter-keller", "shown", "media") in people(item)


def test_mentioned_needs_whole_words() -> None:
    item = facts(transcript=[{"start": 0, "end": 1, "text": "the keller-péterson report"}])
    assert people(item) == []


# --- credit -------------------------------------------------------------------------------

def credit(item: ItemFacts) -> dict[str, tuple[str, str]]:
    return resolve(item, event()).credit


def test_credit_media_beats_embedded_beats_rule_beats_default() -> None:
    embedded = {"xmp": {"creator": ["Anna Rossi"], "rights": "© Anna"},
                "exif": {"artist": "Camera Owner"}}
    assert credit(facts("photos/s3a/entry.jpg", **embedded))["creator"] == (
        "Entry Creator", "media")
    assert credit(facts("video/a.mp4", kind="video", **embedded))["creator"] == (
        "Anna Rossi", "xmp")
    assert credit(facts("video/a.mp4", kind="video"))["creator"] == ("Barry Guckian", "rule")
    plain = credit(facts("photos/a.jpg"))
    assert "creator" not in plain
    assert plain["organisation"] == ("ASEV", "default")
    assert plain["license"] == ("CC-BY-4.0", "default")


def test_each_credit_field_on_its_own() -> None:
    # The file names the creator the rule names, so the event's rights reach it.
    result = credit(facts("video/a.mp4", kind="video",
                          exif={"artist": "Barry Guckian", "copyright": "© Cam"}))
    assert result["creator"] == ("Barry Guckian", "exif")
    assert result["copyright"] == ("© Cam", "exif")
    assert result["project"] == ("TRINNO", "rule")
    assert result["license"] == ("CC-BY-4.0", "default")


def test_embedded_precedence_xmp_iptc_exif() -> None:
    assert credit(facts(iptc={"creator": ["By Line"]}, exif={"artist": "Artist"}))[
        "creator"] == ("By Line", "iptc")
    assert credit(facts(exif={"artist": "Artist"}))["creator"] == ("Artist", "exif")
    assert credit(facts(sidecar_xmp={"creator": ["Side"]}, xmp={"creator": ["In file"]}))[
        "creator"] == ("Side", "xmp")


def test_forced_rule_beats_embedded() -> None:
    result = credit(facts("press/a.jpg", xmp={"creator": ["Anna Rossi"], "rights": "© Anna"}))
    assert result["creator"] == ("Press Office", "rule")
    assert result["copyright"] == ("© Regione Toscana", "rule")


def test_credit_line_organisation_unless_it_repeats_the_creator() -> None:
    result = credit(facts(iptc={"creator": ["Kyle Davis"], "credit": "10th Mountain"}))
    assert result["organisation"] == ("10th Mountain", "iptc")
    same = facts(iptc={"creator": ["Ian Britton"], "credit": "Ian Britton"})
    britton = '[[people]]\nid = "ian-britton"\nname = "Ian Britton"\n'
    assert resolve(same, event(britton)).credit["organisation"] == ("ASEV", "default")
    # Not a person of the event: third-party, so no organisation from [credit] either.
    assert "organisation" not in credit(same)


@pytest.mark.parametrize(("kind", "values", "line"), [
    ("photo", {"creator": "A", "organisation": "B", "project": "C"}, "Photo: A / B (C)"),
    ("video", {"creator": "Barry Guckian", "organisation": "NWRA"}, "Video: Barry Guckian / NWRA"),
    ("photo", {"organisation": "ASEV"}, "Photo: ASEV"),
    ("photo", {}, None),
])
def test_credit_line(kind: str, values: dict, line: str | None) -> None:
    from archive.resolve.credits import credit_line

    assert credit_line(kind, values) == line
