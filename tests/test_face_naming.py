"""Naming faces: clusters across the archive, seeds, suggestions, and what a person
confirms written into event.toml. Real dlib on the real photographs of ../shared/faces
(skipped, saying why, without them); the rules themselves on made-up descriptors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from archive.errors import ManifestError
from archive.model import FaceRef
from archive.resolve.clusters import Member, cluster_faces
from archive.resolve.eventfile import parse_event

from helpers.cli import Cli
from helpers.faces import faces_or_skip, models_or_skip, stage_faces

HEAD = '''# Faces of the workshop
[event]
id = "{id}"
title = "Faces"
date = 2024-05-01
timezone = "Europe/Budapest"

[[sessions]]
id = "s1"
title = "Opening"  # the first session
start = 09:00
end = 10:00
speakers = ["obama", "lisa"]

# People, as the organisers listed them
[[people]]
id = "obama"
name = "Barack Obama"  # keep this comment
{obama}
[[people]]
id = "lisa"
name = "Lisa Webmorph"

[[people]]
id = "voss"
name = "James Voss"

[[people]]
id = "biden"
name = "Joe Biden"
'''


def _event(folder: Path, photos: list[str], ident: str = "faces", obama: str = "",
           tail: str = "") -> Path:
    shared = faces_or_skip()
    models_or_skip()
    folder.mkdir(parents=True, exist_ok=True)
    for name in photos:
        shutil.copy(shared / name, folder / name)
    (folder / "event.toml").write_text(HEAD.format(id=ident, obama=obama) + tail,
                                       encoding="utf-8")
    return folder


def _faces(cli: Cli) -> dict[str, list[dict]]:
    """Each item's faces by its path relative to the event folder."""
    return {item["relpath"]: item["faces"] for item in cli.json("list")}


def _clusters(cli: Cli) -> list[dict]:
    return cli.json("faces")["clusters"]


def _cluster_of(clusters: list[dict], ref: str) -> dict:
    return next(c for c in clusters if any(s.endswith(ref) for s in c["samples"]))


def test_the_same_person_clusters_together_and_different_people_apart(
        tmp_path: Path, cli: Cli) -> None:
    photos = ["lisa_01.jpg", "lisa_03.jpg", "lisa_zoom15cm.jpg", "obama_2012_oval_office.jpg",
              "group_obama_biden_2010.jpg", "james_voss_portrait.jpg",
              "group_iss002e7172.jpg", "susan_helms_portrait.jpg", "noface_cyclamen.jpg"]
    cli("ingest", str(_event(tmp_path / "event", photos)))
    faces = _faces(cli)
    cluster = {(path, n): face["cluster"] for path, found in faces.items()
               for n, face in enumerate(found, 1)}
    assert faces["noface_cyclamen.jpg"] == []
    lisa = {cluster[(p, 1)] for p in ("lisa_01.jpg", "lisa_03.jpg", "lisa_zoom15cm.jpg")}
    assert len(lisa) == 1 and None not in lisa
    assert cluster[("obama_2012_oval_office.jpg", 1)] == \
        cluster[("group_obama_biden_2010.jpg", 1)]
    # Biden, and each of the crew in one photo, are people of their own.
    crew = [c for (path, _n), c in cluster.items() if path == "group_iss002e7172.jpg" and c]
    assert len(set(crew)) == len(crew) == 3
    assert cluster[("group_obama_biden_2010.jpg", 2)] not in \
        lisa | {cluster[("obama_2012_oval_office.jpg", 1)]}
    portraits = [cluster[(p, 1)] for p in ("lisa_01.jpg", "obama_2012_oval_office.jpg",
                                           "james_voss_portrait.jpg",
                                           "susan_helms_portrait.jpg")]
    assert len(set(portraits)) == 4


