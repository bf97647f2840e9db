"""Edit `event.toml` (confirmed faces; a curator's fixes to a [[media]] entry, a new
[[cameras]] entry), keeping its comments and layout (tomlkit).

The file is changed only through a whole new copy that is checked as an event file
and then renamed over it, so a reader (or a crash) sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import tomlkit
from tomlkit import TOMLDocument
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Table

from archive.errors import ManifestError
from archive.model import FaceRef
from archive.resolve.eventfile import parse_event, read_event_file
from archive.resolve.eventfile import relpath as normal_path

KEYS = ("faces", "not_faces")
T = TypeVar("T")
TEMPORARY = ".event-archive-edit."  # the new file's name until it is renamed over


def _person_table(doc: tomlkit.TOMLDocument, path: Path, person: str) -> Table:
    people = doc.get("people")
    if isinstance(people, AoT | list):
        for table in people:
            if isinstance(table, dict) and table.get("id") == person:
                return table  # type: ignore[return-value]
    raise ManifestError(path, "people", f"no person with id {person!r}; add a [[people]] "
                        "table for them first")


def _array(table: Table, path: Path, person: str, key: str) -> Array:
    if key not in table:
        array = tomlkit.array()
        array.multiline(True)
        table[key] = array
    value = table[key]
    if not isinstance(value, Array):
        raise ManifestError(path, f"people[id={person!r}].{key}",
                            "expected an array of faces ('path#n')")
    return value


def _drop(array: object, refs: set[str]) -> None:
    if isinstance(array, Array):
        for index in reversed(range(len(array))):
            if str(array[index]) in refs:
                del array[index]


def edit_faces(doc: tomlkit.TOMLDocument, path: Path, person: str,
               refs: Sequence[FaceRef], key: str) -> int:
    """Add `refs` to the person's `key` (faces or not_faces), taking them out of the
    other key, and out of other people's faces when naming (a face is one person's).
    Returns how many were added."""
    table = _person_table(doc, path, person)
    wanted = [str(ref) for ref in refs]
    names = set(wanted)
    other = KEYS[1 - KEYS.index(key)]
    _drop(table.get(other), names)
    if key == "faces":
        for someone in doc.get("people") or []:
            if someone is not table and isinstance(someone, dict):
                _drop(someone.get("faces"), names)
    array = _array(table, path, person, key)
    present = {str(v) for v in array}
    added = [ref for ref in wanted if ref not in present]
    for ref in added:
        array.append(ref)
    return len(added)


class StaleEventFile(ManifestError):
    """The event file changed since the form that would edit it was made."""


def file_version(event_file: Path) -> str:
    """A digest of the event file's bytes: what a form carries to tell a stale edit.
    Read as ingest reads it (read_event_file); no event file is ''."""
    data = read_event_file(event_file)
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def edit_event_file(folder: Path, event_file: Path, edit: Callable[[TOMLDocument], T],
                    expected: str | None = None) -> T:
    """Apply `edit` to the event file (a tomlkit document: comments and layout stay)
    and write it atomically when it changed; returns what `edit` returns. The caller
    holds the archive's write lock, so edits never interleave.

    Raises StaleEventFile when the file's version is not `expected` (a form made before
    someone else's change), and ManifestError when it cannot be read, `edit` refuses,
    or the edited file would not be a valid event file (then nothing is written).
    """
    # Read as ingest reads it: a regular file in the folder (a link to one there is
    # fine, and stays a link), of at most event_file_bytes; never a FIFO or a device.
    data = read_event_file(event_file)
    if data is None:
        raise ManifestError(event_file, "", "no event file; write one (see README) first")
    target = event_file.resolve()
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise StaleEventFile(event_file, "", "changed since this page was loaded; nothing "
                             "was written: load the page again and redo the change")
    text = data.decode("utf-8-sig", errors="replace")
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ManifestError(event_file, "", f"not valid TOML: {exc}") from None
    result = edit(doc)
    new_text = tomlkit.dumps(doc)
    if new_text != text:
        parse_event(new_text, event_file, folder)  # never write a file ingest would refuse
        _replace(target, new_text)
    return result


def write_faces(folder: Path, event_file: Path, person: str, refs: Sequence[FaceRef],
                key: str) -> int:
    """Write the faces into the person's `key` atomically; returns how many were added.

    Raises ManifestError as edit_event_file does, or when the person is not in the file.
    """
    return edit_event_file(folder, event_file,
                           lambda doc: edit_faces(doc, event_file, person, refs, key))


def _replace(target: Path, text: str) -> None:
    """Write `text` to a new file beside `target`, flush it to disk, rename it over."""
    mode = target.stat().st_mode & 0o7777
    for left in target.parent.glob(TEMPORARY + "*"):
        left.unlink(missing_ok=True)  # a writer killed before its rename (we hold the lock)
    fd, temporary = tempfile.mkstemp(prefix=TEMPORARY, suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _find_media(doc: TOMLDocument, relpath: str) -> Table | None:
    """The [[media]] entry naming exactly this file, or None."""
    for table in doc.get("media") or ():
        if isinstance(table, dict) and _names(table.get("path"), relpath):
            return table  # type: ignore[return-value]
    return None


def _media_table(doc: TOMLDocument, relpath: str) -> Table:
    """The [[media]] entry naming exactly this file, made (at the end) if there is none."""
    found = _find_media(doc, relpath)
    if found is not None:
        return found
    entries = doc.get("media")
    if entries is None:
        entries = tomlkit.aot()
        doc.append("media", entries)
    table = tomlkit.table()
    table["path"] = relpath
    entries.append(table)
    return entries[-1]  # type: ignore[no-any-return]


def _names(path: Any, relpath: str) -> bool:
    """Whether an entry's path names the file, written as ingest reads it ('./a.jpg',
    'photos//a.jpg'): a second entry for the same file would make the file invalid."""
    try:
        return path == relpath or normal_path(str(path)) == relpath
    except ValueError:
        return False


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def set_media_fields(doc: TOMLDocument, relpath: str, changes: dict[str, Any]
                     ) -> dict[str, tuple[Any, Any]]:
    """Set fields of the file's [[media]] entry (a blank value takes the key out);
    returns {key: (old, new)} for each key that changed. An entry is made only for a
    change: a form sent back unchanged leaves the file as it was."""
    found = _find_media(doc, relpath)
    changed: dict[str, tuple[Any, Any]] = {}
    for key, value in changes.items():
        old = found.get(key) if found is not None else None
        old = old.unwrap() if hasattr(old, "unwrap") else old
        new = None if _blank(value) else (list(value) if isinstance(value, tuple) else value)
        if old != new:
            changed[key] = (old, new)
    if not changed:
        return changed
    table = _media_table(doc, relpath)
    for key, (_old, new) in changed.items():
        if new is None:
            del table[key]
        else:
            table[key] = new
    return changed


def add_camera(doc: TOMLDocument, fields: dict[str, Any]) -> dict[str, Any]:
    """Append a [[cameras]] entry with the given (non-blank) fields; returns them."""
    cameras = doc.get("cameras")
    if cameras is None:
        cameras = tomlkit.aot()
        doc.append("cameras", cameras)
    table = tomlkit.table()
    kept = {k: v for k, v in fields.items() if not _blank(v)}
    for key, value in kept.items():
        table[key] = value
    cameras.append(table)
    return kept
