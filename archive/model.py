"""The domain model: events, their sessions and people, and media items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CREDIT_FIELDS = ("creator", "organisation", "project", "copyright", "license",
                 "acquire_license_page")


@dataclass(frozen=True)
class CreditSpec:
    """Credit facts given by the event file; None means "not said here"."""

    creator: str | None = None
    organisation: str | None = None
    project: str | None = None
    copyright: str | None = None
    license: str | None = None
    acquire_license_page: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in CREDIT_FIELDS}


@dataclass(frozen=True)
class CreditRule:
    """A `[[credit.rules]]` entry: a glob over relative paths and the credit it gives."""

    match: str
    credit: CreditSpec
    force: bool = False


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    affiliation: str | None = None
    project: str | None = None
    aliases: tuple[str, ...] = ()
    url: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Session:
    id: str
    title: str
    date: dt.date
    start: dt.time
    end: dt.time
    room: str | None = None
    moderators: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    description: str | None = None

    def start_at(self, tz: ZoneInfo) -> dt.datetime:
        return dt.datetime.combine(self.date, self.start, tzinfo=tz)

    def end_at(self, tz: ZoneInfo) -> dt.datetime:
        return dt.datetime.combine(self.date, self.end, tzinfo=tz)


@dataclass(frozen=True)
class Camera:
    serial: str | None = None
    make: str | None = None
    model: str | None = None
    clock_offset: dt.timedelta = dt.timedelta(0)
    room: str | None = None


@dataclass(frozen=True)
class MediaEntry:
    """A `[[media]]` entry: facts about one file, by path relative to the event folder."""

    path: str
    session: str | None = None
    people: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    credit: CreditSpec = field(default_factory=CreditSpec)


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    folder: Path
    source: Path | None = None
    date: dt.date | None = None
    end_date: dt.date | None = None
    timezone: str = "UTC"
    venue: str | None = None
    organisers: tuple[str, ...] = ()
    description: str | None = None
    url: str | None = None
    credit: CreditSpec = field(default_factory=CreditSpec)
    credit_rules: tuple[CreditRule, ...] = ()
    people: tuple[Person, ...] = ()
    sessions: tuple[Session, ...] = ()
    cameras: tuple[Camera, ...] = ()
    media: tuple[MediaEntry, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class FileError:
    """One file that failed at one stage of ingest."""

    path: str
    stage: str
    message: str
    level: str = "error"


def taken_text(item: Mapping[str, Any]) -> str:
    """An item's capture time as people read it (site and command line): the event's
    wall clock, corrected by the camera's clock offset, to the second; "" if unknown."""
    stamp = item.get("taken_local") or item.get("taken")
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")
