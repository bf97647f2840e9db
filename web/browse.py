"""Pages for browsing: events and their programme, sessions, people, credits."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, Response, abort, current_app, render_template, request

from archive.outputs.exports import FORMATS, export

from . import faces, lookups
from .context import archive
from .files import content_disposition
from .programme import programme
from .searching import every_result

bp = Blueprint("browse", __name__)

# Flask adds "; charset=utf-8" to text types itself.
MIME = {"csv": "text/csv", "json": "application/json", "jsonld": "application/ld+json",
        "html": "text/html"}


@bp.route("/events")
def events() -> str:
    return render_template("events.html", events=lookups.covered_events(archive()))


@bp.route("/events/<event_id>")
def event(event_id: str) -> str:
    found = lookups.event(archive(), event_id)
    return render_template("event.html", event=found, days=programme(found))


@bp.route("/events/<event_id>/sessions/<session_id>")
def session(event_id: str, session_id: str) -> str:
    found = lookups.session(archive(), session_id, lookups.valid_name(event_id))
    items = lookups.session_items(archive(), session_id, found["event"])
    return render_template("session.html", session=found, items=items)


@bp.route("/events/<event_id>/people/<person_id>")
def person(event_id: str, person_id: str) -> str:
    found = lookups.person(archive(), person_id, lookups.valid_name(event_id))
    items = lookups.person_items(archive(), person_id, found["event"])
    made = lookups.creator_items(archive(), person_id, found["event"])
    return render_template("person.html", person=found, made=made,
                           groups=lookups.by_relation(items, person_id),
                           face=faces.best_face(archive(), found["event"], person_id))


@bp.route("/credits")
def credits() -> str:
    query = request.args.get("q", "").strip()
    items = sorted(every_result(query), key=lambda i: (
        ((i["credit"] or {}).get("creator") or "\uffff").casefold(), i["relpath"]))
    groups = [(creator, list(group)) for creator, group in groupby(
        items, key=lambda i: (i["credit"] or {}).get("creator"))]
    return render_template("credits.html", groups=groups, query=query, formats=FORMATS)


def credits_download(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(400, description=f"format must be one of {', '.join(FORMATS)}")
    query = request.args.get("q", "").strip()
    # URLs under the configured base URL, else relative: never the request's Host header.
    body = export(every_result(query), fmt, title=query or None,
                  base_url=current_app.config["BASE_URL"] or "")
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": content_disposition(f"credits.{fmt}", "attachment")})
