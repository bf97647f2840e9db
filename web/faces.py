"""Faces on the site: the boxes drawn over an item's picture, with names, and a person's
face cut from the item that shows it best.

A face's box is in the pixels of the original as displayed (EXIF orientation applied; a
video's frame size). It is drawn over the large thumbnail, which is that image reduced
for a photo and the poster for a video. A video's faces lie on its poster only when they
were found in the poster's frame, at `poster_time`; the others are of strip frames,
which the page does not show. (A poster whose frame was too dark is replaced by a later
frame whose time the catalog does not keep: boxes at poster_time would then be of the
dark frame. Such a frame rarely holds a face the detector finds.)

Withheld items never reach here: every lookup goes through the public catalog, which
holds no withheld item, and faces are read joined with their item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, request

from archive import catalog as cat
from archive.media.posters import EPSILON, poster_time
from archive.model import FaceRecord
from archive.store import Archive

from . import facecrop, lookups
from .context import archive, site
from .files import inside

bp = Blueprint("faces", __name__)

# Revalidated on every use (an ETag makes that a 304): a consent withdrawn must take a
# face off the site at once, not when a browser's copy expires.
CACHE_CONTROL = "no-cache"
MAX_FACE_NUMBER = 99_999  # past SQLite's integers, a URL's number would be a 500
LOW = 80.0  # percent: a box whose bottom lies below this gets its name above it


@dataclass(frozen=True)
class Picture:
    """What an item's large thumbnail shows: the displayed image `size` (the pixels a
    face box is measured in) and, for a video, the time of its poster's frame."""

    size: tuple[int, int]
    poster_at: float | None = None

    def holds(self, time: float | None) -> bool:
        """Whether a face found at `time` (None: in a photo) lies on this picture."""
        if self.poster_at is None:
            return time is None
        return time is not None and abs(time - self.poster_at) <= EPSILON


def picture_of(kind: str, meta: dict[str, Any]) -> Picture | None:
    """The picture of an item of `kind` whose metadata (or item JSON) is `meta`; None
    when its size is unknown (a raw file without one: its boxes have no scale) or the
    item has no picture (audio)."""
    width, height = meta.get("width"), meta.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return None
    if kind == "photo":
        turned = meta.get("orientation") in (5, 6, 7, 8)
        return Picture((height, width) if turned else (width, height))
    if kind == "video":  # its size is upright already (rotation applied)
        return Picture((width, height), poster_time(meta.get("duration")))
    return None


@dataclass(frozen=True)
class FaceBox:
    """A face drawn over the picture: its place in percent of the picture's width and
    height, and who it is (person id and name), when resolution says."""

    number: int
    left: float
    top: float
    width: float
    height: float
    person: str | None = None
    name: str | None = None

    @property
    def low(self) -> bool:
        """Near the bottom: its name goes above the box, inside the picture."""
        return self.top + self.height > LOW

    @property
    def right(self) -> bool:
        """In the right half: its name runs leftwards from the box's right edge, inside."""
        return self.left + self.width / 2 > 50.0

    def css(self) -> str:
        return (f"#face-{self.number}{{left:{self.left:.3f}%;top:{self.top:.3f}%;"
                f"width:{self.width:.3f}%;height:{self.height:.3f}%}}")


def _percent(part: float, whole: int) -> float:
    return min(100.0, max(0.0, 100.0 * part / whole))


def face_boxes(item: dict[str, Any], names: dict[str, str]) -> list[FaceBox]:
    """The faces of an item (its item JSON) that lie on its large thumbnail, as boxes."""
    picture = picture_of(item["kind"], item)
    if picture is None or not (item.get("thumbnails") or {}).get("large"):
        return []
    # The item JSON lists the faces in number order, numbered from 1 without gaps
    # (catalog.set_faces), as `path#n` names them.
    return [_box(number, face, picture.size, names)
            for number, face in enumerate(item.get("faces") or [], 1)
            if picture.holds(face.get("time"))]


