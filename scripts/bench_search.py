"""Search speed: the Whoosh index against SQLite FTS5 on the same documents.

Builds an index of N synthetic items (default 100,000: realistic names,
sessions, credits, transcripts), runs a fixed, seeded mix of 500 queries
(words, phrases, field filters, date ranges) with facet counts, in process,
then the same mix against SQLite FTS5 holding the same documents. Prints index
build speed, p50/p95 latency of each and their ratio (target <= 3), and the
cost of an incremental sync of 100 changed items against the full build
(target < 2%).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from synthetic import CAMERAS, FIRST, LAST, TOPICS, context, generate  # noqa: E402

from indexer.documents import to_document  # noqa: E402
from indexer.facets import FacetTable  # noqa: E402
from indexer.schema import build_schema  # noqa: E402
from indexer.search import Page, run_search  # noqa: E402
from indexer.sync import bulk_writer  # noqa: E402


@dataclass
class Spec:
    """One query of the mix, rendered for both engines."""

    words: list[str] = field(default_factory=list)
    phrase: str | None = None
    person: str | None = None
    credit: str | None = None
    camera: str | None = None
    session: str | None = None
    kind: str | None = None
    days: tuple[str, str] | None = None

    def text(self) -> str:
        parts = list(self.words)
        if self.phrase:
            parts.append(f'"{self.phrase}"')
        for name in ("person", "credit", "camera", "session", "kind"):
            if getattr(self, name):
                parts.append(f"{name}:{getattr(self, name)}")
        if self.days:
            parts.append(f"taken:{self.days[0]}..{self.days[1]}")
        return " ".join(parts)


def query_mix(events: list[dict], count: int = 500, seed: int = 11) -> list[Spec]:
    rng = random.Random(seed)
    topic_words = sorted({w for t in TOPICS for w in t.split() if len(w) > 3})
    specs = []
    for n in range(count):
        roll = n % 10
        spec = Spec()
        if roll in (0, 1, 2):
            spec.words = [rng.choice(LAST).split()[0].lower()]
        elif roll == 3:
            spec.words = rng.sample(topic_words, 2)
        elif roll == 4:
            spec.phrase = rng.choice(TOPICS)
        elif roll == 5:
            spec.person = rng.choice(LAST).split()[0].lower()
            spec.kind = rng.choice(("photo", "video"))
        elif roll == 6:
            spec.credit = rng.choice(FIRST).lower()
            spec.words = [rng.choice(topic_words)]
        elif roll == 7:
            event = rng.choice(events)
            day = event["day"].date()
            spec.days = (day.isoformat(),
                         (day + dt.timedelta(days=rng.randint(0, 30))).isoformat())
            spec.words = [rng.choice(topic_words)]
        elif roll == 8:
            spec.session = f"s{rng.randint(1, 8)}"
            spec.camera = rng.choice(CAMERAS)[1].split()[-1].lower()
            spec.words = [rng.choice(LAST).split()[0].lower()]
        else:
            spec.words = [rng.choice(FIRST).lower(), rng.choice(LAST).split()[0].lower()]
        specs.append(spec)
    return specs


def build_whoosh(folder: Path, docs: list[dict]) -> float:
    ix = windex.create_in(str(folder), build_schema())
    started = time.perf_counter()
    writer = bulk_writer(ix)  # as `event-archive reindex` does
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return time.perf_counter() - started


FTS_SCHEMA = """
CREATE TABLE items (rowid INTEGER PRIMARY KEY, id TEXT, event TEXT, kind TEXT, taken TEXT,
                    creator TEXT, camera TEXT, doc TEXT);
CREATE TABLE item_sessions (rowid INTEGER, session TEXT);
CREATE TABLE item_people (rowid INTEGER, person TEXT);
CREATE INDEX item_sessions_rowid ON item_sessions(rowid);
CREATE INDEX item_sessions_session ON item_sessions(session);
CREATE INDEX item_people_rowid ON item_people(rowid);
CREATE INDEX items_taken ON items(taken);
CREATE VIRTUAL TABLE fts USING fts5(alltext, person, credit, camera,
                                    tokenize = 'porter unicode61 remove_diacritics 2');
