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

import numpy as np
import pytest
from PIL import Image, ImageDraw

from archive.catalog import faces_of_item
from archive.media import faces, hog
from archive.store import Archive

from helpers.cli import Cli
from helpers.faces import (
    WITHOUT_FACES,
    crowd,
    faces_or_skip,
    frame_of,
    head,
    manifest,
    models_or_skip,
    stage_faces,
)

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


# ---- items ingested without faces: read from their thumbnails ------------------------

READER = (["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
          if os.geteuid() == 0 else [])  # so that root too is refused an unreadable file


def _ingest_unprivileged(archive_dir: Path, event: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess that cannot read a file its mode refuses, even as root."""
    return subprocess.run([*READER, sys.executable, "-m", "archive", "--archive",
                           str(archive_dir), "ingest", str(event)], capture_output=True,
                          text=True, timeout=300, check=False)


def _close(found: list, expected: list, pixels: int = 3) -> bool:
    return len(found) == len(expected) and all(
        abs(p - q) <= pixels for a, b in zip(found, expected, strict=True)
        for p, q in zip(a, b, strict=True))


def test_faces_of_an_item_ingested_without_them_come_from_its_thumbnail_not_its_file(
        tmp_path: Path, cli: Cli, archive_dir: Path) -> None:
    """The original made unreadable (size and time unchanged): the faces come from the
    large thumbnail, no error is recorded, and the next ingest reads nothing."""
    source = faces_or_skip() / "group_obama_biden_2010.jpg"
    expected = [list(face.box) for face in stage_faces(source)]
    event = _event(tmp_path / "event")
    photo = event / "people.jpg"
    shutil.copy(source, photo)
    cli("ingest", "--no-faces", str(event))
    assert _items(cli)["people.jpg"]["faces"] == []
    before = photo.stat()
    photo.chmod(0)
    assert (photo.stat().st_size, photo.stat().st_mtime_ns) == (before.st_size,
                                                                before.st_mtime_ns)
    done = _ingest_unprivileged(archive_dir, event)
    assert done.returncode == 0, done.stderr
    assert "0 added, 0 updated, 1 unchanged" in done.stdout
    shown = cli.json("show", str(photo))
    assert _close([face["box"] for face in shown["faces"]], expected), (shown, expected)
    with Archive.open(archive_dir, readonly=True) as archive:
        assert archive.catalog.query("SELECT * FROM errors") == []
        revision = archive.catalog.revision
    again = _ingest_unprivileged(archive_dir, event)  # every item read: nothing to do
    assert again.returncode == 0 and "1 unchanged" in again.stdout, again.stderr
    with Archive.open(archive_dir, readonly=True) as archive:
        assert archive.catalog.revision == revision


def test_an_item_without_a_thumbnail_is_left_without_faces(
        tmp_path: Path, cli: Cli, archive_dir: Path) -> None:
    models_or_skip()
    event = _event(tmp_path / "event")
    _pattern(event / "pattern.jpg")
    cli("ingest", "--no-faces", str(event))
    with Archive.open(archive_dir) as archive, archive.catalog.transaction():
        archive.catalog.execute("DELETE FROM thumbnails")  # as a raw without a preview
    out = cli("-v", "ingest", str(event))
    assert "pattern.jpg: no thumbnail to find faces in" in out
    assert "0 added, 0 updated, 1 unchanged" in out
    with Archive.open(archive_dir, readonly=True) as archive:
        assert archive.catalog.query("SELECT * FROM face_scans") == []
        assert archive.catalog.query("SELECT * FROM errors") == []


def _overlap(a: list[int], b: list[int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


@pytest.mark.slow
def test_faces_read_from_thumbnails_are_those_read_from_the_files(
        tmp_path: Path, cli: Cli) -> None:
    """Every shared photograph, through ingest both ways. The thumbnail is the frame
    the stage reads, JPEG-compressed once more: the boxes agree within 3 px (all 19
    here), but where that tips dlib to the neighbouring scale of its pyramid (5/6
    apart; 2 of the 19 with a single pass over the enlarged frame): a box of the same
    face."""
    shared = faces_or_skip()
    models_or_skip()
    event = _event(tmp_path / "event")
    for row in manifest():
        shutil.copy(shared / row["file"], event / row["file"])
    cli("ingest", str(event))
    full = {path: [f["box"] for f in item["faces"]] for path, item in _items(cli).items()}
    other = Cli(tmp_path / "other")
    other("ingest", "--no-faces", str(event))
    other("ingest", str(event))
    read = {path: [f["box"] for f in item["faces"]] for path, item in _items(other).items()}
    assert {p: len(b) for p, b in read.items()} == {p: len(b) for p, b in full.items()}
    for path, boxes in read.items():
        for box, expected in zip(boxes, full[path], strict=True):
            if max(abs(p - q) for p, q in zip(box, expected, strict=True)) > 3:
                assert 0.8 < box[2] / expected[2] < 1.25 and _overlap(box, expected) > 0.6, \
                    (path, boxes, full[path])


@pytest.mark.slow
def test_a_video_ingested_without_faces_gets_them_from_its_poster_and_strip(
        tmp_path: Path, cli: Cli) -> None:
    """A close-up, so that the face is large enough in the 90-px frames of the strip
    too: those carry their moments' times; the poster's time is not known."""
    source, _models = faces_or_skip() / "lisa_01.jpg", models_or_skip()
    event = _event(tmp_path / "event")
    subprocess.run(["ffmpeg", "-v", "error", "-loop", "1", "-i", str(source), "-t", "4",
                    "-r", "5", "-pix_fmt", "yuv420p", str(event / "talk.mp4")], check=True,
                   timeout=120)
    cli("ingest", "--no-faces", str(event))
    cli("ingest", str(event))
    faces = _items(cli)["talk.mp4"]["faces"]
    assert faces[0]["time"] is None  # the poster
    assert [face["time"] for face in faces[1:]] == [0.2, 0.6, 1.0, 1.4, 1.8, 2.2, 2.6, 3.0,
                                                    3.4, 3.8]
    poster = faces[0]["box"]
    for face in faces[1:]:  # boxed in the video's pixels, from frames 90 px high
        assert _overlap(face["box"], poster) > 0.6, (face["box"], poster)


# ---- loading the models --------------------------------------------------------------

def test_the_saved_detector_is_dlibs_own(tmp_path: Path) -> None:
    """archive/data holds dlib's frontal detector as `save` writes it, read in 1 ms
    where dlib builds its own in 0.3 s. Should dlib's change, save it anew:
    dlib.get_frontal_face_detector().save('archive/data/frontal_face_detector.svm')."""
    dlib = pytest.importorskip("dlib", reason="the faces extra is not installed")
    detectors = models_or_skip().detectors
    dlib.get_frontal_face_detector().save(str(tmp_path / "dlib.svm"))
    detectors.every_level.save(str(tmp_path / "loaded.svm"))
    assert (tmp_path / "loaded.svm").read_bytes() == (tmp_path / "dlib.svm").read_bytes()
    assert (tmp_path / "loaded.svm").read_bytes() == hog.SAVED.read_bytes()
    detectors.finest_levels.save(str(tmp_path / "finest.svm"))  # differs in that alone
    finest = (tmp_path / "finest.svm").read_bytes()
    assert finest[:hog.LEVELS_AT] + hog.EVERY_LEVEL + finest[hog.LEVELS_AT + 2:] == \
        hog.SAVED.read_bytes()


def test_ingest_loads_the_models_before_its_workers_fork(tmp_path: Path) -> None:
    """In the ingesting process itself, so that its workers share them: one load, not
    one per worker (a fresh interpreter, which has loaded nothing before)."""
    models_or_skip()
    event = _event(tmp_path / "event")
    for width in (1600, 1700):
        _pattern(event / f"pattern-{width}.jpg", (width, 1000))
    script = ("import sys; from pathlib import Path; from archive.store import Archive; "
              "from archive.ingest.pipeline import ingest_folder; "
              "from archive.media import faces; "
              "archive = Archive.open(Path(sys.argv[1]), create=True); "
              "summary = ingest_folder(archive, Path(sys.argv[2]), jobs=2, progress=False); "
              "print(summary.added, faces._models is not None)")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "archive"),
                           str(event)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "True"]


# ---- detection: recall and what close-ups leave out ----------------------------------

@pytest.mark.parametrize("background", ["noface_great_sandy_desert.jpg",
                                        "noface_el_torcal_rocks.jpg"])
def test_faces_40_px_high_are_found_as_dlibs_upsampled_detection_finds_them(
        background: str) -> None:
    """The twelve portraits' faces pasted 40 px high: the stage's two passes find all
    twelve, as dlib's detection with one upsampling step (four times the pixels) does."""
    models = models_or_skip()
    frame = crowd(40, background)
    assert len(models.detectors.every_level(np.asarray(frame), 1)) == 12
    found = faces.detect(models, frame)
    assert len(found) == 12 and all(35 <= f.height <= 50 for f in found)


def test_a_close_up_is_not_searched_for_small_faces() -> None:
    """The trade face_closeup makes: in a close-up, a face 45 px high is left out
    (only boxed, it could not be identified); with 0, it is found."""
    models = models_or_skip()
    frame = frame_of(faces_or_skip() / "lisa_zoom15cm.jpg")  # the face: half the width
    frame.paste(head("susan_helms_portrait.jpg", 45), (20, 20))
    assert len(faces.detect(models, frame)) == 1
    small = [f for f in faces.detect(models, frame, closeup=0) if f.height < 80]
    assert len(small) == 1 and small[0].left < 100 and small[0].top < 120
