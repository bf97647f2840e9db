"""Rights (issue 11): the event's organisation and licence reach only its own creators'
work; embedded licences are read, conflicts reported; the credit line carries the
licence; a creator who is a person of the event file is linked to that person."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st

from archive.catalog import get_item, set_resolution_mark, store_resolution
from archive.model import ResolutionMark
from archive.resolve.credits import credit_line
from archive.resolve.eventfile import load_event, parse_event
from archive.resolve.licenses import SPDX_IDS
from archive.resolve.licensetext import license_name, license_url, spdx_license
from archive.resolve.rules import ItemFacts, Resolution, resolve
from archive.store import Archive
from web import create_app

from helpers.cli import Cli
from helpers.media import make_exif, make_jpeg, make_xmp

EVENT = """
[event]
id = "acme-2024"
title = "ACME"

[credit]
organisation = "ACME Conferences"
license = "CC-BY-SA-4.0"

[[credit.rules]]
match = "video/**"
creator = "Barry Guckian"
project = "TRINNO"

[[credit.rules]]
match = "press/**"
organisation = "Press Office"
license = "CC-BY-4.0"
force = true

[[people]]
id = "peter-keller"
name = "Péter Keller"
aliases = ["P. Keller"]

[[media]]
path = "decided/harvey.jpg"
organisation = "Phil Harvey Photography"
"""


def resolved(relpath: str = "photos/a.jpg", kind: str = "photo", extra: str = "",
             **meta: object) -> Resolution:
    event = parse_event(EVENT + extra, Path("/ev/event.toml"), Path("/ev"))
    return resolve(ItemFacts("id", kind, relpath, {"taken": None, "camera": {}, **meta}),
                   event)


HARVEY = {"xmp": {"creator": ["Phil Harvey"], "rights": "Copyright 2004 Phil Harvey"}}


# --- who may be credited with what -------------------------------------------------------

def test_a_third_party_creator_keeps_its_rights_and_gets_no_licence() -> None:
    answer = resolved(**HARVEY)
    assert answer.credit == {"creator": ("Phil Harvey", "xmp"),
                             "copyright": ("Copyright 2004 Phil Harvey", "xmp")}
    assert answer.rights["third_party"] == [
        {"field": "creator", "source": "xmp", "value": "Phil Harvey"},
        {"field": "copyright", "source": "xmp", "value": "Copyright 2004 Phil Harvey"}]


def test_an_item_naming_no_one_takes_the_default() -> None:
    answer = resolved()
    assert answer.credit["organisation"] == ("ACME Conferences", "default")
    assert answer.credit["license"] == ("CC-BY-SA-4.0", "default")
    assert answer.rights["third_party"] == []


def test_a_rights_statement_alone_makes_an_item_third_party() -> None:
    answer = resolved(exif={"copyright": "© Getty Images"})
    assert "organisation" not in answer.credit and "license" not in answer.credit
    assert answer.rights["third_party"][0]["field"] == "copyright"


def test_the_creator_a_rule_names_takes_the_event_rights() -> None:
    answer = resolved("video/a.mp4", "video", tags={"artist": "barry GUCKIAN"})
    assert answer.credit["project"] == ("TRINNO", "rule")
    assert answer.credit["license"] == ("CC-BY-SA-4.0", "default")
    assert answer.rights["third_party"] == []
    # The same creator outside the rule's folder is nobody the event names.
    assert resolved("photos/a.jpg", tags={"artist": "Barry Guckian"}).rights["third_party"]


@pytest.mark.parametrize("name", ["Péter Keller", "peter keller", "P. KELLER"])
def test_a_person_of_the_event_file_is_the_events_photographer(name: str) -> None:
    answer = resolved(iptc={"creator": [name]})
    assert answer.credit["organisation"] == ("ACME Conferences", "default")
    assert answer.credit["license"] == ("CC-BY-SA-4.0", "default")
    assert answer.rights["creator_person"] == "peter-keller"
    assert answer.rights["third_party"] == []


def test_several_creators_are_ours_only_if_each_is() -> None:
    assert resolved(xmp={"creator": ["Péter Keller", "Phil Harvey"]}).rights["third_party"]
    extra = '[[people]]\nid = "phil"\nname = "Phil Harvey"\n'
    ours = resolved(extra=extra, xmp={"creator": ["Péter Keller", "Phil Harvey"]})
    assert ours.rights["third_party"] == [] and ours.rights["creator_person"] == "peter-keller"


def test_an_outsider_named_by_another_field_makes_it_third_party() -> None:
    # XMP names the event's photographer, EXIF Artist and Copyright someone else: the
    # event's licence must not be granted under another's copyright.
    answer = resolved(xmp={"creator": ["Péter Keller"]},
                      exif={"artist": "Phil Harvey", "copyright": "Copyright 2004 Phil Harvey"})
    assert "license" not in answer.credit and "organisation" not in answer.credit
    assert {"field": "creator", "source": "exif", "value": "Phil Harvey"} in \
        answer.rights["third_party"]
    agreeing = resolved(xmp={"creator": ["Péter Keller"]}, exif={"artist": "Peter Keller"})
    assert agreeing.rights["third_party"] == []
    assert agreeing.credit["license"] == ("CC-BY-SA-4.0", "default")


def test_a_forced_rule_decides() -> None:
    answer = resolved("press/a.jpg", **HARVEY)
    assert answer.credit["organisation"] == ("Press Office", "rule")
    assert answer.credit["license"] == ("CC-BY-4.0", "rule")
    assert answer.rights["third_party"] == []


def test_a_media_entry_decides_without_the_event_rights() -> None:
    answer = resolved("decided/harvey.jpg", **HARVEY)
    assert answer.rights["third_party"] == []
    assert answer.credit["organisation"] == ("Phil Harvey Photography", "media")
    assert "license" not in answer.credit


def test_descriptive_fields_keep_field_by_field_precedence() -> None:
    answer = resolved(xmp={**HARVEY["xmp"], "title": "From the file"})
    assert answer.title == "From the file"
    entry = resolved("decided/harvey.jpg", xmp={**HARVEY["xmp"], "title": "From the file"})
    assert entry.title == "From the file"


# --- embedded licences ---------------------------------------------------------------------

@pytest.mark.parametrize(("block", "licence"), [
    ({"rights": "This file is in the public domain."}, "CC-PDM-1.0"),
    ({"rights": "Licensed under CC BY 4.0"}, "CC-BY-4.0"),
    ({"usage_terms": "Creative Commons Attribution-ShareAlike 4.0 International"},
     "CC-BY-SA-4.0"),
    ({"cc_license": "https://creativecommons.org/licenses/by-nc-nd/3.0/"}, "CC-BY-NC-ND-3.0"),
    ({"license_url": "http://creativecommons.org/publicdomain/zero/1.0/"}, "CC0-1.0"),
    ({"usage_terms": "Editorial use only, no resale"}, "Editorial use only, no resale"),
])
def test_embedded_licence_statements_are_read(block: dict, licence: str) -> None:
    answer = resolved(xmp={"creator": ["Péter Keller"], **block})
    assert answer.credit["license"] == (licence, "xmp")


@pytest.mark.parametrize("block", [{"rights": "Copyright 2004 Phil Harvey"},
                                   {"license_url": "https://exiftool.org/"},
                                   {"rights": "Not in the public domain"}])
def test_copyright_notices_and_web_sites_are_no_licence(block: dict) -> None:
    answer = resolved(xmp={"creator": ["Péter Keller"], **block})
    assert answer.credit["license"] == ("CC-BY-SA-4.0", "default")
    assert answer.rights["license_conflict"] is None


def test_a_conflicting_licence_is_kept_and_reported() -> None:
    answer = resolved(xmp={"creator": ["Péter Keller"], "rights": "CC BY 4.0"})
    assert answer.credit["license"] == ("CC-BY-4.0", "xmp")
    assert answer.rights["license_conflict"] == {
        "embedded": "CC-BY-4.0", "event_license": "CC-BY-SA-4.0", "event_source": "default",
        "license": "CC-BY-4.0"}
    same = resolved(xmp={"creator": ["Péter Keller"], "usage_terms": "CC BY-SA 4.0"})
    assert same.rights["license_conflict"] is None


def test_a_forced_rule_over_an_embedded_licence_is_reported() -> None:
    answer = resolved("press/a.jpg", xmp={"rights": "public domain"})
    assert answer.credit["license"] == ("CC-BY-4.0", "rule")
    assert answer.rights["license_conflict"]["embedded"] == "CC-PDM-1.0"
    assert answer.rights["license_conflict"]["license"] == "CC-BY-4.0"


def test_a_public_domain_photo_never_takes_the_event_licence() -> None:
    answer = resolved(xmp={"rights": "This file is in the public domain"})
    assert answer.credit["license"] == ("CC-PDM-1.0", "xmp")
    assert answer.rights["license_conflict"]["event_license"] == "CC-BY-SA-4.0"


# --- the licence parser -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "spdx"), [
    ("CC BY 4.0", "CC-BY-4.0"), ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
    ("CC BY-NC-SA 2.0", "CC-BY-NC-SA-2.0"), ("CC BY 3.0 IGO", "CC-BY-3.0-IGO"),
    ("https://creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"),
    ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0", "CC-BY-NC-ND-4.0"),
    ("CC0", "CC0-1.0"), ("cc0-1.0", "CC0-1.0"),
    ("This image is in the Public Domain", "CC-PDM-1.0"),
    ("https://creativecommons.org/publicdomain/mark/1.0/", "CC-PDM-1.0"),
    ("CC BY 9.9", None), ("Copyright 2004 Phil Harvey", None), ("", None),
    ("All rights reserved", None), ("LicenseRef-Acme-1", "LicenseRef-Acme-1"),
    # Statements that deny a licence grant none.
    ("not CC BY 4.0", None),
    ("This photo is NOT licensed under CC BY-SA 4.0. All rights reserved.", None),
    ("Not released to the public domain; CC0 does not apply", None),
    ("All rights reserved, no public domain", None),
    ("© 2019 ASEV. CC BY 4.0", "CC-BY-4.0"),  # a notice beside a licence: the licence
    ("Some rights reserved. Licensed under CC BY-NC-ND 4.0.", "CC-BY-NC-ND-4.0"),
    ("Creative Commons Attribution No Derivatives 4.0", "CC-BY-ND-4.0"),
    ("Not for sale; CC BY-NC 4.0", "CC-BY-NC-4.0"),
])
def test_licence_texts(text: str, spdx: str | None) -> None:
    assert spdx_license(text) == spdx


@given(text=st.text(max_size=200))
@example(text="cc by-sa-nc 4.0")
@example(text="CC\x00BY 4.0")
def test_the_licence_parser_never_raises_and_names_only_known_ids(text: str) -> None:
    found = spdx_license(text)
    assert found is None or found in SPDX_IDS or found.startswith("LicenseRef-")
    if found is not None:
        assert spdx_license(found) == found


def test_a_megabyte_statement_is_read_at_once() -> None:
    """Only its start is read: after "public domain", each "not" starts a search for a
    negated "public domain" to the end of the text (20,000 of them took 22 s)."""
    started = time.monotonic()
    assert spdx_license("public domain. " + "not " * 250_000) == "CC-PDM-1.0"
    assert spdx_license("CC BY 4.0. " + "not " * 250_000) == "CC-BY-4.0"
    assert time.monotonic() - started < 2


@given(spdx=st.sampled_from(sorted(SPDX_IDS)))
def test_the_licence_parser_is_idempotent_on_spdx_ids(spdx: str) -> None:
    assert spdx_license(spdx) == spdx
    assert spdx_license(spdx.lower()) == spdx


@pytest.mark.parametrize(("value", "name", "url"), [
    ("CC-BY-4.0", "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    ("CC-BY-NC-SA-4.0", "CC BY-NC-SA 4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
    ("CC0-1.0", "CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    ("CC-PDM-1.0", "Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
    ("https://creativecommons.org/licenses/by-sa/2.0/", "CC BY-SA 2.0",
     "https://creativecommons.org/licenses/by-sa/2.0/"),
    ("Editorial use only", "Editorial use only", None),
    ("x" * 200, None, None),
])
def test_licence_names_and_urls(value: str, name: str | None, url: str | None) -> None:
    assert license_name(value) == name
    assert license_url(value) == url


@pytest.mark.parametrize(("values", "line"), [
    ({"creator": "Chiara Neri", "organisation": "ASEV", "license": "CC-BY-4.0"},
     "Photo: Chiara Neri / ASEV, CC BY 4.0"),
    ({"creator": "A", "organisation": "B", "project": "C", "license": "CC-BY-SA-4.0"},
     "Photo: A / B (C), CC BY-SA 4.0"),
    ({"creator": "Anon", "license": "CC-PDM-1.0"}, "Photo: Anon, Public Domain Mark 1.0"),
    ({"license": "CC-BY-4.0"}, None),
])
def test_the_credit_line_carries_the_licence(values: dict, line: str | None) -> None:
    assert credit_line("photo", values) == line


# --- through ingest: the report, exports and search ------------------------------------------

PEOPLE = """
[[people]]
id = "chiara-neri"
name = "Chiara Neri"
aliases = ["C. Neri"]
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """An event whose default licence is CC-BY-SA-4.0, with an own photographer's photo,
    a third-party one, a public-domain one and one under another CC licence."""
    folder = tmp_path_factory.mktemp("acme")
    (folder / "event.toml").write_text(EVENT + PEOPLE, encoding="utf-8")
    photos = folder / "photos"
    make_jpeg(photos / "own.jpg", xmp=make_xmp(creator=["c. neri"], title="Opening"))
    make_jpeg(photos / "harvey.jpg", exif=make_exif(artist="Phil Harvey",
                                                    copyright="Copyright 2004 Phil Harvey"))
    make_jpeg(photos / "pd.jpg", xmp=make_xmp(creator=["Chiara Neri"],
                                              rights="This file is in the public domain"))
    make_jpeg(photos / "ccby.jpg", xmp=make_xmp(
        creator=["Chiara Neri"], cc_license="https://creativecommons.org/licenses/by/4.0/"))
    cli = Cli(tmp_path_factory.mktemp("archive") / "archive")
    cli("ingest", str(folder))
    return cli


