"""The search request both the page and the API answer: parameters in, results out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, current_app, request

from archive import settings
from archive.catalog import present_items, withheld_ids
from indexer.generations import NOT_BUILT
from indexer.search import IndexDamaged, IndexMissing, Page, QueryError

from .context import archive, site
from .lookups import event_folders, public


def int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        abort(400, description=f"{name} must be a whole number")
    return max(low, min(high, value))


@contextmanager
def _answering() -> Iterator[None]:
    """Search errors as HTTP answers: 400 for a malformed query, 503 with no index or a
    damaged one (the site never writes, so never rebuilds it)."""
    try:
        yield
    except QueryError as exc:
        abort(400, description=f"Bad query: {exc}")
    except IndexDamaged:
        abort(503, description="The search index is damaged; run 'event-archive verify' "
              "on the server to rebuild it.")
    except IndexMissing as exc:
        if exc.problem in (None, NOT_BUILT):
            abort(503, description="The search index is not built yet; run "
                  "'event-archive reindex' on the server.")
        abort(503, description=f"The search index cannot be used: {exc.problem}; run "
              "'event-archive reindex' on the server to rebuild it.")


def _public(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results the public catalog holds, as the site shows them. The index leaves
    withheld items out already; this also covers an index behind the catalog (an ingest
    between its commit and its index sync, or killed there): never listed meanwhile."""
    shown = present_items(archive().catalog, [item["id"] for item in items])
    items = [item for item in items if item["id"] in shown]
    # Only the results' events: reading all (200 rows) took a tenth of a cached page.
    folders = event_folders(archive(), {item["event"] for item in items})
    return [public(item, folders) for item in items]


def _hidden() -> frozenset[str]:
    """What the catalog withholds that the index may not know yet: while the index is
    behind the catalog (an ingest between its commit and its index sync, or killed
    there), totals, facets and suggestions would count a newly withheld item."""
    index, catalog = site().index(), archive().catalog
    if index.revision() >= catalog.revision:
        return frozenset()
    return withheld_ids(catalog)


def run(text: str, page: int = 1, limit: int = settings.value("per_page"),
        sort: str = "relevance") -> dict[str, Any]:
    """Search the site's index; 400 for a malformed query, 503 when the index has not
    been built. Paths in the results are relative to their event folder."""
    if len(text) > current_app.config["MAX_QUERY_LENGTH"]:
        abort(400, description="The query is too long.")
    if sort not in settings.SORTS:
        abort(400, description=f"sort must be one of {', '.join(settings.SORTS)}")
    with _answering():
        result = site().index().search(text, Page(page, limit), sort, hidden=_hidden())
    result["results"] = _public(result["results"])
    return result


def search_request(default_limit: int | None = None) -> dict[str, Any]:
    """Run the request's query: parameters q, page, limit and sort."""
    limit = int_arg("limit", default_limit or current_app.config["PER_PAGE"], 1,
                    settings.value("max_limit"))
    page = int_arg("page", 1, 1, settings.value("max_page"))
    return run(request.args.get("q", "").strip(), page, limit,
               request.args.get("sort", "relevance"))


def index_status() -> dict[str, Any]:
    """How current the searches are: the catalog revision the index reflects against the
    catalog's own (the archive's index catches up with each ingest, a web node's replica
    on its timer); 503 when the index cannot be used."""
    catalog = archive().catalog.revision  # first: an index at least this new is caught up
    with _answering():
        revision = site().index().revision()
    return {"catalog_revision": catalog, "index_revision": revision,
            "behind": max(0, catalog - revision), "replica": site().replica is not None}


def every_result(text: str, cap: int = settings.value("export_items")) -> list[dict[str, Any]]:
    """All items a query selects (up to `cap`), page after page."""
    if len(text) > current_app.config["MAX_QUERY_LENGTH"]:
        abort(400, description="The query is too long.")
    with _answering():
        hits = site().index().every_hit(text, cap, _hidden())
    return _public(hits)
