"""Read `event.toml` into an `Event`.

Every mistake raises `ManifestError` naming the file, the key and what was
expected; unknown keys are errors so a typo never goes silently unused.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# TOML 1.1 (tomli 2.4; Python 3.15's tomllib) allows times without seconds, as
# DESIGN.md writes them (`start = 11:15`); Python 3.11's tomllib reads TOML 1.0 only.
import tomli

from archive import settings
from archive.errors import ManifestError
from archive.fsnames import separators, within
from archive.model import (
    CREDIT_FIELDS,
    Camera,
    CreditRule,
    CreditSpec,
    Event,
    FaceRef,
    MediaEntry,
    Person,
    Session,
)
from archive.resolve.globs import GlobError, compile_glob
from archive.resolve.licenses import license_problem, url_problem

EVENT_FILE = "event.toml"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_OFFSET = re.compile(r"([+-])(\d{2}):([0-5]\d):([0-5]\d)\Z")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\Z")

Check = Callable[[Any], Any]


class _Reader:
    """Reads one table of the event file; knows the path and key for messages."""

    def __init__(self, path: Path, where: str, table: Any) -> None:
        self.path, self.where = path, where
        if not isinstance(table, dict):
            self.fail("", f"expected a table, got {_kind(table)}")
        self.table: dict[str, Any] = table

    def fail(self, key: str, problem: str) -> None:
        name = f"{self.where}.{key}" if key else self.where
        raise ManifestError(self.path, name, problem)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                self.fail(key, f"unknown key; expected one of {', '.join(allowed)}")

    def get(self, key: str, check: Check, required: bool = False) -> Any:
        if key not in self.table:
            if required:
                self.fail(key, "missing; this key is required")
            return None
        try:
            return check(self.table[key])
        except ValueError as exc:
            self.fail(key, str(exc))


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_kind(value)}")
    if not value.strip():
        raise ValueError("expected a non-empty string")
    longest = settings.value("event_text_length")
    if len(value) > longest:
        raise ValueError(f"string of {len(value)} characters; at most {longest} allowed")
    return value


def ident(value: Any) -> str:
    value = text(value)
    if not _ID.match(value):
        raise ValueError(f"{value!r} is not an id; expected letters, digits, '.', '_' or '-'")
    return value


def texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected an array of strings, got {_kind(value)}")
    return tuple(text(v) for v in value)


def idents(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected an array of ids, got {_kind(value)}")
    return tuple(ident(v) for v in value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_kind(value)}")
    return value


def _shown(value: Any) -> str:
    """A value as the event file wrote it (TOML), for messages: `2019-03-19T10:00:00` is
    a date and time, not Python's `datetime.datetime(2019, 3, 19, 10, 0)`."""
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, dt.date | dt.time):
        return f"the {'date' if isinstance(value, dt.date) else 'time'} {value.isoformat()}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool | int | float):
        return f"{_kind(value)} {str(value).lower() if isinstance(value, bool) else value}"
    return _kind(value)


def date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{_shown(value)} is not a date; expected YYYY-MM-DD without a time, "
                     "e.g. 2019-03-19")


def time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    match = _TIME.match(value) if isinstance(value, str) else None
    if match and int(match[1]) < 24 and int(match[2]) < 60 and int(match[3] or 0) < 60:
        return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))
    raise ValueError(f"{_shown(value)} is not a time; expected HH:MM without a date, "
                     "e.g. 11:15")


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # ZoneInfo also opens files that name no zone of the IANA list: 'localtime' (the
    # host's zone, so times would move with the machine), 'posix/…', 'right/…' (leap
    # seconds), 'posixrules', 'Factory'.
    return frozenset(available_timezones() - {"localtime", "Factory"})


def timezone(value: Any) -> str:
    value = text(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. 'Europe/Rome'") from None
    if value not in _zone_names():
        raise ValueError(f"{value!r} is not an IANA time zone name, e.g. 'Europe/Rome'")
    return value


def clock_offset(value: Any) -> dt.timedelta:
    match = _OFFSET.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{_shown(value)} is not an offset; expected a string ±HH:MM:SS, "
                         "e.g. '-00:03:20'")
    sign = -1 if match[1] == "-" else 1
    return sign * dt.timedelta(hours=int(match[2]), minutes=int(match[3]),
                               seconds=int(match[4]))


