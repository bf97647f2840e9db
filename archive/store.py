"""`Archive`: one archive directory, its catalog connection and its derived folders."""

from __future__ import annotations

import logging
import os
import stat
import tomllib
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from archive.catalog.database import RECOVER, Catalog, CatalogError
from archive.locking import ArchiveBusy, write_lock

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite3"
# Where an archive whose catalog is on a PostgreSQL server keeps its address.
SETTINGS_FILE = "archive.toml"
DEFAULT_DIR = "event-archive"
ENV_VAR = "EVENT_ARCHIVE"
CATALOG_ENV_VAR = "EVENT_ARCHIVE_CATALOG"
CATALOG_SCHEMES = ("postgresql://", "postgres://")
# Advisory lock names of a PostgreSQL catalog: ingests share the archive's lock and hold
# their event's; what changes the whole archive holds the archive's alone.
ARCHIVE_LOCK = "archive"
INDEX_LOCK = "index"
# The catalog's meta keys naming the archive directory it belongs to.
ARCHIVE_ID, ARCHIVE_DIR = "archive_id", "archive_dir"


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


def holds_archive(root: Path) -> bool:
    """Whether `root` is an archive already, whatever its catalog's engine."""
    return (root / CATALOG_FILE).exists() or (root / SETTINGS_FILE).exists()


