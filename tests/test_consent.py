"""Consent and takedown: `[[people]] consent = false` and `[[media]] publish` withhold
items from the site and every export, keep them in the archive and list them in the
report; a change takes effect at the next ingest, on a site running throughout."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.errors import ManifestError
from archive.resolve.eventfile import parse_event
from archive.resolve.publication import withheld_reason
from archive.resolve.rules import ItemFacts, resolve
from archive.store import Archive

from helpers.cli import Cli
from helpers.consent import PUBLISHED, WITHHELD, event_text, make_event
from helpers.media import make_jpeg, make_xmp
from helpers.processes import LiveServer

# The tests of archives run against both catalog engines (tests/conftest.py).
pytestmark = pytest.mark.engines


def parsed(text: str) -> Any:
    return parse_event(text, Path("/ev/event.toml"), Path("/ev"))


# ---- the event file ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "key", "problem"), [
    (event_text('consent = "no"'), "people[id='peter-keller'].consent",
     "expected true or false, got a string"),
    (event_text("consent = 0"), "people[id='peter-keller'].consent",
     "expected true or false, got an integer"),
    (event_text(media='[[media]]\npath = "a.jpg"\npublish = "false"\n'),
     "media[0].publish", "expected true or false, got a string"),
    (event_text(media='[[media]]\npath = "private/*"\ntitle = "Backstage"\n'
                'publish = false\n'), "media[0].title", "not allowed beside a glob path"),
    (event_text(media='[[media]]\npath = "private/**"\n'), "media[0].publish",
     "missing; a [[media]] entry whose path is a glob gives publish"),
    (event_text(media='[[media]]\npath = "private/[*"\npublish = false\n'), "media[0].path",
     "is not a valid glob"),
])
def test_consent_and_publish_mistakes_name_file_key_and_problem(text: str, key: str,
                                                               problem: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parsed(text)
    line = str(caught.value)
    assert line.startswith(f"/ev/event.toml: {key}: "), line
    assert problem in line
    assert "\n" not in line


def test_consent_defaults_to_true_and_publish_to_unsaid() -> None:
    event = parsed(event_text(media='[[media]]\npath = "a.jpg"\ntitle = "A"\n'))
    assert [p.consent for p in event.people] == [True, True]
    assert event.media[0].publish is None
    refused = parsed(event_text("consent = false"))
    assert refused.people[0].consent is False
    assert [(m.path, m.publish, m.is_glob) for m in refused.media] == [
        ("photos/together.jpg", True, False), ("video/**", False, True)]


def test_a_path_with_brackets_stays_an_exact_path() -> None:
    event = parsed(event_text(media='[[media]]\npath = "photos/a [1].jpg"\ntitle = "A"\n'))
    assert not event.media[0].is_glob


@given(st.one_of(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=5),
                 st.integers(-2**63, 2**63 - 1),
                 st.floats(allow_nan=False, allow_infinity=False),
                 st.lists(st.booleans(), max_size=2)))
def test_anything_but_a_boolean_is_refused_as_consent(value: object) -> None:
    text = event_text(f"consent = {json.dumps(value, ensure_ascii=False)}")
    with pytest.raises(ManifestError, match=r"people\[id='peter-keller'\]\.consent: "
                       "expected true or false"):
        parsed(text)


# Folder and file names: "." and ".." name no folder of their own (a path is normalised,
# "./**" is every file of the event), so the property leaves them out.
NAME = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"),
                             whitelist_characters="._- "), min_size=1, max_size=8).filter(
    lambda name: name.strip(". ") != "")


@given(st.lists(NAME, min_size=1, max_size=3), st.lists(NAME, min_size=1, max_size=3))
def test_a_folder_glob_withdraws_the_files_under_it_and_no_other(
        folder: list[str], rest: list[str]) -> None:
    inside = "/".join(folder)
    media = (f'[[media]]\npath = {json.dumps(inside + "/**", ensure_ascii=False)}\n'
             'publish = false\n')
    event = parsed(event_text(media=media))
    under, other = f"{inside}/{'/'.join(rest)}", "/".join(rest)
    assert withheld_reason(event, under, []) is not None
    assert (withheld_reason(event, other, []) is None) == (
        not other.casefold().startswith(inside.casefold() + "/"))


# ---- the decision -----------------------------------------------------------------

def photo(relpath: str, persons: list[str] | None = None, hour: int = 11,
          transcript: str | None = None) -> ItemFacts:
    meta: dict[str, Any] = {"taken": f"2019-03-19T{hour:02d}:30:00",
                            "xmp": {"persons": persons or []}}
    if transcript:
        meta["transcript"] = [{"start": 0.0, "end": 2.0, "text": transcript}]
    return ItemFacts("0" * 64, "photo", relpath, meta)


REFUSED = event_text("consent = false")


@pytest.mark.parametrize(("facts", "withheld"), [
    (photo("photos/keller.jpg", ["Peter Keller"]),
     "shows Péter Keller (peter-keller), who gave no consent (consent = false)"),
    # Last name first, as IPTC lists people, and several names written as one text.
    (photo("photos/keller.jpg", ["Keller, Péter"]),
     "shows Péter Keller (peter-keller), who gave no consent (consent = false)"),
    (photo("photos/keller.jpg", ["Roberto Pini;Péter Keller"]),
     "shows Péter Keller (peter-keller), who gave no consent (consent = false)"),
    # In the session he speaks in, but not in the picture.
    (photo("photos/pini.jpg", ["Roberto Pini"]), None),
    # Named in the transcript: mentioned, not shown.
    (photo("photos/talk.jpg", hour=15, transcript="Thank you, Peter Keller."), None),
    # Written consent for this one photo.
    (photo("photos/together.jpg", ["Peter Keller", "Roberto Pini"]), None),
    (photo("video/summary.mp4"), "publish = false in [[media]] path 'video/**'"),
    (photo("VIDEO/Summary.MP4"), "publish = false in [[media]] path 'video/**'"),
])
def test_who_is_shown_and_what_the_entries_say_decide_publication(
        facts: ItemFacts, withheld: str | None) -> None:
    answer = resolve(facts, parsed(REFUSED))
    assert answer.withheld == withheld
    assert answer.as_dict()["withheld"] == withheld


def test_consent_given_publishes_what_it_withheld() -> None:
    facts = photo("photos/keller.jpg", ["Peter Keller"])
    assert resolve(facts, parsed(event_text())).withheld is None
    assert resolve(facts, parsed(event_text("consent = true"))).withheld is None


def test_an_exact_entry_overrides_a_glob_and_the_first_glob_decides() -> None:
    media = ('[[media]]\npath = "video/keep.mp4"\npublish = true\n'
             '[[media]]\npath = "video/*"\npublish = false\n'
             '[[media]]\npath = "**"\npublish = true\n')
    event = parsed(event_text("consent = false", media))
    assert withheld_reason(event, "video/keep.mp4", []) is None
    assert withheld_reason(event, "video/other.mp4", []) == (
        "publish = false in [[media]] path 'video/*'")
    # `publish = true` on a glob is written consent for each file it matches.
    shown = [{"id": "peter-keller", "relation": "shown"}]
    assert withheld_reason(event, "photos/keller.jpg", shown) is None


def test_an_exact_entry_without_publish_leaves_the_decision_to_consent() -> None:
    media = '[[media]]\npath = "photos/keller.jpg"\ntitle = "Keller"\n'
    event = parsed(event_text("consent = false", media))
    shown = [{"id": "peter-keller", "relation": "shown"}]
    assert withheld_reason(event, "photos/keller.jpg", shown) is not None
    session = [{"id": "peter-keller", "relation": "session"}]
    assert withheld_reason(event, "photos/keller.jpg", session) is None


@pytest.mark.slow
@pytest.mark.parametrize("entry", ['path = "private/**"', 'path = "private/s.jpg"'])
def test_a_copy_never_undoes_a_takedown(tmp_path: Path, entry: str, archive_dir: Path) -> None:
    folder = tmp_path / "event"
    (folder / "private").mkdir(parents=True)
    (folder / "event.toml").write_text(
        '[event]\nid = "e"\ntitle = "E"\n\n[[media]]\n' + entry + '\npublish = false\n',
        encoding="utf-8")
    make_jpeg(folder / "private" / "s.jpg", xmp=make_xmp(title="secret zebraword"))
    cli = Cli(archive_dir)

    def state() -> tuple[str, bool, int]:
        (item,) = cli.json("list")
        return item["relpath"], item["published"], cli.json("search", "zebraword")["total"]

    cli("ingest", str(folder))
    assert state() == ("private/s.jpg", False, 0)
    # A copy whose path sorts first becomes the item's own file: the takedown of the
    # other path must still hold (it made the item public, on every route).
    (folder / "0").mkdir()
    shutil.copy(folder / "private" / "s.jpg", folder / "0" / "s.jpg")
    cli("ingest", str(folder))
    assert state() == ("0/s.jpg", False, 0)
    assert "the copy private/s.jpg" in cli.json("list")[0]["withheld"]
    # The copy goes and is pruned: the item's own file is the one left, still withheld.
    shutil.rmtree(folder / "0")
    cli("ingest", "--prune", str(folder))
    assert state() == ("private/s.jpg", False, 0)
    assert cli.json("verify")["ok"] is True


# ---- an archive holding withheld items ------------------------------------------------
# Slow from here: media made with ffmpeg, ingests, servers and a browser.

@pytest.fixture(scope="module")
def withheld_archive(tmp_path_factory: pytest.TempPathFactory,
                     new_archive: Callable[[Path], Path]) -> tuple[Path, Path]:
    """(archive, event folder): the consent event ingested, Keller refusing. Tests only
    read it."""
    base = tmp_path_factory.mktemp("consent")
    folder = make_event(base / "event")
    Cli(new_archive(base / "archive"))("ingest", str(folder))
    return base / "archive", folder


def ids_by_name(cli: Cli) -> dict[str, str]:
    return {Path(i["relpath"]).stem: i["id"] for i in cli.json("list")}


@pytest.mark.slow
def test_list_and_show_give_the_archivist_everything_with_the_reason(
        withheld_archive: tuple[Path, Path]) -> None:
    cli = Cli(withheld_archive[0])
    items = {Path(i["relpath"]).stem: i for i in cli.json("list")}
    assert set(items) == {*WITHHELD, *PUBLISHED}
    assert items["keller"]["published"] is False
    assert items["keller"]["withheld"] == (
        "shows Péter Keller (peter-keller), who gave no consent (consent = false)")
    assert items["backstage"]["withheld"] == "publish = false in [[media]] path 'video/**'"
    assert all(items[n]["published"] and items[n]["withheld"] is None for n in PUBLISHED)
    assert cli.json("show", items["keller"]["id"])["published"] is False
    assert "withheld: shows Péter Keller" in cli("list")


@pytest.mark.slow
def test_the_report_lists_withheld_items_with_the_reason(
        withheld_archive: tuple[Path, Path]) -> None:
    cli = Cli(withheld_archive[0])
    ids = ids_by_name(cli)
    rows = cli.json("report")["withheld"]
    assert [(Path(r["path"]).stem, r["item"], r["event"], r["reason"]) for r in rows] == [
        ("keller", ids["keller"], "consent-2019",
         "shows Péter Keller (peter-keller), who gave no consent (consent = false)"),
        ("backstage", ids["backstage"], "consent-2019",
         "publish = false in [[media]] path 'video/**'")]
    text = cli("report")
    assert "Withheld from the site and exports (kept in the archive) (2):" in text
    assert "keller.jpg: shows Péter Keller (peter-keller), who gave no consent" in text


@pytest.mark.slow
def test_search_leaves_withheld_items_out_unless_all(
        withheld_archive: tuple[Path, Path]) -> None:
    cli = Cli(withheld_archive[0])
    public = cli.json("search", "")
    assert sorted(Path(r["relpath"]).stem for r in public["results"]) == sorted(PUBLISHED)
    assert public["total"] == 2
    assert sum(public["facets"]["kind"].values()) == 2
    assert "video" not in public["facets"]["kind"]
    everything = cli.json("search", "--all", "")
    assert everything["total"] == 4
    assert {r["withheld"] is not None for r in everything["results"]} == {True, False}
    # Shown with written consent, and in his session: both published.
    assert sorted(Path(r["relpath"]).stem for r in cli.json("search", "person:keller")[
        "results"]) == sorted(PUBLISHED)
    assert "(withheld)" in cli("search", "--all", "keller")
    assert "(withheld)" not in cli("search", "keller")


@pytest.mark.slow
@pytest.mark.parametrize("query", ["file:keller", "file:backstage", "kind:video",
                                   "backstage"])
def test_a_query_finding_only_withheld_items_finds_nothing(
        withheld_archive: tuple[Path, Path], query: str) -> None:
    cli = Cli(withheld_archive[0])
    assert cli.json("search", "--all", query)["total"] >= 1
    found = cli.json("search", query)
    # Whoosh's AndNot kept a first match whose exclusion came after an earlier withheld
    # document: counted, faceted and listed on the command line.
    assert (found["total"], found["results"]) == (0, []), found
    assert all(counts == {} for counts in found["facets"].values()), found["facets"]


@pytest.mark.slow
def test_did_you_mean_never_offers_words_of_withheld_items_only(
        withheld_archive: tuple[Path, Path]) -> None:
    cli = Cli(withheld_archive[0])
    # "backstage.mp4" names only the withheld video: its spelling must not leak.
    assert cli.json("search", "--all", "backstage.mp5")["suggestion"] == "backstage.mp4"
    assert cli.json("search", "backstage.mp5")["suggestion"] is None
    assert cli.json("search", "togethr")["suggestion"] == "together"  # a published one


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonld", "html"])
def test_exports_leave_withheld_items_out(withheld_archive: tuple[Path, Path],
                                          fmt: str) -> None:
    cli = Cli(withheld_archive[0])
    ids = ids_by_name(cli)
    for selection in ([], ["--person", "peter-keller"], ["keller"], ["--event",
                                                                     "consent-2019"]):
        text = cli("export", "credits", "--format", fmt, *selection)
        assert "Photo together" in text, (selection, text)
        for name in WITHHELD:
            assert ids[name] not in text and f"/{name}." not in text, (selection, text)
        assert "Photo keller" not in text
    rows = list(csv.DictReader(io.StringIO(cli("export", "credits"))))
    assert sorted(Path(r["file"]).stem for r in rows) == sorted(PUBLISHED)


# ---- the site ---------------------------------------------------------------------

def site_paths(item_id: str) -> list[str]:
    return [f"/items/{item_id}", f"/api/items/{item_id}",
            f"/api/items/{item_id}/transcript", *(f"/media/{item_id}/{name}" for name in
                                                  ("small", "large", "strip", "original"))]


PAGES = ["/", "/?q=keller", "/?q=person:peter-keller", "/?q=kind:video", "/events",
         "/events/consent-2019", "/events/consent-2019/sessions/s2",
         "/events/consent-2019/people/peter-keller", "/events/consent-2019/people/roberto-pini",
         "/credits", "/credits?q=keller", "/api/search?q=", "/api/search?q=keller",
         "/api/events", "/api/sessions/s2", "/api/people/peter-keller",
         "/api/credits?format=csv", "/api/credits?format=json",
         "/api/credits?format=jsonld", "/api/credits?format=html"]


def visible(server: LiveServer, ids: dict[str, str]) -> set[str]:
    """The items any page or API answer of the site names."""
    seen = set()
    for path in PAGES:
        status, _, body = server.get(path)
        assert status == 200, (path, status)
        seen |= {name for name, item_id in ids.items() if item_id in body.decode()}
    return seen


def counts(server: LiveServer) -> tuple[int, int, int]:
    """Items of the event, of session s2, and search total, as the site counts them."""
    event = json.loads(server.get("/api/events")[2])[0]
    s2 = json.loads(server.get("/api/sessions/s2")[2])
    search = json.loads(server.get("/api/search?q=")[2])
    return event["items"], len(s2["items"]), search["total"]


@pytest.mark.slow
def test_the_site_neither_lists_nor_serves_a_withheld_item(
        withheld_archive: tuple[Path, Path],
        live_server: Callable[..., LiveServer]) -> None:
    root = withheld_archive[0]
    ids = ids_by_name(Cli(root))
    server = live_server(root, "--workers", "2")
    for name in WITHHELD:
        for path in site_paths(ids[name]):
            assert server.get(path)[0] == 404, path
    for name in PUBLISHED:
        assert server.get(f"/items/{ids[name]}")[0] == 200
        assert server.get(f"/media/{ids[name]}/small")[0] == 200
    assert visible(server, ids) == set(PUBLISHED)
    assert counts(server) == (2, 2, 2)
    facets = json.loads(server.get("/api/search?q=")[2])["facets"]
    assert facets["person"] == {"roberto-pini": 2, "peter-keller": 2}  # together: shown
    assert facets["kind"] == {"photo": 2}


@pytest.mark.slow
def test_consent_withdrawn_then_given_back_with_the_site_running(
        tmp_path: Path, live_server: Callable[..., LiveServer], archive_dir: Path) -> None:
    folder = make_event(tmp_path / "event", consent="")
    cli = Cli(archive_dir)
    cli("ingest", str(folder))
    ids = ids_by_name(cli)
    keller = ids["keller"]
    server = live_server(tmp_path / "archive", "--workers", "2")
    toml = folder / "event.toml"

    def searched() -> set[str]:
        """What a search for Keller lists, asked of both workers (twice, so the second
        answer comes from the shared cache)."""
        found = [{r["id"] for r in json.loads(server.get("/api/search?q=keller")[2])[
            "results"]} for _ in range(4)]
        assert all(f == found[0] for f in found), found
        return found[0]

    assert keller in searched()
    assert server.get(f"/media/{keller}/large")[0] == 200
    # Withdrawn: the next ingest reads no media, and the next search reflects it.
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'aliases = ["Peter Keller"]', 'aliases = ["Peter Keller"]\nconsent = false'),
        encoding="utf-8")
    assert re.search(r"0 added, 0 updated, 4 unchanged, 1 re-resolved",
                     cli("ingest", str(folder)))
    assert keller not in searched()
    for path in site_paths(keller):
        assert server.get(path)[0] == 404, path
    assert "keller" not in visible(server, ids)
    assert keller in {i["id"] for i in cli.json("list")}  # kept in the archive
    # Given back.
    toml.write_text(toml.read_text(encoding="utf-8").replace("consent = false",
                                                             "consent = true"),
                    encoding="utf-8")
    assert "1 re-resolved" in cli("ingest", str(folder))
    assert keller in searched()
    assert server.get(f"/items/{keller}")[0] == 200
    assert server.get(f"/media/{keller}/large")[0] == 200
    assert "keller" in visible(server, ids)


@pytest.mark.slow
def test_the_site_lists_no_item_the_catalog_withholds_before_the_index_knows(
        tmp_path: Path, live_server: Callable[..., LiveServer], archive_dir: Path) -> None:
    """An ingest killed between its catalog commit and its index sync leaves the index
    behind; the site (which never syncs it) still lists no withheld item."""
    folder = make_event(tmp_path / "event", consent="")
    cli = Cli(archive_dir)
    cli("ingest", str(folder))
    keller = ids_by_name(cli)["keller"]
    server = live_server(tmp_path / "archive")
    assert keller in server.get("/api/search?q=keller")[2].decode()
    with Archive.open(tmp_path / "archive") as archive, archive.catalog.transaction():
        archive.catalog.execute("UPDATE items SET withheld = 'taken down' WHERE id = ?",
                                (keller,))
    for path in ("/api/search?q=keller", "/?q=keller", "/credits?q=keller",
                 "/api/credits?format=csv&q=keller"):
        assert keller not in server.get(path)[2].decode(), path
    assert server.get(f"/items/{keller}")[0] == 404
    # Nor counted: totals, pages and facets came from the index, which still had it.
    alone = json.loads(server.get("/api/search?q=file:keller")[2])
    assert (alone["total"], alone["pages"], alone["results"]) == (0, 0, [])
    assert all(counts == {} for counts in alone["facets"].values())
    everything = json.loads(server.get("/api/search?q=")[2])
    assert everything["total"] == 2 and sum(everything["facets"]["kind"].values()) == 2
    assert "1 item" not in server.get("/?q=file:keller")[2].decode()


@pytest.mark.slow
def test_a_catalog_from_before_consent_read_only_withholds_nothing(
        tmp_path: Path, live_server: Callable[..., LiveServer]) -> None:
    """Read before any command migrates it (the site, report, export): schema 2 has no
    `withheld` column, and nothing was withheld then."""
    folder = make_event(tmp_path / "event", consent="")
    (folder / "event.toml").write_text(event_text(media=""), encoding="utf-8")
    root = tmp_path / "archive"
    Cli(root)("ingest", str(folder))
    with closing(sqlite3.connect(root / "catalog.sqlite3")) as db:
        db.execute("DROP INDEX items_withheld")
        db.execute("ALTER TABLE items DROP COLUMN withheld")
        db.execute("PRAGMA user_version = 2")
        db.commit()
    cli = Cli(root)
    assert cli.json("report")["withheld"] == []
    assert len(list(csv.DictReader(io.StringIO(cli("export", "credits"))))) == 4
    server = live_server(root)
    assert json.loads(server.get("/api/search?q=")[2])["total"] == 4
    assert all(server.get(f"/items/{i}")[0] == 200 for i in ids_by_name(cli).values())
