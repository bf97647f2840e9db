from __future__ import annotations

import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archive import settings as limits
from archive.errors import ManifestError
from archive.ingest.scan import scan
from archive.resolve.eventfile import load_event, parse_event
from archive.resolve.globs import GlobError, compile_glob

from helpers.media import make_jpeg

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
    # Files ZoneInfo opens that name no IANA zone: the host's own, POSIX and leap-second
    # variants.
    ("host's zone", _with('"Europe/Rome"', '"localtime"'), "event.timezone", "IANA"),
    ("posix zone", _with('"Europe/Rome"', '"posix/Europe/Rome"'), "event.timezone", "IANA"),
    ("leap-second zone", _with('"Europe/Rome"', '"right/UTC"'), "event.timezone", "IANA"),
    ("factory zone", _with('"Europe/Rome"', '"Factory"'), "event.timezone", "IANA"),
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
    ("date with a time", _with("date = 2019-03-19", "date = 2019-03-19T10:00:00"), "event.date",
     "the date and time 2019-03-19T10:00:00 is not a date; expected YYYY-MM-DD without a"),
    ("time with a date", _with("start = 11:15", "start = 2019-03-19"),
     "sessions[id='s2'].start", "the date 2019-03-19 is not a time; expected HH:MM"),
    ("clock offset as a time", _with('"-00:03:20"', "00:03:20"), "cameras[0].clock_offset",
     "the time 00:03:20 is not an offset; expected a string"),
    ("rules not tables", _with('[[credit.rules]]\nmatch = "video/**"\ncreator = "Barry Guckian"\n'
                               'organisation = "Northern and Western Regional Assembly"\n'
                               'project = "TRINNO"\n', 'rules = "x"\n'),
     "credit.rules", "array of tables"),
    ("hour out of range", _with("start = 11:15", "start = 25:00"), "sessions[id='s2'].start",
     "(the line reads 'start = 25:00'); expected a time of day from 00:00 to 23:59"),
    ("unclosed string", _with('room = "Plenary"', 'room = "Plenary'), "sessions[id='s2'].room",
     "is not valid TOML: Illegal character"),
    ("key given twice", _with('timezone = "Europe/Rome"', 'timezone = "Europe/Rome"\n'
                              'timezone = "UTC"'), "event.timezone", "Cannot overwrite a value"),
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


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_event(tmp_path).id == "florence-2019"


def test_non_utf8_event_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_bytes(b'[event]\nid = "x"\ntitle = "caf\xe9"\n')
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_event(tmp_path)


# ---- hostile event files: refused or parsed in linear time, never hung -------------

MINIMAL = '[event]\nid = "x"\ntitle = "X"\n'


