"""An event's programme as a timeline: its days; in each, its sessions in slots of
overlapping times, the parallel ones side by side, a column per room."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from archive import catalog as cat
from archive import settings

from .context import archive


@dataclass(frozen=True)
class Column:
    """A room's sessions in one slot, by time."""

    room: str | None
    sessions: list[dict[str, Any]]


@dataclass(frozen=True)
class Slot:
    """Sessions whose times overlap (one alone, or parallel ones): from the first start
    to the last end."""

    start: str
    end: str
    columns: list[Column]


@dataclass(frozen=True)
class Day:
    date: str
    slots: list[Slot]

    @property
    def label(self) -> str:
        """The date as people read it: Tuesday 19 March 2019."""
        try:
            day = dt.date.fromisoformat(self.date)
        except ValueError:
            return self.date
        return f"{day:%A} {day.day} {day:%B %Y}"


def programme(event: dict[str, Any]) -> list[Day]:
    """The event's sessions (as `lookups.event` gives them) laid out by day and slot,
    each with `previews`: the first of its pictured items (ItemRecords)."""
    previews = cat.session_previews(archive().catalog, event["id"],
                                    settings.value("programme_previews"))
    sessions = [{**s, "previews": previews.get(s["id"], [])} for s in event["sessions"]]
    return [Day(str(date), _slots(list(day)))
            for date, day in groupby(sessions, key=lambda s: s["date"])]


def _slots(day: list[dict[str, Any]]) -> list[Slot]:
    """The day's sessions in slots: a session starting before every earlier one has
    ended runs beside them."""
    # A room keeps its place across the day's slots: the order rooms first appear in.
    rooms = list(dict.fromkeys(s["room"] for s in day))
    slots: list[list[dict[str, Any]]] = []
    end = ""
    for session in sorted(day, key=lambda s: (s["start"], s["end"])):
        if not slots or session["start"] >= end:
            slots.append([])
            end = session["end"]
        slots[-1].append(session)
        end = max(end, session["end"])
    return [_slot(group, rooms) for group in slots]


def _slot(group: list[dict[str, Any]], rooms: list[str | None]) -> Slot:
    columns = [Column(room, [s for s in group if s["room"] == room])
               for room in rooms if any(s["room"] == room for s in group)]
    return Slot(group[0]["start"], max(s["end"] for s in group), columns)
