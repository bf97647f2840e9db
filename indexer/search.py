"""Search: run a parsed query, with facets, highlights, suggestions and pagination.

`SearchIndex` keeps one Whoosh searcher open and refreshes it when the index
changed, so the site pays the open cost once; the CLI makes one per call.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from whoosh import highlight, sorting
from whoosh import query as q
from whoosh.searching import Searcher

from archive.store import Archive

from .facets import FacetTable, facet_table, matching_docs
from .query import Parsed, QueryError, parse
from .schema import FACETS, FOLD, PROSE
from .store import (
    IndexDamaged,
    IndexMissing,
    confirm_damage,
    current_dir,
    open_index,
    read_revision,
)
from .sync import rebuild

SORTS = ("relevance", "date", "-date")
MAX_LIMIT = 200
# Fields holding exact values, dates or numbers: nothing to highlight in text.
_NOT_TEXT = {"id", "taken", "duration", "revision", "kind", "event", "session", "person",
             "creator", "camera"}


@dataclass
class Page:
    page: int = 1
    limit: int = 20


def _terms(query: q.Query | None) -> set[str]:
    """The word forms a query looks for in text fields (stemmed and folded)."""
    if query is None:
        return set()
    found = set()
    for fieldname, text in query.iter_all_terms():
        if fieldname not in _NOT_TEXT and isinstance(text, str):
            found.add(text)
    return found


def _highlights(item: dict[str, Any], terms: set[str]) -> dict[str, str]:
    formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    fragmenter = highlight.ContextFragmenter(maxchars=160, surround=40)
    out = {}
    sources = {"title": (item.get("title"), PROSE),
               "description": (item.get("description"), PROSE),
               "transcript": (" ".join(c["text"] for c in item.get("transcript") or []), PROSE),
               "credit": ((item.get("credit") or {}).get("line"), FOLD),
               "people": (", ".join(p["name"] or "" for p in item.get("people") or []), FOLD)}
    for name, (text, analyzer) in sources.items():
        if text and terms:
            snippet = highlight.highlight(text, frozenset(terms), analyzer, fragmenter,
                                          formatter, top=2)
            if snippet:
                out[name] = snippet
    return out


def _cue_at(item: dict[str, Any], terms: set[str]) -> float | None:
    """Start of the first transcript cue holding a query word, so a player can jump there."""
    for cue in item.get("transcript") or []:
        if terms & {t.text for t in PROSE(cue["text"])}:
            return cue["start"]
    return None


class SearchIndex:
    """An open index plus a searcher, refreshed when a sync or rebuild changed it."""

    def __init__(self, archive: Archive, quiet: bool = True, rebuild_missing: bool = True,
                 persist: bool = True, cache_size: int = 0) -> None:
        """`rebuild_missing`: build a missing or broken index from the catalog (the site,
        which never writes, says False and gets IndexMissing instead); `persist`: keep
        the facet table on disk for the next process; `cache_size`: how many recent
        results to keep (a site sees the same queries again: facet clicks, pages, popular
        searches), dropped whenever the index changes."""
        self.archive, self.quiet = archive, quiet
        self.rebuild_missing, self.persist = rebuild_missing, persist
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._key: tuple[str, int] | None = None
        self._table: FacetTable | None = None
        self._open()

    def _open(self) -> None:
        try:
            self._load()
        except IndexMissing as exc:
            self._rebuild(exc)
            self._load()

    def _rebuild(self, exc: IndexMissing) -> None:
        """Build a missing or damaged index from the catalog; the site may not (raises)."""
        if not self.rebuild_missing:
            raise exc
        if not self.quiet:
            print(f"rebuilding the search index: {exc}", file=sys.stderr)
        rebuild(self.archive, str(exc))

    def _load(self) -> None:
        ix = open_index(self.archive.index_dir)
        folder = current_dir(self.archive.index_dir)
        try:
            searcher = ix.searcher()
            table = facet_table(folder, ix.latest_generation(), searcher.reader(),
                                self.persist)
        except Exception as exc:  # noqa: BLE001 - Whoosh fails many ways on damaged files
            raise confirm_damage(self.archive.index_dir, exc) or exc from None
        self._searcher, self._table = searcher, table
        self._key = (str(folder), read_revision(folder) if folder else -1)

    def current(self) -> tuple[Searcher, FacetTable]:
        """The current searcher and facet table, reopened if the index changed."""
        with self._lock:
            folder = current_dir(self.archive.index_dir)
            key = (str(folder), read_revision(folder) if folder else -1)
            if self._searcher is None or key != self._key:
                if self._searcher is not None:
                    self._searcher.close()
                self._open()
                self._cache.clear()
            return self._searcher, self._table

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def search(self, text: str, page: Page | None = None, sort: str = "relevance",
               facets: bool = True) -> dict[str, Any]:
        """The search JSON of DESIGN.md; raises QueryError for a malformed query."""
        searcher, table = self.current()
        page = page or Page()
        key = (text, page.page, page.limit, sort, facets)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return dict(cached)
        try:
            result = run_search(searcher, text, page, sort, table if facets else None)
        except QueryError:
            raise
        except Exception as exc:  # noqa: BLE001 - Whoosh fails many ways on damaged files
            damaged = confirm_damage(self.archive.index_dir, exc)
            if damaged is None:
                raise
            self._rebuild(damaged)  # raises where the index may not be rebuilt
            return self.search(text, page, sort, facets)
        with self._lock:
            self.misses += 1
            if self.cache_size:
                self._cache[key] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return dict(result)

    def every_hit(self, text: str, cap: int | None = None) -> list[dict[str, Any]]:
        """Every result of a query (at most `cap`), page after page, without facets.

        Raises QueryError for a malformed query.
        """
        first = self.search(text, Page(1, MAX_LIMIT), facets=False)
        hits = list(first["results"])
        last = first["pages"] if cap is None else min(first["pages"], -(-cap // MAX_LIMIT))
        for number in range(2, last + 1):
            hits += self.search(text, Page(number, MAX_LIMIT), facets=False)["results"]
        return hits


def run_search(searcher: Searcher, text: str, page: Page | None = None,
               sort: str = "relevance", facets: FacetTable | None = None) -> dict[str, Any]:
    """Search with an open searcher (and facet counts when given the generation's
    facet table); raises QueryError for a malformed query."""
    page = page or Page()
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}")
    parsed = parse(text) if text.strip() else Parsed(q.Every())
    if parsed.query is None:
        return _empty(text, parsed)
    return _run(searcher, text, parsed, page, sort, facets)


def _run(searcher: Searcher, text: str, parsed: Parsed, page: Page, sort: str,
         table: FacetTable | None) -> dict[str, Any]:
    limit = max(1, min(page.limit, MAX_LIMIT))
    sortedby = None if sort == "relevance" else sorting.FieldFacet(
        "taken", reverse=sort == "-date")
    results = searcher.search_page(parsed.query, max(1, page.page), pagelen=limit,
                                   sortedby=sortedby, terms=False)
    if table is not None:
        docnums = matching_docs(searcher.docs_for_query(parsed.query))
        total, facets = len(docnums), table.count(docnums)
    else:
        total, facets = results.total, {}
    terms = _terms(parsed.query)
    hits = []
    for hit in results:
        item = json.loads(hit["doc"])
        item["score"] = round(hit.score, 4) if hit.score is not None else None
        item["highlights"] = _highlights(item, terms)
        item["at"] = _cue_at(item, terms)
        hits.append(item)
    return {"query": text, "total": total, "page": results.pagenum,
            "pages": results.pagecount, "results": hits, "facets": facets,
            "suggestion": _suggest(searcher, text, parsed) if not total else None,
            "notices": parsed.notices}


def _empty(text: str, parsed: Parsed) -> dict[str, Any]:
    notices = parsed.notices + (["only common words: nothing to search for"]
                                if text.strip() else [])
    return {"query": text, "total": 0, "page": 1, "pages": 0, "results": [],
            "facets": {name: {} for name in FACETS}, "suggestion": None,
            "notices": notices}


def _suggest(searcher: Searcher, text: str, parsed: Parsed) -> str | None:
    """'Did you mean': each plain word the index lacks, replaced by its nearest term."""
    corrector = searcher.corrector("spell")
    suggestion, changed = text, False
    for word in parsed.words:
        folded = " ".join(t.text for t in FOLD(word))
        if not folded or " " in folded or searcher.doc_frequency("spell", folded):
            continue
        found = corrector.suggest(folded, limit=1, maxdist=2)
        if found:
            suggestion = suggestion.replace(word, found[0], 1)
            changed = True
    return suggestion if changed else None


def search(archive: Archive, text: str, page: Page | None = None, sort: str = "relevance",
           quiet: bool = True) -> dict[str, Any]:
    """One search against the archive's index (opened, and rebuilt if missing)."""
    index = SearchIndex(archive, quiet)
    try:
        return index.search(text, page, sort)
    finally:
        index.close()


__all__ = ["IndexDamaged", "IndexMissing", "Page", "QueryError", "SearchIndex", "search"]
