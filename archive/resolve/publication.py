"""Publication: whether an item may be shown on the site and exported, decided in this
one place at resolution (DESIGN.md's "Publication" rule).

An item is withheld when a `[[media]]` entry naming it says `publish = false`, or when
it shows (relation `shown`) a person with `consent = false`; an entry saying `publish =
true` overrides a refusal (written consent for that item). Being in the item's session
or mentioned in its transcript does not count: the person is not in the picture.

The answer is the reason an item is withheld, or None; the catalog keeps it and hides
withheld items from the site, the index leaves them out of public searches, and the
exports take published items only (docs/architecture.md, "Publication").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from archive.fsnames import readable
from archive.model import Event, MediaEntry
from archive.resolve.globs import glob_matches


def media_entry(event: Event, relpath: str) -> MediaEntry | None:
    """The entry naming the file, by its name as shown (`caf\\xe9.jpg` for a name that
    is not UTF-8)."""
    shown = readable(relpath)
    return next((m for m in event.media if not m.is_glob and m.path == shown), None)


def publish_entry(event: Event, relpath: str) -> MediaEntry | None:
    """The `[[media]]` entry deciding the file's publication: the entry naming it
    exactly, when it says publish, else the first glob entry matching it."""
    exact = media_entry(event, relpath)
    if exact is not None and exact.publish is not None:
        return exact
    shown = readable(relpath)
    return next((m for m in event.media if m.is_glob and m.publish is not None
                 and glob_matches(m.path, shown)), None)


def refused(event: Event, people: Iterable[Mapping[str, str]]) -> list[str]:
    """The people shown in an item (resolution's people) who did not consent, as
    "Name (id)"."""
    shown = {p["id"] for p in people if p["relation"] == "shown"}
    return [f"{p.name} ({p.id})" for p in event.people if not p.consent and p.id in shown]


def _shown_by_entries(event: Event, relpaths: Iterable[str]) -> list[dict[str, str]]:
    """The people the [[media]] entries naming these files show."""
    shown = {readable(p) for p in relpaths}
    return [{"id": pid, "relation": "shown"} for m in event.media
            if not m.is_glob and m.path in shown for pid in m.people]


def withheld_reason(event: Event, relpath: str, people: Iterable[Mapping[str, str]],
                    copies: Iterable[str] = ()) -> str | None:
    """Why the item is withheld from publication, or None when it is published.

    Every file of the item in its event counts, its own and its copies' (`copies`,
    relative paths): the same picture under another name is the same picture, and
    which of them is the item's own changes when a copy that sorts first appears. A
    takedown of any of them withholds it; else a `publish = true` entry overrides a
    refusal; else anyone shown without consent, by resolution or by an entry naming a
    copy, withholds it.
    """
    copies = [p for p in copies if p != relpath]
    decided = [(path, publish_entry(event, path)) for path in (relpath, *copies)]
    for path, entry in decided:
        if entry is not None and not entry.publish:
            where = "" if path == relpath else f" (the copy {readable(path)})"
            return f"publish = false in [[media]] path {entry.path!r}{where}"
    if any(entry is not None for _path, entry in decided):
        return None
    names = refused(event, [*people, *_shown_by_entries(event, copies)])
    if names:
        return f"shows {', '.join(names)}, who gave no consent (consent = false)"
    return None
