"""Search over the sample event: syntax, folding, ranking, facets, snippets, sync."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest

from archive.ingest.pipeline import ingest_folder
from archive.store import Archive
from indexer.generations import current_dir, read_revision
from indexer.search import Page, QueryError, SearchIndex
from indexer.sync import rebuild, sync

from helpers.archives import copy_archive

# Every test here runs against both catalog engines (tests/conftest.py).
pytestmark = pytest.mark.engines


@pytest.fixture
def index(sample_archive: Path) -> SearchIndex:
    archive = Archive.open(sample_archive, readonly=True)
    idx = SearchIndex(archive)
    yield idx
    idx.close()
    archive.close()


def files(result: dict) -> list[str]:
    return [r["relpath"].rsplit("/", 1)[-1] for r in result["results"]]


def test_words_phrases_and_fields(index: SearchIndex) -> None:
    assert index.search("keller")["total"] == 16
    assert files(index.search("credit:guckian")) == ["workshop-summary.mp4"]
    video = index.search("kind:video")
    assert video["total"] == 1
    assert video["results"][0]["kind"] == "video"
    s2 = index.search("session:s2", Page(limit=100))
    assert s2["total"] == 15
    assert all([x["id"] for x in r["sessions"]] == ["s2"] for r in s2["results"])
    assert index.search('"advanced materials"')["total"] == 17
    assert index.search('"materials advanced"')["total"] == 0
    assert index.search("session:\"advanced materials\"")["total"] == 16
    assert index.search("room:donatello")["total"] == 16
    assert index.search("camera:canon session:s3a")["total"] == 15
    assert index.search("event:florence-2019")["total"] == 59
    assert index.search("title:innoprovement")["total"] == 1


def test_boolean_operators(index: SearchIndex) -> None:
    both = index.search("session:s3a OR session:s3b")["total"]
    assert both == index.search("session:s3a")["total"] + index.search("session:s3b")["total"]
    assert index.search("keller NOT kind:video")["total"] == 15
    assert index.search("keller -kind:video")["total"] == 15
    assert index.search("(session:s1 OR session:s2) kind:photo")["total"] == 25
    assert index.search("NOT kind:photo")["total"] == 1


def test_dates_and_durations(index: SearchIndex) -> None:
    assert index.search("taken:2019-03-19")["total"] == 59
    assert index.search("taken:2019-03-20")["total"] == 0
    assert index.search("taken:2019-03-18..2019-03-19")["total"] == 59
    assert index.search("taken:2019-03")["total"] == 59
    morning = index.search("taken:2019-03-19T09:00..2019-03-19T11:00")["total"]
    assert morning == index.search("session:s1")["total"]
    assert index.search("taken:2019-03-19T09:00:00..2019-03-19T11:00:59")["total"] == morning
    assert index.search("duration:>10")["total"] == 1
    assert index.search("duration:<5")["total"] == 0
    assert index.search("duration:10..13 kind:video")["total"] == 1


def test_accents_and_case_never_matter(index: SearchIndex) -> None:
    expected = index.search("person:peter-keller")["total"]
    for text in ("Peter Keller", "péter keller", "PETER", "person:Péter", "person:keller"):
        assert index.search(text)["total"] == expected, text


def test_people_rank_shown_above_session_above_mentioned(index: SearchIndex) -> None:
    results = index.search("person:keller", Page(limit=100))["results"]
    relations = [next(p["relation"] for p in r["people"] if p["id"] == "peter-keller")
                 for r in results]
    order = {"shown": 0, "session": 1, "mentioned": 2}
    assert relations == sorted(relations, key=order.get)
    assert relations[0] == "shown" and relations[-1] == "mentioned"


def test_facets_match_the_catalog(index: SearchIndex, sample_archive: Path) -> None:
    result = index.search("taken:2019", Page(limit=5))
    with Archive.open(sample_archive, readonly=True) as archive:
        db = archive.catalog
        sessions = {r["value"]: r["n"] for r in db.query(
            "SELECT value, COUNT(*) AS n FROM tags WHERE kind = 'session' GROUP BY value")}
        people = {r["value"]: r["n"] for r in db.query(
            "SELECT value, COUNT(*) AS n FROM tags WHERE kind = 'person' GROUP BY value")}
        creators = {r["value"]: r["n"] for r in db.query(
            "SELECT value, COUNT(*) AS n FROM credits WHERE field = 'creator' GROUP BY value")}
        kinds = {r["kind"]: r["n"] for r in db.query(
            "SELECT kind, COUNT(*) AS n FROM items GROUP BY kind")}
    facets = result["facets"]
    assert facets["session"] == sessions
    assert facets["person"] == people
    assert facets["creator"] == creators
    assert facets["kind"] == kinds
    assert facets["event"] == {"florence-2019": 59}
    assert facets["camera"] == {"Canon EOS 80D": 30, "NIKON D750": 28}


def test_highlights_are_escaped_snippets(index: SearchIndex) -> None:
    hit = index.search("innoprovement")["results"][0]
    assert re.search(r"<mark[^>]*>INNOPROVEMENT</mark>", hit["highlights"]["title"])
    spoken = index.search("materials kind:video")["results"][0]
    assert re.search(r"<mark[^>]*>materials</mark>", spoken["highlights"]["transcript"])
    assert spoken["at"] == 9.0


def test_a_people_snippet_names_whole_people_who_match(index: SearchIndex) -> None:
    snippets = [hit["highlights"].get("people") for hit in
                index.search('"Peter Keller"', Page(1, 50))["results"]]
    assert any(snippets)
    for people in filter(None, snippets):
        # Only the names that match, each whole: a cut list began "Ymbert, Ester ...".
        assert re.sub(r"</?mark[^>]*>", "", people) == "Péter Keller", people


def test_did_you_mean(index: SearchIndex) -> None:
    result = index.search("bramantti")
    assert result["total"] == 0
    assert result["suggestion"] == "bramanti"
    assert index.search("keller")["suggestion"] is None


def test_pagination_and_sorting(index: SearchIndex) -> None:
    first = index.search("session:s2", Page(1, 10), sort="date")
    second = index.search("session:s2", Page(2, 10), sort="date")
    assert (first["pages"], len(first["results"]), len(second["results"])) == (2, 10, 5)
    taken = [r["taken"] for r in first["results"] + second["results"]]
    assert taken == sorted(taken)
    newest = index.search("session:s2", Page(1, 3), sort="-date")["results"]
    assert [r["taken"] for r in newest] == sorted(taken, reverse=True)[:3]


@pytest.mark.parametrize("text", ['"unbalanced quote', "((keller", "keller))", "AND", "NOT",
                                  "-", ":", "session:",
                                  pytest.param("x" * 10_000, marks=pytest.mark.slow),
                                  "keller " * 2000,
                                  "the of and", "\x00\u202e", "a:b:c", "NOT )", "(" * 500,
                                  ")" * 500, "NOT " * 500 + "keller", "taken:9999-12-31",
                                  "taken:>=9999-12-31T23:59", "taken:9999", "taken:9999-12",
                                  "taken:0001-01-01..", "taken:<0001-01-01", "duration:1e999",
                                  "*", "-*", "kind:*", '"\\', 'creator:"\\', "\ud800"])
def test_malformed_queries_answer_without_traceback(index: SearchIndex, text: str) -> None:
    try:
        outcome = index.search(text)["total"] >= 0
    except QueryError as exc:
        outcome = bool(str(exc))  # a message for the user, not a traceback
    assert outcome


def test_bad_date_and_number_say_what_to_write(index: SearchIndex) -> None:
    with pytest.raises(QueryError, match="taken:2019-03-19"):
        index.search("taken:yesterday")
    with pytest.raises(QueryError, match="duration:>60"):
        index.search("duration:long")
    with pytest.raises(QueryError, match="duration:>60"):
        index.search("duration:>nan")


S3B = ("Industrial Modernisation and Advanced Materials: opportunities and risks and how "
       "public policy can adapt")


@pytest.mark.parametrize("text", [S3B, f'"{S3B}"', "keynote: opening", "colour:red",
                                  "https://www.interregeurope.eu/trinno/", "Session: keller",
                                  "Q&A: keller", "-note: keller"])
def test_a_word_colon_that_is_no_field_is_text(index: SearchIndex, text: str) -> None:
    assert index.search(text)["total"] >= 0


def test_a_pasted_session_title_finds_its_session(index: SearchIndex) -> None:
    session = {r["id"] for r in index.search("session:s3b", Page(limit=100))["results"]}
    pasted = {r["id"] for r in index.search(S3B, Page(limit=100))["results"]}
    assert session and session <= pasted
    assert index.search("Session: keller")["total"] == index.search("session keller")["total"]
    misspelt = index.search("sesion:s2")
    assert any("did you mean session:" in n for n in misspelt["notices"])


@pytest.mark.parametrize("text", [
    "IMG_0043", "img_0043", "IMG_0043.jpg", "img_0043.JPG", "photos/canon/IMG_0043.jpg",
    "canon/img_0043.jpg", "file:IMG_0043", "file:img_0043.JPG", "FILE:IMG_0043.jpg",
    "file:photos/canon/IMG_0043.jpg", "file:Canon/IMG_0043.JPG", 'file:"IMG_0043.jpg"',
    "filename:img_0043"])
def test_a_file_by_stem_name_or_path_in_any_case(index: SearchIndex, text: str) -> None:
    assert files(index.search(text)) == ["IMG_0043.jpg"]


def test_a_trailing_star_is_a_prefix(index: SearchIndex) -> None:
    assert index.search("kel*")["total"] == index.search("keller")["total"] == 16
    assert index.search("KÉL*")["total"] == 16
    names = files(index.search("file:IMG_004*", Page(limit=100)))
    assert names and all(re.fullmatch(r"IMG_004\d\.jpg", n) for n in names)
    assert sorted(names) == sorted(files(index.search("IMG_004*", Page(limit=100))))
    assert index.search("person:kel*")["total"] == index.search("person:keller")["total"]
    assert index.search("session:s3*")["total"] == index.search(
        "session:s3a OR session:s3b")["total"]
    # A prefix longer than the stem of its word (materials -> materi) still finds it.
    assert index.search("transcript:materials* kind:video")["total"] == 1
    assert index.search("title:innoprov*")["total"] == 1
    spoken = index.search("mat* kind:video")["results"][0]
    assert spoken["at"] == 9.0
    assert re.search(r"<mark[^>]*>materials</mark>", spoken["highlights"]["transcript"])
    # Quoted, a star is taken as it is written.
    assert index.search('file:"IMG_004*"')["total"] == 0


@pytest.mark.slow
def test_a_heic_from_a_phone_by_its_name(corpus: Path, tmp_path: Path) -> None:
    event = tmp_path / "event" / "phone"
    event.mkdir(parents=True)
    shutil.copy(corpus / "photos" / "immich__IMG_2682.heic", event / "IMG_2682.HEIC")
    with Archive.open(tmp_path / "arch") as archive:
        ingest_folder(archive, event.parent, jobs=1, progress=False)
        idx = SearchIndex(archive)
        for text in ("file:IMG_2682.HEIC", "file:img_2682.heic", "IMG_2682", "img_2682*",
                     "phone/IMG_2682.HEIC"):
            assert files(idx.search(text)) == ["IMG_2682.HEIC"], text
        idx.close()


def test_dates_at_the_end_of_the_calendar_find_nothing(index: SearchIndex) -> None:
    assert index.search("taken:9999-12-31")["total"] == 0
    assert index.search("taken:>=9999-12-31T23:59")["total"] == 0
    assert index.search("taken:0001-01-01..")["total"] == 59
    with pytest.raises(QueryError, match="nested"):
        index.search("(" * 500 + "keller")


def test_and_binds_tighter_than_or(index: SearchIndex) -> None:
    def ids(text: str) -> set[str]:
        return {r["id"] for r in index.search(text, Page(limit=200))["results"]}

    expected = ids("keller") | ids("session:s1 kind:photo")
    assert ids("keller OR session:s1 kind:photo") == expected
    assert ids("session:s1 kind:photo OR keller") == expected
    assert len(expected) < index.search("kind:photo")["total"]


@pytest.mark.slow
def test_cli_search_json(cli, sample: Path) -> None:
    cli("ingest", "-j", "2", str(sample))
    result = cli.json("search", "keller session:s2", "--limit", "5")
    assert set(result) >= {"query", "total", "results", "facets", "suggestion"}
    assert result["total"] == 15
    hit = result["results"][0]
    assert {"score", "highlights", "at"} <= set(hit)
    assert cli.json("search", "nope:x")["total"] == 0
    message = cli("search", "(" * 500, code=1)
    assert message.startswith("error: bad query: brackets nested") and message.count("\n") == 1
    assert cli.json("search", "NOT )")["total"] == 0
    assert cli.json("search", "taken:>=9999-12-31T23:59")["total"] == 0
    exported = cli("export", "credits", "--format", "json", "person:keller kind:video")
    assert '"workshop-summary.mp4"' not in exported
    assert "video/workshop-summary.mp4" in exported


@pytest.mark.slow
def test_sync_follows_add_update_delete_and_move(tmp_path: Path, sample: Path,
                                                 archive_dir: Path) -> None:
    event = tmp_path / "event"
    shutil.copytree(sample, event)
    with Archive.open(archive_dir) as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
        idx = SearchIndex(archive)
        assert idx.search("kind:video")["total"] == 1
        (event / "video" / "workshop-summary.mp4").rename(event / "moved.mp4")
        (event / "video" / "workshop-summary.en.vtt").rename(event / "moved.en.vtt")
        ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
        assert files(idx.search("kind:video")) == ["moved.mp4"]
        toml = event / "event.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            'name = "Alberto Bramanti"', 'name = "Alberto Bramanti"\naliases = ["Prof. Alby"]'),
            encoding="utf-8")
        ingest_folder(archive, event, jobs=1, progress=False)
        result = sync(archive)
        assert result.updated > 0
        assert idx.search("alby")["total"] == idx.search("bramanti")["total"]
        (event / "moved.mp4").unlink()
        ingest_folder(archive, event, jobs=1, progress=False, prune=True)
        sync(archive)
        assert idx.search("kind:video")["total"] == 0
        idx.close()


@pytest.mark.slow
def test_crash_between_catalog_and_index_commit_is_repaired(tmp_path: Path, sample_archive: Path,
                                                            sample: Path) -> None:
    root = copy_archive(sample_archive, tmp_path / "arch")
    event = tmp_path / "event"
    shutil.copytree(sample, event)
    # Another event: the sample's id belongs to the sample's own folder, which stays.
    toml = event / "event.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'id = "florence-2019"', 'id = "florence-copy"', 1), encoding="utf-8")
    extra = event / "photos" / "late.jpg"
    shutil.copy(event / "photos" / "canon" / "IMG_0042.jpg", extra)
    with extra.open("ab") as fh:
        fh.write(b"extra bytes make a new item")
    with Archive.open(root) as archive:
        # The catalog commits; the process "dies" before the index sync.
        ingest_folder(archive, event, jobs=1, progress=False)
        assert read_revision(current_dir(archive.index_dir)) < archive.catalog.revision
        idx = SearchIndex(archive)
        assert idx.search("file:late")["total"] == 0
        sync(archive)
        assert idx.search("file:late")["total"] == 1
        idx.close()


@pytest.mark.slow
def test_missing_or_corrupt_index_is_rebuilt(tmp_path: Path, sample_archive: Path) -> None:
    root = copy_archive(sample_archive, tmp_path / "arch")
    with Archive.open(root) as archive:
        folder = current_dir(archive.index_dir)
        for toc in folder.glob("*.toc"):
            toc.write_bytes(b"garbage")
        idx = SearchIndex(archive)
        assert idx.search("keller")["total"] == 16
        idx.close()
        shutil.rmtree(current_dir(archive.index_dir))
        idx = SearchIndex(archive)
        assert idx.search("keller")["total"] == 16
        idx.close()


@pytest.mark.slow
def test_reindex_while_searching(tmp_path: Path, sample_archive: Path) -> None:
    root = copy_archive(sample_archive, tmp_path / "arch")
    archive = Archive.open(root)
    reader = Archive.open(root, readonly=True)
    idx = SearchIndex(reader)
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            try:
                totals.append(idx.search("keller")["total"])
            except BaseException as exc:  # noqa: BLE001 - collected for the assert
                errors.append(exc)

    thread = threading.Thread(target=searching)
    thread.start()
    try:
        for _ in range(3):
            rebuild(archive)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert totals and set(totals) == {16}
    generations = [p for p in root.glob("index-*") if p.is_dir()]
    assert len(generations) <= 2
    assert os.path.islink(root / "index")
    idx.close()
    reader.close()
    archive.close()


@pytest.mark.slow
def test_an_index_of_an_older_schema_is_rebuilt(tmp_path: Path, sample_archive: Path) -> None:
    root = copy_archive(sample_archive, tmp_path / "arch")
    with Archive.open(root) as archive:
        old = current_dir(archive.index_dir)
        (old / "SCHEMA").unlink(missing_ok=True)  # as an index written before versions
        sync(archive)  # up to date in revision, yet rebuilt
        assert current_dir(archive.index_dir) != old
        assert (current_dir(archive.index_dir) / "SCHEMA").is_file()
        (current_dir(archive.index_dir) / "SCHEMA").write_text("1\n")
        idx = SearchIndex(archive)
        assert files(idx.search("IMG_0043")) == ["IMG_0043.jpg"]
        idx.close()


@pytest.mark.slow
def test_one_index_searched_from_many_threads_answers_as_from_one(index: SearchIndex) -> None:
    """The site's threads share one SearchIndex: each answer is the one a lone search gives,
    however often the interpreter switches threads (here after every few bytecodes)."""
    texts = ["keller", "session:s2 kind:photo", "person:keller camera:canon",
             "(session:s1 OR session:s2) kind:photo", "advanced materials", "materi*"]
    expected = {text: index.search(text, Page(limit=50)) for text in texts}
    wrong: list[str] = []

    def searching(seed: int) -> None:
        for text in texts[seed % len(texts):] * 10:
            try:
                if index.search(text, Page(limit=50)) != expected[text]:
                    wrong.append(f"{text}: another answer")
            except Exception as exc:  # noqa: BLE001 - collected for the assert
                wrong.append(f"{text}: {type(exc).__name__}: {exc}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=searching, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def test_a_field_that_only_selects_marks_no_words(index: SearchIndex) -> None:
    """`event:florence-2019` selects the event; the talk's "Welcome to Florence" is no
    moment of it. Searching the word itself finds that moment."""
    for text in ("event:florence-2019", "room:donatello", 'session:"advanced materials"'):
        for hit in index.search(text, Page(limit=100))["results"]:
            assert hit["at"] is None and not hit["transcript"], (text, hit["id"])
    said = index.search("florence kind:video")["results"][0]
    assert said["at"] == 0.5 and "Florence" in said["transcript"][0]["text"]


def test_the_command_line_shows_as_many_facet_values_as_the_site(tmp_path: Path) -> None:
    from archive import settings

    from helpers.cli import Cli
    from helpers.media import make_jpeg

    shown = settings.value("facet_values")
    event = tmp_path / "event"
    ids = [f"p{n:02d}" for n in range(shown + 3)]
    people = "".join(f'[[people]]\nid = "{i}"\nname = "Person {i}"\n' for i in ids)
    event.mkdir()
    (event / "event.toml").write_text(
        '[event]\nid = "many"\ntitle = "Many"\ndate = 2024-05-02\ntimezone = "UTC"\n' + people
        + f'[[media]]\npath = "a.jpg"\npeople = {ids!r}\n'.replace("'", '"'),
        encoding="utf-8")
    make_jpeg(event / "a.jpg")
    cli = Cli(tmp_path / "archive")
    cli("ingest", "-j", "1", str(event))
    facets = cli.json("search", "", "--json")["facets"]
    assert len(facets["person"]) == shown + 3
    lines = {line.split(":")[0].strip(): line for line in cli("search", "").splitlines()
             if line.startswith("  ")}
    for name, counts in facets.items():
        if counts:
            listed = list(counts.items())[:shown]
            expected = ", ".join(f"{k} ({v})" for k, v in listed)
            if len(counts) > shown:
                expected += f", … {len(counts) - shown} more"
            assert lines[name] == f"  {name}: {expected}"


@pytest.mark.parametrize("text", ["paolo", "keller", "photo", ""])
def test_pages_of_tied_results_neither_repeat_nor_drop_an_item(index: SearchIndex,
                                                               text: str) -> None:
    """Photos of one session tie in score; walking the pages gives every result once, in
    the order a single page of all of them gives."""
    whole = index.search(text, Page(1, 100))
    walked = [hit["id"] for number in range(1, whole["total"] // 7 + 2)
              for hit in index.search(text, Page(number, 7))["results"]]
    assert walked == [hit["id"] for hit in whole["results"]]
    assert len(set(walked)) == whole["total"] > 7
