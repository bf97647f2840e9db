"""Check that the index matches the catalog; sync or rebuild it when it does not."""

from __future__ import annotations

from archive.catalog import count_items
from archive.model import Problem
from archive.store import Archive
from indexer.generations import IndexMissing, current_dir, damage, open_index, read_revision

from .sync import rebuild, sync


def check_index(archive: Archive) -> tuple[list[Problem], list[str]]:
    """(problems left, repairs made) for the archive's index: a missing or damaged one
    (every file checked against its checksum) is rebuilt, one behind brought up to the
    catalog's revision."""
    repaired: list[str] = []
    try:
        open_index(archive.index_dir)
        folder = current_dir(archive.index_dir)
        problem = damage(folder) if folder is not None else "no index"
        if problem:
            raise IndexMissing(f"{archive.index_dir}: {problem}")
    except IndexMissing as exc:
        rebuild(archive, str(exc))
        return [], [f"index rebuilt ({exc})"]
    behind = read_revision(folder)
    if behind != archive.catalog.revision:
        sync(archive)
        repaired.append(f"index brought from revision {behind} to "
                        f"{archive.catalog.revision}")
    items = count_items(archive.catalog)
    with open_index(archive.index_dir).searcher() as searcher:
        documents = searcher.doc_count()
    if documents != items:
        rebuild(archive, f"{documents} documents for {items} items")
        repaired.append(f"index rebuilt: it held {documents} documents for {items} items")
    return [], repaired
