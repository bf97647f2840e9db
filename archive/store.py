"""`Archive`: one archive directory, its catalog connection and its derived folders."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from archive.catalog.database import RECOVER, Catalog, CatalogError

CATALOG_FILE = "catalog.sqlite3"
DEFAULT_DIR = "event-archive"
ENV_VAR = "EVENT_ARCHIVE"


def default_archive_dir() -> Path:
    """`$EVENT_ARCHIVE`, else `./event-archive`."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _refuse_lost_catalog(root: Path) -> None:
    """An empty catalog file beside an index or thumbnails was emptied, not new: opening
    it would make an empty archive of it (and verify an empty index)."""
    catalog = root / CATALOG_FILE
    try:
        st = catalog.stat()
    except OSError:
        return
    # A FIFO or a device has no size either; opening the catalog names what it is.
    emptied = stat.S_ISREG(st.st_mode) and st.st_size == 0
    if emptied and ((root / "index").is_symlink() or any((root / "thumbs").glob("*/*"))):
        raise CatalogError(f"{catalog}: the catalog is empty (0 bytes) but the archive "
                           f"holds an index and thumbnails; {RECOVER}")


@dataclass
class Archive:
    """Paths of an archive plus its open catalog; passed to whatever needs them."""

    root: Path
    catalog: Catalog
    # Where the index link and its generations live: the archive itself, or a web node's
    # own replica folder (serve --replica), so that the index code serves both unchanged.
    index_home: Path | None = None

    @classmethod
    def open(cls, root: Path, create: bool = True, readonly: bool = False,
             public: bool = False) -> Archive:
        """Open (and with `create`, make) the archive at `root`; `public`: read-only,
        seeing published items alone (the site).

        Raises CatalogError when the directory or the catalog cannot be used.
        """
        root = Path(root).resolve()
        _refuse_lost_catalog(root)
        if not (root / CATALOG_FILE).exists():
            if not create:
                raise CatalogError(f"{root}: no archive here; run 'event-archive ingest' "
                                   "first or pass --archive DIR")
            try:
                (root / "thumbs").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogError(f"{root}: cannot create the archive: "
                                   f"{exc.strerror}") from None
        return cls(root=root, catalog=Catalog(root / CATALOG_FILE, readonly=readonly,
                                               public=public))

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def index_dir(self) -> Path:
        return (self.index_home or self.root) / "index"

    @property
    def lock_path(self) -> Path:
        return self.root / "ingest.lock"

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
