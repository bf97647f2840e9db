"""Group faces that look like one person, across the whole archive, incrementally.

Faces already clustered keep their cluster; each new face (in a fixed order, so that
a re-run gives the same answer) joins the cluster holding most of its neighbours, the
faces within `face_distance` of it, ties going to the cluster with the nearest face,
or starts a new one. Two faces of one picture (an item's photo, a video's frame) are
never one person, so a face never joins a cluster that already has a face of its
picture. This is one pass of Chinese whispers' majority vote, seeded by the clusters
there are: a new batch costs its faces against the archive's, never a re-clustering
of everything. docs/architecture.md says how the distance was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archive import settings

Picture = tuple[str, float | None]  # (item id, a video frame's time)


@dataclass(frozen=True)
class Member:
    """A face to cluster (or already clustered, with its `cluster`)."""

    picture: Picture
    descriptor: bytes
    cluster: int | None = None


class Clustering:
    """The clustered faces of the archive, growing as new faces join."""

    def __init__(self, members: Sequence[Member]) -> None:
        size = max(len(members), 16)
        self.vectors = np.zeros((size, 128), dtype="<f4")
        self.clusters = np.zeros(size, dtype=np.int64)
        self.squares = np.zeros(size, dtype="<f4")  # |v|^2: distances by one product
        self.pictures: dict[int, set[Picture]] = {}  # cluster -> its pictures
        self.count = 0
        for member in members:
            assert member.cluster is not None, "an existing member has a cluster"
            self._add(member, member.cluster)

    def _add(self, member: Member, cluster: int) -> None:
        if self.count == len(self.vectors):  # doubling keeps adding amortised O(1)
            self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
            self.clusters = np.concatenate([self.clusters, np.zeros_like(self.clusters)])
            self.squares = np.concatenate([self.squares, np.zeros_like(self.squares)])
        vector = np.frombuffer(member.descriptor, dtype="<f4")
        self.vectors[self.count] = vector
        self.squares[self.count] = vector @ vector
        self.clusters[self.count] = cluster
        self.count += 1
        self.pictures.setdefault(cluster, set()).add(member.picture)

    def next_id(self) -> int:
        return max(self.pictures, default=0) + 1

    def join(self, member: Member) -> int:
        """Put a new face in a cluster; returns the cluster's id."""
        vector = np.frombuffer(member.descriptor, dtype="<f4")
        squared = self.squares[:self.count] + vector @ vector \
            - 2 * (self.vectors[:self.count] @ vector)
        distances = np.sqrt(np.maximum(squared, 0))
        near = np.flatnonzero(distances <= settings.value("face_distance"))
        votes: dict[int, tuple[int, float]] = {}  # cluster -> (-neighbours, nearest)
        for index in near.tolist():
            cluster = int(self.clusters[index])
            if member.picture in self.pictures[cluster]:
                continue  # the cluster already has a face of this picture
            count, nearest = votes.get(cluster, (0, 2.0))
            votes[cluster] = (count - 1, min(nearest, float(distances[index])))
        chosen = min(votes, key=lambda c: (votes[c], c)) if votes else self.next_id()
        self._add(member, chosen)
        return chosen


def cluster_faces(existing: Sequence[Member], new: Sequence[Member]) -> list[int]:
    """The cluster of each new face, the existing ones unchanged."""
    clustering = Clustering(existing)
    return [clustering.join(member) for member in new]