def recorded_catalog(root: Path) -> str | None:
    """The catalog address the archive directory records (None: its SQLite file)."""
    try:
        text = (root / SETTINGS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CatalogError(f"{root / SETTINGS_FILE}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{root / SETTINGS_FILE}: not UTF-8 text") from None
    try:
        value = tomllib.loads(text).get("catalog")
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{root / SETTINGS_FILE}: not valid TOML ({exc})") from None
    if not isinstance(value, str) or not value.startswith(CATALOG_SCHEMES):
        raise CatalogError(f"{root / SETTINGS_FILE}: key 'catalog': not a postgresql:// "
                           "address")
    return value


def _catalog_url(root: Path, given: str | None) -> str | None:
    """The PostgreSQL catalog to open: the one the archive records, or the one given
    for a new archive. Raises CatalogError when they differ."""
    from archive.catalog.pgconnection import shown_url

    if given is not None and not given.startswith(CATALOG_SCHEMES):
        raise CatalogError(f"--catalog {given!r}: not a postgresql:// address (an archive "
                           "without one keeps its catalog in its folder)")
    recorded = recorded_catalog(root)
    if recorded is None:
        if given is not None and (root / CATALOG_FILE).exists():
            raise CatalogError(f"{root}: this archive's catalog is its SQLite file; it "
                               f"cannot move to {shown_url(given)} (ingest the events "
                               "into a new archive)")
        return given
    if given is not None and shown_url(given) != recorded:
        raise CatalogError(f"{root}: this archive's catalog is {recorded}, not "
                           f"{shown_url(given)}")
    return given or recorded


def record_catalog(root: Path, url: str, identity: str | None = None) -> None:
    """Make `root` an archive whose catalog is at `url` (`identity`: the catalog's
    archive id, which it checks when opened)."""
    from archive.catalog.pgconnection import shown_url

    document = tomlkit.document()
    document.add(tomlkit.comment("This archive's catalog (event-archive --catalog). A "
                                 "password goes in ~/.pgpass or $PGPASSWORD, not here."))
    document["catalog"] = shown_url(url)
    if identity:
        document["id"] = identity
    (root / SETTINGS_FILE).write_text(tomlkit.dumps(document).rstrip("\n") + "\n",
                                      encoding="utf-8")


def _open_pg(root: Path, url: str, create: bool, readonly: bool, public: bool) -> Catalog:
    from archive.catalog.pgdatabase import PgCatalog

    recorded = (root / SETTINGS_FILE).exists()
    if not recorded and not create:
        raise CatalogError(f"{root}: no archive here; run 'event-archive ingest' first "
                           "or pass --archive DIR")
    catalog = PgCatalog(url, readonly=readonly and recorded, public=public, new=not recorded)
    try:
        if recorded:
            _check_identity(root, catalog)
        else:
            _make_archive(root, url, catalog)
    except BaseException:
        catalog.close()
        raise
    return catalog


def _check_identity(root: Path, catalog: Catalog) -> None:
    """Refuse a catalog that is another archive directory's (archive.toml edited, or a
    database restored over another)."""
    mine, theirs = _recorded_id(root), catalog.get_meta(ARCHIVE_ID)
    if mine and theirs and mine != theirs:
        raise CatalogError(f"{root}: {catalog.name} is the catalog of another archive "
                           f"directory ({catalog.get_meta(ARCHIVE_DIR)}), not of this one")


def _make_archive(root: Path, url: str, catalog: Catalog) -> None:
    """Make `root` the archive of its catalog; refuse a catalog another directory
    already has, whose thumbnails this one would not hold."""
    with catalog.transaction():
        # The first to commit names the catalog's archive (two first ingests of one new
        # archive may run at once); any other directory is refused.
        if catalog.get_meta(ARCHIVE_ID) is None:
            catalog.set_meta(ARCHIVE_ID, uuid.uuid4().hex)
            catalog.set_meta(ARCHIVE_DIR, str(root))
        owner, identity = catalog.get_meta(ARCHIVE_DIR), catalog.get_meta(ARCHIVE_ID)
        if owner != str(root):
            raise CatalogError(f"{catalog.name}: already the catalog of the archive at "
                               f"{owner}; pass --archive with that directory (or copy "
                               "its archive.toml)")
    try:
        (root / "thumbs").mkdir(parents=True, exist_ok=True)
        record_catalog(root, url, identity)
    except OSError as exc:
        raise CatalogError(f"{root}: cannot create the archive: {exc.strerror}") from None
    if urllib.parse.urlsplit(url).password is not None:
        log.warning("%s keeps the catalog's address without its password: later commands "
                    "need it in ~/.pgpass or $PGPASSWORD", root / SETTINGS_FILE)


def _recorded_id(root: Path) -> str | None:
    try:
        value = tomllib.loads((root / SETTINGS_FILE).read_text(encoding="utf-8")).get("id")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, str) else None


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
             public: bool = False, catalog: str | None = None) -> Archive:
        """Open (and with `create`, make) the archive at `root`; `public`: read-only,
        seeing published items alone (the site); `catalog`: a PostgreSQL catalog's
        address for a new archive (the archive records it; later opens need none).

        Raises CatalogError when the directory or the catalog cannot be used.
        """
        root = Path(root).resolve()
        url = _catalog_url(root, catalog)
        if url is not None:
            return cls(root=root, catalog=_open_pg(root, url, create, readonly, public))
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

    @property
    def shared(self) -> bool:
        """Whether the catalog is on a server that several machines' processes share."""
        return self.catalog.dialect.NAME == "postgresql"

    @contextmanager
    def write_lock(self, events: Iterable[str] | None = None, wait: bool = True,
                   quiet: bool = False, timeout: float | None = None) -> Iterator[None]:
        """Hold the archive for writing: for the ingest of `events`, or (None) for a
        change of the whole archive. An SQLite archive has one writer at a time (a lock
        file); a PostgreSQL one lets ingests of different events write together.

        Raises ArchiveBusy when the lock is not had (at once without `wait`, or in
        `timeout` seconds).
        """
        if not self.shared:
            with write_lock(self.lock_path, wait=wait, quiet=quiet, timeout=timeout):
                yield
            return
        names, shared = ([f"event:{e}" for e in events], [ARCHIVE_LOCK]) \
            if events is not None else ([ARCHIVE_LOCK], [])
        busy = (f"{self.root}: another process is writing "
                f"{'these events' if events is not None else 'this archive'}")
        catalog: Any = self.catalog
        with catalog.locked(names, shared, wait=False) as had:
            if had:
                yield
                return
        if not wait:
            raise ArchiveBusy(f"{busy}; try again when it has finished")
        if not quiet:
            log.warning("waiting: %s", busy)
        with catalog.locked(names, shared, True, timeout) as had:
            if not had:
                raise ArchiveBusy(f"{busy} for {timeout:g} s; try again")
            yield

    @contextmanager
    def index_lock(self) -> Iterator[None]:
        """Hold the shared index for writing, within a write lock: an SQLite archive's
        write lock holds it already; ingests of a PostgreSQL one take turns."""
        if not self.shared:
            yield
            return
        catalog: Any = self.catalog
        with catalog.locked([INDEX_LOCK]):
            yield

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
