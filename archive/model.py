"""The domain model: events, their sessions and people, and media items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from archive.fsnames import readable

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


@dataclass(frozen=True, order=True)
class FaceRef:
    """A face named in the event file: `photos/IMG_0042.jpg#1`, the first face (in
    reading order) of the file at that path relative to the event folder."""

    path: str
    number: int

    def __str__(self) -> str:
        return f"{self.path}#{self.number}"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    affiliation: str | None = None
    project: str | None = None
    aliases: tuple[str, ...] = ()
    url: str | None = None
    consent: bool = True  # false: no item showing this person is published
    faces: tuple[FaceRef, ...] = ()  # reference faces, confirmed by a person
    not_faces: tuple[FaceRef, ...] = ()  # faces confirmed not to be this person

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


GLOB_MARKS = "*?"  # what makes a [[media]] path a glob


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
    publish: bool | None = None  # None: not said here

    @property
    def is_glob(self) -> bool:
        """A path with `*` or `?` is a glob naming many files (it may give only
        `publish`); `[` alone is not, as file names hold brackets."""
        return any(c in self.path for c in GLOB_MARKS)


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


@dataclass(frozen=True)
class Problem:
    """Something wrong with one file, found at one stage: by ingest (kept in the catalog
    until the file is read again), by verify, or listed by the report.

    `kind` is "error" (the file gave no item, or lacks what is derived from it) or
    "warning" (kept, and worth a look); the catalog keeps it as the errors' `level`.
    `event` is the event whose folder holds the file, where known.
    """

    path: str
    stage: str
    kind: str
    message: str
    event: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "stage": self.stage, "kind": self.kind,
                "message": self.message, "event": self.event}


def taken_text(item: Mapping[str, Any]) -> str:
    """An item's capture time as people read it (site and command line): the event's
    wall clock, corrected by the camera's clock offset, to the second; "" if unknown."""
    stamp = item.get("taken_local") or item.get("taken")
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")


# ---- What the catalog gives back --------------------------------------------------
# Records read from the catalog, their stored JSON already decoded (archive.catalog is
# the only code that knows how they are stored).


