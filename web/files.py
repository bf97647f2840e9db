"""Files, served by item id only: thumbnails, posters, strips, originals.

No path from the request ever reaches the file system: the id selects a
catalog row, and the row names the file. Originals are sent with Range
support (videos seek) and an ETag from the content hash.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, request, send_file
from werkzeug.http import parse_range_header

from archive.catalog import event_folder, thumbnail_path
from archive.fsnames import within
from archive.model import ItemPlace

from .context import archive, site
from .lookups import item_place

bp = Blueprint("files", __name__)

THUMB_NAMES = ("small", "large", "strip")
YEAR = 365 * 24 * 3600
ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits


@bp.route("/media/<item_id>/<name>")
def media(item_id: str, name: str) -> Response:
    place = item_place(archive(), item_id)
    if name == "original":
        return _original(place)
    if name not in THUMB_NAMES:
        abort(404)
    found = thumbnail_path(archive().catalog, item_id, name)
    if found is None:
        abort(404)
    path = inside(site().root, found)
    _whole_for_a_long_suffix(path)
    response = send_file(path, mimetype="image/jpeg", conditional=True, etag=f"{item_id}-{name}",
                         max_age=YEAR)
    response.cache_control.immutable = True
    return response


def _original(place: ItemPlace) -> Response:
    path = Path(place.path)
    if not path.is_file() or not in_event_folder(path, place.event_id):
        abort(404, description="The original file is missing from its folder.")
    _whole_for_a_long_suffix(path)
    # A name that is not UTF-8 cannot go in a header as it is: its odd bytes become U+FFFD.
    name = os.fsencode(path.name).decode("utf-8", "replace")
    # werkzeug writes the header from download_name but refuses control characters in
    # it: it gets the ASCII fallback, and the full header of RFC 6266 replaces its own.
    response = send_file(path, mimetype=place.mime, conditional=True, etag=place.id,
                         max_age=3600, download_name=ascii_name(name))
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Accept-Ranges"] = "bytes"
    return response


@bp.before_app_request
def _ignore_unusable_range() -> None:
    """Drop a Range header to be ignored, on every route (originals, thumbnails, static
    files), so the whole file is sent (200): one of another
    unit or that does not parse, as RFC 9110 (14.2) says, and several ranges, which
    would need a multipart answer. werkzeug answers 416 to each; a range that parses but
    lies past the end still gets its 416."""
    header = request.headers.get("Range")
    if header is None:
        return
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        request.environ.pop("HTTP_RANGE", None)


def _whole_for_a_long_suffix(path: Path) -> None:
    """A suffix range longer than the file (`bytes=-N`, N past its size) selects all of
    it (RFC 9110, 14.1.2): werkzeug answers 416, so it is asked for as `bytes=0-`."""
    parsed = parse_range_header(request.headers.get("Range"))
    if parsed is None or len(parsed.ranges) != 1:
        return
    start, end = parsed.ranges[0]
    try:
        if start < 0 and end is None and -start > path.stat().st_size:
            request.environ["HTTP_RANGE"] = "bytes=0-"
    except OSError:
        pass  # send_file says what is wrong with the file


def ascii_name(name: str) -> str:
    """A file name for clients that read only `filename=`: plain printable ASCII without
    quotes, backslashes or '%' (which some decode), each other character as '_'."""
    return re.sub(r'[^\x20-\x7e]|["\\%]', "_", name)


def content_disposition(name: str, kind: str = "inline") -> str:
    """The header of RFC 6266 for any file name: an ASCII fallback, and the exact name
    as filename*=UTF-8''… (RFC 5987 attr-chars, the rest percent-encoded)."""
    return (f"{kind}; filename=\"{ascii_name(name)}\"; "
            f"filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}")


def in_event_folder(path: Path, event_id: str) -> bool:
    """Whether the file really is in its event's folder: a link swapped in since the
    ingest must not serve a file from elsewhere."""
    found = event_folder(archive().catalog, event_id)
    return found is not None and within(os.path.realpath(path), os.path.realpath(found))


def inside(root: Path, relpath: str) -> Path:
    """A catalog-recorded path under the archive; refuses anything that leaves it."""
    full = archive_file(root, relpath)
    if full is None:
        abort(404)
    return full


def archive_file(root: Path, relpath: str) -> Path | None:
    """A catalog-recorded file under the archive, resolved; None when it is not a file
    or lies outside (a link swapped in)."""
    full = (root / relpath).resolve()
    return full if within(full, root.resolve()) and full.is_file() else None