def test_a_new_event_joins_the_clusters_there_are(tmp_path: Path, cli: Cli) -> None:
    first = _event(tmp_path / "one", ["lisa_01.jpg", "obama_2012_oval_office.jpg"], "one")
    cli("ingest", str(first))
    before = _faces(cli)
    second = _event(tmp_path / "two", ["lisa_03.jpg", "group_obama_biden_2010.jpg"], "two")
    cli("ingest", str(second))
    after = _faces(cli)
    assert after["lisa_01.jpg"] == before["lisa_01.jpg"]  # kept, not re-clustered
    assert after["lisa_03.jpg"][0]["cluster"] == before["lisa_01.jpg"][0]["cluster"]
    assert after["group_obama_biden_2010.jpg"][0]["cluster"] == \
        before["obama_2012_oval_office.jpg"][0]["cluster"]
    lisa = _cluster_of(_clusters(cli), "lisa_03.jpg#1")
    assert lisa["events"] == ["one", "two"] and lisa["size"] == 2


def test_a_media_entry_seeds_a_suggestion_naming_and_rejecting_keep_the_file(
        tmp_path: Path, cli: Cli) -> None:
    media = '\n[[media]]\npath = "james_voss_portrait.jpg"\npeople = ["voss"]\n'
    event = _event(tmp_path / "event", ["james_voss_portrait.jpg", "group_iss002e7172.jpg"],
                   tail=media)
    cli("ingest", str(event))
    portrait = _faces(cli)["james_voss_portrait.jpg"][0]
    assert (portrait["person"], portrait["source"]) == ("voss", "media")
    voss = _cluster_of(_clusters(cli), "james_voss_portrait.jpg#1")
    assert voss["size"] == 2 and voss["person"] is None
    hint = voss["suggestion"]
    assert (hint["person"], hint["source"], hint["name"]) == ("voss", "media", "James Voss")
    assert "james_voss_portrait.jpg#1" in hint["why"] and "[[media]]" in hint["why"]
    original = (event / "event.toml").read_text(encoding="utf-8")

    out = cli("faces", "name", str(voss["cluster"]), "voss")
    assert "2 of its 2 faces" in out
    named = (event / "event.toml").read_text(encoding="utf-8")
    assert named.startswith(original.split('id = "voss"')[0])  # comments, order, layout
    assert "# keep this comment" in named and '"Opening"  # the first session' in named
    voss_table = parse_event(named, event / "event.toml", event).people[2]
    assert set(voss_table.faces) == {FaceRef("james_voss_portrait.jpg", 1),
                                     FaceRef("group_iss002e7172.jpg", 4)}
    group = next(i for i in cli.json("list") if i["relpath"] == "group_iss002e7172.jpg")
    assert {"id": "voss", "name": "James Voss", "relation": "shown", "source": "face"} in \
        group["people"]
    assert [f["person"] for f in group["faces"]].count("voss") == 1
    assert _cluster_of(_clusters(cli), "james_voss_portrait.jpg#1")["person"] == "voss"
    assert cli.json("search", "person:voss")["total"] == 2

    cli("faces", "reject", str(voss["cluster"]), "voss")
    rejected = parse_event((event / "event.toml").read_text(encoding="utf-8"),
                           event / "event.toml", event).people[2]
    assert rejected.faces == () and len(rejected.not_faces) == 2
    assert "# keep this comment" in (event / "event.toml").read_text(encoding="utf-8")
    group = next(i for i in cli.json("list") if i["relpath"] == "group_iss002e7172.jpg")
    assert "voss" not in [p["id"] for p in group["people"]]
    cluster = _cluster_of(_clusters(cli), "james_voss_portrait.jpg#1")
    assert cluster["suggestion"] is None and cluster["rejected"] == ["voss"]  # not again
    assert "not: voss" in cli("faces") and "2 faces in 2 items" in cli("faces")
    assert "0 added, 0 updated, 2 unchanged" in cli("ingest", str(event))


def _region(path: Path, name: str, box: list[int], size: tuple[int, int],
            applied: tuple[int, int]) -> None:
    """An MWG face region written by exiftool, as Lightroom and digiKam write them."""
    x, y, w, h = box
    area = (f"{{X={(x + w / 2) / size[0]:.5f},Y={(y + h / 2) / size[1]:.5f},"
            f"W={w / size[0]:.5f},H={h / size[1]:.5f},Unit=normalized}}")
    info = (f"{{AppliedToDimensions={{W={applied[0]},H={applied[1]},Unit=pixel}},"
            f"RegionList=[{{Area={area},Name={name},Type=Face}}]}}")
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={info}",
                    str(path)], check=True, timeout=60)


