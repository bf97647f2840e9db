"""Who each face of an item is: from what people confirmed, never from a guess alone.

A face is named, strongest first, by
- being a reference face of a person in the event file (`[[people]] faces`), "face";
- the item's `[[media]]` entry naming exactly one person where exactly one face was
  found, "media";
- a named XMP face region (`mwg-rs:Regions`) whose box matches the face, "xmp-region";
- XMP `PersonInImage` naming exactly one person where exactly one face was found, "xmp";
- recognition: the face lies within `face_distance` of a person's reference faces and
  nearer to them than to any other person's references and to the faces rejected for
  that person (`not_faces`), "face".
A face listed in a person's `not_faces` is never that person's, and no person is two
faces of one picture (the nearest keeps the name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archive import settings
from archive.model import Event, FaceRecord, MediaEntry
from archive.resolve.names import NameIndex

FaceKey = tuple[str, int]  # (item id, face number)


@dataclass(frozen=True)
class FaceLabel:
    number: int
    person: str
    source: str  # face, media, xmp-region, xmp


def vector(descriptor: bytes) -> np.ndarray:
    return np.frombuffer(descriptor, dtype="<f4")


@dataclass
class KnownFaces:
    """What the event file confirms about faces, with the descriptors it points at."""

    references: dict[FaceKey, str] = field(default_factory=dict)  # face -> person
    rejected: dict[FaceKey, set[str]] = field(default_factory=dict)  # face -> not these
    people: list[str] = field(default_factory=list)  # row -> person, of `matrix`
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), "<f4"))
    negatives: dict[str, np.ndarray] = field(default_factory=dict)  # person -> rejected

    @classmethod
    def build(cls, event: Event, keys: Mapping[tuple[str, int], FaceKey],
              descriptors: Mapping[FaceKey, bytes]) -> KnownFaces:
        """`keys`: (path relative to the event folder, number) -> the face it names;
        `descriptors`: those faces' descriptors. Faces the catalog lacks are left out
        (the report lists them)."""
        known = cls()
        rows: list[np.ndarray] = []
        for person in event.people:
            for ref in person.faces:
                key = keys.get((ref.path, ref.number))
                if key is None:
                    continue
                known.references[key] = person.id
                if key in descriptors:
                    known.people.append(person.id)
                    rows.append(vector(descriptors[key]))
            rejected = [keys[(r.path, r.number)] for r in person.not_faces
                        if (r.path, r.number) in keys]
            for key in rejected:
                known.rejected.setdefault(key, set()).add(person.id)
            vectors = [vector(descriptors[k]) for k in rejected if k in descriptors]
            if vectors:
                known.negatives[person.id] = np.stack(vectors)
        if rows:
            known.matrix = np.stack(rows)
        return known

    def recognise(self, descriptor: bytes) -> tuple[str, float] | None:
        """The person this face is, with its distance, or None."""
        if not self.people:
            return None
        distances = np.linalg.norm(self.matrix - vector(descriptor), axis=1)
        nearest: dict[str, float] = {}
        for person, distance in zip(self.people, distances.tolist(), strict=True):
            nearest[person] = min(distance, nearest.get(person, distance))
        ranked = sorted(nearest.items(), key=lambda pd: pd[1])
        person, distance = ranked[0]
        if distance > settings.value("face_distance"):
            return None
        if len(ranked) > 1 and ranked[1][1] <= distance:
            return None  # as near to two people: neither
        negatives = self.negatives.get(person)
        if negatives is not None and \
                np.linalg.norm(negatives - vector(descriptor), axis=1).min() < distance:
            return None  # nearer to a face confirmed not to be them
        return person, distance


def _overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def region_box(region: dict[str, Any], shown: tuple[int, int], stored: tuple[int, int],
               orientation: int | None = None) -> tuple[float, float, float, float]:
    """An XMP region's box in displayed pixels. MWG regions are drawn on the image as
    displayed; a region whose AppliedToDimensions is the stored (unrotated) size of a
    photo turned a quarter (orientation 6 or 8) was drawn on that, and turns with it."""
    x, y, w, h = region["box"]
    applied = tuple(region.get("applied_to") or ())
    if applied == stored and stored != shown:
        if orientation == 6:  # turned clockwise to be shown
            x, y, w, h = 1 - y - h, x, h, w
        elif orientation == 8:
            x, y, w, h = y, 1 - x - w, h, w
    return x * shown[0], y * shown[1], w * shown[0], h * shown[1]


def regions_of(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The item's named face regions: the sidecar's when it has any, else the file's."""
    for block in ("sidecar_xmp", "xmp"):
        regions = (metadata.get(block) or {}).get("face_regions") or []
        if regions:
            return list(regions)
    return []


