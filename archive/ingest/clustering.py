"""Cluster: new faces join the archive's clusters (archive/resolve/clusters.py), in one
transaction, after the files are committed. A killed run leaves faces unclustered,
which the next run clusters, with or without files to read."""

from __future__ import annotations

import logging

from archive.catalog import Catalog, faces_to_cluster, set_clusters, unclustered_faces
from archive.resolve.clusters import Member, cluster_faces

log = logging.getLogger(__name__)


def cluster_new_faces(catalog: Catalog) -> int:
    """Put the faces in no cluster yet into clusters; returns how many."""
    if not unclustered_faces(catalog):
        return 0
    with catalog.transaction():
        records = faces_to_cluster(catalog)  # read inside: one state of the catalog
        existing = [Member((r.item_id, r.face.time), r.face.descriptor, r.cluster)
                    for r in records if r.cluster is not None]
        new = [r for r in records if r.cluster is None]
        clusters = cluster_faces(existing, [Member((r.item_id, r.face.time),
                                                   r.face.descriptor) for r in new])
        set_clusters(catalog, [(r.item_id, r.number, c)
                               for r, c in zip(new, clusters, strict=True)])
    log.debug("clustered %d new faces", len(new))
    return len(new)
