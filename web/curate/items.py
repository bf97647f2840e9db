"""Fixing an item: its [[media]] entry's title, description, session, people shown,
credit and `publish`, from the curator's item page or the panel on the public one.

The form shows what the item's own [[media]] entry says (blank: it says nothing, and
the item's value comes from its file, a rule or the event's default, shown beside the
field as "now"). Saving writes exactly those keys; a blank field takes its key out.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup

from archive.catalog import curator_changes, thumbnail_path
from archive.errors import ArchiveError
from archive.ingest.curation import Edit, ItemForm, fix_item, item_form
from archive.outputs.itemjson import items_json

from .. import lookups
from ..context import site
from ..files import inside
from .access import curator
from .blueprint import bp
from .forms import ITEM_FIELDS, FormInvalid, format_people, item_values, longest_field
from .reading import curator_archive
from .writes import REFUSED, Refusal, refusal, write

BACK = ("desk", "public")  # where a saved form returns: the curator's page or the public one
THUMBS = ("small", "large")
HISTORY = 20  # changes of the item shown on its page


def inputs_of(values: dict[str, Any]) -> dict[str, str]:
    """An entry's values as the form's inputs show them."""
    shown = {}
    for name in ITEM_FIELDS:
        value = values.get(name)
        if name == "people":
            shown[name] = format_people(value or [])
        elif name == "publish":
            shown[name] = "" if value is None else ("true" if value else "false")
        else:
            shown[name] = value or ""
    return shown


def current_values(item: dict[str, Any]) -> dict[str, str]:
    """What the item has now, whichever source gave it: shown beside each field."""
    credit = item["credit"]
    sources = credit.get("sources") or {}
    now = {"title": item.get("title") or "", "description": item.get("description") or "",
           "session": ", ".join(f"{s['id']} ({s['source']})" for s in item["sessions"]),
           "people": ", ".join(f"{p['name'] or p['id']} ({p['source']})"
                               for p in item["people"] if p["relation"] == "shown"),
           "publish": "published" if item["published"] else f"withheld: {item['withheld']}"}
    for name in ("creator", "organisation", "project", "copyright", "license",
                 "acquire_license_page"):
        value = credit.get(name)
        now[name] = f"{value} ({sources.get(name, '?')})" if value else ""
    return now


def _item_json(item_id: str) -> dict[str, Any]:
    opened = curator_archive()
    return items_json(opened.catalog, [lookups.item_record(opened, item_id)])[0]


def _form(item_id: str) -> tuple[ItemForm | None, str | None]:
    """The item's form, or why there is none (its event file cannot be read)."""
    try:
        return item_form(curator_archive().catalog, item_id), None
    except ArchiveError as exc:
        return None, str(exc)


def form_context(item: dict[str, Any], back: str, submitted: dict[str, str] | None = None,
                 refused: Refusal | None = None) -> dict[str, Any]:
    """What the item form's template needs. A form refused for its values (or as busy)
    shows them again with the version they were made from: saving them later must not
    overwrite a change made meanwhile. A stale form (409) shows the file as it is now,
    and what the curator had typed, to redo."""
    form, problem = _form(item["id"])
    fresh = inputs_of(form.values) if form else dict.fromkeys(ITEM_FIELDS, "")
    inputs, version, theirs = fresh, (form.event_file.version if form else None), {}
    if submitted is not None and refused is not None:
        if refused.status == 409:
            theirs = {k: submitted[k] for k in ITEM_FIELDS
                      if k in submitted and submitted[k] != fresh[k]}
        else:
            inputs = {k: submitted.get(k, "") for k in ITEM_FIELDS}
            version = submitted.get("version", "")
    return {"item": item, "form": form, "problem": problem, "inputs": inputs,
            "version": version or "", "now": current_values(item), "refused": refused,
            "theirs": theirs, "back": back, "longest": longest_field()}


def item_panel(item: dict[str, Any]) -> Markup:
    """The fix form on the public item page, for a logged-in curator (else nothing)."""
    if curator() is None:
        return Markup("")
    g.curator_panel = True  # the page now holds a CSRF token: never stored (see register)
    return Markup(render_template("curate/_item_form.html",
                                  **form_context(item, "public"), panel=True))


@bp.get("/items/<item_id>")
def item(item_id: str) -> tuple[str, int]:
    return _page(_item_json(item_id))


def _page(item: dict[str, Any], status: int = 200, **form: Any) -> tuple[str, int]:
    history = curator_changes(curator_archive().catalog, HISTORY, item_id=item["id"])
    return render_template("curate/item.html", history=history,
                           **form_context(item, form.pop("back", "desk"), **form)), status


@bp.post("/items/<item_id>")
def save_item(item_id: str) -> Any:
    item = _item_json(item_id)  # 404 for an unknown item, before anything is read
    back = request.form.get("back", "desk")
    back = back if back in BACK else "desk"
    submitted = request.form.to_dict()
    try:
        edit, index_problem = _save(item_id, submitted)
    except REFUSED as exc:
        found = refusal(exc)
        return _page(item, found.status, back=back, submitted=submitted, refused=found)
    flash(_saved_message(item, edit, index_problem))
    return redirect(_after_save(item_id, back), code=303)


def _save(item_id: str, submitted: dict[str, str]) -> tuple[Edit, str | None]:
    form = item_form(curator_archive().catalog, item_id)
    event = form.event_file.event
    values = item_values(submitted, event.sessions, event.people)
    version = submitted.get("version", "")
    if not version:
        raise FormInvalid({"version": "missing from the form; load the page again"})
    name = curator() or "curator"
    return write(lambda catalog: fix_item(catalog, item_id, values, version, name))


def _saved_message(item: dict[str, Any], edit: Edit, index_problem: str | None) -> str:
    if not edit.changed:
        return "Nothing to save: the form says what the event file says."
    keys = ", ".join(edit.changed)
    said = (f"Saved {keys} of {item['relpath']} in the event file; "
            f"{edit.resolved} item(s) resolved again.")
    return f"{said} But {index_problem}" if index_problem else said


def _after_save(item_id: str, back: str) -> str:
    """The public item page when the form came from there and the item is still public
    (a withheld one is a 404 there), else the curator's item page."""
    if back == "public" and _item_json(item_id)["published"]:
        return url_for("pages.item", item_id=item_id, _anchor="curate")  # the message
    return url_for("curate.item", item_id=item_id)


@bp.get("/media/<item_id>/<name>")
def media(item_id: str, name: str) -> Response:
    """An item's thumbnail, withheld items' too: for curators only, never stored."""
    if name not in THUMBS:
        abort(404)
    opened = curator_archive()
    lookups.item_place(opened, item_id)  # 404 for a malformed or unknown id
    found = thumbnail_path(opened.catalog, item_id, name)
    if found is None:
        abort(404)
    return send_file(inside(site().root, found), mimetype="image/jpeg", max_age=0)