"""


def build_fts(path: Path, docs: list[dict], items: list[dict]) -> float:
    db = sqlite3.connect(path)
    db.executescript(FTS_SCHEMA)
    started = time.perf_counter()
    with db:
        for rowid, (doc, item) in enumerate(zip(docs, items, strict=True), 1):
            db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (rowid, item["id"], item["event"], item["kind"], item["taken"][:19],
                        doc["creator"], doc["camera"], doc["doc"]))
            db.executemany("INSERT INTO item_sessions VALUES (?, ?)",
                           [(rowid, s["id"]) for s in item["sessions"]])
            db.executemany("INSERT INTO item_people VALUES (?, ?)",
                           [(rowid, p["id"]) for p in item["people"]])
            db.execute("INSERT INTO fts (rowid, alltext, person, credit, camera) VALUES "
                       "(?, ?, ?, ?, ?)", (rowid, doc["all"], "\n".join(
                           (doc["person_shown"], doc["person_session"],
                            doc["person_mentioned"])), doc["credit"], doc["camera_text"]))
    db.close()
    return time.perf_counter() - started


def fts_query(spec: Spec) -> tuple[str, list[str], list]:
    """(MATCH expression or '', extra WHERE clauses on items i, their parameters)."""
    match = [f'alltext:"{w}"' for w in spec.words]
    if spec.phrase:
        match.append(f'alltext:"{spec.phrase}"')
    for column, value in (("person", spec.person), ("credit", spec.credit),
                          ("camera", spec.camera)):
        if value:
            match.append(f'{column}:"{value}"')
    where, params = [], []
    if spec.kind:
        where.append("i.kind = ?")
        params.append(spec.kind)
    if spec.session:
        where.append("i.rowid IN (SELECT rowid FROM item_sessions WHERE session = ?)")
        params.append(spec.session)
    if spec.days:
        where.append("i.taken BETWEEN ? AND ?")
        params += [spec.days[0], spec.days[1] + "T23:59:59"]
    return " AND ".join(match), where, params


def run_fts(db: sqlite3.Connection, spec: Spec) -> int:
    match, where, params = fts_query(spec)
    if match:
        base = ("SELECT i.rowid AS rowid, fts.rank AS rank FROM fts JOIN items i ON "
                "i.rowid = fts.rowid WHERE fts MATCH ?")
        args = [match, *params]
    else:
        base, args = "SELECT i.rowid AS rowid, 0 AS rank FROM items i WHERE 1", list(params)
    base += "".join(f" AND {w}" for w in where)
    db.execute("DROP TABLE IF EXISTS temp.m")
    db.execute(f"CREATE TEMP TABLE m AS {base}", args)
    top = db.execute("SELECT i.doc FROM m JOIN items i ON i.rowid = m.rowid "
                     "ORDER BY m.rank LIMIT 20").fetchall()
    for sql in ("SELECT i.event, COUNT(*) FROM m JOIN items i USING (rowid) GROUP BY 1",
                "SELECT i.kind, COUNT(*) FROM m JOIN items i USING (rowid) GROUP BY 1",
                "SELECT i.creator, COUNT(*) FROM m JOIN items i USING (rowid) GROUP BY 1",
                "SELECT i.camera, COUNT(*) FROM m JOIN items i USING (rowid) GROUP BY 1",
                "SELECT s.session, COUNT(*) FROM m JOIN item_sessions s USING (rowid) "
                "GROUP BY 1",
                "SELECT p.person, COUNT(*) FROM m JOIN item_people p USING (rowid) "
                "GROUP BY 1"):
        db.execute(sql).fetchall()
    return len(top)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1,
                                                    int(len(ordered) * 0.95))])


def timed(fn, specs: list[Spec]) -> list[float]:  # noqa: ANN001 - a benchmark helper
    out = []
    for spec in specs:
        started = time.perf_counter()
        fn(spec)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    events, items = generate(args.items)
    ctx = context(events)
    docs = [to_document(item, ctx) for item in items]
    for doc in docs:
        doc["revision"] = 1
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        folder = Path(tmp) / "whoosh"
        folder.mkdir()
        build = build_whoosh(folder, docs)
        fts_build = build_fts(Path(tmp) / "fts.sqlite3", docs, items)
        specs = query_mix(events, args.queries)
        ix = windex.open_dir(str(folder))
        searcher = ix.searcher()
        started = time.perf_counter()
        table = FacetTable.build(searcher.reader())  # once per index generation
        table_build = time.perf_counter() - started
        db = sqlite3.connect(Path(tmp) / "fts.sqlite3")
        for spec in specs[:20]:  # warm both caches alike
            run_search(searcher, spec.text(), Page(), facets=table)
            run_fts(db, spec)
        ours = timed(lambda s: run_search(searcher, s.text(), Page(), facets=table),
                     specs)
        theirs = timed(lambda s: run_fts(db, s), specs)
        searcher.close()
        started = time.perf_counter()
        writer = ix.writer()
        for doc in random.Random(3).sample(docs, 100):
            writer.update_document(**{**doc, "revision": 2})
        writer.commit()
        incremental = time.perf_counter() - started
        size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
        shutil.rmtree(folder)
    (p50, p95), (f50, f95) = percentiles(ours), percentiles(theirs)
    print(f"search, {args.items:,} items, {len(specs)} queries with facets:")
    print(f"  index build: {args.items / build:,.0f} items/s ({build:.1f} s, {size:.0f} MB); "
          f"FTS5 build {args.items / fts_build:,.0f} items/s")
    print(f"  facet table, read once per index generation: {table_build:.2f} s")
    print(f"  Whoosh p50 {p50:.1f} ms, p95 {p95:.1f} ms;  FTS5 p50 {f50:.1f} ms, "
          f"p95 {f95:.1f} ms")
    for name, a, b in (("p50", p50, f50), ("p95", p95, f95)):
        verdict = "met" if a / b <= 3 else "MISSED"
        print(f"  ratio {name} Whoosh / FTS5 = {a / b:.2f}  (target <= 3.00: {verdict})")
    share = incremental / build
    print(f"  incremental sync of 100 items: {incremental * 1000:.0f} ms = {share:.2%} of a "
          f"full build  (target < 2%: {'met' if share < 0.02 else 'MISSED'})")


if __name__ == "__main__":
    main()
