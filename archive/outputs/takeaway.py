"""Take-away: a ZIP of items (originals or their 1280-px copies) with their credits,
streamed as it is made: no temporary file, and at most one read buffer held.

The caller chooses the items (published ones only, for the site) and where each
file is; this module writes `CREDITS.csv`, `CREDITS.html` and `LICENSES.txt` (the
licence URLs the items carry, then what was left out and why) beside them. A video's
1280-px copy is its poster, a still: it is named `<name>-poster.jpg`, so that nobody
takes it for a photo of its own.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from archive.fsnames import readable
from archive.outputs.exports import credit_row, to_csv, to_html

CHUNK = 1 << 20  # bytes read and sent at a time
# Already compressed: deflating them again costs time and saves nothing.
STORED_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif",
                   ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".mp3", ".m4a",
                   ".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"}


class Unavailable(Exception):
    """Raised by a `file_of` to leave an item out, with the reason said in LICENSES.txt
    ("changed since it was catalogued")."""


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come: ZipFile writes to
    it as to an unseekable file (data descriptors after each member)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def member_name(item: dict[str, Any], suffix: str | None, taken: set[str]) -> str:
    """The item's name in the ZIP: its event folder, its path there (a copy gets the
    copy's suffix, a video's copy `-poster` before it), made unique; never absolute,
    never climbing out."""
    path = readable(item["relpath"]).lstrip("/")
    if suffix is not None:
        poster = "-poster" if item.get("kind") == "video" else ""
        path = posixpath.splitext(path)[0] + poster + suffix
    name = posixpath.normpath(f"{item['event']}/{path}").replace("../", "")
    stem, ext = posixpath.splitext(name)
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){ext}"
    taken.add(candidate)
    return candidate


def _licences(rows: list[dict[str, Any]], notes: list[str]) -> str:
    """The licences the files carry (name, then URL), then what was left out and why."""
    found = sorted({(row["license"] or "", row["license_url"] or "") for row in rows
                    if row.get("license") or row.get("license_url")})
    lines = [f"{name}\t{url}".strip() for name, url in found]
    return "Licences of the files in this archive (name, then URL)\n\n" + \
        ("\n".join(lines) if lines else "No file carries a licence: ask the rights holders.") \
        + "".join(f"\n\n{note}" for note in notes)


def _copy(zf: zipfile.ZipFile, sink: _Sink, name: str, path: Path) -> Iterator[bytes]:
    method = zipfile.ZIP_STORED if path.suffix.lower() in STORED_SUFFIXES \
        else zipfile.ZIP_DEFLATED
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = method
    with open(path, "rb") as source, zf.open(info, "w", force_zip64=True) as member:
        while chunk := source.read(CHUNK):
            member.write(chunk)
            yield sink.take()


def takeaway(items: Iterable[dict[str, Any]], file_of: Callable[[dict[str, Any]], Path | None],
             suffix: str | None = None, title: str | None = None,
             base_url: str | None = None, notes: Iterable[str] = ()) -> Iterator[bytes]:
    """The ZIP's bytes, chunk by chunk: each item's file (`file_of(item)`, None to leave
    it out unsaid; `suffix` renames copies, ".jpg" for 1280-px ones), then the credits of
    the files it holds. `file_of` is asked as the ZIP gets to the item, so what it checks
    is checked just before the file is read. A file that cannot be read, or that
    `file_of` refuses (Unavailable), is left out and said in LICENSES.txt, after `notes`
    (what the caller left out itself)."""
    sink = _Sink()
    rows: list[dict[str, Any]] = []
    left_out: list[str] = list(notes)
    taken: set[str] = set()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for item in items:
            try:
                path = file_of(item)
            except Unavailable as exc:
                left_out.append(f"Left out, {exc}: {item['event']}/{readable(item['relpath'])}")
                continue
            if path is None:
                continue
            name = member_name(item, suffix, taken)
            try:
                yield from _copy(zf, sink, name, path)
            except OSError as exc:
                left_out.append(f"Left out, unreadable: {name}: {exc.strerror or exc}")
                continue
            rows.append({**credit_row(item, base_url), "file": name})
        zf.writestr("CREDITS.csv", to_csv(rows))
        zf.writestr("CREDITS.html", to_html(rows, title))
        zf.writestr("LICENSES.txt", _licences(rows, left_out))
    yield sink.take()
