"""The curator's form parsers, property by property (Hypothesis): people typed as ids,
names or aliases, camera clock offsets, one-line texts. Whatever is typed, the answer is
a value the event file accepts or a ValueError with a message: never another error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from archive.model import Person
from archive.resolve.eventfile import clock_offset as event_file_offset
from web.curate.forms import (
    FormInvalid,
    camera_values,
    clock_offset,
    format_people,
    line,
    people_list,
)

PEOPLE = (
    Person("peter-keller", "Péter Keller", aliases=("Peter Keller", "P. Keller")),
    Person("roberto-pini", "Roberto Pini"),
    Person("ester-silva", "Ester Silva", aliases=("Éster",)),
    Person("xavier-testar-ymbert", "Xavier Testar Ymbert"),
    # Two people with one name: the name names neither, their ids still do.
    Person("anna-rossi", "Anna Rossi"),
    Person("anna-rossi-2", "Anna Rossi"),
)
IDS = [p.id for p in PEOPLE]
T = TypeVar("T")
MOST = 99 * 3600 + 59 * 60 + 59  # ±99:59:59, the event file's widest offset


def outcome(parse: Callable[[], T]) -> tuple[T | None, str]:
    """What a parser gives: its value and no message, or None and its ValueError's."""
    try:
        return parse(), ""
    except ValueError as exc:
        return None, str(exc)


def typed(person: Person, how: int, case: int) -> str:
    """One way a curator may type the person: id, name or an alias, in some case."""
    unique = [n for n in (person.name, *person.aliases)
              if sum(n in (p.name, *p.aliases) for p in PEOPLE) == 1]
    forms = [person.id, *unique]
    text = forms[how % len(forms)]
    return (text, text.upper(), text.lower(), f"  {text}  ")[case % 4]


@given(st.lists(st.sampled_from(IDS), unique=True))
def test_people_written_as_the_field_shows_them_read_back(ids: list[str]) -> None:
    assert people_list(format_people(ids), PEOPLE) == ids


@given(st.lists(st.tuples(st.sampled_from(PEOPLE), st.integers(0, 9), st.integers(0, 3)),
                max_size=8),
       st.sampled_from([",", ";", "\n", ", ", "\r\n", " ;\n"]))
def test_people_typed_by_id_name_or_alias_are_their_ids_in_order_once(
        picks: list[tuple[Person, int, int]], separator: str) -> None:
    text = separator.join(typed(person, how, case) for person, how, case in picks)
    assert people_list(text, PEOPLE) == list(dict.fromkeys(p.id for p, _, _ in picks))


@given(st.text(max_size=200))
@example("Anna Rossi")  # two people's name
@example("peter-keller,, ,;")
@example("\x00")
def test_any_text_in_the_people_field_is_ids_or_a_message(value: str) -> None:
    found, message = outcome(lambda: people_list(value, PEOPLE))
    if found is None:
        assert "[[people]]" in message
    else:
        assert set(found) <= set(IDS) and len(found) == len(set(found))


def written(seconds: int) -> str:
    sign, whole = ("-" if seconds < 0 else "+"), abs(seconds)
    return f"{sign}{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@given(st.integers(-MOST, MOST))
def test_an_offset_read_is_the_one_the_event_file_reads(seconds: int) -> None:
    value = clock_offset(written(seconds))
    assert value is not None
    assert event_file_offset(value) == dt.timedelta(seconds=seconds)


@given(st.integers(-3599, 3599), st.sampled_from(["", " ", "\t"]))
def test_an_offset_may_be_typed_as_minutes_and_seconds_with_any_minus(
        seconds: int, space: str) -> None:
    whole = abs(seconds)
    sign = "\u2212" if seconds < 0 else ""  # U+2212, as pasted from documents
    value = clock_offset(f"{space}{sign}{whole // 60}:{whole % 60:02d}{space}")
    assert event_file_offset(value) == dt.timedelta(seconds=seconds)


@given(st.text(max_size=40))
@example("00:60:00")
@example("+1:2:3:4")
@example("٠٠:٠٣:٢٠")  # Arabic-Indic digits: read as the digits they are, written ASCII
def test_any_offset_typed_is_one_the_event_file_takes_or_a_message(value: str) -> None:
    found, message = outcome(lambda: clock_offset(value) or "blank")
    if found is None:
        assert "offset" in message or "59" in message
    elif found != "blank":
        assert isinstance(event_file_offset(found), dt.timedelta)


@given(st.text(max_size=300))
def test_a_line_is_stripped_text_without_control_characters_or_a_message(
        value: str) -> None:
    try:
        found = line(value)
    except ValueError:
        return
    assert found is None or found == found.strip()
    assert found is None or not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in found)


@pytest.mark.parametrize(("fields", "error"), [
    ({"serial": "", "make": "Canon", "model": "", "clock_offset": "", "room": ""}, "model"),
    ({"serial": "1", "make": "", "model": "", "clock_offset": "x", "room": ""},
     "clock_offset"),
    ({"serial": "1", "make": "", "model": ""}, "clock_offset")])
def test_a_camera_form_names_the_field_that_is_wrong(fields: dict, error: str) -> None:
    with pytest.raises(FormInvalid) as caught:
        camera_values(fields)
    assert error in caught.value.errors
