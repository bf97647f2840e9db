"""Narrowing a search: the facets beside the results, and the active filters above them
as chips that can be removed."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from urllib.parse import urlencode

from flask import request, url_for

from archive import settings
from archive.catalog import names_by_id
from archive.catalog import session_titles as titles_of_sessions
from indexer.query import Filter, field_term, filters, narrowable

from .context import archive

FACET_LABELS = {"event": "Event", "session": "Session", "person": "Person", "kind": "Kind",
                "creator": "Creator", "camera": "Camera"}


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    href: str  # the query narrowed by the value; for an active one, the query without it
    active: bool = False


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    links: list[FacetLink]
    more: int  # values past those shown
    toggle: str | None  # the page showing all of them ("More"), or the first ones


@dataclass(frozen=True)
class Chip:
    """An active filter of the query, and the query without it."""

    label: str
    value: str
    negated: bool
    href: str


def _here(**changes: str | None) -> str:
    """This page's URL with some parameters changed (None drops one)."""
    merged = request.args.to_dict()
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return url_for("pages.search") + "?" + urlencode(merged)


def _query_string(text: str, more: dict[str, str]) -> str:
    """`q=text` (and `more`) encoded as url_for encodes them."""
    return urlencode({"q": text.strip(), **more}, safe="!$'()*,/:;?@")


def _kept() -> dict[str, str]:
    """What a changed query keeps: the order the visitor chose (and it starts at its first
    page)."""
    return {"sort": request.args["sort"]} if request.args.get("sort") else {}


def chips(result: dict) -> list[Chip]:
    """The query's filters (`field:value` terms of its top-level AND), each linking to
    the query without it."""
    found = filters(result["query"])
    people = names_by_id(archive().catalog, [f.value for f in found if f.field == "person"])
    # A session id names one session in the event the query is in, if it says one.
    events = {f.value for f in found if f.field == "event" and not f.negated}
    titles = session_titles([f.value for f in found if f.field == "session"],
                            events.pop() if len(events) == 1 else None)
    names = {"person": people, "session": titles}
    path = url_for("pages.search")
    return [Chip(FACET_LABELS.get(f.field, f.field.capitalize()),
                 names.get(f.field, {}).get(f.value, f.value), f.negated,
                 f"{path}?{_query_string(f.without, _kept())}") for f in found]


def facets(result: dict, opened: str | None) -> list[Facet]:
    """The first values of each facet (the facet_values setting), as links to the query
    narrowed by the value (written so that the parser reads it back exactly); the facet
    `opened` shows up to facet_more. A value the query already filters by is marked, and
    its link takes the filter off.

    A facet can count thousands of values (the people of 200 events): looping over them
    in the template took half of a cached search page. The query is tokenized once per
    page, and the route's URL built once (werkzeug's url_for: 40 µs a link).
    """
    first = settings.value("facet_values")
    shown = {name: list(islice(counts.items(), settings.value("facet_more") if
                               name == opened else first))
             for name, counts in result["facets"].items()}
    names = value_names(shown)
    active = _active(filters(result["query"]))
    base, path = narrowable(result["query"]), url_for("pages.search")
    found = []
    for name, values in shown.items():
        links = [_link(name, value, count, names, active, base, path) for value, count in values]
        hidden = max(0, len(result["facets"][name]) - first)
        found.append(Facet(name, FACET_LABELS.get(name, name), links, hidden,
                           _toggle(name, opened) if hidden else None))
    return found


def _toggle(name: str, opened: str | None) -> str:
    """This page with all the facet's values shown ("More"), or with its first ones
    again, opened at the facet."""
    return f"{_here(more=None if name == opened else name)}#facet-{name}"


def _active(found: list[Filter]) -> dict[tuple[str, str], str]:
    """(field, value) -> the query without it, for the query's positive filters."""
    return {(f.field, f.value.casefold()): f.without for f in found if not f.negated}


def _link(name: str, value: str, count: int, names: dict[str, dict[str, str]],
          active: dict[tuple[str, str], str], base: str, path: str) -> FacetLink:
    label = names.get(name, {}).get(value, value)
    without = active.get((name, value.casefold()))
    text = without if without is not None else f"{base} {field_term(name, value)}"
    return FacetLink(value, label, count, f"{path}?{_query_string(text, _kept())}",
                     without is not None)


def value_names(shown: dict[str, list[tuple[str, int]]]) -> dict[str, dict[str, str]]:
    """Readable names for facet values that are ids: people's names, session titles."""
    person_ids = [value for value, _ in shown.get("person", [])]
    session_ids = [value for value, _ in shown.get("session", [])]
    events = [value for value, _ in shown.get("event", [])]
    people = names_by_id(archive().catalog, person_ids)
    titles = session_titles(session_ids, events[0] if len(events) == 1 else None)
    return {"person": {v: people.get(v, v) for v in person_ids},
            "session": {v: f"{v}: {titles[v]}" if v in titles else v for v in session_ids}}


def session_titles(ids: list[str], event: str | None) -> dict[str, str]:
    """Titles of session ids: those of `event` (the one the results are in), else of the
    ids only one event has. Session ids repeat across events (`s1` of 200 events has no
    one title); reading every event's rows took 1,600 rows a page."""
    return titles_of_sessions(archive().catalog, ids, event)