def glob(value: Any) -> str:
    value = text(value)
    try:
        compile_glob(value)
    except GlobError as exc:
        raise ValueError(f"{value!r} is not a valid glob: {exc}") from None
    return value


def license_(value: Any) -> str:
    value = text(value)
    problem = license_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def url(value: Any) -> str:
    value = text(value)
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def relpath(value: Any) -> str:
    # Named as `list` shows it: `caf\xe9.jpg` for a name that is not UTF-8.
    value = separators(text(value))
    if value.startswith("/") or ".." in value.split("/"):
        raise ValueError(f"{value!r} must be relative to the event folder, without '..'")
    path = posixpath.normpath(value)  # 'a//b', './a', 'a/./b': as scanning names files
    if path.startswith("/") or not path.strip() or path == ".":
        raise ValueError(f"{value!r} names no file: expected a path in the event folder")
    return path


def face_ref(value: Any) -> FaceRef:
    """`path#n`: the n-th face (from 1) of a file, its path relative to the event folder."""
    value = text(value)
    path, hash_, number = value.rpartition("#")
    if not hash_ or not path or not number.isascii() or not number.isdigit() or \
            not 1 <= int(number) <= 99_999:
        raise ValueError(f"{value!r} is not a face; expected 'path#n', the n-th face "
                         "(from 1 to 99999) of a file, as `event-archive faces` names them")
    return FaceRef(relpath(path), int(number))