def ingest_subprocess(tmp_path: Path, folder: Path, timeout: float = 60
                      ) -> subprocess.CompletedProcess[str]:
    """`event-archive ingest` as users run it; a hang fails the test at the timeout.
    The address-space limit keeps a runaway read from eating the machine."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run([sys.executable, "-m", "archive", "--archive",
                           str(tmp_path / "archive"), "ingest", "-j", "1", str(folder)],
                          capture_output=True, text=True, timeout=timeout, preexec_fn=limit)


def one_line_error(done: subprocess.CompletedProcess[str], path: Path, problem: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), done.stderr
    assert problem in lines[0], lines[0]


@pytest.mark.slow
def test_fifo_event_file_is_refused_without_waiting(tmp_path: Path, event_dir: Path) -> None:
    os.mkfifo(event_dir / "event.toml")
    done = ingest_subprocess(tmp_path, event_dir, timeout=30)
    one_line_error(done, event_dir / "event.toml", "not a regular file")


@pytest.mark.slow
def test_event_file_linked_to_a_device_is_refused(tmp_path: Path, event_dir: Path) -> None:
    (event_dir / "event.toml").symlink_to("/dev/zero")
    done = ingest_subprocess(tmp_path, event_dir, timeout=30)
    one_line_error(done, event_dir / "event.toml", "not a regular file")


@pytest.mark.parametrize("target", ["outside", "/proc/self/environ"])
def test_an_event_file_linked_out_of_its_folder_is_refused_unread(tmp_path: Path,
                                                                 target: str) -> None:
    folder = tmp_path / "event"
    folder.mkdir()
    secret = tmp_path / "secret.conf"
    secret.write_text("db_password = hunter2 and more\n", encoding="utf-8")
    (folder / "event.toml").symlink_to(secret if target == "outside" else target)
    with pytest.raises(ManifestError) as caught:
        load_event(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'event.toml'}: ") and "link out" in message
    assert "hunter2" not in message and "PATH" not in message  # nothing of it is quoted


def test_an_event_file_linked_inside_its_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "florence.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "event.toml").symlink_to(Path("meta") / "florence.toml")
    assert load_event(tmp_path).id == "x"
    # ... and what it links to is the event file, not a media file that failed.
    found = scan(tmp_path)
    assert found.entries == [] and found.unreadable == [] and found.skipped == []


def test_a_dangling_event_file_link_is_an_error_not_a_folder_without_one(
        tmp_path: Path) -> None:
    (tmp_path / "event.toml").symlink_to("nowhere.toml")
    with pytest.raises(ManifestError, match="a link to nowhere.toml, which does not exist"):
        load_event(tmp_path)


def test_oversized_event_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    with open(tmp_path / "event.toml", "wb") as sparse:
        sparse.truncate(limits.value("event_file_bytes") + 1)
    with pytest.raises(ManifestError) as caught:
        load_event(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "event.toml"))
    assert "at most 4 MB" in str(caught.value)


@pytest.mark.slow
def test_many_blank_lines_parse_quickly(tmp_path: Path, event_dir: Path) -> None:
    text = "\n" * 80_000 + MINIMAL + "[[sessions]]\nid = 's1'\ntitle = 'S'\ndate = 2019-03-19\n" \
        + "\n" * 80_000 + "start = 11:15\nend = 12:00\n"
    (event_dir / "event.toml").write_text(text, encoding="utf-8")
    done = ingest_subprocess(tmp_path, event_dir, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x: 0 added")


@pytest.mark.slow
def test_backtracking_credit_glob_matches_quickly(tmp_path: Path, event_dir: Path) -> None:
    (event_dir / "event.toml").write_text(
        MINIMAL + '[[credit.rules]]\nmatch = "**a**a**a**a**a**a**b"\ncreator = "B"\n'
        '[[credit.rules]]\nmatch = "**/*a.jpg"\ncreator = "A"\n', encoding="utf-8")
    make_jpeg(event_dir / ("a" * 60) / ("a" * 60 + ".jpg"))
    done = ingest_subprocess(tmp_path, event_dir, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x: 1 added")
    listed = subprocess.run([sys.executable, "-m", "archive", "--archive",
                             str(tmp_path / "archive"), "list", "--json"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(listed.stdout)[0]["credit"]["creator"] == "A"


# ---- properties: the parser never fails but with ManifestError; globs are linear --------

class Bare(str):
    """A value written into the TOML text as it is (a TOML 1.1 time such as 11:15)."""


def toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: object) -> str:
    if isinstance(value, Bare):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(tables: list[tuple[str, bool, dict[str, object]]]) -> str:
    """(name, array of tables?, keys) in order, as TOML text."""
    out = []
    for name, array, keys in tables:
        out.append(f"[[{name}]]" if array else f"[{name}]")
        out += [f"{toml_string(k)} = {toml_value(v)}" for k, v in keys.items()]
    return "\n".join(out) + "\n"


SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
                    st.dates(), st.times(), st.datetimes())
ANYTHING = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)
IDS = st.sampled_from(["p1", "p2", "s1", "s2"])
TIMES = st.one_of(st.times(), st.builds(lambda h, m: Bare(f"{h:02d}:{m:02d}"),
                                        st.integers(0, 23), st.integers(0, 59)),
                  st.sampled_from(["11:15", "25:00", "9:5"]))
GOOD_VALUES = {
    "id": IDS, "session": IDS, "title": st.text(min_size=1, max_size=30),
    "name": st.text(min_size=1, max_size=30),
    "date": st.one_of(st.dates(), st.sampled_from(["2019-03-19", "2019-02-30"])),
    "end_date": st.dates(min_value=dt.date(2019, 3, 19), max_value=dt.date(2019, 3, 21)),
    "start": TIMES, "end": TIMES,
    "timezone": st.sampled_from(["Europe/Rome", "UTC", "Mars/Base", "America", "../etc",
                                 "a\x00b", "x" * 300, ""]),
    "clock_offset": st.sampled_from(["-00:03:20", "+01:00:00", "+99:59:59", "3 min"]),
    "license": st.sampled_from(["CC-BY-4.0", "CC BY 4.0", "https://example.org/l", "MIT"]),
    "match": st.text(alphabet="ab/*?[]!-^.", max_size=12),
    "path": st.text(alphabet="ab/.*", min_size=1, max_size=10),
    "moderators": st.lists(IDS, max_size=3), "speakers": st.lists(IDS, max_size=3),
    "people": st.lists(IDS, max_size=3), "aliases": st.lists(st.text(max_size=8), max_size=2),
    "organisers": st.lists(st.text(max_size=8), max_size=2), "force": st.booleans(),
}
# (required keys, other keys) of each table, as DESIGN.md has them.
TABLE_KEYS = {
    "event": (("id", "title", "date"), ("end_date", "timezone", "venue", "organisers",
                                        "description", "url")),
    "credit": ((), ("creator", "organisation", "project", "copyright", "license",
                    "acquire_license_page")),
    "credit.rules": (("match",), ("force", "creator", "license", "copyright")),
    "people": (("id", "name"), ("affiliation", "project", "aliases", "url")),
    "sessions": (("id", "title", "start", "end"), ("date", "room", "moderators", "speakers",
                                                   "description")),
    "cameras": (("model",), ("serial", "make", "clock_offset", "room")),
    "media": (("path",), ("session", "people", "title", "description", "keywords",
                          "creator")),
}


# Mostly True, and True when shrunk: the usual document is nearly right.
MOSTLY = st.sampled_from([True] * 29 + [False])


@st.composite
def table(draw: st.DrawFn, name: str) -> tuple[str, bool, dict[str, object]]:
    """A table with (nearly always) its required keys, some others, rarely an unknown
    one; each value nearly always of the kind the key takes."""
    required, optional = TABLE_KEYS[name]
    keys = [k for k in required if draw(MOSTLY)]
    keys += draw(st.lists(st.sampled_from(optional), unique=True, max_size=4))
    keys += [] if draw(MOSTLY) else ["unknown"]
    values = {}
    for key in keys:
        good = GOOD_VALUES.get(key, st.text(min_size=1, max_size=20))
        values[key] = draw(good if draw(MOSTLY) else ANYTHING)
    return name, name not in ("event", "credit"), values


@st.composite
def event_documents(draw: st.DrawFn) -> str:
    names = ["event"] if draw(MOSTLY) else []
    names += ["credit"] if draw(st.booleans()) else []
    names += draw(st.lists(st.sampled_from(["credit.rules", "people", "sessions", "cameras",
                                            "media"]), max_size=8))
    return toml_document([draw(table(name)) for name in names])


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_documents())
def test_any_event_document_loads_or_names_the_file(text: str) -> None:
    try:
        event = parse(text)
    except ManifestError as exc:
        message = str(exc)
    else:
        message = f"/ev/event.toml: {event.id}"
    assert message.startswith("/ev/event.toml: ")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}=\"'#.,:-+ \n\tabx019TZ")), max_size=60))
def test_any_text_loads_or_names_the_file(text: str) -> None:
    try:
        parse(text)
    except ManifestError as exc:
        message = str(exc)
    else:
        message = "/ev/event.toml: loaded"
    assert message.startswith("/ev/event.toml: ")


def reference_glob(pattern: str) -> re.Pattern[str]:
    """The regex these globs mean, for short paths only (it backtracks on long ones)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        elif pattern[i] == "[":
            close = re.compile(r"\[[!^]?+\]?+[^]]*+\]").match(pattern, i)
            if not close:
                raise re.error("unclosed class")
            body = pattern[i + 1:close.end() - 1]
            body = "^" + body[1:] if body[:1] in "!^" and body else body
            out.append("(?!/)[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = close.end()
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile("".join(out) + r"\Z", re.IGNORECASE)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aAb/*?[]!-.", max_size=10), st.text(alphabet="abAB/.-[!", max_size=10))
def test_glob_agrees_with_the_regex_it_means(pattern: str, path: str) -> None:
    try:
        glob = compile_glob(pattern)
    except GlobError:
        relative = pattern.strip() and not pattern.startswith("/") and ".." not in \
            pattern.split("/")
        if relative:
            with pytest.raises(re.error):
                reference_glob(pattern)
        return
    assert glob.match(path) == bool(reference_glob(pattern).match(path)), (pattern, path)


@settings(max_examples=50, deadline=dt.timedelta(seconds=2))
@given(st.text(alphabet="a*?/", min_size=1, max_size=40), st.sampled_from("ab/"),
       st.integers(1_000, 20_000))
def test_glob_matching_is_linear_in_the_path(pattern: str, last: str, size: int) -> None:
    assume(not pattern.startswith("/") and ".." not in pattern)
    glob = compile_glob(pattern + "b")
    path = ("a" * 30 + "/") * (size // 31) + last
    started = time.monotonic()
    glob.match(path)
    assert time.monotonic() - started < 1.0, (pattern, size)
