"""The JSON API: the pages' data, for scripts."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for

from archive import settings
from archive.model import FaceRecord

from . import faces, lookups
from .browse import credits_download
from .context import archive
from .searching import index_status, int_arg, search_request

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/search")
def search() -> dict:
    return search_request()


@bp.route("/status")
def status() -> dict:
    """For monitors and a pool of web nodes: is this node's index caught up?"""
    return index_status()


@bp.route("/items/<item_id>")
def item(item_id: str) -> dict:
    return lookups.public_item(archive(), item_id)


@bp.route("/items/<item_id>/transcript")
def transcript(item_id: str) -> dict:
    """The transcript a stretch at a time: ?offset=N&limit=N (at most
    max_transcript_page)."""
    cues = lookups.public_item(archive(), item_id)["transcript"]
    limit = int_arg("limit", current_app.config["TRANSCRIPT_PAGE"], 1,
                    settings.value("max_transcript_page"))
    return {"id": item_id, **lookups.transcript_page(cues, int_arg("offset", 0, 0, 10**9),
                                                     limit)}


@bp.route("/events")
def events() -> list:
    return [{**e, "sessions": lookups.sessions(archive(), e["id"])}
            for e in lookups.events(archive())]


@bp.route("/sessions/<session_id>")
def session(session_id: str) -> dict:
    found = lookups.session(archive(), session_id, request.args.get("event"))
    return {**found, "items": [i["id"] for i in lookups.session_items(
        archive(), session_id, found["event"])]}


@bp.route("/people/<person_id>")
def person(person_id: str) -> dict:
    found = lookups.person(archive(), person_id, request.args.get("event"))
    return {**found, "items": [{"id": i["id"], "relation": lookups.relation_of(i, person_id)}
                               for i in lookups.person_items(archive(), person_id,
                                                             found["event"])],
            "created": [i["id"] for i in lookups.creator_items(archive(), person_id,
                                                               found["event"])],
            "face": _face(faces.best_face(archive(), found["event"], person_id))}


def _face(face: FaceRecord | None) -> dict | None:
    """Where the person's face picture is: the item, the face's number and its URL."""
    if face is None:
        return None
    return {"item": face.item_id, "number": face.number,
            "url": url_for("faces.face_picture", item_id=face.item_id, number=face.number)}


@bp.route("/credits")
def credits() -> Response:
    return credits_download(request.args.get("format", "json"))
