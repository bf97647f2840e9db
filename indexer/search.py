"""Search: run a parsed query, with facets, highlights, suggestions and pagination.

`SearchIndex` keeps one Whoosh searcher open and refreshes it when the index
changed, so the site pays the open cost once; the CLI makes one per call.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from whoosh import highlight, sorting
from whoosh import query as q
from whoosh.reading import IndexReader
from whoosh.searching import Hit, Searcher

from archive import settings
from archive.store import Archive
from indexer.generations import (
    IndexDamaged,
    IndexMissing,
    confirm_damage,
    current_dir,
    open_index,
    read_revision,
)

from .cache import ResultCache, SharedResultCache
from .cues import Cues, matching
from .facets import FacetTable, facet_table, matching_docs
from .query import Parsed, QueryError, parse
from .schema import FACETS, FOLD, PROSE, WITHHELD
from .sync import rebuild

log = logging.getLogger(__name__)
# The fields whose words a result shows (highlighted, or the transcript's moments). The
# others only select: `event:florence-2019` must not mark "Florence" said in a talk.
_SHOWN_TEXT = {"all", "pairs", "title", "description", "keywords", "transcript", "credit",
               "person_shown", "person_session", "person_mentioned"}


@dataclass
class Page:
    page: int = 1
    limit: int = settings.value("search_limit")


@dataclass
class Terms:
    """What a query looks for in text: words (stemmed and folded, prefixes expanded) and
    the word pairs of its phrases."""

    words: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, query: q.Query | None, reader: IndexReader) -> Terms:
        found = cls()
        for leaf in query.leaves() if query is not None else []:
            if leaf.field() not in _SHOWN_TEXT:
                continue
            for fieldname, btext in leaf.expanded_terms(reader):
                text = btext.decode("utf-8") if isinstance(btext, bytes) else str(btext)
                if fieldname == "pairs" and " " in text:
                    first, second = text.split(" ", 1)
                    found.pairs.add((first, second))
                else:
                    found.words.add(text)
        return found

    def stems(self) -> set[str]:
        """The words as the transcript field holds them (names are not stemmed)."""
        return {t.text for word in self.words for t in PROSE(word)}

    def highlighted(self) -> frozenset[str]:
        return frozenset(self.words | {w for pair in self.pairs for w in pair})


def _highlights(item: dict[str, Any], terms: Terms) -> dict[str, str]:
    formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    fragmenter = highlight.ContextFragmenter(maxchars=160, surround=40)
    words = terms.highlighted()
    out = {}
    sources = {"title": (item.get("title"), PROSE),
               "description": (item.get("description"), PROSE),
               "transcript": (" ".join(c["text"] for c in item.get("transcript") or []), PROSE),
               "credit": ((item.get("credit") or {}).get("line"), FOLD)}
    for name, (text, analyzer) in sources.items():
        if text and words:
            snippet = highlight.highlight(text, words, analyzer, fragmenter, formatter, top=2)
            if snippet:
                out[name] = snippet
    people = _people_snippet(item, words, formatter)
    if people:
        out["people"] = people
    return out


def _people_snippet(item: dict[str, Any], words: frozenset[str],
                    formatter: highlight.Formatter) -> str | None:
    """The people whose names hold a query word, each name whole: a snippet cut from the
    list of them began mid-name ("Ymbert, Ester Silva, ...")."""
    whole = highlight.WholeFragmenter()
    names = [highlight.highlight(p["name"], words, FOLD, whole, formatter)
             for p in item.get("people") or [] if p.get("name")] if words else []
    found = [n for n in names if n]
    return ", ".join(found) or None


def _matching_cues(searcher: Searcher, hit: Hit, terms: Terms) -> list[dict[str, Any]]:
    """The transcript cues of a hit holding a query word (at most max_cues: a whole
    transcript can weigh megabytes)."""
    cues = Cues.unpack(hit.fields().get("cues"))
    if cues is None or not (terms.words or terms.pairs):
        return []
    numbers = matching(searcher.reader(), hit.docnum, cues, terms.stems(), terms.pairs)
    return [cues.cue(n) for n in numbers[:settings.value("max_cues")]]


@dataclass(eq=False)
class _Generation:
    """One index generation as this process opened it: its searcher and facet table,
    and how many searches are using it (it is closed once replaced and unused).

    Whoosh's readers are not thread-safe: a segment's postings are one file object whose
    position every matcher seeks, so two threads reading at once get each other's bytes
    (UnpicklingError, zlib errors, or silently other hits). One search at a time uses
    the searcher (`lock`); a searcher per thread would copy the segments into memory per
    thread (Whoosh reads them through BytesIO: 650 MB and 0.3 s each at 100,000 items).
    Searches are pure Python, so in one process they would not run at once anyway.
    """

    key: tuple[str, int]
    searcher: Searcher
    table: FacetTable
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


class SearchIndex:
    """An open index plus a searcher, refreshed when a sync or rebuild changed it; one
    object serves many threads."""

    def __init__(self, archive: Archive, quiet: bool = True, rebuild_missing: bool = True,
                 persist: bool = True, cache_size: int = 0,
                 cache_bytes: int = settings.value("search_cache_bytes"),
                 cache_dir: Path | None = None,
                 max_query_length: int = settings.value("max_query_length")) -> None:
        """`rebuild_missing`: build a missing or broken index from the catalog (the site,
        which never writes, says False and gets IndexMissing instead); `persist`: keep
        the facet table on disk for the next process; `cache_size` and `cache_bytes`:
        how many recent results to keep, and in how many bytes at most (a site sees the
        same queries again: facet clicks, pages, popular searches), dropped whenever
        the index changes; `cache_dir`: keep them there, shared with the other
        processes given the same folder; `max_query_length`: the characters of a query
        searched (the rest is cut, with a notice)."""
        self.archive, self.quiet = archive, quiet
        self.max_query_length = max_query_length
        self.rebuild_missing, self.persist = rebuild_missing, persist
        self.cache = (SharedResultCache(cache_dir, cache_size, cache_bytes)
                      if cache_dir else ResultCache(cache_size, cache_bytes))
        self._lock = threading.Lock()  # guards _current and the users counts
        self._current: _Generation | None = self._open()

    def _open(self) -> _Generation:
        try:
            return self._load()
        except IndexMissing as exc:
            self._rebuild(exc)
            return self._load()

    def _rebuild(self, exc: IndexMissing) -> None:
        """Build a missing or damaged index from the catalog; the site may not (raises)."""
        if not self.rebuild_missing:
            raise exc
        if not self.quiet:
            # A warning: a search that must write the index first is a surprise.
            log.warning("rebuilding the search index: %s", exc)
        rebuild(self.archive, str(exc))

    def _load(self) -> _Generation:
        ix = open_index(self.archive.index_dir)
        folder = current_dir(self.archive.index_dir)
        try:
            searcher = ix.searcher()
            table = facet_table(folder, ix.latest_generation(), searcher.reader(),
                                self.persist)
        except Exception as exc:  # noqa: BLE001 - Whoosh fails many ways on damaged files
            raise confirm_damage(self.archive.index_dir, exc) or exc from None
        return _Generation((str(folder), read_revision(folder) if folder else -1),
                           searcher, table)

    def _refresh(self) -> _Generation:
        """The current generation, reopened if the index changed (called under _lock).
        The one replaced is closed now if no search uses it, else by its last user."""
        folder = current_dir(self.archive.index_dir)
        key = (str(folder), read_revision(folder) if folder else -1)
        if self._current is None or key != self._current.key:
            old, self._current = self._current, self._open()
            if old is not None and not old.users:
                old.searcher.close()
            self.cache.clear()
        return self._current

    @contextmanager
    def _generation(self) -> Iterator[_Generation]:
        """The current generation, kept open until the block ends."""
        with self._lock:
            generation = self._refresh()
            generation.users += 1
        try:
            yield generation
        finally:
            with self._lock:
                generation.users -= 1
                if generation is not self._current and not generation.users:
                    generation.searcher.close()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.searcher.close()
                self._current = None

    def revision(self) -> int:
        """The catalog revision the index reflects (-1 before any build)."""
        with self._generation() as generation:
            return generation.key[1]

    def search(self, text: str, page: Page | None = None, sort: str = "relevance",
               facets: bool = True, withheld: bool = False,
               hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The search JSON of DESIGN.md; raises QueryError for a malformed query.
        Items withheld from publication are left out unless `withheld` (the archivist's
        `search --all`; never the site), and so are the `hidden` ids (withheld by the
        catalog while the index, behind it, does not know yet)."""
        page = page or Page()
        with self._generation() as generation:
            # The generation is in the key: a result found on the one just replaced is
            # never served as the new one's. Its revision is the catalog's the index
            # reflects, so a consent withdrawn reaches every worker's next search.
            key = (generation.key, text, page.page, page.limit, sort, facets, withheld,
                   tuple(sorted(hidden)))
            result = self.cache.get(key)
            if result is None:
                result = self._searched(generation, text, page, sort, facets,
                                        (withheld, hidden))
                if result is not None:
                    self.cache.put(key, result)
        if result is None:  # the index was damaged, and has been rebuilt
            return self.search(text, page, sort, facets, withheld, hidden)
        return result

    def _searched(self, generation: _Generation, text: str, page: Page, sort: str,
                  facets: bool, scope: tuple[bool, frozenset[str]]) -> dict[str, Any] | None:
        """The search run on the generation's searcher; None when the index proved
        damaged and was rebuilt (raises where it may not be)."""
        try:
            with generation.lock:
                return run_search(generation.searcher, text, page, sort,
                                  generation.table if facets else None,
                                  self.max_query_length, *scope)
        except QueryError:
            raise
        except Exception as exc:  # noqa: BLE001 - Whoosh fails many ways on damaged files
            damaged = confirm_damage(self.archive.index_dir, exc)
            if damaged is None:
                raise
            self._rebuild(damaged)  # raises where the index may not be rebuilt
            return None

    def every_hit(self, text: str, cap: int | None = None,
                  hidden: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Every published result of a query (at most `cap`), page after page, without
        facets, the `hidden` ids left out as well.

        Raises QueryError for a malformed query.
        """
        most = settings.value("max_limit")
        first = self.search(text, Page(1, most), facets=False, hidden=hidden)
        hits = list(first["results"])
        last = first["pages"] if cap is None else min(first["pages"], -(-cap // most))
        for number in range(2, last + 1):
            hits += self.search(text, Page(number, most), facets=False,
                                hidden=hidden)["results"]
        return hits


def run_search(searcher: Searcher, text: str, page: Page | None = None,
               sort: str = "relevance", facets: FacetTable | None = None,
               max_query_length: int = settings.value("max_query_length"),
               withheld: bool = False, hidden: frozenset[str] = frozenset()
               ) -> dict[str, Any]:
    """Search with an open searcher (and facet counts when given the generation's
    facet table), leaving withheld items out unless `withheld`; raises QueryError for a
    malformed query."""
    page = page or Page()
    if sort not in settings.SORTS:
        raise QueryError(f"sort must be one of {', '.join(settings.SORTS)}")
    parsed = parse(text, max_query_length) if text.strip() else Parsed(q.Every())
    if parsed.query is None:
        return _empty(text, parsed)
    scope = None if withheld else functools.partial(_published, hidden=hidden)
    ranked = parsed.query
    if scope is not None:
        parsed = replace(parsed, query=scope(parsed.query))
    return _run(searcher, text, parsed, ranked, page, sort, facets, scope)


def _published(query: q.Query, hidden: frozenset[str] = frozenset()) -> q.Query:
    """The query without withheld items: on the query itself, so that the facet counts
    and the total leave them out too. Not Whoosh's AndNot: its matcher keeps its first
    match when the excluded term matched an earlier document (it only skips the
    excluded list on an equal id), so a query finding one withheld item listed it."""
    left_out = [q.Not(q.Term("withheld", WITHHELD))]
    if hidden:
        left_out.append(q.Not(q.Or([q.Term("id", i) for i in sorted(hidden)])))
    return q.And([query, *left_out])


def _run(searcher: Searcher, text: str, parsed: Parsed, ranked: q.Query, page: Page,
         sort: str, table: FacetTable | None,
         scope: Callable[[q.Query], q.Query] | None) -> dict[str, Any]:
    """`parsed.query` says which items are found (withheld ones left out); `ranked`, the
    query as written, scores them."""
    limit = max(1, min(page.limit, settings.value("max_limit")))
    sortedby = None if sort == "relevance" else sorting.FieldFacet(
        "taken", reverse=sort == "-date")
    docnums = matching_docs(searcher.docs_for_query(parsed.query))
    facets = table.count(docnums) if table is not None else {}
    results, number, pages, total = _page(searcher, ranked, set(docnums.tolist()),
                                          page.page, limit, sortedby)
    terms = Terms.of(parsed.query, searcher.reader())
    hits = []
    for hit in results:
        item = json.loads(hit["doc"])
        # Only the cues that matched: a whole transcript can weigh megabytes.
        item["transcript"] = _matching_cues(searcher, hit, terms)
        item["score"] = round(hit.score, 4) if hit.score is not None else None
        item["highlights"] = _highlights(item, terms)
        item["at"] = item["transcript"][0]["start"] if item["transcript"] else None
        hits.append(item)
    return {"query": text, "total": total, "page": number, "pages": pages, "results": hits,
            "facets": facets,
            "suggestion": _suggest(searcher, text, parsed, scope) if not total else None,
            "notices": parsed.notices}


def _page(searcher: Searcher, query: q.Query, found: set[int], number: int, limit: int,
          sortedby: sorting.FacetType | None) -> tuple[list[Hit], int, int, int]:
    """The hits of page `number` among the documents `found` (of the last page, when
    there are fewer), its number (0 when nothing matched), the number of pages and the
    total, as Whoosh's `search_page` gives them (which counts the matches by running the
    query again).

    The found documents are a filter, not a clause of the scored query: Whoosh's top-N
    of an `And` with a `Not` in it kept lower-scored documents over higher ones as the
    limit changed, so page 2 repeated some of page 1 and dropped others."""
    results = searcher.search(query, limit=max(1, number) * limit, sortedby=sortedby,
                              terms=False, filter=found)
    total = len(found)
    pages = -(-total // limit)
    number = min(pages, max(1, number))
    return (results[(number - 1) * limit:number * limit] if number else [], number, pages,
            total)


def _empty(text: str, parsed: Parsed) -> dict[str, Any]:
    notices = parsed.notices + (["only common words: nothing to search for"]
                                if text.strip() else [])
    return {"query": text, "total": 0, "page": 1, "pages": 0, "results": [],
            "facets": {name: {} for name in FACETS}, "suggestion": None,
            "notices": notices}


def _suggest(searcher: Searcher, text: str, parsed: Parsed,
             scope: Callable[[q.Query], q.Query] | None) -> str | None:
    """'Did you mean': each plain word the index lacks, replaced by its nearest term;
    offered only when it finds something the searcher may see (the spelling terms
    come from every item: a withheld person's name must not be offered)."""
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
    if not changed:
        return None
    try:
        query = parse(suggestion).query
    except QueryError:
        return None
    if query is None:
        return None
    query = query if scope is None else scope(query)
    return None if searcher.search(query, limit=1, terms=False).is_empty() else suggestion


__all__ = ["IndexDamaged", "IndexMissing", "Page", "QueryError", "SearchIndex"]
