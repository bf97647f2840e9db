"""Property-based tests of the query syntax: any text, or any sequence of the grammar's
pieces, is a result or a QueryError (a 400 on the site), never another exception."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from whoosh import query as q

from archive.ingest.pipeline import ingest_folder
from archive.store import Archive
from indexer.query import ALIASES, FIELDS, Parsed, QueryError, field_term, narrowed, parse
from indexer.search import SearchIndex
from indexer.sync import sync
from web import create_app

# Modest by default, so the suite stays fast; HYPOTHESIS_PROFILE=thorough for a long hunt.
settings.register_profile("event-archive", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "event-archive"))

NAMES = [*FIELDS, *ALIASES, "Session", "TAKEN", "colour", "https", "x_y", "Materials"]
WORDS = ["keller", "Péter", "IMG_0043", "img_0043.JPG", "photos/canon/IMG_0043.jpg",
         "materials", "s2", "florence-2019", "video", "Canon EOS 80D", "guckian"]
SYMBOLS = ["(", ")", '"', ":", "-", "*", "..", ">", ">=", "<", "<=", "\\", '\\"', "NOT",
           "OR", "AND", "not", "or", "T", "#t=", "/", ".", ",", "\u202e", "\x00"]
dates = st.one_of(
    st.dates().map(str),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.from_regex(r"\d{1,5}(-\d{1,2}(-\d{1,2}(T\d{1,2}:\d{1,2})?)?)?", fullmatch=True),
    st.sampled_from(["9999-12-31", "9999-12-31T23:59", "0001-01-01", "9999", "0000"]))
numbers = st.one_of(st.integers().map(str), st.floats().map(str),
                    st.sampled_from(["1e999", "nan", "-inf", "0x10", "1_000"]))
texts = st.one_of(st.sampled_from(WORDS), st.text(max_size=8))


def ranged(bounds: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A value, `>a`, `<=a`, `a..b`, `a..` or `..b`."""
    return st.one_of(bounds, st.tuples(st.sampled_from([">", ">=", "<", "<="]), bounds).map(
        "".join), st.tuples(bounds | st.just(""), bounds | st.just("")).map("..".join))


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Clauses as the grammar builds them: words, phrases, field:value with values of the
# field's kind (or of another), prefixes, negations.
clauses = st.one_of(
    texts, texts.map(quoted), texts.map(lambda t: t + "*"),
    st.tuples(st.sampled_from(NAMES), st.one_of(texts, texts.map(quoted), ranged(dates),
                                                ranged(numbers))).map(":".join),
    st.tuples(st.just("taken"), ranged(dates)).map(":".join),
    st.tuples(st.just("duration"), ranged(numbers)).map(":".join))
joiners = st.sampled_from(["", " ", " AND ", " OR ", " NOT ", " -", " (", ") ", "(", ")",
                           " NOT (", ") OR ("])
grammar_queries = st.lists(st.tuples(joiners, clauses), max_size=8).map(
    lambda parts: "".join(a + b for a, b in parts))
# The same pieces thrown together without the grammar.
pieces = st.one_of(
    st.sampled_from(SYMBOLS), texts, dates, numbers,
    st.sampled_from(NAMES).map(lambda name: name + ":"))
token_queries = st.lists(st.tuples(pieces, st.sampled_from(["", " ", " ", "  "])),
                         max_size=16).map(lambda parts: "".join(a + b for a, b in parts))
queries = st.one_of(grammar_queries, token_queries, st.text(max_size=120))
# Seen to fail before: each runs on every test run.
ROUTES = ["/", "/api/search", "/credits"]
KNOWN = ["NOT )", "(" * 500, "taken:9999-12-31", "taken:>=9999-12-31T23:59", "NOT " * 300]


def known(*routes: str) -> Callable:
    """Run the KNOWN queries as explicit examples (on each route, for the site)."""
    def apply(test: Callable) -> Callable:
        for text in KNOWN:
            for route in routes or (None,):
                test = example(text=text, **({"route": route} if route else {}))(test)
        return test
    return apply


def answer(run: Callable[[], object]) -> object:
    """What `run` returns, or the QueryError it raises (any other exception fails)."""
    try:
        return run()
    except QueryError as exc:
        return exc


def is_message(outcome: object) -> bool:
    return isinstance(outcome, QueryError) and bool(str(outcome)) and "\n" not in str(outcome)


def parses(text: str) -> bool:
    outcome = answer(lambda: parse(text))
    assert isinstance(outcome, Parsed) or is_message(outcome), outcome
    return isinstance(outcome, Parsed)


@given(text=queries)
@known()
def test_the_parser_answers_any_text_with_a_query_or_a_message(text: str) -> None:
    parses(text)


@pytest.fixture(scope="module")
def small_archive(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few items of the sample event: photos of two cameras, the video and its
    transcript, the event file with its sessions and people."""
    base = tmp_path_factory.mktemp("properties")
    event = base / "event"
    for relpath in ["event.toml", "video/workshop-summary.mp4",
                    "video/workshop-summary.en.vtt", *[
                        p.relative_to(sample).as_posix() for p in
                        sorted((sample / "photos").rglob("*.jpg"))[::12]]]:
        (event / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample / relpath, event / relpath)
    with Archive.open(base / "archive") as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
    return base / "archive"


@pytest.fixture(scope="module")
def index(small_archive: Path) -> Iterator[SearchIndex]:
    with Archive.open(small_archive, readonly=True) as archive:
        idx = SearchIndex(archive, rebuild_missing=False, persist=False)
        yield idx
        idx.close()


@pytest.fixture(scope="module")
def client(small_archive: Path) -> FlaskClient:
    return create_app(small_archive, {"TESTING": True}).test_client()


@pytest.mark.slow
@given(text=queries)
@known()
def test_a_search_answers_any_text_with_results_or_a_message(index: SearchIndex,
                                                             text: str) -> None:
    outcome = answer(lambda: index.search(text))
    assert is_message(outcome) or outcome["total"] >= len(outcome["results"])


@pytest.mark.slow
@given(text=queries, route=st.sampled_from(ROUTES))
@known(*ROUTES)
def test_the_site_answers_any_query_with_200_or_400(client: FlaskClient, text: str,
                                                    route: str) -> None:
    response = client.get(route, query_string={"q": text})
    assert response.status_code in (200, 400), (route, text)
    if response.status_code == 400:
        assert "Bad query" in response.get_data(as_text=True)


@given(name=st.sampled_from(["creator", "session", "person", "event"]),
       value=st.text(min_size=1, max_size=40), base=grammar_queries | token_queries)
def test_a_facet_value_reads_back_exactly_and_narrows_the_query(name: str, value: str,
                                                                base: str) -> None:
    term = q.Term(name, value)
    assert term in parse(field_term(name, value)).query.leaves()
    # Within the limits of clauses and bracket depth, which the facet term must not cross.
    assume(parses(base) and base.count("(") < 10)
    assume(not any("terms were used" in n for n in parse(f"{base} x").notices))
    tree = parse(narrowed(base, field_term(name, value))).query
    last = tree.subqueries[-1] if isinstance(tree, q.And) else tree
    assert term in last.leaves(), (base, narrowed(base, field_term(name, value)))
