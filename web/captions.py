"""A video's captions: its transcript as WebVTT, for the item page's <track>."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request

from archive import catalog as cat
from archive.outputs.webvtt import webvtt

from . import lookups
from .context import archive

bp = Blueprint("captions", __name__)

# Kept, but asked again each time: an ingest may change the transcript (a sidecar
# edited) or withhold the item, and neither may wait for a cache to expire.
CACHE_CONTROL = "no-cache"


@bp.route("/items/<item_id>/captions.vtt")
def captions(item_id: str) -> Response:
    """The item's transcript (from its `.vtt` or `.srt` sidecar) as WebVTT; 404 for an
    unknown, malformed or withheld id and for an item without a transcript.

    Made from the cues the catalog holds: no path is read, so nothing outside the
    archive can be served.
    """
    cues = cat.transcript_of(archive().catalog, lookups.valid_item_id(item_id))
    if not cues:
        abort(404, description="This item has no transcript.")
    body = webvtt(cues).encode("utf-8")
    # Flask adds "; charset=utf-8" to text types itself.
    response = Response(body, mimetype="text/vtt")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response.make_conditional(request)
