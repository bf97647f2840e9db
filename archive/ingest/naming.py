"""Confirm who a cluster of faces is: `faces name` and `faces reject`.

What a person confirms goes into the event file (`[[people]] faces` or `not_faces`),
so the archive stays rebuildable from the media and `event.toml`; the event's items
then follow the edited file, as ingest would make them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive.catalog import Catalog, clustered_faces, event_folder, people_names
from archive.errors import ArchiveError
from archive.fsnames import readable
from archive.ingest.resolution import follow_edit
from archive.model import ClusteredFace, FaceRef
from archive.resolve.eventedit import write_faces
from archive.resolve.eventfile import EVENT_FILE


@dataclass
class Confirmed:
    """One event file written by a confirmation."""

    event: str
    event_file: str
    person: str
    key: str  # faces or not_faces
    faces: int  # faces of the cluster in the event
    added: int  # of those, not already in the file
    resolved: int  # items that got another answer

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def _events_for(catalog: Catalog, faces: list[ClusteredFace], person: str,
                event_id: str | None) -> list[str]:
    """The events of the cluster's faces whose event file has the person."""
    events = sorted({f.event_id for f in faces})
    if event_id is not None:
        if event_id not in events:
            raise ArchiveError(f"cluster {faces[0].cluster} has no face in event "
                               f"{event_id!r}; its events: {', '.join(events)}")
        events = [event_id]
    having = [e for e in events if person in people_names(catalog, e, [person])]
    if not having:
        raise ArchiveError(f"{person!r} is not in [[people]] of {', '.join(events)}; add "
                           "them to the event file (id and name), then name the cluster")
    return having


def confirm_cluster(catalog: Catalog, cluster: int, person: str, reject: bool = False,
                    event_id: str | None = None) -> list[Confirmed]:
    """Write the cluster's faces as the person's reference faces (or, `reject`, as not
    theirs) into each event file of the cluster's faces that has the person, then
    resolve those events again. The caller holds the write lock.

    Raises ArchiveError when the cluster, the person or an event file is not there, or
    ManifestError when an event file cannot be edited (then it is left as it was).
    """
    faces = clustered_faces(catalog, cluster)
    if not faces:
        raise ArchiveError(f"no cluster {cluster}; see 'event-archive faces'")
    key = "not_faces" if reject else "faces"
    done = []
    for event in _events_for(catalog, faces, person, event_id):
        folder = Path(event_folder(catalog, event) or "")
        refs = [FaceRef(f.relpath, f.number) for f in faces if f.event_id == event]
        added = write_faces(folder, folder / EVENT_FILE, person, refs, key)
        resolved = follow_edit(catalog, event, folder)
        done.append(Confirmed(event, readable(str(folder / EVENT_FILE)), person, key,
                              len(refs), added, resolved))
    return done
