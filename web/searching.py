"""The search request both the page and the API answer: parameters in, results out."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request

from indexer.search import IndexMissing, Page, QueryError

from .context import archive, site
from .lookups import event_folders, public

SORTS = ("relevance", "date", "-date")


def _int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        abort(400, description=f"{name} must be a whole number")
    return max(low, min(high, value))


def run(text: str, page: int = 1, limit: int = 24, sort: str = "relevance") -> dict[str, Any]:
    """Search the site's index; 400 for a malformed query, 503 when the index has not
    been built. Paths in the results are relative to their event folder."""
    if len(text) > current_app.config["MAX_QUERY_LENGTH"]:
        abort(400, description="The query is too long.")
    if sort not in SORTS:
        abort(400, description=f"sort must be one of {', '.join(SORTS)}")
    try:
        result = site().index().search(text, Page(page, limit), sort)
    except QueryError as exc:
        abort(400, description=f"Bad query: {exc}")
    except IndexMissing:
        abort(503, description="The search index is not built yet; run "
              "'event-archive reindex'.")
    folders = event_folders(archive())
    result["results"] = [public(item, folders) for item in result["results"]]
    return result


def search_request(default_limit: int | None = None) -> dict[str, Any]:
    """Run the request's query: parameters q, page, limit and sort."""
    limit = _int("limit", default_limit or current_app.config["PER_PAGE"], 1, 200)
    return run(request.args.get("q", "").strip(), _int("page", 1, 1, 10_000), limit,
               request.args.get("sort", "relevance"))


def every_result(text: str, cap: int = 10_000) -> list[dict[str, Any]]:
    """All items a query selects (up to `cap`), page after page."""
    first = run(text, 1, 200)
    items = list(first["results"])
    for number in range(2, min(first["pages"], cap // 200) + 1):
        items += run(text, number, 200)["results"]
    return items
