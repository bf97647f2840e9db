"""Where the index lives: generations under the archive, the current one behind a symlink.

`index` is a symbolic link to `index-<generation>`; a rebuild writes a new
generation and swaps the link atomically, so searches keep working while it
runs. The catalog revision the index reflects is kept in `REVISION` inside
each generation, written after the index commit: a crash between the two
just makes the next sync redo (idempotently) what was already done.

Whoosh keeps no checksums, and a damaged segment reads as a zlib or struct
error, or as wrong answers. `CHECKSUMS`, written with `REVISION`, holds the
SHA-256 of every index file (files never change once written, so a sync hashes
only its new ones); `damage` compares, `open_index` compares sizes.
"""

from __future__ import annotations

import gc
import hashlib
import json
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
CHECKSUMS_FILE = "CHECKSUMS"
WRITE_LOCK = "MAIN_WRITELOCK"  # Whoosh's
# and facets-*.npz, *.tmp
_NOT_INDEX = (REVISION_FILE, SCHEMA_FILE, CHECKSUMS_FILE, WRITE_LOCK)
NOT_BUILT = "no index"


class IndexMissing(Exception):
    """No usable index: it must be built from the catalog."""

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        # What is wrong, without the server's paths: what the site may say.
        self.problem = problem


class IndexDamaged(IndexMissing):
    """The index's files are not the ones it wrote: it must be rebuilt from the catalog."""


def current_dir(link: Path) -> Path | None:
    """The generation directory the index link points to, if it exists."""
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        if target.is_dir():
            return target
    return None


def _try_open(folder: Path) -> FileIndex | IndexMissing:
    try:
        if not windex.exists_in(str(folder)):
            return IndexMissing("no index")
        ix = windex.open_dir(str(folder))
        ix.reader().close()  # reading the table of contents finds most damage
        return ix
    except Exception as exc:  # noqa: BLE001 - Whoosh raises many kinds on damaged files
        return IndexDamaged(f"index unreadable ({type(exc).__name__}: {exc})")


def open_index(link: Path) -> FileIndex:
    """Open the current generation; raises IndexMissing when there is none or it is broken
    (IndexDamaged when a file is not the size it was written with)."""
    folder = current_dir(link)
    if folder is None:
        problem = ("the index folder it names is missing" if os.path.lexists(link)
                   else NOT_BUILT)
        raise IndexMissing(f"{link}: {problem}", problem)
    problem = damage(folder, deep=False)
    if problem:
        raise IndexDamaged(f"{link}: {problem}")
    # Whoosh leaves a damaged file open when it fails; it is closed (quietly) here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        opened = _try_open(folder)
        if isinstance(opened, IndexMissing):
            gc.collect()
    if isinstance(opened, IndexMissing):
        raise type(opened)(f"{link}: {opened}")
    schema = read_schema(folder)
    if schema != SCHEMA_VERSION:
        problem = schema_problem(schema)
        raise IndexMissing(f"{link}: {problem}", problem)
    return opened


def read_schema(folder: Path) -> int | None:
    """The schema version a generation was written with: 1 without a SCHEMA file (before
    versions were kept), None when that file cannot be read as one."""
    try:
        return int((folder / SCHEMA_FILE).read_text().strip())
    except FileNotFoundError:
        return 1
    except (OSError, ValueError):
        return None


def schema_problem(schema: int | None) -> str:
    """Why an index of another schema version cannot be searched."""
    if schema is None:
        return "its schema version cannot be read"
    made_by = "a newer" if schema > SCHEMA_VERSION else "an older"
    return (f"made by {made_by} version of event-archive (index schema {schema}; this "
            f"version reads {SCHEMA_VERSION})")


def read_revision(folder: Path) -> int:
    try:
        return int((folder / REVISION_FILE).read_text().strip())
    except (OSError, ValueError):
        return -1


def write_revision(folder: Path, revision: int) -> None:
    """Record the revision an index commit reflects, and the checksums of its files."""
    write_checksums(folder)
    tmp = folder / (REVISION_FILE + ".tmp")
    tmp.write_text(f"{revision}\n")
    os.replace(tmp, folder / REVISION_FILE)


def _index_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.name not in _NOT_INDEX
                  and not f.name.startswith("facets-") and not f.name.endswith(".tmp"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(folder: Path) -> dict[str, list] | None:
    """name -> [size, mtime_ns, sha256] as last written; None when there are none."""
    try:
        return json.loads((folder / CHECKSUMS_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_checksums(folder: Path) -> None:
    """Checksum the index's new files. Whoosh never rewrites a file (each commit and
    segment gets a new name), so a name already recorded keeps its record: a file
    damaged since is still found damaged, whatever its size or date now."""
    known = read_checksums(folder) or {}
    sums = {}
    for file in _index_files(folder):
        if file.name in known:
            sums[file.name] = known[file.name]
            continue
        st = file.stat()
        sums[file.name] = [st.st_size, st.st_mtime_ns, _sha256(file)]
    tmp = folder / (CHECKSUMS_FILE + ".tmp")
    tmp.write_text(json.dumps(sums, indent=0))
    os.replace(tmp, folder / CHECKSUMS_FILE)


def damage(folder: Path, deep: bool = True) -> str | None:
    """What is wrong with a generation's files, or None: a file missing, of another size
    or (`deep`) with other content than written. An index written before checksums
    were kept passes unless `deep` (then it cannot be vouched for)."""
    sums = read_checksums(folder)
    if sums is None:
        return "no checksums to check the index against" if deep else None
    for name, (size, _mtime, digest) in sorted(sums.items()):
        file = folder / name
        try:
            if file.stat().st_size != size:
                return f"index file {name} is not the size it was written with"
            if deep and _sha256(file) != digest:
                return f"index file {name} is damaged (its checksum changed)"
        except OSError as exc:
            return f"index file {name} cannot be read ({exc.strerror})"
    return None


def confirm_damage(link: Path, error: Exception) -> IndexDamaged | None:
    """After Whoosh failed reading the index: IndexDamaged if its files are damaged, or
    cannot be vouched for (a failure on sound files is a bug, for the caller to raise)."""
    folder = current_dir(link)
    problem = damage(folder) if folder is not None else "no index"
    if problem is None:
        return None
    return IndexDamaged(f"{link}: {problem} ({type(error).__name__}: {error})")


def new_generation(link: Path) -> tuple[Path, FileIndex]:
    folder = link.parent / f"{link.name}-{time.time_ns()}"
    folder.mkdir(parents=True)
    (folder / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
    return folder, windex.create_in(str(folder), build_schema())


def linked_generation(link: Path) -> tuple[Path, FileIndex]:
    """A new generation holding the current one's files as hard links (copies where links
    cannot be made), for a sync to write while readers keep the current one. Whoosh never
    rewrites a file (a commit adds segments and a new table of contents, and deletes by
    name), and REVISION and CHECKSUMS are replaced, so neither generation sees the
    other's writes."""
    current = current_dir(link)
    if current is None:
        raise IndexMissing(f"{link}: {NOT_BUILT}", NOT_BUILT)
    folder = link.parent / f"{link.name}-{time.time_ns()}"
    folder.mkdir()
    for file in current.iterdir():
        # A linked lock file would be one lock for both; a facet table belongs to one
        # Whoosh generation, which the commit replaces.
        if (not file.is_file() or file.name == WRITE_LOCK
                or file.name.startswith("facets-") or file.name.endswith(".tmp")):
            continue
        try:
            os.link(file, folder / file.name)
        except OSError:
            shutil.copy2(file, folder / file.name)
    return folder, windex.open_dir(str(folder))


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
