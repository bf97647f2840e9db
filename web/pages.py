"""Pages: search and the item page."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from archive import settings
from archive.media.posters import frame_times
from archive.outputs.exports import credit_row, json_for_html, jsonld_object
from archive.outputs.itemjson import camera_label

from . import narrow, viewer
from .context import archive
from .faces import boxes_of_item
from .lookups import covered_events, public_item, transcript_page
from .narrow import session_titles
from .searching import int_arg, search_request

bp = Blueprint("pages", __name__)

SORT_LABELS = dict(zip(settings.SORTS, ("relevance", "oldest", "newest"), strict=True))


def site_url(path: str) -> str:
    """An absolute URL under the configured BASE_URL (serve --base-url), else `path`."""
    return (current_app.config["BASE_URL"] or "").rstrip("/") + path


def page_url(**params: object) -> str:
    merged = {**request.args.to_dict(), **{k: v for k, v in params.items() if v is not None}}
    return "?" + urlencode(merged)


@bp.route("/")
def search() -> str:
    """The search page; without a query, the home page: the events, then everything."""
    result = search_request()
    more = request.args.get("more")
    opened = more if more in narrow.FACET_LABELS else None
    home = not result["query"] and result["page"] == 1
    return render_template("search.html", result=result, facets=narrow.facets(result, opened),
                           chips=narrow.chips(result), opened=opened, page_url=page_url,
                           sorts=SORT_LABELS, sort=request.args.get("sort") or "relevance",
                           context=viewer.search_context(result),
                           events=covered_events(archive()) if home else [])


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
                           nav=viewer.neighbours(data),
                           item_url=site_url(url_for("pages.item", item_id=data["id"])))
