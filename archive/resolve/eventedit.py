"""Write confirmed faces into `event.toml`, keeping its comments and layout (tomlkit).

The file is changed only through a whole new copy that is checked as an event file
and then renamed over it, so a reader (or a crash) sees the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Table

from archive.errors import ManifestError
from archive.model import FaceRef
from archive.resolve.eventfile import parse_event

KEYS = ("faces", "not_faces")


def _person_table(doc: tomlkit.TOMLDocument, path: Path, person: str) -> Table:
    people = doc.get("people")
    if isinstance(people, AoT | list):
        for table in people:
            if isinstance(table, dict) and table.get("id") == person:
                return table  # type: ignore[return-value]
    raise ManifestError(path, "people", f"no person with id {person!r}; add a [[people]] "
                        "table for them first")


def _array(table: Table, key: str) -> Array:
    if key not in table:
        array = tomlkit.array()
        array.multiline(True)
        table[key] = array
    value = table[key]
    if not isinstance(value, Array):
        raise ManifestError(Path(), key, "expected an array of faces")
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
    array = _array(table, key)
    present = {str(v) for v in array}
    added = [ref for ref in wanted if ref not in present]
    for ref in added:
        array.append(ref)
    return len(added)


def write_faces(folder: Path, event_file: Path, person: str, refs: Sequence[FaceRef],
                key: str) -> int:
    """Write the faces into the event file atomically; returns how many were added.

    Raises ManifestError when the file cannot be read, the person is not in it, or the
    edited file would not be a valid event file (then nothing is written).
    """
    target = event_file.resolve()  # a link to the file stays a link
    try:
        text = target.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError(event_file, "", f"cannot read: {exc.strerror}") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ManifestError(event_file, "", f"not valid TOML: {exc}") from None
    added = edit_faces(doc, event_file, person, refs, key)
    new_text = tomlkit.dumps(doc)
    parse_event(new_text, event_file, folder)  # never write a file ingest would refuse
    if added:
        _replace(target, new_text)
    return added


def _replace(target: Path, text: str) -> None:
    """Write `text` to a new file beside `target`, flush it to disk, rename it over."""
    mode = target.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(prefix=".event.", suffix=".toml", dir=target.parent)
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
