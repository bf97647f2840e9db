"""Take-away ZIPs: the originals, or the 1280-px copies, of a search, a session, an
event or the items showing a person, with their credits, streamed as they are made.

Every file is named by the catalog (never by the request), is read through the public
catalog (a withheld item is unknown), and is checked as the ZIP reaches it: an
original must still be a regular file in its event's folder with the size it was
catalogued with, a copy a file under the archive. One that is not is left out, and
LICENSES.txt says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, request, stream_with_context

from archive import catalog as cat
from archive.outputs.takeaway import Unavailable, takeaway

from . import selections
from .context import archive, site
from .files import archive_file, content_disposition, in_event_folder
from .selections import Selection

bp = Blueprint("takeaway", __name__)

# What the ZIP holds of each item: the original file, or the large thumbnail (a JPEG at
# most thumbnail_large pixels on its long side; a video's is its poster).
FILES = ("originals", "copies")


@bp.route("/takeaway")
def search() -> Response:
    return _zip(selections.of_search(request.args.get("q", "").strip()))


@bp.route("/events/<event_id>/takeaway")
def event(event_id: str) -> Response:
    return _zip(selections.of_event(event_id))


@bp.route("/events/<event_id>/sessions/<session_id>/takeaway")
def session(event_id: str, session_id: str) -> Response:
    return _zip(selections.of_session(event_id, session_id))


@bp.route("/events/<event_id>/people/<person_id>/takeaway")
def person(event_id: str, person_id: str) -> Response:
    return _zip(selections.of_person(event_id, person_id))


def original(item: dict[str, Any]) -> Path:
    """The item's own file, as the catalog names it, resolved (what is checked is what
    is read). Raises Unavailable when it is no longer published, no longer a regular file
    in its event's folder, or not the size it was catalogued with (another content)."""
    place = cat.item_place(archive().catalog, item["id"])
    if place is None:
        raise Unavailable("no longer published")
    path = Path(os.path.realpath(place.path))
    try:
        found = path.stat()
    except OSError:
        raise Unavailable("missing from its folder") from None
    if not stat.S_ISREG(found.st_mode) or not in_event_folder(path, place.event_id):
        raise Unavailable("missing from its folder")
    if found.st_size != place.size:
        raise Unavailable("changed since it was catalogued")
    return path


def copy(item: dict[str, Any]) -> Path:
    """The item's large thumbnail (a video's poster). Raises Unavailable when it has
    none (a camera raw without thumbnails, a video whose poster failed)."""
    relpath = cat.thumbnail_path(archive().catalog, item["id"], "large")
    path = archive_file(site().root, relpath) if relpath else None
    if path is None:
        raise Unavailable("no poster" if item["kind"] == "video" else "no 1280-px copy")
    return path


def _zip(selection: Selection) -> Response:
    """The selection's ZIP as a streamed download; 400 for a `files` that is neither
    originals nor copies, 404 when nothing is selected."""
    files = request.args.get("files", "originals")
    if files not in FILES:
        abort(400, description=f"files must be one of {', '.join(FILES)}")
    if not selection.items:
        abort(404, description="Nothing to take away: no published item is selected.")
    file_of: Callable[[dict[str, Any]], Path] = original if files == "originals" else copy
    notes = [f"Left out: what the selection holds past its first {selections.cap():,} "
             "items (export_items); narrow it for the rest."] if selection.capped else []
    # The ZIP is for reading away from the site: item pages only under a base URL.
    chunks = takeaway(selection.items, file_of, suffix=None if files == "originals" else ".jpg",
                      title=selection.title, base_url=current_app.config["BASE_URL"] or None,
                      notes=notes)
    # stream_with_context keeps the request's catalog open while the generator runs; no
    # length is known beforehand, so the server sends the body chunked.
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(
        f"{selection.name} ({files}).zip", "attachment")
    response.headers["Cache-Control"] = "no-store"
    return response
