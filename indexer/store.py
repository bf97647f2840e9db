"""Where the index lives: generations under the archive, the current one behind a symlink.

`index` is a symbolic link to `index-<generation>`; a rebuild writes a new
generation and swaps the link atomically, so searches keep working while it
runs. The catalog revision the index reflects is kept in `REVISION` inside
each generation, written after the index commit: a crash between the two
just makes the next sync redo (idempotently) what was already done.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
import warnings
from pathlib import Path

from whoosh import index as windex
from whoosh.index import FileIndex

from .schema import SCHEMA_VERSION, build_schema

REVISION_FILE = "REVISION"
SCHEMA_FILE = "SCHEMA"


class IndexMissing(Exception):
    """No usable index: it must be built from the catalog."""


def current_dir(link: Path) -> Path | None:
    """The generation directory the index link points to, if it exists."""
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        if target.is_dir():
            return target
    return None


def _try_open(folder: Path) -> FileIndex | str:
    try:
        if not windex.exists_in(str(folder)):
            return "no index"
        ix = windex.open_dir(str(folder))
        ix.reader().close()  # reading the table of contents finds most damage
        return ix
    except Exception as exc:  # noqa: BLE001 - Whoosh raises many kinds on damaged files
        return f"index unreadable ({type(exc).__name__}: {exc})"


def open_index(link: Path) -> FileIndex:
    """Open the current generation; raises IndexMissing when there is none or it is broken."""
    folder = current_dir(link)
    if folder is None:
        raise IndexMissing(f"{link}: no index")
    # Whoosh leaves a damaged file open when it fails; it is closed (quietly) here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        opened = _try_open(folder)
        if isinstance(opened, str):
            gc.collect()
    if isinstance(opened, str):
        raise IndexMissing(f"{link}: {opened}")
    if read_schema(folder) != SCHEMA_VERSION:
        raise IndexMissing(f"{link}: made by an older version of event-archive "
                           f"(index schema {read_schema(folder)}, now {SCHEMA_VERSION})")
    return opened


def read_schema(folder: Path) -> int:
    """The schema version a generation was written with (1: before versions were kept)."""
    try:
        return int((folder / SCHEMA_FILE).read_text().strip())
    except (OSError, ValueError):
        return 1


def read_revision(folder: Path) -> int:
    try:
        return int((folder / REVISION_FILE).read_text().strip())
    except (OSError, ValueError):
        return -1


def write_revision(folder: Path, revision: int) -> None:
    tmp = folder / (REVISION_FILE + ".tmp")
    tmp.write_text(f"{revision}\n")
    os.replace(tmp, folder / REVISION_FILE)


def new_generation(link: Path) -> tuple[Path, FileIndex]:
    folder = link.parent / f"{link.name}-{time.time_ns()}"
    folder.mkdir(parents=True)
    (folder / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
    return folder, windex.create_in(str(folder), build_schema())


def swap(link: Path, folder: Path) -> None:
    """Point the link at `folder` atomically; keep the previous generation (a reader may
    still be on it), drop older ones."""
    previous = current_dir(link)
    tmp_link = link.parent / f".{link.name}.swap"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(folder.name)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # an index made by hand, not a generation
    os.replace(tmp_link, link)
    keep = {folder.name, previous.name if previous else ""}
    for old in link.parent.glob(f"{link.name}-*"):
        if old.name not in keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
