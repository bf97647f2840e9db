"""Resolve: decide each item's time, descriptive fields, sessions, people and credit.

Implements the resolution rules of DESIGN.md; every answer keeps its source
(media, folder, xmp, iptc, exif, video, time, rule, default, subtitle). Works
from the stored extraction and the event file alone, so editing `event.toml`
re-resolves without reading any media again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from archive.dates import capture_time, file_time, iptc_datetime
from archive.fsnames import readable
from archive.model import Camera, Event, FaceRecord, MediaEntry, Session
from archive.resolve.credits import resolve_credit
from archive.resolve.embedded import embedded_blocks
from archive.resolve.facenames import FaceLabel, KnownFaces, name_faces
from archive.resolve.globs import glob_matches
from archive.resolve.names import NameIndex, fold
from archive.resolve.publication import media_entry, withheld_reason

RELATION_RANK = {"shown": 0, "session": 1, "mentioned": 2}


@dataclass
class ItemFacts:
    """What resolution needs of one catalogued item."""

    id: str
    kind: str
    relpath: str
    metadata: dict[str, Any]
    mtime_ns: int = 0
    copies: tuple[str, ...] = ()  # relative paths of its copies in its event
    faces: tuple[FaceRecord, ...] = ()  # the faces the face stage found, in number order


@dataclass
class Resolution:
    taken: str | None = None  # corrected by the camera's clock offset; keeps its UTC offset
    taken_local: str | None = None  # the same on the event's clock, to the second
    taken_source: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    sessions: list[dict[str, str]] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    people: list[dict[str, str]] = field(default_factory=list)
    credit: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Third-party fields, a licence conflict, the creator's person id (CreditAnswer.rights)
    rights: dict[str, Any] = field(default_factory=dict)
    camera_known: bool = False
    withheld: str | None = None  # why the item is not published (publication.py)
    faces: list[FaceLabel] = field(default_factory=list)  # named faces (the faces table)

    def as_dict(self) -> dict[str, Any]:
        """What is stored in the item's `resolved` column (sessions, people and credit
        go to their own tables as well)."""
        return {"taken": self.taken, "taken_local": self.taken_local,
                "taken_source": self.taken_source, "title": self.title,
                "description": self.description, "keywords": self.keywords,
                "sessions": self.sessions, "ambiguous": self.ambiguous,
                "people": self.people,
                "credit": {k: list(v) for k, v in sorted(self.credit.items())},
                "rights": self.rights, "camera_known": self.camera_known,
                "withheld": self.withheld}


# Camera firmware fills ImageDescription with its own name; such text is no description.
_BOILERPLATE = {"OLYMPUS DIGITAL CAMERA", "SONY DSC", "DIGITAL CAMERA", "DCIM", "KONICA MINOLTA",
                "SAMSUNG", "PANASONIC", "DEFAULT", "IMAGE"}


def _first_text(meta: dict[str, Any], key: str) -> str | None:
    for _source, block in embedded_blocks(meta):
        value = block.get(key)
        if isinstance(value, str) and value.strip() and \
                value.strip().upper() not in _BOILERPLATE:
            return value.strip()
    return None


def _keywords(meta: dict[str, Any], entry: MediaEntry | None) -> list[tuple[str, str]]:
    """(keyword, source) pairs, media entry first, without repeats."""
    words: list[tuple[str, str]] = [(w, "media") for w in entry.keywords] if entry else []
    for source, block in embedded_blocks(meta):
        value = block.get("keywords") or []
        words += [(w, source) for w in ([value] if isinstance(value, str) else value)]
    seen: dict[str, tuple[str, str]] = {}
    for word, source in words:
        if word and word.strip():
            seen.setdefault(word.strip(), (word.strip(), source))
    return list(seen.values())


def localise(stamp: str, event: Event) -> dt.datetime:
    """An ISO time without offset is the camera's local time: the event's zone."""
    parsed = dt.datetime.fromisoformat(stamp)
    return parsed.replace(tzinfo=event.tz) if parsed.tzinfo is None else parsed


def resolve_taken(facts: ItemFacts, event: Event) -> tuple[dt.datetime | None, str | None]:
    """The capture time and its source: exif/video > xmp > iptc > file time."""
    meta = facts.metadata
    own = "exif" if facts.kind == "photo" else "video"
    iptc = meta.get("iptc") or {}
    for source, value in ((own, meta.get("taken")),
                          ("xmp", (meta.get("sidecar_xmp") or {}).get("taken")),
                          ("xmp", (meta.get("xmp") or {}).get("taken")),
                          ("iptc", iptc_datetime(iptc.get("date"), iptc.get("time")))):
        # Extraction drops absurd times; this also covers archives ingested before it did.
        if capture_time(value, source):
            return localise(value, event), source
    stamp = file_time(facts.mtime_ns, event.tz) if facts.mtime_ns else None
    return (stamp, "file") if stamp else (None, None)


def corrected_time(when: dt.datetime, source: str | None,
                   camera: Camera | None) -> dt.datetime:
    """The true time of a camera's clock reading: its clock offset taken away. A file's
    modification time comes from the computer's clock, not the camera's."""
    if camera is None or source == "file":
        return when
    return when - camera.clock_offset


def event_local(when: dt.datetime, event: Event) -> str:
    """The wall-clock time at the event, to the second, as ISO text without offset."""
    return when.astimezone(event.tz).replace(tzinfo=None, microsecond=0).isoformat()


def unmatched_entries(event: Event, relpaths: set[str], copies: dict[str, str] | None = None
                      ) -> list[dict[str, str | None]]:
    """The [[media]] entries naming no item of the event, each with the path it
    probably meant (the same but for case), if there is one, and the item's file when
    the entry names a copy of it (`copies`: relative path -> the item's path), which
    is no item of its own.
    """
    shown = sorted(readable(p) for p in relpaths)
    folded = {p.casefold(): p for p in shown}
    copy_of = {readable(p): original for p, original in (copies or {}).items()}
    present = set(shown)
    return [{"path": m.path, "suggestion": folded.get(m.path.casefold()),
             "duplicate_of": copy_of.get(m.path)}
            for m in event.media if not _names_a_file(m, present)]


def _names_a_file(entry: MediaEntry, shown: set[str]) -> bool:
    if entry.is_glob:
        return any(glob_matches(entry.path, path) for path in shown)
    return entry.path in shown


def find_camera(event: Event, camera: dict[str, Any] | None) -> Camera | None:
    """The event's camera for an item: by serial number, else by make and model."""
    camera = camera or {}
    serial, model = (camera.get("serial") or "").strip(), fold(camera.get("model") or "")
    make = fold(camera.get("make") or "")
    for known in event.cameras:
        if known.serial and serial and known.serial.strip() == serial:
            return known
    for known in event.cameras:
        if known.serial or not known.model or fold(known.model) != model:
            continue
        if not known.make or not make or make.startswith(fold(known.make)) or \
                fold(known.make).startswith(make):
            return known
    return None


def _session_by_name(event: Event, texts: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A session named (by id or title) in embedded event/keyword fields."""
    by_name = {fold(s.id): s.id for s in event.sessions}
    by_name.update({fold(s.title): s.id for s in event.sessions})
    for text, source in texts:
        found = by_name.get(fold(text))
        if found:
            return found, source
    return None


def _sessions_at(event: Event, when: dt.datetime, room: str | None
                 ) -> tuple[list[Session], list[Session]]:
    """(chosen, ambiguous): sessions running at `when`, parallel ones told apart by room."""
    running = [s for s in event.sessions
               if s.start_at(event.tz) <= when < s.end_at(event.tz)]
    if len(running) <= 1:
        return running, []
    in_room = [s for s in running if room and s.room and fold(s.room) == fold(room)]
    if len(in_room) == 1:
        return in_room, []
    return [], running


def resolve_sessions(facts: ItemFacts, event: Event, entry: MediaEntry | None,
                     when: dt.datetime | None, time_source: str | None,
                     camera: Camera | None) -> tuple[list[dict[str, str]], list[str]]:
    """[{id, source}] by the rules' precedence, and the ids it could not choose between;
    `when` is the corrected capture time."""
    ids = {s.id for s in event.sessions}
    if entry and entry.session:
        return [{"id": entry.session, "source": "media"}], []
    for part in facts.relpath.split("/")[:-1]:
        if part in ids:
            return [{"id": part, "source": "folder"}], []
    meta = facts.metadata
    named = [(b.get("event"), s) for s, b in embedded_blocks(meta) if b.get("event")]
    named += [(w, s) for w, s in _keywords(meta, None)]
    found = _session_by_name(event, named)
    if found:
        return [{"id": found[0], "source": found[1]}], []
    if when is None or time_source == "file":
        return [], []  # a file's modification time says nothing about the event
    chosen, ambiguous = _sessions_at(event, when, camera.room if camera else None)
    return [{"id": s.id, "source": "time"} for s in chosen], [s.id for s in ambiguous]


def resolve_people(facts: ItemFacts, event: Event, entry: MediaEntry | None,
                   sessions: list[dict[str, str]], faces: list[FaceLabel] | None = None
                   ) -> list[dict[str, str]]:
    """Shown, session and mentioned people; each person once, by the strongest relation
    (`faces`: the item's named faces, shown)."""
    names = NameIndex(event.people)
    found: list[dict[str, str]] = []
    if entry:
        found += [{"id": p, "relation": "shown", "source": "media"} for p in entry.people]
    found += [{"id": f.person, "relation": "shown", "source": f.source} for f in faces or ()
              if f.source == "face"]
    for source, block in embedded_blocks(facts.metadata):
        for name in block.get("persons") or []:
            found += [{"id": pid, "relation": "shown", "source": source}
                      for pid in names.each(name)]
    for word, source in _keywords(facts.metadata, None):
        if (pid := names.exact(word)) is not None:
            found.append({"id": pid, "relation": "shown", "source": source})
    by_id = {s.id: s for s in event.sessions}
    for tag in sessions:
        session = by_id[tag["id"]]
        for pid in (*session.moderators, *session.speakers):
            found.append({"id": pid, "relation": "session", "source": tag["source"]})
    for cue in facts.metadata.get("transcript") or []:
        for pid in names.mentioned(cue.get("text", "")):
            found.append({"id": pid, "relation": "mentioned", "source": "subtitle"})
    best: dict[str, dict[str, str]] = {}
    for person in found:
        current = best.get(person["id"])
        if current is None or RELATION_RANK[person["relation"]] < RELATION_RANK[
                current["relation"]]:
            best[person["id"]] = person
    return sorted(best.values(), key=lambda p: (RELATION_RANK[p["relation"]], p["id"]))


def resolve(facts: ItemFacts, event: Event, known: KnownFaces | None = None) -> Resolution:
    """The item's answer (`known`: the faces the event file confirms, for naming the
    item's faces)."""
    entry = media_entry(event, facts.relpath)
    when, source = resolve_taken(facts, event)
    meta = facts.metadata
    camera = find_camera(event, meta.get("camera"))
    when = corrected_time(when, source, camera) if when else None
    sessions, ambiguous = resolve_sessions(facts, event, entry, when, source, camera)
    credit = resolve_credit(facts.relpath, meta, event, entry)
    faces = name_faces(facts.id, facts.faces, meta, entry, event, known or KnownFaces())
    people = resolve_people(facts, event, entry, sessions, faces)
    return Resolution(
        taken=when.isoformat() if when else None,
        taken_local=event_local(when, event) if when else None, taken_source=source,
        title=(entry.title if entry else None) or _first_text(meta, "title"),
        description=(entry.description if entry else None) or _first_text(meta, "description")
        or _first_text(meta, "comment"),
        keywords=[w for w, _ in _keywords(meta, entry)],
        sessions=sessions, ambiguous=ambiguous,
        people=people, credit=credit.fields, rights=credit.rights(),
        camera_known=camera is not None,
        withheld=withheld_reason(event, facts.relpath, people, facts.copies), faces=faces)
