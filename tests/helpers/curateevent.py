"""Two small events for the curator's desk tests, made and ingested in code: a published
photo, a withheld one, one from a camera the event file does not list taken between
parallel sessions (so without session, creator or known camera), a third-party one, a
[[media]] entry naming no file, and comments that every edit must keep. Faces in
clusters are written into the catalog as the face stage and clustering would (with
descriptors, so naming them recognises them), so no dlib is needed."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.catalog import set_clusters, set_faces, touch_item
from archive.ingest.pipeline import FaceStage, ingest_folder
from archive.model import Face
from archive.store import Archive
from indexer.sync import sync

from helpers.media import make_exif, make_jpeg, make_xmp

EVENT = """\
# The curator tests' event: every comment here must survive every edit.
[event]
id = "curate-2019"
title = "Curating Florence"
date = 2019-03-19
timezone = "Europe/Rome"

[credit]  # the event's default credit
organisation = "ASEV"
license = "CC-BY-4.0"

[[people]]
id = "peter-keller"
name = "Péter Keller"
aliases = ["Peter Keller"]

[[people]]
id = "roberto-pini"
name = "Roberto Pini"

[[people]]
id = "chiara-neri"  # the event's photographer
name = "Chiara Neri"

[[sessions]]
id = "s1"
title = "Opening"
start = 10:00
end = 11:00
room = "Plenary"
speakers = ["peter-keller"]

# Two parallel workshops: a photo between them needs its camera's room.
[[sessions]]
id = "s2a"
title = "Materials"
start = 11:00
end = 12:00
room = "Donatello"

[[sessions]]
id = "s2b"
title = "Manufacturing"
start = 11:00
end = 12:00
room = "Michelangelo"

[[cameras]]  # Chiara's camera, on time
model = "Canon EOS 80D"
room = "Plenary"

# Backstage stays private.
[[media]]
path = "photos/backstage.jpg"
publish = false

[[media]]
path = "photos/gone.jpg"  # renamed since: the report lists this entry
title = "A photo no longer here"
"""

OTHER = """\
# A second event, so that two curators can change two event files at once.
[event]
id = "curate-2020"
title = "Curating Arezzo"
date = 2020-05-04

[credit]
creator = "Luca Bianchi"
"""

DAY = dt.datetime(2019, 3, 19)
SIZE = (320, 240)
FACE_BOX = (120, 70, 80, 80)  # inside SIZE: its picture can be cut


@dataclass(frozen=True)
class CurateEvents:
    """Where the events and their archive are, and the items' ids by file stem."""

    root: Path
    folder: Path
    other: Path
    ids: dict[str, str]

    @property
    def event_file(self) -> Path:
        return self.folder / "event.toml"

    @property
    def other_file(self) -> Path:
        return self.other / "event.toml"


def _photos(folder: Path) -> None:
    canon = {"make": "Canon", "model": "Canon EOS 80D"}
    make_jpeg(folder / "photos" / "keller.jpg", SIZE,
              exif=make_exif(**canon, taken=DAY.replace(hour=10, minute=10)),
              xmp=make_xmp(persons=["Peter Keller"], title="Keller opens the day",
                           creator=["Chiara Neri"]))
    make_jpeg(folder / "photos" / "backstage.jpg", SIZE,
              exif=make_exif(**canon, taken=DAY.replace(hour=10, minute=30)),
              xmp=make_xmp(title="Backstage", creator=["Chiara Neri"]))
    # A camera the file does not list, between the parallel sessions, no creator.
    make_jpeg(folder / "photos" / "nikon.jpg", SIZE,
              exif=make_exif(make="NIKON CORPORATION", model="NIKON D750", serial="3002718",
                             taken=DAY.replace(hour=11, minute=30)))
    # Someone the event does not know took this one: third-party.
    make_jpeg(folder / "photos" / "guest.jpg", SIZE,
              exif=make_exif(**canon, taken=DAY.replace(hour=10, minute=40)),
              xmp=make_xmp(creator=["Ian Britton"], rights="© Ian Britton"))


def make_events(base: Path) -> tuple[Path, Path]:
    folder, other = base / "event", base / "other"
    (folder / "photos").mkdir(parents=True)
    folder.joinpath("event.toml").write_text(EVENT, encoding="utf-8")
    _photos(folder)
    (other / "photos").mkdir(parents=True)
    other.joinpath("event.toml").write_text(OTHER, encoding="utf-8")
    make_jpeg(other / "photos" / "arezzo.jpg", SIZE,
              exif=make_exif(taken=dt.datetime(2020, 5, 4, 9, 0)))
    return folder, other


def _ids(root: Path) -> dict[str, str]:
    with Archive.open(root, create=False, readonly=True) as archive:
        rows = archive.catalog.query("SELECT id, relpath FROM items")
    return {Path(r["relpath"]).stem: r["id"] for r in rows}


def put_cluster(root: Path, cluster: int, faces: list[tuple[str, int]],
                seed: int = 1) -> None:
    """Give the items faces numbered 1…n (n the highest number asked for each), all with
    one descriptor (one person, as far as recognition can tell), put the (item id,
    number) faces in `cluster`, and bring the index up to date."""
    descriptor = np.random.default_rng(seed).normal(0, 0.1, 128).astype("<f4").tobytes()
    counts: dict[str, int] = {}
    for item_id, number in faces:
        counts[item_id] = max(counts.get(item_id, 0), number)
    with Archive.open(root, create=False) as archive:
        with archive.catalog.transaction():
            for item_id, count in counts.items():
                set_faces(archive.catalog, item_id, [Face(FACE_BOX, 1.0, descriptor)] * count)
                touch_item(archive.catalog, item_id)
            set_clusters(archive.catalog, [(i, n, cluster) for i, n in faces])
        sync(archive)


def build(work: Path) -> CurateEvents:
    """Both events (in `work/event` and `work/other`) ingested into `work/archive`, with a
    cluster of two faces (Keller's photo and the withheld backstage one) awaiting a
    name."""
    folder, other = make_events(work)
    root = work / "archive"
    with Archive.open(root) as archive:
        for event in (folder, other):
            ingest_folder(archive, event, jobs=1, progress=False,
                          faces=FaceStage(wanted=False))
        sync(archive)
    ids = _ids(root)
    put_cluster(root, 1, [(ids["keller"], 1), (ids["backstage"], 1)])
    return CurateEvents(root, folder, other, ids)


PARTS = ("event", "other", "archive")


def keep(work: Path, kept: Path) -> None:
    """Copy what build made in `work` to `kept`."""
    for name in PARTS:
        shutil.copytree(work / name, kept / name, symlinks=True)


def restore(kept: Path, events: CurateEvents) -> CurateEvents:
    """Put the copy `kept` back where the events were built: the catalog records their
    folders by absolute path, so a copy elsewhere would be another archive's events."""
    work = events.root.parent
    for name in PARTS:
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(kept / name, work / name, symlinks=True)
    return events
