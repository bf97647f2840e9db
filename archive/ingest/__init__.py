"""The ingest pipeline: a folder of event media and its event file into the catalog.

`pipeline.ingest_folder` runs the stages, one module each: scan (what is there),
plan (what is new, changed or to be retried), examine (metadata and thumbnails,
in a `pool` of worker processes, or on workers on Celery: `remote`, `queue`),
commit (batches into the catalog, each resolving its items: `resolution`), then
`missing` files and pruning; `batch` runs it over many event folders.
"""

from archive.ingest.pipeline import IngestSummary, ingest_folder

__all__ = ["IngestSummary", "ingest_folder"]
