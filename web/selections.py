"""What a credits sheet and a take-away ZIP are made of: the items of a search, of a
session, of an event, or those showing a person; each at most export_items long,
saying when there were more.

Items come through the public catalog and the public search (web.context), so a
withheld item is in none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import abort, url_for

from archive import catalog as cat
from archive import settings
from archive.model import EventRecord
from archive.outputs.itemjson import items_json

from . import lookups
from .context import archive
from .searching import every_result

# Characters no file system or browser keeps in a file name, and control characters.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Selection:
    """The items chosen, what to call them, and where their sheet and ZIP are."""

    title: str  # the sheet's heading and the ZIP's CREDITS.html title
    items: list[dict[str, Any]]
    capped: bool  # more items were chosen than export_items: the first ones are here
    name: str  # the ZIP's file name, before " (originals).zip"
    sheet_url: str
    takeaway_url: str  # without the query: a GET form sends its own (q, files)
    query: str | None = None  # a search's query, which its forms carry

    def export_url(self, fmt: str) -> str:
        """The credits of the same items in one of the export formats."""
        if self.query is not None:
            return url_for("api.credits", q=self.query, format=fmt)
        return f"{self.sheet_url}?format={fmt}"


def events_of(selection: Selection) -> list[EventRecord]:
    """The events the selected items are of, in the order first met."""
    ids = dict.fromkeys(item["event"] for item in selection.items)
    found = (cat.get_event(archive().catalog, event_id) for event_id in ids)
    return [event for event in found if event is not None]


def cap() -> int:
    return settings.value("export_items")


def _first(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The first export_items items, and whether there were more."""
    return items[:cap()], len(items) > cap()


def file_name(text: str) -> str:
    """`text` as a file name: no separators, no characters file systems refuse, at most
    100 characters."""
    return " ".join(_UNSAFE_NAME.sub("_", text).split())[:100].strip() or "items"


def of_search(query: str) -> Selection:
    """The items a query finds (every published item for an empty one), best first."""
    items, capped = _first(every_result(query, cap() + 1))
    return Selection(f"“{query}”" if query else "every item", items, capped,
                     file_name(f"search {query}" if query else "every item"),
                     url_for("browse.credits", q=query),
                     url_for("takeaway.search"), query)


def of_session(event_id: str, session_id: str) -> Selection:
    found = lookups.session(archive(), session_id, lookups.valid_name(event_id))
    items, capped = _first(lookups.session_items(archive(), session_id, found["event"]))
    where = {"event_id": found["event"], "session_id": session_id}
    return Selection(f"session {session_id}, {found['title']}", items, capped,
                     file_name(f"{found['event']} {session_id}"),
                     url_for("sheets.session", **where),
                     url_for("takeaway.session", **where))


def of_person(event_id: str, person_id: str) -> Selection:
    """The items showing the person (their photos, and videos they are seen in), as the
    person page's "Shown in" lists them; not those of their sessions or naming them."""
    found = lookups.person(archive(), person_id, lookups.valid_name(event_id))
    shown = lookups.by_relation(lookups.person_items(archive(), person_id, found["event"]),
                                person_id)["shown"]
    items, capped = _first(shown)
    where = {"event_id": found["event"], "person_id": person_id}
    return Selection(f"the items showing {found['name']}", items, capped,
                     file_name(f"{found['event']} {found['name']}"),
                     url_for("sheets.person", **where),
                     url_for("takeaway.person", **where))


def of_event(event_id: str) -> Selection:
    """The event's items in time order, read no further than export_items and one."""
    found = cat.get_event(archive().catalog, lookups.valid_name(event_id))
    if found is None:
        abort(404)
    records = cat.select_items(archive().catalog, event=event_id, published=True,
                               limit=cap() + 1)
    folders = lookups.event_folders(archive(), [event_id])
    items, capped = _first([lookups.public(item, folders)
                            for item in items_json(archive().catalog, records)])
    return Selection(found.title, items, capped, file_name(event_id),
                     url_for("sheets.event", event_id=event_id),
                     url_for("takeaway.event", event_id=event_id))
