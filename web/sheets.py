"""Credits sheets: the credits of a search, a session, the items showing a person or an
event, as a page that prints (thumbnails, titles, credit lines, licences and their
URLs, the event), and in every export format (`?format=`)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from archive.outputs.exports import FORMATS, export

from . import selections
from .files import content_disposition
from .selections import Selection

bp = Blueprint("sheets", __name__)

# Flask adds "; charset=utf-8" to text types itself.
MIME = {"csv": "text/csv", "json": "application/json", "jsonld": "application/ld+json",
        "html": "text/html"}


@bp.app_context_processor
def _cap() -> dict[str, int]:
    # Pages that offer a ZIP or a sheet say when they would hold only the first items.
    return {"export_items": selections.cap()}


@bp.route("/events/<event_id>/credits")
def event(event_id: str) -> Any:
    return sheet(selections.of_event(event_id))


@bp.route("/events/<event_id>/sessions/<session_id>/credits")
def session(event_id: str, session_id: str) -> Any:
    return sheet(selections.of_session(event_id, session_id))


@bp.route("/events/<event_id>/people/<person_id>/credits")
def person(event_id: str, person_id: str) -> Any:
    return sheet(selections.of_person(event_id, person_id))


def _by_creator(items: list[dict[str, Any]]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """The items grouped by creator (A to Z, unknown last), each group by file."""
    ordered = sorted(items, key=lambda i: (
        ((i["credit"] or {}).get("creator") or "\uffff").casefold(), i["relpath"]))
    return [(creator, list(group)) for creator, group in groupby(
        ordered, key=lambda i: (i["credit"] or {}).get("creator"))]


def _item_url(item_id: str) -> str:
    """The item page's address: absolute under serve --base-url (so a printed sheet can
    show it), else relative; never from the request's Host header."""
    path = url_for("pages.item", item_id=item_id)
    return (current_app.config["BASE_URL"] or "").rstrip("/") + path


def sheet(selection: Selection) -> Any:
    """The sheet of the selection, or with ?format= its credits as a download."""
    fmt = request.args.get("format")
    if fmt is not None:
        return download(selection, fmt)
    return render_template("credits.html", selection=selection,
                           groups=_by_creator(selection.items),
                           events=selections.events_of(selection), item_url=_item_url,
                           query=selection.query, formats=FORMATS)


def download(selection: Selection, fmt: str) -> Response:
    """The selection's credits in an export format, as an attachment; 400 for a format
    that is none."""
    if fmt not in FORMATS:
        abort(400, description=f"format must be one of {', '.join(FORMATS)}")
    # URLs under the configured base URL, else relative: never the request's Host header.
    title = selection.title if selection.query is None else selection.query or None
    body = export(selection.items, fmt, title=title,
                  base_url=current_app.config["BASE_URL"] or "")
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": content_disposition(f"credits.{fmt}", "attachment")})
