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


def publish_entry(event: Event, relpath: str) -> MediaEntry | None:
    """The `[[media]]` entry deciding the file's publication: the entry naming it
    exactly, when it says publish, else the first glob entry matching it."""
    shown = readable(relpath)
    exact = next((m for m in event.media if not m.is_glob and m.path == shown), None)
    if exact is not None and exact.publish is not None:
        return exact
    return next((m for m in event.media if m.is_glob and m.publish is not None
                 and glob_matches(m.path, shown)), None)


def refused(event: Event, people: Iterable[Mapping[str, str]]) -> list[str]:
    """The people shown in an item (resolution's people) who did not consent, as
    "Name (id)"."""
    shown = {p["id"] for p in people if p["relation"] == "shown"}
    return [f"{p.name} ({p.id})" for p in event.people if not p.consent and p.id in shown]


def withheld_reason(event: Event, relpath: str,
                    people: Iterable[Mapping[str, str]]) -> str | None:
    """Why the item is withheld from publication, or None when it is published."""
    entry = publish_entry(event, relpath)
    if entry is not None:
        return None if entry.publish else f"publish = false in [[media]] path {entry.path!r}"
    names = refused(event, people)
    if names:
        return f"shows {', '.join(names)}, who gave no consent (consent = false)"
    return None
