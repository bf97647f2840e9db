"""A query's filters, as the search page shows them (chips) and takes them off."""

from __future__ import annotations

import pytest

from indexer.query import filters, parse


@pytest.mark.parametrize(("text", "expected"), [
    ("keller session:s2 kind:photo",
     [("session", "s2", False, "keller kind:photo"),
      ("kind", "photo", False, "keller session:s2")]),
    ("session:s2", [("session", "s2", False, "")]),
    # An alias is the field it names; quotes are taken off the value.
    ('type:photo people:"Péter Keller"',
     [("kind", "photo", False, 'people:"Péter Keller"'), ("person", "Péter Keller", False,
                                                         "type:photo")]),
    # NOT and minus negate; the NOT and an AND before go with the term.
    ("x -kind:video", [("kind", "video", True, "x")]),
    ("NOT kind:video x", [("kind", "video", True, "x")]),
    ("NOT NOT kind:video x", [("kind", "video", False, "x")]),
    ("a AND kind:photo", [("kind", "photo", False, "a")]),
    ("a AND NOT kind:photo b", [("kind", "photo", True, "a b")]),
    # Not filters: OR at the top, brackets, a word that is no field, an empty value.
    ("a OR kind:video", []),
    ("(kind:video OR kind:photo) x", []),
    ("keynote: opening", []),
    ("https://example.org/x", []),
    ("kind:", []),
    ("", []),
])
def test_the_filters_of_a_query_and_the_query_without_each(
        text: str, expected: list[tuple[str, str, bool, str]]) -> None:
    assert [(f.field, f.value, f.negated, f.without) for f in filters(text)] == expected


@pytest.mark.parametrize("text", ['keller session:"s2', "(a kind:video", "kind:video)",
                                  'title:"a \\" b" kind:photo', "a\\ kind:photo"])
def test_a_query_without_a_filter_still_parses(text: str) -> None:
    for found in filters(text):
        parse(found.without)
