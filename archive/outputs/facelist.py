"""`event-archive faces`: the clusters of faces, each with a suggestion of who it is and
why. Suggestions only propose: a person confirms them (`faces name`), and the event
file keeps what they confirmed.

A cluster is suggested for
- the person its named faces are (a seed: a `[[media]]` entry, an XMP region or
  `PersonInImage`, or faces already recognised), when they all name one person;
- else, "programme": the person a session leaves without a cluster. The cluster's
  pictures are all of one session, it is the largest cluster seen only there, and of
  the session's speakers and moderators exactly one has no cluster yet.
A suggestion a person rejected (`not_faces`) is not made again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from archive.catalog import (
    Catalog,
    clustered_faces,
    face_refs,
    faces_named,
    people_names,
    sessions_of_event,
)
from archive.model import ClusteredFace

SOURCE_WHY = {"media": "its [[media]] entry names them",
              "xmp": "its XMP PersonInImage names them",
              "xmp-region": "its XMP face region names them",
              "face": "it was recognised from their reference faces"}
SAMPLES = 4


@dataclass
class Cluster:
    id: int
    faces: list[ClusteredFace]
    suggestion: dict[str, Any] | None = None
    rejected: set[str] = field(default_factory=set)  # people it was confirmed not to be

    @property
    def events(self) -> list[str]:
        return sorted({f.event_id for f in self.faces})

    @property
    def named(self) -> dict[str, int]:
        """People its faces are named as, with how many faces."""
        return dict(Counter(f.person for f in self.faces if f.person))

    @property
    def person(self) -> str | None:
        """Whom every face of the cluster is confirmed to be (by reference faces)."""
        people = {f.person for f in self.faces if f.source == "face"}
        if len(people) == 1 and all(f.person in people for f in self.faces):
            return people.pop()
        return None

    def as_dict(self, names: dict[tuple[str, str], str]) -> dict[str, Any]:
        public = [f for f in self.faces if not f.withheld]
        events = self.events
        person = self.person

        def named(f: ClusteredFace) -> str:
            return f.ref if len(events) == 1 else f"{f.event_id}:{f.ref}"

        withheld = [f for f in self.faces if f.withheld]
        return {
            "cluster": self.id, "size": len(self.faces),
            "items": len({f.item_id for f in self.faces}),
            "withheld": len(withheld), "events": events,
            "samples": [named(f) for f in (public or self.faces)[:SAMPLES]],
            # For the curator's desk, which shows pictures of withheld faces too (marked):
            # public ones first, each by item and number, what its picture is cut by.
            "sample_faces": [{"item": f.item_id, "number": f.number, "ref": named(f),
                              "withheld": f.withheld}
                             for f in (public + withheld)[:SAMPLES]],
            "person": person,
            "name": names.get((events[0], person)) if person else None,
            "named": self.named, "suggestion": self.suggestion,
            "rejected": sorted(self.rejected),
        }


def _clusters(faces: Sequence[ClusteredFace]) -> list[Cluster]:
    return [Cluster(cid, list(group)) for cid, group in groupby(faces, lambda f: f.cluster)]


def _rejections(catalog: Catalog, clusters: list[Cluster]) -> None:
    """Mark each cluster with the people one of its faces was rejected for."""
    by_key = {(f.item_id, f.number): c for c in clusters for f in c.faces}
    for event_id in sorted({e for c in clusters for e in c.events}):
        refused = face_refs(catalog, event_id)
        keys, _ = faces_named(catalog, event_id, [p for refs in refused.values()
                                                  for p, _n in refs])
        for person, refs in refused.items():
            for ref in refs:
                cluster = by_key.get(keys.get(ref))  # type: ignore[arg-type]
                if cluster is not None:
                    cluster.rejected.add(person)


def _seeded(cluster: Cluster) -> dict[str, Any] | None:
    """The person the cluster's named faces agree on, when not all of them are named."""
    named = cluster.named
    if len(named) != 1 or cluster.person is not None:
        return None
    person = next(iter(named))
    if person in cluster.rejected:
        return None
    first = next(f for f in cluster.faces if f.person == person)
    return {"person": person, "event": first.event_id, "source": first.source,
            "why": f"face {first.ref} is theirs: {SOURCE_WHY.get(first.source or '', '')}"
            + (f"; {named[person] - 1} more of its faces are named so"
               if named[person] > 1 else "")}


def _programme(catalog: Catalog, clusters: list[Cluster], event_id: str) -> None:
    """Suggest a session's one person without a cluster for its largest own cluster."""
    mine = [c for c in clusters if c.events == [event_id]]
    taken = {c.person or (c.suggestion or {}).get("person") for c in clusters} - {None}
    for session in sessions_of_event(catalog, event_id):
        only_here = [c for c in mine if not c.suggestion and c.person is None and
                     all(f.sessions == (session.id,) for f in c.faces)]
        if not only_here:
            continue
        sizes = sorted((len(c.faces) for c in only_here), reverse=True)
        if len(sizes) > 1 and sizes[0] == sizes[1]:
            continue  # no one largest cluster
        cluster = max(only_here, key=lambda c: len(c.faces))
        left = [p for p in dict.fromkeys((*session.speakers, *session.moderators))
                if p not in taken]
        if len(left) == 1 and left[0] not in cluster.rejected:
            cluster.suggestion = {
                "person": left[0], "event": event_id, "source": "programme",
                "why": f"seen only in session {session.id} ({session.title}), the largest "
                       f"of {len(only_here)} such clusters; of its speakers and moderators "
                       "only they have no cluster yet"}
            taken.add(left[0])


def face_clusters(catalog: Catalog, event_id: str | None = None) -> list[dict[str, Any]]:
    """The clusters (those with faces in `event_id`, if given), largest first, each
    with its suggestion and why."""
    clusters = _clusters(clustered_faces(catalog))
    _rejections(catalog, clusters)
    for c in clusters:
        c.suggestion = _seeded(c)
    for event in sorted({e for c in clusters for e in c.events}):
        _programme(catalog, clusters, event)
    if event_id is not None:
        clusters = [c for c in clusters if event_id in c.events]
    names = {(e, pid): name for e in {e for c in clusters for e in c.events}
             for pid, name in people_names(catalog, e).items()}
    for c in clusters:
        if c.suggestion:
            c.suggestion["name"] = names.get((c.suggestion["event"], c.suggestion["person"]))
    clusters.sort(key=lambda c: (-len(c.faces), c.id))
    return [c.as_dict(names) for c in clusters]