@dataclass(frozen=True)
class ItemRecord:
    """A catalogued item: what its file gave (`metadata`) and what resolution made of it
    (`resolved`: time, title, sessions, people, credit)."""

    id: str
    event_id: str
    kind: str
    mime: str
    size: int
    path: str
    relpath: str
    taken: str | None  # the resolved time in UTC, for sorting
    metadata: dict[str, Any]
    resolved: dict[str, Any]
    revision: int
    added: float

    @property
    def label(self) -> str:
        """What the item is called where it is shown: its title, else its file's name."""
        return self.resolved.get("title") or readable(self.relpath.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class ItemPlace:
    """Where an item's file is, without its metadata (which can be large: transcripts)."""

    id: str
    event_id: str
    mime: str
    size: int
    path: str
    relpath: str


@dataclass(frozen=True)
class ItemTag:
    """A session or person given to an item by resolution, with where it came from;
    `name` is a person's name in the item's event."""

    kind: str
    value: str
    relation: str
    source: str
    name: str | None = None


@dataclass(frozen=True)
class Face:
    """A face found in an item's picture. `box` is (x, y, width, height) in the pixels of
    the image as displayed (the original, its EXIF orientation applied; a video's frame
    size); `descriptor` is dlib's 128-d descriptor as 128 little-endian float32 (None for
    a face too small to identify); `time` is the video frame's, in seconds."""

    box: tuple[int, int, int, int]
    score: float
    descriptor: bytes | None = None
    time: float | None = None


@dataclass(frozen=True)
class FaceRecord:
    """A catalogued face: `number` counts from 1 in reading order (by frame time, then
    left to right), as `path#n` names it in an event file."""

    item_id: str
    number: int
    face: Face
    cluster: int | None = None  # its group across the archive (NULL: not clustered)
    person: str | None = None  # who resolution says it is, and why (`source`)
    source: str | None = None


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail the catalog names: its path in the archive and its size."""

    path: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class UnscannedItem:
    """An item the face stage has not read (ingested without it), with the thumbnails
    its faces can be read from: `thumbnails` by name (small, large, strip)."""

    id: str
    kind: str
    path: str
    relpath: str
    size: int
    metadata: dict[str, Any]
    thumbnails: dict[str, Thumbnail]


@dataclass
class ItemDetails:
    """An item with what the catalog holds beside it: the item JSON is made of these."""

    item: ItemRecord
    tags: list[ItemTag] = field(default_factory=list)
    credit: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: value, source
    thumbnails: dict[str, str] = field(default_factory=dict)  # name: path in the archive
    files: list[str] = field(default_factory=list)  # its present media files, by path
    faces: list[FaceRecord] = field(default_factory=list)  # in number order


@dataclass(frozen=True)
class ItemToResolve:
    """What resolution reads of a catalogued item, and its last answer."""

    id: str
    kind: str
    path: str
    relpath: str
    metadata: dict[str, Any]
    resolved: dict[str, Any]
    revision: int
    mtime_ns: int


@dataclass(frozen=True)
class FileRecord:
    """A file the catalog knows, in an event folder: an item's media file or sidecar."""

    path: str
    event_id: str
    relpath: str
    item_id: str | None
    size: int
    mtime_ns: int
    state: str  # present, missing or failed
    role: str = "media"  # or sidecar
    revision: int = 0


@dataclass(frozen=True)
class EventRecord:
    """An event as last ingested, with the facts of its event file the site shows."""

    id: str
    title: str
    folder: str
    manifest: str | None
    revision: int
    date: str | None = None
    end_date: str | None = None
    timezone: str | None = None
    venue: str | None = None
    organisers: list[str] | None = None
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    event_id: str
    id: str
    title: str
    day: str
    start: str
    end: str
    room: str | None
    description: str | None
    moderators: list[str]
    speakers: list[str]


@dataclass(frozen=True)
class PersonRecord:
    event_id: str
    id: str
    name: str
    affiliation: str | None
    project: str | None
    aliases: list[str]
    url: str | None


@dataclass(frozen=True)
class SessionRole:
    """A session a person moderates or speaks in."""

    session: str
    title: str
    role: str  # moderator or speaker


@dataclass(frozen=True)
class ResolutionMark:
    """That an event's items were resolved against one event file (its digest) when the
    catalog was at `revision`: another revision or file means resolving again."""

    revision: int
    digest: str


@dataclass(frozen=True)
class Cue:
    """One cue of a video's transcript (from its `.srt`/`.vtt` sidecar): seconds from the
    start of the video, and its plain text (the sidecar's tags taken out, entities read)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class ThumbnailRecord:
    """A thumbnail the catalog names, with its item's file."""

    item_id: str
    path: str
    original: str
    relpath: str
    size: int


@dataclass(frozen=True)
class ItemChanges:
    """The catalog's revision and what changed after another one: items written (a
    sequence that may decode them only as they are read) and ids deleted."""

    revision: int
    items: Sequence[ItemRecord]
    deleted: list[str]


# The report's lists, field for field as `report --json` prints them.


@dataclass(frozen=True)
class KindCount:
    event: str
    kind: str
    items: int


@dataclass(frozen=True)
class MissingFile:
    path: str
    item: str | None
    event: str


@dataclass(frozen=True)
class CopyRecord:
    """A file that is a byte-identical copy of an item whose own file is `original`."""

    path: str
    original: str
    item: str


@dataclass(frozen=True)
class ItemPath:
    path: str
    item: str


@dataclass(frozen=True)
class ThirdPartyItem:
    """An item whose embedded fields (`names`: field, source, value) name someone the
    event's rights may not be given to."""

    path: str
    item: str
    event: str
    names: list[dict[str, str]]


@dataclass(frozen=True)
class LicenseConflict:
    """An item whose embedded licence differs from its event's; `license` is the one it
    carries."""

    path: str
    item: str
    event: str
    embedded: str
    event_license: str
    event_source: str
    license: str


@dataclass(frozen=True)
class AmbiguousItem:
    """An item taken during parallel sessions that resolution could not tell apart."""

    path: str
    item: str
    sessions: list[str]


@dataclass(frozen=True)
class WithheldItem:
    """An item kept in the archive but withheld from the site and every export."""

    path: str
    item: str
    event: str
    reason: str


@dataclass(frozen=True)
class UnknownCamera:
    event: str
    make: str | None
    model: str | None
    serial: str | None
    items: int


@dataclass(frozen=True)
class ClusteredFace:
    """A face in a cluster, with what listing clusters shows of its item."""

    cluster: int
    item_id: str
    number: int
    event_id: str
    relpath: str
    person: str | None
    source: str | None
    withheld: bool
    sessions: tuple[str, ...]  # the item's sessions

    @property
    def ref(self) -> str:
        """The face as the event file names it: `path#n`."""
        return f"{self.relpath}#{self.number}"


@dataclass(frozen=True)
class CuratorChange:
    """One value a curator changed through the site (serve --curate): when, who, in
    which event, what (a [[media]] path, a camera, a cluster of faces) and which key,
    with the value before and after (None: not set)."""

    id: int
    at: float
    curator: str
    event_id: str
    target: str
    item_id: str | None
    field: str
    old: Any
    new: Any
