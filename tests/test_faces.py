"""The face stage: real dlib on the real photographs of ../shared/faces, no mocks.

Skipped without the `faces` extra (pytest.importorskip) or without ../shared/faces
(a fresh clone); the test of a machine without the extra runs everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from archive.catalog import faces_of_item
from archive.store import Archive

from helpers.cli import Cli
from helpers.faces import WITHOUT_FACES, faces_or_skip, manifest, models_or_skip, stage_faces

EVENT = '[event]\nid = "{id}"\ntitle = "Faces"\n'
ORIENTED = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
            8: Image.Transpose.ROTATE_270}  # upright pixels -> as stored under that tag


def _event(folder: Path, ident: str = "faces") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "event.toml").write_text(EVENT.format(id=ident), encoding="utf-8")
    return folder


def _pattern(path: Path, size: tuple[int, int] = (1600, 1000)) -> Path:
    """A picture without people: stripes and discs."""
    image = Image.new("RGB", size, (40, 90, 160))
    draw = ImageDraw.Draw(image)
    for n in range(0, size[0], 80):
        draw.rectangle((n, 0, n + 30, size[1]), fill=(200, 180, 60))
        draw.ellipse((n, n % size[1], n + 70, n % size[1] + 70), fill=(250, 250, 250))
    image.save(path, quality=90)
    return path


def _items(cli: Cli) -> dict[str, dict]:
    return {item["relpath"]: item for item in cli.json("list")}


# Without ../shared/faces, one case that skips saying so.
@pytest.mark.parametrize("row", manifest() or [{"file": "none", "faces_detected": "0"}],
                         ids=lambda row: row["file"])
def test_each_photo_gives_one_face_per_person_as_the_manifest_counts(row: dict) -> None:
    found = stage_faces(faces_or_skip() / row["file"])
    assert len(found) == int(row["faces_detected"])
    assert all(face.box[2] > 0 and face.box[3] > 0 and face.score > 0 for face in found)


def test_a_picture_without_people_gives_no_face(tmp_path: Path) -> None:
    models_or_skip()
    assert stage_faces(_pattern(tmp_path / "pattern.jpg")) == []


@pytest.mark.parametrize("orientation", sorted(ORIENTED))
def test_boxes_land_on_the_face_in_the_displayed_image(tmp_path: Path,
                                                       orientation: int) -> None:
    source = faces_or_skip() / "group_obama_biden_2010.jpg"
    upright = stage_faces(source)
    with Image.open(source) as image:
        stored = image.convert("RGB").transpose(ORIENTED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    rotated = tmp_path / "rotated.jpg"
    stored.save(rotated, exif=exif, quality=95)
    turned = stage_faces(rotated)
    assert len(turned) == len(upright) == 2
    for a, b in zip(upright, turned, strict=True):
        assert all(abs(p - q) <= 8 for p, q in zip(a.box, b.box, strict=True)), (a.box, b.box)


def test_descriptors_only_for_faces_large_enough_to_identify(tmp_path: Path) -> None:
    source = faces_or_skip() / "obama_2012_oval_office.jpg"
    big = stage_faces(source)
    assert len(big) == 1 and len(big[0].descriptor or b"") == 512
    with Image.open(source) as image:  # the face about 45 px high in the frame
        image.convert("RGB").reduce(5).save(tmp_path / "small.jpg", quality=95)
    small = stage_faces(tmp_path / "small.jpg")
    assert len(small) == 1 and small[0].descriptor is None and small[0].box[3] < 60


@pytest.mark.parametrize("make", ["grey", "tiny", "one-pixel", "alpha"])
def test_odd_pictures_do_not_stop_the_stage(tmp_path: Path, make: str) -> None:
    source = faces_or_skip() / "lisa_01.jpg"
    with Image.open(source) as image:
        odd = {"grey": lambda: image.convert("L"),
               "tiny": lambda: image.resize((12, 16)),
               "one-pixel": lambda: image.resize((1, 1)),
               "alpha": lambda: image.convert("RGBA")}[make]()
    path = tmp_path / ("odd.png" if make == "alpha" else "odd.jpg")
    odd.save(path)
    found = stage_faces(path)
    assert len(found) == (1 if make in ("grey", "alpha") else 0)


@pytest.mark.slow
def test_a_huge_photo_is_read_from_its_reduced_decode(tmp_path: Path) -> None:
    source = faces_or_skip() / "group_obama_biden_2010.jpg"
    with Image.open(source) as image:
        image.convert("RGB").resize((6000, 4000)).save(tmp_path / "huge.jpg", quality=90)
    found = stage_faces(tmp_path / "huge.jpg")
    assert len(found) == 2 and max(f.box[0] + f.box[2] for f in found) <= 6000
    assert found[1].box[0] > 3000  # boxed in the original's pixels, not the frame's


def test_ingest_stores_faces_keeps_them_and_replaces_those_of_a_changed_file(
        tmp_path: Path, cli: Cli, archive_dir: Path) -> None:
    shared, models = faces_or_skip(), models_or_skip()
    assert models is not None
    event = _event(tmp_path / "event")
    for name in ("group_iss002e7172.jpg", "lisa_01.jpg"):
        shutil.copy(shared / name, event / name)
    _pattern(event / "pattern.jpg")
    cli("ingest", str(event))
    items = _items(cli)
    assert [len(items[n]["faces"]) for n in ("group_iss002e7172.jpg", "lisa_01.jpg",
                                             "pattern.jpg")] == [4, 1, 0]
    lisa = items["lisa_01.jpg"]["faces"][0]
    assert lisa == {"box": lisa["box"], "time": None, "person": None, "source": "detected",
                    "cluster": lisa["cluster"]}
    assert isinstance(lisa["cluster"], int)
    group = items["group_iss002e7172.jpg"]
    with Archive.open(archive_dir, readonly=True) as archive:
        stored = faces_of_item(archive.catalog, group["id"])
    assert [f.number for f in stored] == [1, 2, 3, 4]
    # One face is 59 px high in the 1280-px frame: boxed, too small for a descriptor.
    assert [len(f.face.descriptor or b"") for f in stored].count(512) == 3
    assert all(f.face.score > 0 for f in stored)
    assert [list(f.face.box) for f in stored] == [f["box"] for f in group["faces"]]

    out = cli("ingest", str(event))  # unchanged: not read again, the faces stay
    assert "0 added, 0 updated, 3 unchanged" in out
    assert _items(cli)["group_iss002e7172.jpg"]["faces"] == group["faces"]

    shutil.copy(shared / "group_obama_biden_2010.jpg", event / "lisa_01.jpg")  # changed
    cli("ingest", str(event))
    after = _items(cli)
    assert len(after["lisa_01.jpg"]["faces"]) == 2
    assert after["lisa_01.jpg"]["id"] != items["lisa_01.jpg"]["id"]
    cli("verify")


@pytest.mark.slow
def test_faces_in_a_video_carry_their_frame_times(tmp_path: Path, cli: Cli) -> None:
    source, _models = faces_or_skip() / "group_obama_biden_2010.jpg", models_or_skip()
    event = _event(tmp_path / "event")
    subprocess.run(["ffmpeg", "-v", "error", "-loop", "1", "-i", str(source), "-t", "4",
                    "-r", "5", "-vf", "scale=1126:662", "-pix_fmt", "yuv420p",
                    str(event / "talk.mp4")], check=True, timeout=120)
    cli("ingest", str(event))
    faces = _items(cli)["talk.mp4"]["faces"]
    times = sorted({face["time"] for face in faces})
    assert len(times) >= 5 and all(0 <= t <= 4 for t in times)
    assert len(faces) == 2 * len(times)  # both people in every frame


def _run_without_faces(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(WITHOUT_FACES), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "archive", "--archive",
                           str(tmp_path / "archive"), *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def test_without_the_extra_ingest_says_once_that_faces_are_off(tmp_path: Path) -> None:
    """A machine without dlib, made by a package on PYTHONPATH whose import fails as a
    missing one does: the real CLI in a subprocess, the rest of ingest as usual."""
    first, second = _event(tmp_path / "one", "one"), _event(tmp_path / "two", "two")
    for width, folder in ((1600, first), (1700, second)):  # four different pictures
        _pattern(folder / "pattern.jpg", (width, 1000))
        _pattern(folder / "other.jpg", (width // 2, 600))
    done = _run_without_faces(tmp_path, "ingest", str(first), str(second))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("faces are off") == 1, done.stderr
    assert "event-archive[faces]" in done.stderr
    listed = _run_without_faces(tmp_path, "list", "--json")
    assert listed.returncode == 0 and '"faces": []' in listed.stdout
    assert listed.stdout.count('"faces": []') == 4


def test_no_faces_turns_the_stage_off_without_a_word(tmp_path: Path, cli: Cli) -> None:
    event = _event(tmp_path / "event")
    shutil.copy(faces_or_skip() / "lisa_01.jpg", event / "lisa.jpg")
    out = cli("ingest", "--no-faces", str(event))
    assert "faces are off" not in out
    assert _items(cli)["lisa.jpg"]["faces"] == []
