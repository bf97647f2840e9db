"""Pages: search and the item page."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from archive import settings
from archive.catalog import names_by_id
from archive.catalog import session_titles as titles_of_sessions
from archive.media.posters import frame_times
from archive.outputs.exports import credit_row, json_for_html, jsonld_object
from archive.outputs.itemjson import camera_label
from indexer.query import field_term, narrowable

from .context import archive
from .faces import boxes_of_item
from .lookups import public_item, transcript_page
from .searching import int_arg, search_request

bp = Blueprint("pages", __name__)

FACET_LABELS = {"event": "Event", "session": "Session", "person": "Person", "kind": "Kind",
                "creator": "Creator", "camera": "Camera"}
SORT_LABELS = dict(zip(settings.SORTS, ("relevance", "oldest", "newest"), strict=True))


def site_url(path: str) -> str:
    """An absolute URL under the configured BASE_URL (serve --base-url), else `path`."""
    return (current_app.config["BASE_URL"] or "").rstrip("/") + path


def page_url(**params: object) -> str:
    merged = {**request.args.to_dict(), **{k: v for k, v in params.items() if v is not None}}
    return "?" + urlencode(merged)


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    href: str


def facet_links(result: dict) -> dict[str, list[FacetLink]]:
    """The first values of each facet (the facet_values setting), as links to the query
    narrowed by the value (written so that the parser reads it back exactly).

    A facet can count thousands of values (the people of 200 events): looping over them
    in the template took half of a cached search page. The query is tokenized once per
    page, and the route's URL built once (werkzeug's url_for: 40 µs a link).
    """
    shown = {name: list(islice(counts.items(), settings.value("facet_values")))
             for name, counts in result["facets"].items()}
    names = value_names(shown)
    base, path = narrowable(result["query"]), url_for("pages.search")
    # A narrowed query keeps the order the visitor chose (and starts at its first page).
    kept = {"sort": request.args["sort"]} if request.args.get("sort") else {}
    return {name: [FacetLink(value, names.get(name, {}).get(value, value), count,
                             f"{path}?{_query_string(f'{base} {field_term(name, value)}', kept)}")
                   for value, count in values]
            for name, values in shown.items()}


def _query_string(text: str, more: dict[str, str]) -> str:
    """`q=text` (and `more`) encoded as url_for encodes them."""
    return urlencode({"q": text.strip(), **more}, safe="!$'()*,/:;?@")


def value_names(shown: dict[str, list[tuple[str, int]]]) -> dict[str, dict[str, str]]:
    """Readable names for facet values that are ids: people's names, session titles."""
    person_ids = [value for value, _ in shown.get("person", [])]
    session_ids = [value for value, _ in shown.get("session", [])]
    events = [value for value, _ in shown.get("event", [])]
    people = names_by_id(archive().catalog, person_ids)
    titles = session_titles(session_ids, events[0] if len(events) == 1 else None)
    return {"person": {v: people.get(v, v) for v in person_ids},
            "session": {v: f"{v}: {titles[v]}" if v in titles else v for v in session_ids}}


def session_titles(ids: list[str], event: str | None) -> dict[str, str]:
    """Titles of session ids: those of `event` (the one the results are in), else of the
    ids only one event has. Session ids repeat across events (`s1` of 200 events has no
    one title); reading every event's rows took 1,600 rows a page."""
    return titles_of_sessions(archive().catalog, ids, event)


@bp.route("/")
def search() -> str:
    result = search_request()
    return render_template("search.html", result=result, labels=FACET_LABELS,
                           facets=facet_links(result), page_url=page_url, sorts=SORT_LABELS,
                           sort=request.args.get("sort") or "relevance")


def _jsonld(item: dict) -> str:
    """The item's schema.org object for a <script type=application/ld+json> data block.
    Its URL is under the configured base URL, else relative: never the request's Host."""
    url = url_for("files.media", item_id=item["id"], name="original")
    obj = {"@context": "https://schema.org",
           **jsonld_object(credit_row(item, current_app.config["BASE_URL"] or ""),
                           site_url(url))}
    return json_for_html(obj)


@bp.route("/items/<item_id>")
def item(item_id: str) -> str:
    data = public_item(archive(), item_id)
    # A transcript can hold many thousands of cues: the page shows one stretch of them.
    limit = current_app.config["TRANSCRIPT_PAGE"]
    cues = transcript_page(data.pop("transcript"), int_arg("cues", 0, 0, 10**9), limit)
    titles = session_titles([s["id"] for s in data["sessions"]], data["event"])
    return render_template("item.html", item=data, transcript=cues, jsonld=_jsonld(data),
                           strip_times=frame_times(data["duration"]),
                           faces=boxes_of_item(data),
                           camera=camera_label(data["camera"]), session_titles=titles,
                           item_url=site_url(url_for("pages.item", item_id=data["id"])))
