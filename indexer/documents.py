"""Turn item JSON (archive.itemjson) into index documents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from archive.catalog import (
    Catalog,
    event_titles,
    person_aliases,
    person_names,
    session_places,
)
from archive.model import ItemRecord
from archive.outputs.itemjson import camera_label, items_json

from .cues import joined, pack
from .schema import BREAK, WITHHELD


def _local_time(item: dict[str, Any]) -> dt.datetime | None:
    """The capture time on the event's clock, for `taken:` filters and date sorting:
    `taken:2019-03-19` means the local day of the event, whatever offset a camera
    (or a video's UTC stamp) gave."""
    taken = item.get("taken_local") or item.get("taken")
    if not taken:
        return None
    return dt.datetime.fromisoformat(taken).replace(tzinfo=None)


def _camera(item: dict[str, Any]) -> str | None:
    return camera_label(item.get("camera"))


def file_keys(relpath: str) -> str:
    """The forms a file is asked for by, one per line: its relative path, each tail of
    it (`canon/IMG_0043.jpg`), its name and its stem."""
    parts = relpath.split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    stem = parts[-1].rsplit(".", 1)[0]
    return "\n".join(dict.fromkeys([*tails, stem]))


def _people_text(item: dict[str, Any], relation: str,
                 aliases: dict[tuple[str, str], list[str]]) -> str:
    names = []
    for person in item["people"]:
        if person["relation"] == relation:
            names += [person["name"] or "", *aliases.get((item["event"], person["id"]), [])]
    return "\n".join(names)


def _relation_text(item: dict[str, Any], relation: str, names: str) -> str:
    """What `person:` searches for one relation: the names and aliases, and the person
    ids, so that `person:ID` finds its relation (and its boost) even when the id is no
    word of the name (`p7` for Ester Silva). The ids stay out of `all`: they are no
    words a visitor types."""
    ids = [p["id"] for p in item["people"] if p["relation"] == relation]
    return "\n".join(part for part in (names, *ids) if part)


def _creator_text(item: dict[str, Any], context: dict[str, Any]) -> str:
    """The creator as credited and, when the creator is a person of the event file, that
    person's name and aliases: what `by:` and `creator:` search."""
    credit = item.get("credit") or {}
    person = credit.get("creator_person")
    key = (item["event"], person)
    names = [context["names"].get(key, ""), *context["aliases"].get(key, [])] \
        if person else []
    return "\n".join(n for n in (credit.get("creator") or "", *names) if n)


def to_document(item: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The fields of one item; `context` holds event titles, session titles and rooms,
    and person aliases, looked up once for a whole batch."""
    credit = item.get("credit") or {}
    sessions = [context["sessions"].get((item["event"], s["id"]), {}) for s in item["sessions"]]
    camera = _camera(item)
    shown = _people_text(item, "shown", context["aliases"])
    session_people = _people_text(item, "session", context["aliases"])
    mentioned = _people_text(item, "mentioned", context["aliases"])
    credit_text = "\n".join(credit.get(k) or "" for k in ("creator", "organisation",
                                                           "project", "copyright"))
    cues = item.get("transcript") or []
    transcript = joined(cues)
    words = [item.get("title") or "", item.get("description") or "",
             " ".join(item.get("keywords") or []), item["relpath"].replace("/", " "),
             context["events"].get(item["event"], ""),
             " ".join(s.get("title", "") for s in sessions),
             # Shown names thrice and session names twice, so plain-word searches for a
             # name rank the photos showing the person first.
             shown, shown, shown, session_people, session_people,
             mentioned, credit_text, camera or "",
             transcript]
    text = "\n".join(w for w in words if w)
    return {
        "id": item["id"], "all": text, "spell": text,
        "pairs": f"\n{BREAK}\n".join(w for w in words if w),
        "title": item.get("title") or "", "description": item.get("description") or "",
        "keywords": " ".join(item.get("keywords") or []),
        "filename": item["relpath"].replace("/", " ").replace(".", " "),
        "filekey": file_keys(item["relpath"]),
        "transcript": transcript, "event_text": f"{item['event']} "
        + context["events"].get(item["event"], ""),
        "session_text": "\n".join(s.get("title", "") for s in sessions),
        "person_shown": _relation_text(item, "shown", shown),
        "person_session": _relation_text(item, "session", session_people),
        "person_mentioned": _relation_text(item, "mentioned", mentioned),
        "credit": credit_text, "camera_text": camera or "",
        "room": "\n".join(s.get("room") or "" for s in sessions),
        "taken": _local_time(item), "duration": item.get("duration"),
        "event": item["event"], "session": ",".join(s["id"] for s in item["sessions"]),
        "person": ",".join(p["id"] for p in item["people"]), "kind": item["kind"],
        "creator": (credit.get("creator") or "").replace(",", " "),
        "creator_person": credit.get("creator_person") or "",
        "creator_text": _creator_text(item, context),
        "camera": (camera or "").replace(",", " "),
        "doc": json.dumps({**item, "transcript": []}, ensure_ascii=False,
                          separators=(",", ":")),
        "cues": pack(cues),
        **({"withheld": WITHHELD} if item.get("withheld") else {}),
    }


def load_context(catalog: Catalog) -> dict[str, Any]:
    """What documents name beside their items, for every event: event titles, session
    titles and rooms, and people's aliases."""
    return {"events": event_titles(catalog), "sessions": session_places(catalog),
            "aliases": person_aliases(catalog), "names": person_names(catalog)}


def documents(catalog: Catalog, items: Sequence[ItemRecord],
              context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Index documents for catalogued items."""
    context = context or load_context(catalog)
    docs = []
    for data, item in zip(items_json(catalog, items), items, strict=True):
        doc = to_document(data, context)
        doc["revision"] = item.revision
        docs.append(doc)
    return docs
