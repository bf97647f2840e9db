"""Check that the index matches the catalog; sync or rebuild it when it does not."""

from __future__ import annotations

from archive.store import Archive

from .store import IndexMissing, current_dir, open_index, read_revision
from .sync import rebuild, sync


def check_index(archive: Archive) -> tuple[list[str], list[str]]:
    """(problems left, repairs made) for the archive's index."""
    repaired: list[str] = []
    try:
        ix = open_index(archive.index_dir)
    except IndexMissing as exc:
        rebuild(archive, str(exc))
        return [], [f"index rebuilt ({exc})"]
    folder = current_dir(archive.index_dir)
    behind = read_revision(folder) if folder else -1
    if behind != archive.catalog.revision:
        sync(archive)
        repaired.append(f"index brought from revision {behind} to "
                        f"{archive.catalog.revision}")
        ix = open_index(archive.index_dir)
    items = archive.catalog.query("SELECT COUNT(*) FROM items")[0][0]
    with ix.searcher() as searcher:
        documents = searcher.doc_count()
    if documents != items:
        rebuild(archive, f"{documents} documents for {items} items")
        repaired.append(f"index rebuilt: it held {documents} documents for {items} items")
    return [], repaired