def face_refs(value: Any) -> tuple[FaceRef, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected an array of faces ('path#n'), got {_kind(value)}")
    return tuple(dict.fromkeys(face_ref(v) for v in value))


def _credit(r: _Reader) -> CreditSpec:
    checks = {"license": license_, "acquire_license_page": url}
    return CreditSpec(**{name: r.get(name, checks.get(name, text)) for name in CREDIT_FIELDS})


def _tables(path: Path, data: dict[str, Any], key: str) -> list[_Reader]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ManifestError(path, key, f"expected an array of tables [[{key}]], got "
                            f"{_kind(value)}")
    return [_Reader(path, f"{key}[{i}]", item) for i, item in enumerate(value)]


def _name_by_id(r: _Reader) -> str:
    """Read the required id and name later messages by it (easier to find than an index)."""
    value = r.get("id", ident, required=True)
    r.where = f"{r.where.split('[')[0]}[id={value!r}]"
    return value


def _event(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    if "event" not in data:
        raise ManifestError(path, "event", "missing; the file needs an [event] table")
    r = _Reader(path, "event", data["event"])
    r.only(("id", "title", "date", "end_date", "timezone", "venue", "organisers",
            "description", "url"))
    fields = {"id": r.get("id", ident, True), "title": r.get("title", text, True),
              "date": r.get("date", date), "end_date": r.get("end_date", date),
              "timezone": r.get("timezone", timezone) or "UTC",
              "venue": r.get("venue", text), "organisers": r.get("organisers", texts) or (),
              "description": r.get("description", text), "url": r.get("url", text)}
    if fields["end_date"] and not fields["date"]:
        r.fail("end_date", "given without date; add the event's first day as date")
    if fields["end_date"] and fields["end_date"] < fields["date"]:
        r.fail("end_date", f"{fields['end_date']} is before date {fields['date']}")
    return fields


def _credits(path: Path, data: dict[str, Any]) -> tuple[CreditSpec, tuple[CreditRule, ...]]:
    table = dict(data.get("credit", {})) if isinstance(data.get("credit", {}), dict) else None
    if table is None:
        raise ManifestError(path, "credit", f"expected a table, got {_kind(data['credit'])}")
    rules_data = table.pop("rules", [])
    r = _Reader(path, "credit", table)
    r.only(CREDIT_FIELDS + ("rules",))
    default = _credit(r)
    rules = []
    for rr in _tables(path, {"credit.rules": rules_data}, "credit.rules"):
        rr.only(CREDIT_FIELDS + ("match", "force"))
        rules.append(CreditRule(match=rr.get("match", glob, True), credit=_credit(rr),
                                force=bool(rr.get("force", boolean))))
    return default, tuple(rules)


def _people(path: Path, data: dict[str, Any]) -> tuple[Person, ...]:
    people = []
    for r in _tables(path, data, "people"):
        r.only(("id", "name", "affiliation", "project", "aliases", "url", "consent",
                "faces", "not_faces"))
        people.append(Person(id=_name_by_id(r), name=r.get("name", text, True),
                             affiliation=r.get("affiliation", text),
                             project=r.get("project", text),
                             aliases=r.get("aliases", texts) or (), url=r.get("url", text),
                             consent=r.get("consent", boolean) is not False,
                             faces=r.get("faces", face_refs) or (),
                             not_faces=r.get("not_faces", face_refs) or ()))
    _check_faces(path, people)
    return tuple(people)


def _check_faces(path: Path, people: list[Person]) -> None:
    """A face is the reference of one person at most, and never both named and
    rejected for the same person."""
    owner: dict[FaceRef, str] = {}
    for person in people:
        key = f"people[id={person.id!r}].faces"
        for ref in person.faces:
            if ref in person.not_faces:
                raise ManifestError(path, key, f"{str(ref)!r} is also in not_faces; a face "
                                    "is this person's or not")
            if owner.setdefault(ref, person.id) != person.id:
                raise ManifestError(path, key, f"{str(ref)!r} is already a face of "
                                    f"{owner[ref]!r}; a face is one person's")


def _sessions(path: Path, data: dict[str, Any], day: dt.date | None) -> tuple[Session, ...]:
    sessions = []
    for r in _tables(path, data, "sessions"):
        r.only(("id", "title", "date", "start", "end", "room", "moderators", "speakers",
                "description"))
        sid = _name_by_id(r)
        session_day = r.get("date", date) or day
        if session_day is None:
            r.fail("date", "missing; give the session a date or the [event] a date")
        start, end = r.get("start", time, True), r.get("end", time, True)
        if end <= start:
            r.fail("end", f"{end:%H:%M} is not after start {start:%H:%M}; "
                   "expected the session to end after it starts")
        sessions.append(Session(
            id=sid, title=r.get("title", text, True), date=session_day, start=start, end=end,
            room=r.get("room", text), moderators=r.get("moderators", idents) or (),
            speakers=r.get("speakers", idents) or (), description=r.get("description", text)))
    return tuple(sessions)


def _cameras(path: Path, data: dict[str, Any]) -> tuple[Camera, ...]:
    cameras = []
    for r in _tables(path, data, "cameras"):
        r.only(("serial", "make", "model", "clock_offset", "room"))
        camera = Camera(serial=r.get("serial", text), make=r.get("make", text),
                        model=r.get("model", text),
                        clock_offset=r.get("clock_offset", clock_offset) or dt.timedelta(0),
                        room=r.get("room", text))
        if not camera.serial and not camera.model:
            r.fail("", "a camera needs a serial or a model to be recognised")
        cameras.append(camera)
    return tuple(cameras)


def _media(path: Path, data: dict[str, Any]) -> tuple[MediaEntry, ...]:
    entries = []
    for r in _tables(path, data, "media"):
        r.only(("path", "session", "people", "title", "description", "keywords", "publish")
               + CREDIT_FIELDS)
        entry = MediaEntry(
            path=r.get("path", relpath, True), session=r.get("session", ident),
            people=r.get("people", idents) or (), title=r.get("title", text),
            description=r.get("description", text), keywords=r.get("keywords", texts) or (),
            credit=_credit(r), publish=r.get("publish", boolean))
        if entry.is_glob:
            _check_glob_entry(r, entry)
        entries.append(entry)
    return tuple(entries)


def _check_glob_entry(r: _Reader, entry: MediaEntry) -> None:
    """A glob names many files: it may only publish or withdraw them (a title or a
    credit given to every file it matches would be a mistake no report shows)."""
    r.get("path", glob)
    others = [key for key in r.table if key not in ("path", "publish")]
    if others:
        r.fail(others[0], f"not allowed beside a glob path ({entry.path!r}); a glob "
               "entry gives only publish; name one file to give it more")
    if entry.publish is None:
        r.fail("publish", "missing; a [[media]] entry whose path is a glob gives publish "
               "= true or false")


def _unique(path: Path, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ManifestError(path, f"{key}[id={value!r}]",
                                "duplicate id; each id must appear once")
        seen.add(value)


def _check_references(path: Path, event: Event) -> None:
    people = {p.id for p in event.people}
    sessions = {s.id for s in event.sessions}
    for s in event.sessions:
        for role in ("moderators", "speakers"):
            for pid in getattr(s, role):
                if pid not in people:
                    raise ManifestError(path, f"sessions[id={s.id!r}].{role}",
                                        f"unknown person id {pid!r}; expected one of the "
                                        "[[people]] ids")
    seen_paths: set[str] = set()
    for m in event.media:
        where = f"media[path={m.path!r}]"
        if m.path in seen_paths:
            raise ManifestError(path, where, "duplicate path; each file may have one entry")
        seen_paths.add(m.path)
        if m.session and m.session not in sessions:
            raise ManifestError(path, f"{where}.session",
                                f"unknown session id {m.session!r}; expected one of the "
                                "[[sessions]] ids")
        for pid in m.people:
            if pid not in people:
                raise ManifestError(path, f"{where}.people",
                                    f"unknown person id {pid!r}; expected one of the "
                                    "[[people]] ids")


def _check_overlaps(path: Path, sessions: tuple[Session, ...]) -> None:
    """Two sessions in the same room at the same time cannot both be true."""
    by_room: dict[tuple[dt.date, str], list[Session]] = {}
    for s in sessions:
        if s.room:
            by_room.setdefault((s.date, s.room), []).append(s)
    for group in by_room.values():
        group.sort(key=lambda s: s.start)
        for a, b in zip(group, group[1:], strict=False):
            if b.start < a.end:
                raise ManifestError(
                    path, f"sessions[id={b.id!r}].start",
                    f"{b.start:%H:%M} overlaps session {a.id!r} (until {a.end:%H:%M}) in "
                    f"room {b.room!r}; expected sessions in one room not to overlap")


_HEADER = re.compile(r"^\s*\[(\[?)\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_ID_LINE = re.compile(r"""^\s*id\s*=\s*("[^"]*"|'[^']*')""")


def _toml_problem(text_: str, exc: tomli.TOMLDecodeError) -> tuple[str, str]:
    """The key of the line TOML could not read and what is wrong there: the parser's
    words alone ("Expected newline ... at line 30, column 11") name neither the key nor
    the value, and a time like 25:00 reads as a syntax error."""
    lines = text_.splitlines()
    line = lines[exc.lineno - 1].strip() if 0 < exc.lineno <= len(lines) else ""
    problem = (f"line {exc.lineno}, column {exc.colno} is not valid TOML: {exc.msg}"
               + (f" (the line reads {line[:80]!r})" if line else ""))
    if re.search(r"=\s*\d{1,2}:\d{2}", line):
        problem += "; expected a time of day from 00:00 to 23:59"
    if line.startswith("["):  # a table's own header: the line says it all
        return "", problem
    key = _KEY.match(line)
    table = _table_at(lines, exc.lineno)
    return (table + key[1].strip("\"'") if key else table.rstrip(".")), problem


def _table_at(lines: list[str], lineno: int) -> str:
    """`sessions[id='am'].` (or `event.`): the table holding line `lineno`, as the other
    messages name it; '' before any table."""
    counts: dict[str, int] = {}
    table, array, ident = "", False, None
    for line in lines[:lineno - 1]:
        if header := _HEADER.match(line):
            table, array, ident = header[2], bool(header[1]), None
            counts[table] = counts.get(table, 0) + array
        elif table and (found := _ID_LINE.match(line)):
            ident = found[1][1:-1]
    if not array:
        return f"{table}." if table else ""
    return f"{table}[id={ident!r}]." if ident is not None else f"{table}[{counts[table] - 1}]."


def parse_event(text_: str, path: Path, folder: Path) -> Event:
    """Parse the text of an event file; raises ManifestError on the first mistake."""
    try:
        data = tomli.loads(text_)
    except tomli.TOMLDecodeError as exc:
        raise ManifestError(path, *_toml_problem(text_, exc)) from None
    except RecursionError:
        raise ManifestError(path, "", "values nested too deeply to be an event file") from None
    allowed = ("event", "credit", "people", "sessions", "cameras", "media")
    for key in data:
        if key not in allowed:
            raise ManifestError(path, key, f"unknown table; expected one of {', '.join(allowed)}")
    fields = _event(path, data)
    credit, rules = _credits(path, data)
    event = Event(**fields, folder=folder, source=path, credit=credit, credit_rules=rules,
                  people=_people(path, data),
                  sessions=_sessions(path, data, fields["date"]),
                  cameras=_cameras(path, data), media=_media(path, data))
    _unique(path, "people", [p.id for p in event.people])
    _unique(path, "sessions", [s.id for s in event.sessions])
    _check_references(path, event)
    _check_overlaps(path, event.sessions)
    return event


def default_event(folder: Path) -> Event:
    """An event for a folder without an event file: named after the folder."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-.") or "event"
    return Event(id=slug[:128], title=folder.name or slug, folder=folder)


def read_event_file(path: Path) -> bytes | None:
    """The bytes of the event file, None if there is none.

    Raises ManifestError for anything but a regular file of at most event_file_bytes
    (settings; an event file of a large conference is some 100 KB, anything bigger is a
    mistake): a FIFO would block the ingest (holding the archive's lock), a device such
    as /dev/zero would never end.
    """
    try:
        # Non-blocking: opening a FIFO to read would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        if os.path.islink(path):  # not "no event file": a folder of the wrong event
            raise ManifestError(path, "", f"a link to {os.readlink(path)}, which does not "
                                "exist") from None
        return None
    except OSError as exc:
        raise ManifestError(path, "", f"cannot read: {exc.strerror}") from None
    with open(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ManifestError(path, "", "not a regular file; the event file must be a "
                                "text file (a link to one in the event folder is fine)")
        if not within(_opened(fd, path), path.parent):
            # As for media: what a link out of the folder leads to is never read (its
            # first line would be quoted by a syntax error: /proc/self/environ, say).
            raise ManifestError(path, "", "a link out of the event folder; copy the event "
                                "file into the folder (or link to one inside it)")
        largest = settings.value("event_file_bytes")
        # Read one byte past the limit: a file still growing cannot slip through.
        data = b"" if info.st_size > largest else file.read(largest + 1)
    if info.st_size > largest or len(data) > largest:
        raise ManifestError(path, "", f"{max(info.st_size, len(data)):,} bytes; an event "
                            f"file may be at most {largest // settings.MiB} MB")
    return data


def _opened(fd: int, path: Path) -> str:
    """The real path of the file opened as `fd` (where /proc says), else of `path`."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def load_event(folder: Path) -> Event:
    """The event of a media folder: its `event.toml`, or a default one if it has none.

    Raises ManifestError when the file exists but cannot be read or is wrong.
    """
    return load_event_version(folder)[0]


def load_event_version(folder: Path) -> tuple[Event, str | None]:
    """The event of a media folder and the SHA-256 of the event file's bytes it was read
    from (None: no event file), read once: a form carrying that version shows those very
    values, so a change made between reading and hashing cannot slip past the check of
    a stale form (`eventedit.file_version` hashes the same bytes).

    Raises ManifestError as load_event does.
    """
    folder = folder.resolve()
    path = folder / EVENT_FILE
    try:
        raw = read_event_file(path)
        if raw is None:
            return default_event(folder), None
        # A byte order mark (Windows editors write one) is no TOML, but no mistake either.
        content = raw.decode("utf-8-sig")
    except OSError as exc:
        raise ManifestError(path, "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(path, "", f"not UTF-8 text (byte {exc.start}); save the file "
                            "as UTF-8") from None
    return parse_event(content, path, folder), hashlib.sha256(raw).hexdigest()