def _by_file(items: list[dict]) -> dict[str, dict]:
    return {i["relpath"].rsplit("/", 1)[-1]: i for i in items}


def test_item_json_adds_the_rights_fields(acme: Cli) -> None:
    items = _by_file(acme.json("list"))
    own = items["own.jpg"]["credit"]
    assert own["line"] == "Photo: c. neri / ACME Conferences, CC BY-SA 4.0"
    assert own["license_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert own["creator_person"] == "chiara-neri"
    assert own["third_party"] == [] and own["license_conflict"] is None
    harvey = items["harvey.jpg"]["credit"]
    assert harvey["line"] == "Photo: Phil Harvey"
    assert harvey["license"] is None and harvey["organisation"] is None
    assert items["pd.jpg"]["credit"]["line"] == (
        "Photo: Chiara Neri / ACME Conferences, Public Domain Mark 1.0")


def test_report_lists_third_party_items_and_licence_conflicts(acme: Cli) -> None:
    report = acme.json("report")
    assert [(Path(r["path"]).name, [n["field"] for n in r["names"]])
            for r in report["third_party"]] == [("harvey.jpg", ["creator", "copyright"])]
    conflicts = {Path(r["path"]).name: r for r in report["license_conflicts"]}
    assert set(conflicts) == {"pd.jpg", "ccby.jpg"}
    assert conflicts["ccby.jpg"]["embedded"] == "CC-BY-4.0"
    assert conflicts["ccby.jpg"]["event_license"] == "CC-BY-SA-4.0"
    assert conflicts["pd.jpg"]["license"] == "CC-PDM-1.0"
    text = acme("report")
    assert "Third-party items (1)" in text and "creator (exif) says 'Phil Harvey'" in text
    assert "Licence conflicts (2)" in text


def test_strict_export_refuses_third_party_items_and_conflicts(acme: Cli) -> None:
    out = acme("export", "credits", "--strict", code=1)
    assert "third-party: " in out and "harvey.jpg" in out
    assert "licence conflict: " in out and "pd.jpg" in out
    assert "1 selected item(s) are third-party" in out
    assert acme("export", "credits", "--strict", "file:own.jpg").startswith("id,file")


def test_the_json_export_gives_rights_as_item_json_does(acme: Cli) -> None:
    exported = {row["id"]: row for row in json.loads(acme("export", "credits", "--format",
                                                          "json"))}
    for item in acme.json("list"):
        row = exported[item["id"]]
        assert row["third_party"] == item["credit"]["third_party"]
        assert row["license_conflict"] == item["credit"]["license_conflict"]
    assert any(row["third_party"] for row in exported.values())


# schema.org's expected types of the properties a credit uses (ImageObject/VideoObject
# inherit them from CreativeWork and MediaObject).
_TEXT = ("creditText", "copyrightNotice", "name", "identifier")
_URLS = ("license", "acquireLicensePage", "url", "contentUrl")


def check_media_object(obj: dict) -> None:
    """`obj` is a schema.org ImageObject/VideoObject as search engines read credits."""
    assert obj["@type"] in ("ImageObject", "VideoObject")
    assert set(obj) <= {"@type", "@context", "creator", "sourceOrganization", *_TEXT, *_URLS}
    assert all(isinstance(obj[k], str) and obj[k] for k in _TEXT if k in obj)
    assert all(obj[k].startswith(("https://", "http://", "/")) for k in _URLS if k in obj)
    creator = obj.get("creator")
    if creator is not None:
        assert creator["@type"] in ("Person", "Organization") and creator["name"]
        if creator["@type"] == "Person" and "affiliation" in creator:
            assert creator["affiliation"]["@type"] == "Organization"


def test_jsonld_is_a_schema_org_image_object_with_the_rights(acme: Cli) -> None:
    graph = json.loads(acme("export", "credits", "--format", "jsonld", "--base-url",
                            "https://archive.example"))["@graph"]
    assert len(graph) == 4
    for obj in graph:
        check_media_object(obj)
    own = next(o for o in graph if o["name"] == "Opening")
    assert own["creator"] == {"@type": "Person", "name": "c. neri", "affiliation": {
        "@type": "Organization", "name": "ACME Conferences"}}
    assert own["creditText"] == "Photo: c. neri / ACME Conferences, CC BY-SA 4.0"
    assert own["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert own["url"] == f"https://archive.example/items/{own['identifier']}"
    harvey = next(o for o in graph if o["creator"]["name"] == "Phil Harvey")
    assert harvey["creator"] == {"@type": "Person", "name": "Phil Harvey"}  # no ACME
    assert harvey["copyrightNotice"] == "Copyright 2004 Phil Harvey"
    assert "license" not in harvey and harvey["creditText"] == "Photo: Phil Harvey"


def test_jsonld_carries_the_licence_page(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    (folder / "photos").mkdir(parents=True)
    (folder / "event.toml").write_text(
        '[event]\nid = "e"\ntitle = "E"\n[credit]\ncreator = "Chiara Neri"\n'
        'copyright = "© ASEV"\nlicense = "CC-BY-4.0"\n'
        'acquire_license_page = "https://asev.example/licensing"\n', encoding="utf-8")
    make_jpeg(folder / "photos" / "a.jpg", exif=make_exif(artist="Chiara Neri"))
    cli = Cli(tmp_path / "archive")
    cli("ingest", str(folder))
    (obj,) = json.loads(cli("export", "credits", "--format", "jsonld", "--base-url",
                            "https://a.example"))["@graph"]
    check_media_object(obj)
    assert obj["acquireLicensePage"] == "https://asev.example/licensing"
    assert obj["copyrightNotice"] == "© ASEV"
    assert obj["creator"] == {"@type": "Person", "name": "Chiara Neri"}
    assert obj["creditText"] == "Photo: Chiara Neri, CC BY 4.0"


def test_csv_keeps_each_field_in_its_own_column(acme: Cli) -> None:
    rows = {Path(r["file"]).name: r for r in csv.DictReader(io.StringIO(
        acme("export", "credits", "--format", "csv", "--base-url", "https://a.example")))}
    own = rows["own.jpg"]
    assert (own["creator"], own["organisation"], own["license"]) == (
        "c. neri", "ACME Conferences", "CC-BY-SA-4.0")
    assert own["license_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert own["item_url"] == f"https://a.example/items/{own['id']}"
    assert rows["harvey.jpg"]["third_party"].startswith("creator (exif): Phil Harvey")
    assert rows["ccby.jpg"]["license_conflict"] == "file says CC-BY-4.0, event says CC-BY-SA-4.0"


def test_html_export_links_licence_and_item_page(acme: Cli) -> None:
    page = acme("export", "credits", "--format", "html", "--base-url", "https://a.example")
    assert 'rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/"' in page
    assert 'href="https://a.example/items/' in page


@pytest.mark.parametrize("query", ["by:chiara-neri", "by:Neri", "by:\"c. neri\"",
                                   "creator:chiara", "by:chiara kind:photo"])
def test_by_and_creator_find_a_persons_work(acme: Cli, query: str) -> None:
    found = {Path(r["relpath"]).name for r in acme.json("search", query)["results"]}
    assert found == {"own.jpg", "pd.jpg", "ccby.jpg"}


def test_by_finds_no_third_party_work_under_a_persons_name(acme: Cli) -> None:
    assert acme.json("search", "by:harvey")["total"] == 1
    assert acme.json("search", "by:acme")["total"] == 0


# --- the sample event and the site ----------------------------------------------------------

@pytest.fixture(scope="module")
def site(sample_archive: Path) -> FlaskClient:
    return create_app(sample_archive, {"TESTING": True}).test_client()


def test_the_sample_declares_its_photographers(sample_archive: Path) -> None:
    report = Cli(sample_archive).json("report")
    assert report["third_party"] == [] and report["license_conflicts"] == []
    # The three photos without a creator stay listed, on purpose.
    assert len(report["without_creator"]) == 3


def test_person_page_shows_photos_by_beside_shown_in(site: FlaskClient) -> None:
    page = site.get("/events/florence-2019/people/chiara-neri").get_data(as_text=True)
    assert "Shown in: 0 items" in page
    assert "No item shows or mentions Chiara Neri" in page and "come first" not in page
    assert "Photos by Chiara Neri: 30 items" in page
    assert site.get("/api/people/chiara-neri").json["created"].__len__() == 30
    keller = site.get("/events/florence-2019/people/peter-keller").get_data(as_text=True)
    assert "Shown in: " in keller and "Photos by" not in keller


@pytest.mark.parametrize(("query", "person", "total"), [
    ("by:chiara-neri", "chiara-neri", 30), ('by:"chiara neri"', "chiara-neri", 30),
    ("creator:luca-bianchi", "luca-bianchi", 25), ("by:bianchi", "luca-bianchi", 25)])
def test_site_search_by_a_photographer(site: FlaskClient, query: str, person: str,
                                       total: int) -> None:
    result = site.get("/api/search", query_string={"q": query, "limit": 100}).json
    assert result["total"] == total
    assert {r["credit"]["creator_person"] for r in result["results"]} == {person}


def test_item_page_links_the_licence_the_page_and_the_creator(site: FlaskClient) -> None:
    found = site.get("/api/search", query_string={"q": "by:chiara-neri"}).json["results"][0]
    page = site.get(f"/items/{found['id']}").get_data(as_text=True)
    assert ('rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>'
            in page)  # its name as people write it, not the SPDX id
    assert f'class="source" href="/items/{found["id"]}"' in page
    assert 'href="/events/florence-2019/people/chiara-neri"' in page
    assert "Photo: Chiara Neri / ASEV, CC BY 4.0" in page
    start = page.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">')
    obj = json.loads(page[start:page.index("</script>", start)])
    check_media_object(obj)
    assert obj["url"] == f"/items/{found['id']}"
    assert obj["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_site_jsonld_export_of_the_video(site: FlaskClient) -> None:
    graph = site.get("/api/credits", query_string={"format": "jsonld", "q": "kind:video"}
                     ).json["@graph"]
    (video,) = graph
    check_media_object(video)
    assert video["@type"] == "VideoObject" and video["creator"]["@type"] == "Person"
    assert video["creator"]["name"] == "Barry Guckian"
    assert video["creditText"] == ("Video: Barry Guckian / Northern and Western Regional "
                                   "Assembly (TRINNO), CC BY 4.0")


# --- the real corpus: files whose own metadata names their rights holder ----------------------

CORPUS_FILES = {"dn__FujiFilm FinePixS1Pro (1).jpg": "Ian Britton",
                "et__XMP.jpg": "Phil Harvey", "et__ExifTool.jpg": "Phil Harvey"}


@pytest.mark.slow
def test_corpus_photos_of_third_parties_are_never_misattributed(
        corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "acme"
    (folder / "photos").mkdir(parents=True)
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    for name in CORPUS_FILES:
        shutil.copy(corpus / "photos" / name, folder / "photos" / name)
    cli = Cli(tmp_path / "archive")
    cli("ingest", str(folder))
    items = _by_file(cli.json("list"))
    for name, creator in CORPUS_FILES.items():
        credit = items[name]["credit"]
        assert credit["creator"] == creator
        assert credit["license"] is None  # not the event's CC-BY-SA-4.0, nor a web site
        assert "ACME" not in (credit["organisation"] or "") and "ACME" not in credit["line"]
    assert items["et__XMP.jpg"]["credit"]["copyright"] == "Copyright 2004 Phil Harvey"
    report = {Path(r["path"]).name: r for r in cli.json("report")["third_party"]}
    assert set(report) == set(CORPUS_FILES)
    assert {"field": "creator", "source": "xmp", "value": "Ian Britton"} in report[
        "dn__FujiFilm FinePixS1Pro (1).jpg"]["names"]
    graph = json.loads(cli("export", "credits", "--format", "jsonld"))["@graph"]
    assert all("ACME" not in json.dumps(obj) and "license" not in obj for obj in graph)
    out = cli("export", "credits", "--strict", code=1)
    assert all(f"third-party: {folder / 'photos' / name}" in out for name in CORPUS_FILES)


def test_an_archive_resolved_under_the_old_rule_is_resolved_again(tmp_path: Path) -> None:
    """What an archive from before holds: Phil Harvey's photo with the event's
    organisation and licence, marked resolved against the same event file."""
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    make_jpeg(folder / "harvey.jpg", exif=make_exif(artist="Phil Harvey"))
    cli = Cli(tmp_path / "archive")
    cli("ingest", str(folder))
    (item,) = cli.json("list")
    with Archive.open(tmp_path / "archive") as archive, \
            archive.catalog.transaction() as revision:
        old = get_item(archive.catalog, item["id"]).resolved
        old.pop("rights")
        old["credit"].update(organisation=["ACME Conferences", "default"],
                             license=["CC-BY-SA-4.0", "default"])
        store_resolution(archive.catalog, item["id"], old)
        # The mark as the rules before gave it: a digest of the event file alone.
        event = json.dumps(dataclasses.asdict(load_event(folder.resolve())), default=str,
                           sort_keys=True, ensure_ascii=False)
        set_resolution_mark(archive.catalog, "acme-2024", ResolutionMark(
            revision, hashlib.sha256(event.encode()).hexdigest()))
    assert cli.json("list")[0]["credit"]["license"] == "CC-BY-SA-4.0"
    assert cli.json("ingest", str(folder))["events"][0]["resolved"] == 1
    credit = cli.json("list")[0]["credit"]
    assert credit["license"] is None and credit["third_party"]
