"""The curator's forms read into the values the event file takes: each field on its own,
every mistake a message naming the field (never an exception past the view).

Checks that the event file makes anyway (a licence, a URL, a text's length) are made
here first with the same functions, so the message names the form's field rather than
a key of a file the curator never saw.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archive import settings
from archive.model import CREDIT_FIELDS, Person, Session
from archive.resolve.eventfile import clock_offset as checked_offset
from archive.resolve.eventfile import license_, text, url

# Control characters (C0, DEL, C1) have no place in a one-line field; a description
# keeps its line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PEOPLE_SPLIT = re.compile(r"[,;\n]")
# ±HH:MM:SS or ±MM:SS; a minus may be typed as U+2212 (pasted from documents).
_OFFSET = re.compile(r"\s*([+\-\u2212]?)\s*(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\s*\Z")
LINE_FIELDS = ("title", *CREDIT_FIELDS)
ITEM_FIELDS = ("title", "description", "session", "people", *CREDIT_FIELDS, "publish")
CAMERA_FIELDS = ("serial", "make", "model", "clock_offset", "room")
PUBLISH_CHOICES = {"": None, "true": True, "false": False}


class FormInvalid(Exception):
    """What is wrong with a form: {field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def line(value: str, name: str = "value") -> str | None:
    """A one-line text: stripped; None when blank.

    Raises ValueError for a control character (a line break included) or a text longer
    than the event file takes.
    """
    value = value.strip()
    if not value:
        return None
    if _CONTROL.search(value):
        raise ValueError(f"{name} must be one line, without control characters")
    return text(value)


def paragraph(value: str) -> str | None:
    """A text of several lines (CRLF as LF), stripped; None when blank."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        return None
    if _CONTROL_BUT_LINES.search(value):
        raise ValueError("control characters other than line breaks and tabs are not "
                         "allowed")
    return text(value)


def fold(value: str) -> str:
    """A name as people type it: case and accents do not matter, nor repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def people_index(people: Iterable[Person]) -> dict[str, str]:
    """Every way a person may be typed (id, name, alias; folded) -> their id. A name two
    people share names neither (it is left out)."""
    found: dict[str, str | None] = {}
    for person in people:
        for key in (person.id, person.name, *person.aliases):
            folded = fold(key)
            found[folded] = None if found.get(folded, person.id) != person.id else person.id
    for person in people:  # an id always names its person, whatever names collide
        found[fold(person.id)] = person.id
    return {k: v for k, v in found.items() if v is not None}


def people_list(value: str, people: Sequence[Person]) -> list[str]:
    """People typed as ids, names or aliases, separated by commas, semicolons or lines,
    as their ids in the order typed, each once.

    Raises ValueError naming what matches nobody of the event.
    """
    index = people_index(people)
    ids: list[str] = []
    for part in _PEOPLE_SPLIT.split(value):
        if not part.strip():
            continue
        person = index.get(fold(part))
        if person is None:
            shown = part.strip()[:80]
            raise ValueError(f"{shown!r} is nobody of this event's [[people]]; write their "
                             "id or name as the list below gives them")
        if person not in ids:
            ids.append(person)
    return ids


def format_people(ids: Sequence[str]) -> str:
    """Ids as the people field shows them (what people_list reads back)."""
    return ", ".join(ids)


def clock_offset(value: str) -> str | None:
    """A camera clock's offset typed as ±HH:MM:SS or ±MM:SS (no sign: +) in the event
    file's form, '-00:03:20'; None when blank.

    Raises ValueError for anything else (minutes or seconds past 59).
    """
    if not value.strip():
        return None
    match = _OFFSET.match(value)
    if match is None:
        raise ValueError(f"{value.strip()[:40]!r} is not an offset; write ±HH:MM:SS, e.g. "
                         "-00:03:20 for a camera 3 min 20 s behind")
    sign = "-" if match[1] in ("-", "\u2212") else "+"
    hours, minutes, seconds = int(match[2] or 0), int(match[3]), int(match[4])
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{value.strip()!r}: minutes and seconds go up to 59")
    written = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    checked_offset(written)  # what the event file accepts, so it never refuses ours
    return written


def publish(value: str) -> bool | None:
    if value not in PUBLISH_CHOICES:
        raise ValueError("choose one of the offered values")
    return PUBLISH_CHOICES[value]


def session(value: str, sessions: Sequence[Session]) -> str | None:
    if not value:
        return None
    if value not in {s.id for s in sessions}:
        raise ValueError(f"{value[:80]!r} is no session of this event; choose one from the "
                         "list")
    return value


def _credit(name: str, value: str) -> str | None:
    found = line(value, name)
    if found is None:
        return None
    if name == "license":
        return license_(found)
    if name == "acquire_license_page":
        return url(found)
    return found


def _fields(form: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    """The named fields of a form; raises FormInvalid when one was not sent (a form
    from elsewhere, or a body that was not UTF-8 and so read as nothing)."""
    missing = [name for name in names if name not in form]
    if missing:
        raise FormInvalid({name: "missing from the form; load the page again"
                           for name in missing})
    return {name: form[name] for name in names}


def _parsed(raw: dict[str, str], parsers: Mapping[str, Any]) -> dict[str, Any]:
    values, errors = {}, {}
    for name, value in raw.items():
        try:
            values[name] = parsers[name](value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise FormInvalid(errors)
    return values


def item_values(form: Mapping[str, str], sessions: Sequence[Session],
                people: Sequence[Person]) -> dict[str, Any]:
    """The item form's fields as values of its [[media]] entry (None: take the key out).

    Raises FormInvalid with a message for each field that is wrong.
    """
    parsers: dict[str, Any] = {
        "title": lambda v: line(v, "the title"), "description": paragraph,
        "session": lambda v: session(v, sessions),
        "people": lambda v: people_list(v, people) or None, "publish": publish,
        **{name: (lambda v, n=name: _credit(n, v)) for name in CREDIT_FIELDS}}
    return _parsed(_fields(form, ITEM_FIELDS), parsers)


def camera_values(form: Mapping[str, str]) -> dict[str, Any]:
    """The camera form's fields as a [[cameras]] entry (blank fields left out).

    Raises FormInvalid, also for a camera with neither serial nor model.
    """
    parsers: dict[str, Any] = {name: (lambda v, n=name: line(v, n)) for name in CAMERA_FIELDS}
    parsers["clock_offset"] = clock_offset
    values = _parsed(_fields(form, CAMERA_FIELDS), parsers)
    if not values["serial"] and not values["model"]:
        raise FormInvalid({"model": "a camera is recognised by its serial number or its "
                           "model: give one"})
    return {k: v for k, v in values.items() if v is not None}


def longest_field() -> int:
    """Characters of one field at most (the event file's limit for one text)."""
    return int(settings.value("event_text_length"))
