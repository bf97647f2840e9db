from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.errors import ManifestError
from archive.manifest import load_event, parse_event

GOOD = """
[event]
id = "florence-2019"
title = "Industrial Modernization and Interregional Cooperation"
date = 2019-03-19
timezone = "Europe/Rome"
venue = "Baglioni Hotel, Florence"
organisers = ["ASEV", "Arezzo Innovazione"]

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
affiliation = "Hungarian Ministry of Finance"
project = "INNOPROVEMENT"
aliases = ["Peter Keller"]

[[people]]
id = "paolo-martinez"
name = "Paolo Martinez"

[[sessions]]
id = "s2"
title = "Interreg Europe and Industrial Modernisation"
start = 11:15
end = 13:00
room = "Plenary"
moderators = ["paolo-martinez"]
speakers = ["peter-keller"]

[[cameras]]
model = "Canon EOS 80D"
clock_offset = "-00:03:20"
room = "Sala Michelangelo"

[[media]]
path = "photos/IMG_0042.jpg"
session = "s2"
people = ["peter-keller"]
title = "Péter Keller presents INNOPROVEMENT"
"""


def parse(text: str) -> object:
    return parse_event(text, Path("/ev/event.toml"), Path("/ev"))


def test_design_example_parses() -> None:
    event = parse(GOOD)
    assert event.id == "florence-2019"
    assert event.tz.key == "Europe/Rome"
    assert event.credit.license == "CC-BY-4.0"
    assert event.credit_rules[0].credit.creator == "Barry Guckian"
    (session,) = event.sessions
    assert session.date == dt.date(2019, 3, 19)
    assert (session.start, session.end) == (dt.time(11, 15), dt.time(13, 0))
    assert event.people[0].names == ("Péter Keller", "Peter Keller")
    assert event.cameras[0].clock_offset == -dt.timedelta(minutes=3, seconds=20)
    assert event.media[0].people == ("peter-keller",)


def _with(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


MISTAKES = [
    ("unknown key", _with('venue = "Baglioni', 'venu = "Baglioni'), "event.venu",
     "unknown key"),
    ("unknown table", GOOD + "\n[extra]\na = 1\n", "extra", "unknown table"),
    ("missing event id", _with('id = "florence-2019"\n', ""), "event.id", "required"),
    ("missing person name", _with('name = "Paolo Martinez"', ""), "people[id='paolo-martinez']"
     ".name", "required"),
    ("bad time", _with("start = 11:15", 'start = "11h15"'), "sessions[id='s2'].start",
     "HH:MM"),
    ("end before start", _with("end = 13:00", "end = 10:00"), "sessions[id='s2'].end",
     "not after start"),
    ("unknown person in session", _with('speakers = ["peter-keller"]', 'speakers = ["nobody"]'),
     "sessions[id='s2'].speakers", "unknown person id 'nobody'"),
    ("duplicate person id", _with('id = "paolo-martinez"', 'id = "peter-keller"'),
     "people[id='peter-keller']", "duplicate id"),
    ("bad glob", _with('match = "video/**"', 'match = "video/[abc"'), "credit.rules[0].match",
     "not a valid glob"),
    ("absolute glob", _with('match = "video/**"', 'match = "/etc/*"'), "credit.rules[0].match",
     "relative"),
    ("bad clock offset", _with('"-00:03:20"', '"3 minutes"'), "cameras[0].clock_offset",
     "±HH:MM:SS"),
    ("bad license", _with('license = "CC-BY-4.0"', 'license = "CC BY 4.0"'), "credit.license",
     "did you mean 'CC-BY-4.0'"),
    ("bad timezone", _with('"Europe/Rome"', '"Europe/Florence"'), "event.timezone", "IANA"),
    ("wrong type", _with('organisers = ["ASEV", "Arezzo Innovazione"]', 'organisers = "ASEV"'),
     "event.organisers", "expected an array"),
    ("camera without model", _with('model = "Canon EOS 80D"\n', ""), "cameras[0]",
     "serial or a model"),
    ("unknown session in media", _with('session = "s2"\npeople', 'session = "s9"\npeople'),
     "media[path='photos/IMG_0042.jpg'].session", "unknown session id 's9'"),
    ("media path escapes", _with('path = "photos/IMG_0042.jpg"', 'path = "../x.jpg"'),
     "media[0].path", "relative"),
    ("overlapping sessions in a room", GOOD + """
[[sessions]]
id = "s3"
title = "Overlap"
start = 12:00
end = 14:00
room = "Plenary"
""", "sessions[id='s3'].start", "overlaps session 's2'"),
    ("invalid TOML", GOOD + "\n[[people]\n", "", "not valid TOML"),
    ("rules not tables", _with('[[credit.rules]]\nmatch = "video/**"\ncreator = "Barry Guckian"\n'
                               'organisation = "Northern and Western Regional Assembly"\n'
                               'project = "TRINNO"\n', 'rules = "x"\n'),
     "credit.rules", "array of tables"),
]


@pytest.mark.parametrize(("name", "text", "key", "problem"), MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_mistakes_name_file_key_and_problem(name: str, text: str, key: str,
                                            problem: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith("/ev/event.toml: "), message
    assert caught.value.key == key, message
    assert problem in message, message
    assert "\n" not in message.strip() or "TOML" in message


def test_parallel_sessions_in_two_rooms_are_fine() -> None:
    event = parse(GOOD + """
[[sessions]]
id = "s3a"
title = "Workshop A"
start = 14:00
end = 16:00
room = "Sala A"

[[sessions]]
id = "s3b"
title = "Workshop B"
start = 14:00
end = 16:00
room = "Sala B"
""")
    assert [s.id for s in event.sessions] == ["s2", "s3a", "s3b"]


def test_folder_without_event_file_gets_a_default_event(tmp_path: Path) -> None:
    folder = tmp_path / "My Event 2024"
    folder.mkdir()
    event = load_event(folder)
    assert event.id == "My-Event-2024"
    assert event.title == "My Event 2024"
    assert event.timezone == "UTC"


def test_non_utf8_event_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_bytes(b'[event]\nid = "x"\ntitle = "caf\xe9"\n')
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_event(tmp_path)
