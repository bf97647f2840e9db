"""The viewer: an item page among the others of the list the visitor came from (a page of
search results, a session, a person's items or work), with the previous and next item
and the way back.

The list travels in the item's URL: `?q=&sort=&page=&limit=` as the search page had
them, or `?in=session:ID`, `?in=person:ID`, `?in=by:ID` (in the item's event). The
neighbours are worked out here from the same search or listing the list's page shows,
so they are those the visitor saw around the item. A context that cannot be used (a
malformed one, an unknown id, a query the search refuses, a list without the item)
leaves the item page as it is without one: never an error page for the item itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, request, url_for
from werkzeug.exceptions import BadRequest, NotFound, ServiceUnavailable

from archive import catalog as cat
from archive import settings

from . import lookups
from .context import archive
from .searching import run

T = TypeVar("T")


@dataclass(frozen=True)
class Neighbours:
    back: str  # the list's page
    back_label: str
    previous: str | None  # the previous item's page, in the same list
    next: str | None
    position: int | None  # the item's place in the list (from 1); None when not in it
    total: int


@dataclass(frozen=True)
class Listing:
    """A list of items other than a search: their ids in the order its page shows them."""

    ids: list[str]
    back: str
    back_label: str


def neighbours(item: dict[str, Any]) -> Neighbours | None:
    """Where the item is in the list its URL names, or None for no list (or an unusable
    one)."""
    if "in" in request.args:
        return _in_listing(item, request.args["in"])
    if "q" in request.args:
        return _in_search(item["id"])
    return None


def search_context(result: dict[str, Any]) -> dict[str, str]:
    """The URL parameters that take a search page's list to its items' pages."""
    return _search_params(result["query"], request.args.get("sort") or "relevance",
                          result["page"], _given_limit())


# ---- a search ------------------------------------------------------------------------

def _given_limit() -> int | None:
    """The page size the URL asks for, as the search page reads it (None: the default)."""
    if "limit" not in request.args:
        return None
    return _whole(request.args["limit"], 1, settings.value("max_limit"))


def _search_params(query: str, sort: str, page: int, limit: int | None) -> dict[str, str]:
    """The search's URL parameters, leaving out those at their defaults."""
    params = {"q": query}
    if sort != "relevance":
        params["sort"] = sort
    if page > 1:
        params["page"] = str(page)
    if limit is not None:
        params["limit"] = str(limit)
    return params


def _whole(text: str, low: int, high: int) -> int | None:
    """A whole number from the URL within [low, high] (clamped as the search page
    clamps it); None when it is none."""
    try:
        return max(low, min(high, int(text)))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Search:
    """The search the URL names: its query, order and page size."""

    query: str
    sort: str
    limit: int
    given: int | None  # the page size the URL gives (None: the site's own)

    @classmethod
    def from_request(cls) -> _Search | None:
        """The request's search; None when its page size is no number."""
        given = _given_limit()
        if given is None and "limit" in request.args:
            return None
        return cls(request.args.get("q", "").strip(), request.args.get("sort") or "relevance",
                   given or current_app.config["PER_PAGE"], given)

    def page(self, number: int) -> dict[str, Any] | None:
        """A page of its results, as the search page shows it; None if refused."""
        return _quietly(lambda: run(self.query, number, self.limit, self.sort))

    def link(self, hit: dict[str, Any], number: int) -> str:
        """The page of a hit on page `number`, at its moment for a transcript match."""
        anchor = f"t={round(hit['at'], 3)}" if isinstance(hit.get("at"), int | float) else None
        return url_for("pages.item", item_id=hit["id"], _anchor=anchor,
                       **_search_params(self.query, self.sort, number, self.given))

    def back(self, number: int) -> str:
        return url_for("pages.search",
                       **_search_params(self.query, self.sort, number, self.given))


def _in_search(item_id: str) -> Neighbours | None:
    search = _Search.from_request()
    page = _whole(request.args.get("page", "1"), 1, settings.value("max_page"))
    if search is None or page is None:
        return None
    found = search.page(page)
    if found is None:
        return None
    page, hits = found["page"], found["results"]  # the last page, for a number past it
    at = next((n for n, hit in enumerate(hits) if hit["id"] == item_id), None)
    if at is None:
        return Neighbours(search.back(page), "Back to results", None, None, None,
                          found["total"])
    before = _beside(search, hits, at - 1, page, -1, found["pages"])
    after = _beside(search, hits, at + 1, page, 1, found["pages"])
    return Neighbours(search.back(page), "Back to results", before and search.link(*before),
                      after and search.link(*after), (page - 1) * search.limit + at + 1,
                      found["total"])


def _beside(search: _Search, hits: list[dict[str, Any]], index: int, page: int, step: int,
            pages: int) -> tuple[dict[str, Any], int] | None:
    """The hit at `index` of this page, else the last of the page before (step -1) or
    the first of the page after (step 1), with its page number; None at either end."""
    if 0 <= index < len(hits):
        return hits[index], page
    if not 1 <= page + step <= pages:
        return None
    found = search.page(page + step)
    if not found or not found["results"]:
        return None
    return found["results"][-1 if step < 0 else 0], page + step


# ---- a session, a person's items, a person's work --------------------------------------

def _session(event_id: str, session_id: str) -> Listing:
    lookups.session(archive(), session_id, event_id)  # 404 for a session it has not
    records = cat.items_of_session(archive().catalog, event_id, session_id)
    return Listing([r.id for r in records],
                   url_for("browse.session", event_id=event_id, session_id=session_id),
                   "Back to the session")


def _person(event_id: str, person_id: str) -> Listing:
    found = lookups.person(archive(), person_id, event_id)
    items = lookups.person_items(archive(), person_id, event_id)
    return Listing([i["id"] for i in items],
                   url_for("browse.person", event_id=event_id, person_id=person_id),
                   f"Back to {found['name']}")


def _work(event_id: str, person_id: str) -> Listing:
    found = lookups.person(archive(), person_id, event_id)
    records = cat.items_by_creator(archive().catalog, event_id, person_id)
    return Listing([r.id for r in records],
                   url_for("browse.person", event_id=event_id, person_id=person_id,
                           _anchor="photos-by"),
                   f"Back to {found['name']}'s work")


LISTINGS: dict[str, Callable[[str, str], Listing]] = {
    "session": _session, "person": _person, "by": _work}


def _in_listing(item: dict[str, Any], where: str) -> Neighbours | None:
    kind, _, ident = where.partition(":")
    if kind not in LISTINGS or not lookups.is_name(ident):
        return None
    listing = _quietly(lambda: LISTINGS[kind](item["event"], ident))
    if listing is None or item["id"] not in listing.ids:
        return None
    at = listing.ids.index(item["id"])

    def link(index: int) -> str | None:
        if not 0 <= index < len(listing.ids):
            return None
        return url_for("pages.item", item_id=listing.ids[index], **{"in": where})

    return Neighbours(listing.back, listing.back_label, link(at - 1), link(at + 1), at + 1,
                      len(listing.ids))


def _quietly(answer: Callable[[], T]) -> T | None:
    """What `answer` gives, or None when it answers with an error page: a context that
    names nothing (404), a query refused (400) or no index (503) costs the item page
    only its neighbours."""
    try:
        return answer()
    except (BadRequest, NotFound, ServiceUnavailable):
        return None