def test_an_xmp_face_region_names_the_face_it_lies_on(tmp_path: Path, cli: Cli) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed (scripts/setup installs it)")
    event = _event(tmp_path / "event", ["group_obama_biden_2010.jpg"])
    photo = event / "group_obama_biden_2010.jpg"
    found = stage_faces(photo)
    biden = list(found[1].box)
    size = (1126, 662)
    _region(photo, "Joe Biden", [biden[0] + 6, biden[1] - 10, biden[2] + 4, biden[3] + 20],
            size, size)
    cli("ingest", str(event))
    item = cli.json("list")[0]
    assert [(f["person"], f["source"]) for f in item["faces"]] == \
        [(None, "detected"), ("biden", "xmp-region")]
    assert {"id": "biden", "name": "Joe Biden", "relation": "shown", "source": "xmp"} in \
        item["people"]
    cluster = _cluster_of(_clusters(cli), "group_obama_biden_2010.jpg#2")
    assert cluster["suggestion"]["source"] == "xmp-region"


def test_the_programme_suggests_the_one_speaker_left_without_a_cluster(
        tmp_path: Path, cli: Cli) -> None:
    photos = ["lisa_01.jpg", "lisa_03.jpg", "lisa_zoom15cm.jpg", "obama_2012_oval_office.jpg",
              "group_obama_biden_2010.jpg"]
    media = "".join(f'\n[[media]]\npath = "{p}"\nsession = "s1"\n' for p in photos)
    event = _event(tmp_path / "event", photos, obama='faces = ["obama_2012_oval_office.jpg#1"]',
                   tail=media)
    cli("ingest", str(event))
    clusters = _clusters(cli)
    assert _cluster_of(clusters, "obama_2012_oval_office.jpg#1")["person"] == "obama"
    lisa = _cluster_of(clusters, "lisa_01.jpg#1")
    hint = lisa["suggestion"]
    assert (hint["person"], hint["source"]) == ("lisa", "programme")
    assert "s1" in hint["why"] and "Opening" in hint["why"]
    biden = _cluster_of(clusters, "group_obama_biden_2010.jpg#2")
    assert biden["suggestion"] is None  # lisa went to the largest cluster


def test_a_person_without_consent_recognised_by_face_is_withheld(
        tmp_path: Path, cli: Cli) -> None:
    event = _event(tmp_path / "event", ["obama_2012_oval_office.jpg",
                                        "group_obama_biden_2010.jpg", "lisa_01.jpg"],
                   obama='faces = ["obama_2012_oval_office.jpg#1"]\nconsent = false')
    cli("ingest", str(event))
    published = {i["relpath"]: i["published"] for i in cli.json("list")}
    assert published == {"obama_2012_oval_office.jpg": False,
                         "group_obama_biden_2010.jpg": False, "lisa_01.jpg": True}
    assert cli.json("search", "")["total"] == 1
    obama = _cluster_of(_clusters(cli), "obama_2012_oval_office.jpg#1")
    assert obama["withheld"] == 2


def test_confirming_refuses_what_it_cannot_do_and_writes_nothing(
        tmp_path: Path, cli: Cli) -> None:
    event = _event(tmp_path / "event", ["lisa_01.jpg"])
    cli("ingest", str(event))
    cluster = str(_clusters(cli)[0]["cluster"])
    original = (event / "event.toml").read_bytes()
    assert "no cluster 999" in cli("faces", "name", "999", "lisa", code=1)
    assert "'nobody' is not in [[people]]" in cli("faces", "name", cluster, "nobody", code=1)
    assert "no face in event 'other'" in cli("faces", "name", cluster, "lisa", "--event",
                                             "other", code=1)
    (event / "event.toml").write_bytes(original.replace(b'id = "lisa"', b'id = "lisa'))
    broken = (event / "event.toml").read_bytes()
    assert "event.toml" in cli("faces", "name", cluster, "lisa", code=1)
    assert (event / "event.toml").read_bytes() == broken
    assert (event / "event.toml").read_bytes() != original
    assert list(event.glob(".event.*")) == []  # no temporary file left