def _box(number: int, face: dict[str, Any], size: tuple[int, int],
         names: dict[str, str]) -> FaceBox:
    x, y, w, h = face["box"]
    person = face.get("person")
    return FaceBox(number, _percent(x, size[0]), _percent(y, size[1]),
                   _percent(w, size[0]), _percent(h, size[1]), person,
                   names.get(person) if person else None)


def boxes_of_item(item: dict[str, Any]) -> list[FaceBox]:
    """The item's face boxes with the names of the people they show."""
    ids = {f["person"] for f in item.get("faces") or [] if f.get("person")}
    names = cat.people_names(archive().catalog, item["event"], ids) if ids else {}
    return face_boxes(item, names)


def best_face(opened: Archive, event_id: str, person_id: str) -> FaceRecord | None:
    """The person's largest labelled face on a picture the site shows (a published
    item's photo or video poster), or None."""
    for face in cat.faces_of_person(opened.catalog, event_id, person_id):
        item = cat.get_item(opened.catalog, face.item_id)
        picture = picture_of(item.kind, item.metadata) if item else None
        if picture is not None and picture.holds(face.face.time):
            return face
    return None


def _revalidated(body: bytes, mimetype: str, etag: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response.make_conditional(request)


def stylesheet(boxes: Sequence[FaceBox]) -> str:
    """Where each box goes. A stylesheet of its own because the Content-Security-Policy
    allows no inline style (a style attribute included), and without JavaScript the
    boxes must still be placed."""
    return "".join(box.css() + "\n" for box in boxes)


@bp.route("/items/<item_id>/faces.css")
def faces_css(item_id: str) -> Response:
    body = stylesheet(boxes_of_item(lookups.public_item(archive(), item_id))).encode()
    return _revalidated(body, "text/css", hashlib.sha256(body).hexdigest()[:32])


@dataclass(frozen=True)
class FaceSource:
    """Where a face's picture is cut from: the item's large thumbnail (as the catalog
    names it, under the archive), the face's box and the size that box is measured in."""

    thumbnail: str
    box: facecrop.Box
    size: tuple[int, int]


def face_source(opened: Archive, item_id: str, number: int) -> FaceSource:
    """The face `number` of an item in `opened` (the public catalog on the site: no
    withheld item's face; the curator's, every face); 404 for an unknown or malformed
    item, an unknown face, or a face that is not on the thumbnail (a video's strip
    frames)."""
    item = lookups.item_record(opened, item_id)
    face = cat.face_of_item(opened.catalog, item_id, number)
    picture = picture_of(item.kind, item.metadata)
    if face is None or picture is None or not picture.holds(face.face.time):
        abort(404)
    large = cat.thumbnail_path(opened.catalog, item_id, "large")
    if large is None:
        abort(404)
    x, y, w, h = face.face.box
    return FaceSource(large, (x, y, w, h), picture.size)


def cut_face(source: FaceSource) -> bytes:
    """The face's picture; 404 when the thumbnail is missing or cannot be read."""
    try:
        return facecrop.cut(inside(site().root, source.thumbnail), source.box, source.size)
    except facecrop.CutError:
        abort(404, description="This face's picture cannot be made.")


@bp.route(f"/faces/<item_id>/<int(min=1, max={MAX_FACE_NUMBER}):number>.jpg")
def face_picture(item_id: str, number: int) -> Response:
    """The face `number` of an item, cut from its large thumbnail (and kept on disk);
    404 for an unknown, malformed or withheld item, an unknown face, or a face that is
    not on the thumbnail (a video's strip frames)."""
    source = face_source(archive(), item_id, number)
    kept = facecrop.cache_path(site().root, item_id, number, source.box)
    data = facecrop.cached(kept)
    if data is None:
        data = cut_face(source)
        facecrop.keep(kept, data)
    return _revalidated(data, "image/jpeg", kept.stem)