def _sizes(metadata: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(displayed, stored) sizes of a photo."""
    w, h = metadata.get("width"), metadata.get("height")
    if not w or not h:
        return None
    turned = metadata.get("orientation") in (5, 6, 7, 8)
    return ((h, w) if turned else (w, h)), (w, h)


def _from_regions(faces: Sequence[FaceRecord], metadata: dict[str, Any],
                  names: NameIndex) -> dict[int, str]:
    """Faces matched by named XMP regions: the best-overlapping face, if it overlaps."""
    sizes = _sizes(metadata)
    found: dict[int, str] = {}
    for region in regions_of(metadata) if sizes else []:
        person = names.exact(region["name"])
        box = region_box(region, *sizes, metadata.get("orientation")) \
            if person and sizes else None
        scored = [(_overlap(box, f.face.box), f.number) for f in faces if box]
        best = max(scored, default=(0.0, 0))
        if person and best[0] >= 0.3 and best[1] not in found:
            found[best[1]] = person
    return found


def _single(people: Iterable[str], faces: Sequence[FaceRecord]) -> str | None:
    """The one person shown where exactly one face was found."""
    people = list(dict.fromkeys(people))
    return people[0] if len(people) == 1 and len(faces) == 1 else None


def name_faces(item_id: str, faces: Sequence[FaceRecord], metadata: dict[str, Any],
               entry: MediaEntry | None, event: Event, known: KnownFaces) -> list[FaceLabel]:
    """Each named face of an item, by the strongest reason (see the module)."""
    if not faces:
        return []
    labels: dict[int, tuple[str, str, float]] = {}  # number -> (person, source, distance)
    written = [name for block in ("sidecar_xmp", "xmp")
               for name in (metadata.get(block) or {}).get("persons") or []]
    names = NameIndex(event.people) if written else None  # most items name nobody
    persons = [pid for name in written for pid in names.each(name)] if names else []
    seeds = [(_single(entry.people if entry else (), faces), "media"),
             (_single(persons, faces), "xmp")]
    for number, person in (_from_regions(faces, metadata, names) if names else {}).items():
        labels[number] = (person, "xmp-region", 0.0)
    for person, source in seeds:
        if person:
            labels.setdefault(faces[0].number, (person, source, 0.0))
    for f in faces:
        key = (item_id, f.number)
        if key in known.references:
            labels[f.number] = (known.references[key], "face", 0.0)
        elif f.number not in labels and f.face.descriptor is not None:
            found = known.recognise(f.face.descriptor)
            if found:
                labels[f.number] = (found[0], "face", found[1])
    return _one_face_each(faces, labels, known.rejected, item_id)


def _one_face_each(faces: Sequence[FaceRecord], labels: dict[int, tuple[str, str, float]],
                   rejected: Mapping[FaceKey, set[str]], item_id: str) -> list[FaceLabel]:
    """Drop rejected names, and keep a person on the nearest of the faces of one
    picture (a video's frames are pictures of their own)."""
    frame = {f.number: f.face.time for f in faces}
    best: dict[tuple[str, float | None], tuple[float, int]] = {}
    for number, (person, _source, distance) in labels.items():
        if person in rejected.get((item_id, number), ()):
            continue
        key = (person, frame.get(number))
        best[key] = min(best.get(key, (distance, number)), (distance, number))
    kept = {number for _, number in best.values()}
    return [FaceLabel(n, labels[n][0], labels[n][1]) for n in sorted(kept)]
