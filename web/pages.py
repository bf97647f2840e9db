"""Pages: search and the item page."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from archive.exports import credit_row, json_for_html, jsonld_object
from archive.itemjson import camera_label
from indexer.query import field_term, narrowed

from .context import archive
from .lookups import public_item, transcript_page
from .searching import int_arg, search_request

bp = Blueprint("pages", __name__)

FACET_LABELS = {"event": "Event", "session": "Session", "person": "Person", "kind": "Kind",
                "creator": "Creator", "camera": "Camera"}


def facet_query(text: str, name: str, value: str) -> str:
    """The query narrowed by one facet value, written so the parser reads it back
    exactly (quoted and escaped when it holds spaces, quotes, colons...)."""
    return narrowed(text, field_term(name, value))


def site_url(path: str) -> str:
    """An absolute URL under the configured BASE_URL (serve --base-url), else `path`."""
    return (current_app.config["BASE_URL"] or "").rstrip("/") + path


def page_url(**params: object) -> str:
    merged = {**request.args.to_dict(), **{k: v for k, v in params.items() if v is not None}}
    return "?" + urlencode(merged)


def value_names(result: dict) -> dict[str, dict[str, str]]:
    """Readable names for facet values that are ids: people's names, session titles."""
    db = archive().catalog
    person_ids = list(result["facets"].get("person", {}))[:12]
    session_ids = list(result["facets"].get("session", {}))[:12]
    people = {r["id"]: r["name"] for r in db.query(
        f"SELECT id, name FROM people WHERE id IN ({','.join('?' * len(person_ids))})",
        person_ids)} if person_ids else {}
    sessions = {r["id"]: r["title"] for r in db.query(
        f"SELECT id, title FROM sessions WHERE id IN ({','.join('?' * len(session_ids))})",
        session_ids)} if session_ids else {}
    return {"person": {v: people.get(v, v) for v in person_ids},
            "session": {v: f"{v}: {sessions[v]}" if v in sessions else v for v in session_ids}}


@bp.route("/")
def search() -> str:
    result = search_request()
    return render_template("search.html", result=result, labels=FACET_LABELS,
                           names=value_names(result), facet_query=facet_query,
                           page_url=page_url)


def _jsonld(item: dict) -> str:
    """The item's schema.org object for a <script type=application/ld+json> data block.
    Its URL is under the configured base URL, else relative: never the request's Host."""
    url = url_for("files.media", item_id=item["id"], name="original")
    obj = {"@context": "https://schema.org",
           **jsonld_object(credit_row(item), site_url(url))}
    return json_for_html(obj)


@bp.route("/items/<item_id>")
def item(item_id: str) -> str:
    data = public_item(archive(), item_id)
    # A transcript can hold many thousands of cues: the page shows one stretch of them.
    limit = current_app.config["TRANSCRIPT_PAGE"]
    cues = transcript_page(data.pop("transcript"), int_arg("cues", 0, 0, 10**9), limit)
    return render_template("item.html", item=data, transcript=cues, jsonld=_jsonld(data),
                           camera=camera_label(data["camera"]))
