"""Pages for browsing: events and their programme, sessions, people, credits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from . import faces, lookups, selections, sheets
from .context import archive
from .programme import programme

bp = Blueprint("browse", __name__)


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
def credits() -> Any:
    """The credits sheet of a search (?q=; every item without one)."""
    return sheets.sheet(selections.of_search(request.args.get("q", "").strip()))


def credits_download(fmt: str) -> Response:
    return sheets.download(selections.of_search(request.args.get("q", "").strip()), fmt)