def test_reingest_keeps_faces_names_and_clusters(tmp_path: Path, cli: Cli) -> None:
    event = _event(tmp_path / "event", ["obama_2012_oval_office.jpg",
                                        "group_obama_biden_2010.jpg"],
                   obama='faces = ["obama_2012_oval_office.jpg#1"]')
    cli("ingest", str(event))
    before = _faces(cli)
    assert before["group_obama_biden_2010.jpg"][0]["person"] == "obama"
    assert "0 added, 0 updated, 2 unchanged" in cli("ingest", str(event))
    assert _faces(cli) == before
    cli("reindex")
    assert cli.json("search", "person:obama")["total"] == 2


# The rules on made-up descriptors: no dlib needed.

def _vector(seed: int, noise: float = 0.0, base: int | None = None) -> bytes:
    rng = np.random.default_rng(seed)
    centre = np.random.default_rng(base if base is not None else seed).normal(size=128)
    centre /= np.linalg.norm(centre)
    return (centre + rng.normal(scale=noise, size=128) / 128 ** 0.5).astype("<f4").tobytes()


def test_two_faces_of_one_picture_never_share_a_cluster() -> None:
    twins = [Member(("photo", None), _vector(1)), Member(("photo", None), _vector(2, 0.01, 1))]
    assert len(set(cluster_faces([], twins))) == 2
    frames = [Member(("video", 0.0), _vector(1)), Member(("video", 2.0), _vector(2, 0.01, 1))]
    assert len(set(cluster_faces([], frames))) == 1  # one person in two frames


def test_new_faces_join_by_majority_and_old_clusters_stay() -> None:
    old = [Member((f"a{n}", None), _vector(n, 0.05, 1), 7) for n in range(3)] + \
          [Member(("b", None), _vector(9, 0.05, 2), 3)]
    new = [Member(("c", None), _vector(20, 0.05, 1)), Member(("d", None), _vector(21)),
           Member(("e", None), _vector(22, 0.05, 21))]
    assert cluster_faces(old, new) == [7, 8, 8]


def test_a_face_ref_is_a_path_and_a_face_number() -> None:
    parse = parse_event  # the message names the file and the key
    text = HEAD.format(id="x", obama='faces = ["a.jpg#0"]')
    with pytest.raises(ManifestError, match=r"people\[id='obama'\]\.faces.*'a\.jpg#0'"):
        parse(text, Path("event.toml"), Path("."))
    twice = HEAD.format(id="x", obama='faces = ["a#b.jpg#2"]\nnot_faces = ["a#b.jpg#2"]')
    with pytest.raises(ManifestError, match="also in not_faces"):
        parse(twice, Path("event.toml"), Path("."))
    good = parse(HEAD.format(id="x", obama='faces = ["dir/a#b.jpg#12"]'),
                 Path("event.toml"), Path("."))
    assert good.people[0].faces == (FaceRef("dir/a#b.jpg", 12),)


def test_the_report_lists_faces_the_event_file_names_that_no_item_has(
        tmp_path: Path, cli: Cli) -> None:
    refs = 'faces = ["lisa_01.jpg#1", "lisa_01.jpg#5", "gone.jpg#1"]'
    event = _event(tmp_path / "event", ["lisa_01.jpg"], obama=refs)
    cli("ingest", str(event))
    rows = cli.json("report")["unmatched_faces"]
    assert [(r["person"], r["key"], r["face"]) for r in rows] == [
        ("obama", "faces", "lisa_01.jpg#5"), ("obama", "faces", "gone.jpg#1")]
    assert "people[id='obama'].faces: 'gone.jpg#1' is no face" in cli("report")


def test_cluster_numbers_past_sqlites_and_unknown_events_are_clear_errors(
        tmp_path: Path, cli: Cli) -> None:
    from archive.store import Archive

    Archive.open(tmp_path / "archive").close()
    out = cli("faces", "name", "99999999999999999999999", "lisa", code=2)
    assert "not in the range" in out and "Traceback" not in out
    assert "'nope'" in cli("faces", "--event", "nope", code=1)
