"""event-archive: the domain model and the way media come in.

This package knows nothing of search or the web; `archive.cli` is the one
module allowed to import `indexer` and `web`, inside the commands needing them.
"""
