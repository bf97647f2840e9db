"""Examine one file in a worker process: identify, extract, make thumbnails.

Runs in the pool, so it takes and returns plain picklable data and never
touches the catalog. Every failure becomes a recorded (stage, message); only
a file whose content cannot be recognised or decoded at all yields no item.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import hashlib
import os
import resource
import stat
import traceback
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image

from archive import dates, settings
from archive.errors import ArchiveWriteError, MediaError
from archive.fsnames import within
from archive.ingest.facestage import find_in_frames, read_thumbnail_faces, shown_size
from archive.ingest.tasks import WORKER_STAGE, Outcome, Task
from archive.media import faces, posters, thumbs
from archive.media import types as mediatypes
from archive.media.extract import photo, sidecar, video
from archive.media.types import MediaType

READ_CHUNK = 1 << 20


def prepare_worker(with_faces: bool = False) -> None:
    """Bound a worker's memory, tune it for a stream of large files and load the face
    models (`with_faces`): once per worker, not per file.

    glibc returns every freed multi-megabyte buffer to the kernel, so each 24 MP
    photo paid ~5,000 page faults (12 ms of 90) for memory it had just freed.
    Raising the mmap and trim thresholds keeps those buffers for the next file.
    """
    try:
        # A hostile file must not take the machine's memory: past this, MemoryError.
        memory = settings.value("worker_memory")
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            m_trim_threshold, m_mmap_threshold = -1, -3
            libc.mallopt(m_mmap_threshold, 64 * 1024 * 1024)
            libc.mallopt(m_trim_threshold, 256 * 1024 * 1024)
    except OSError:
        pass  # not glibc: the defaults are merely slower
    if with_faces:
        faces.load_models()


def _hash_file(fh: BinaryIO) -> tuple[str, bytes]:
    """SHA-256 of a file and its first bytes, read in one pass without holding it all."""
    digest = hashlib.sha256()
    head = b""
    while chunk := fh.read(READ_CHUNK):
        if not head:
            head = chunk[:mediatypes.HEAD_BYTES]
        digest.update(chunk)
    return digest.hexdigest(), head


def _read(fh: BinaryIO, size: int) -> bytes:
    largest = settings.value("max_photo_file")
    if size > largest:
        raise MediaError("read", f"photo of {size} bytes is larger than {largest}")
    return fh.read()


def open_checked(task: Task) -> int:
    """The task's file, opened as the scan saw it: a regular file inside the event folder.

    Between the scan and now, the path may have been replaced: by a FIFO (an open would
    wait for a writer) or by a link out of the folder (its content must never enter the
    archive). Opened without blocking, the file actually opened is checked, not a path.
    """
    fd = os.open(task.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MediaError("read", "no longer a regular file (replaced since the scan)")
        folder = task.path[:-len(task.relpath)] if task.path.endswith(task.relpath) else ""
        real = os.readlink(f"/proc/self/fd/{fd}")
        if folder and not within(real, os.path.realpath(folder)):
            raise MediaError("read", "now leads out of the event folder (replaced since "
                             "the scan); not read")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _identify(task: Task, out: Outcome) -> tuple[MediaType, bytes | None]:
    """Hash and recognise the file; photos are read whole (decoded from memory)."""
    if task.size == 0:
        raise MediaError("identify", "empty file (0 bytes)")
    with open(open_checked(task), "rb") as fh:
        head = fh.read(mediatypes.HEAD_BYTES)
        media_type = mediatypes.sniff(head)
        if media_type is None:
            raise MediaError("identify", "not a recognised photo, video or audio file")
        fh.seek(0)
        if media_type.kind == "photo":
            data = _read(fh, task.size)
            out.item_id = hashlib.sha256(data).hexdigest()
        else:
            data = None
            out.item_id, _ = _hash_file(fh)
    return media_type, data


def _check_extension(task: Task, media_type: MediaType, out: Outcome) -> None:
    if mediatypes.extension_mismatch(media_type, Path(task.path)):
        out.problem("identify", f"named {Path(task.path).suffix} but the content is "
                    f"{media_type.mime}; catalogued by its content", "warning")


def _large_thumbnail(path: Path, out: Outcome) -> Image.Image | None:
    """The large thumbnail already made of this content, for the face stage; a damaged
    one costs the faces (a warning), never the item."""
    try:
        with Image.open(path) as large:
            return large.convert("RGB")
    except photo.PIL_ERRORS as exc:
        out.problem("faces", f"faces not read: thumbnail unreadable: {exc}", "warning")
        return None


def _photo_frame(task: Task, image: Image.Image | None, data: bytes,
                 meta: dict[str, Any], out: Outcome) -> Image.Image | None:
    """Make the thumbnails from the photo decoded once; returns that frame. With the
    thumbnails already made (the same content), the large one is the frame."""
    root = Path(task.root)
    if thumbs.thumbs_exist(root, out.item_id or ""):
        out.thumbnails = thumbs.existing(root, out.item_id or "")
        return _large_thumbnail(root / str(out.thumbnails["large"]["path"]), out) \
            if task.faces else None
    if image is None:
        out.problem("thumbnail", "camera raw without a readable embedded preview; "
                    "no thumbnail", "warning")
        return None
    # The file's bytes stay in memory while it decodes (it is decoded from them).
    frame = thumbs.thumbnail_frame(image, meta["orientation"], held=len(data))
    out.thumbnails = thumbs.write_thumbnails(frame, root, out.item_id or "")
    return frame


def _photo(task: Task, media_type: MediaType, data: bytes, out: Outcome) -> None:
    image = None
    if not media_type.is_raw:
        image = photo.open_image(data)  # raises: an undecodable photo is no item
    meta, notes = photo.read_photo(data, media_type, image)
    media_type = mediatypes.refine_tiff(media_type, meta["camera"]["make"], Path(task.path))
    out.kind, out.mime, out.metadata = "photo", media_type.mime, meta
    _check_extension(task, media_type, out)
    for note in notes:
        out.problem("extract", note, "warning")
    if image is None and not thumbs.thumbs_exist(Path(task.root), out.item_id or ""):
        image = photo.embedded_preview(data)
    try:
        frame = _photo_frame(task, image, data, meta, out)
    except MediaError as exc:  # too large to decode: the item stays, without thumbnails
        out.problem(exc.stage, str(exc), "warning")
        return
    except photo.PIL_ERRORS as exc:
        if not media_type.is_raw:
            raise MediaError("decode", f"image data unreadable: {exc}") from None
        out.problem("thumbnail", f"embedded preview unreadable: {exc}", "warning")
        return
    if frame is not None:
        find_in_frames(task, [(None, frame)], shown_size(image or frame, meta), out)


def _video(task: Task, media_type: MediaType, out: Outcome) -> None:
    path = Path(task.path)
    notes: list[str] = []
    meta = video.normalise(video.probe(path), notes)
    if meta["duration"] is None and meta["video"]:
        meta["duration"] = video.packet_duration(path)
    kind = "video" if meta["video"] else "audio"
    _check_extension(task, media_type, out)
    out.kind, out.mime, out.metadata = kind, media_type.mime, meta
    with open(path, "rb") as fh:
        meta["xmp"] = photo.xmp_of(fh.read(settings.value("video_xmp_scan_bytes")), notes)
    for note in notes:
        out.problem("extract", note, "warning")
    if kind == "video":
        try:
            out.thumbnails, frames = posters.make_posters(
                path, meta["duration"], Path(task.root), out.item_id or "", meta.get("start"))
        except MediaError as exc:
            out.problem(exc.stage, str(exc))  # the item stays, without a poster
            return
        if frames:  # its width and height are upright already: no orientation
            find_in_frames(task, list(frames), shown_size(frames[0][1], meta), out)


def _sidecars(task: Task, out: Outcome) -> None:
    for name, _size, _mtime in task.sidecars:
        path = Path(name)
        notes: list[str] = []
        try:
            if path.suffix.lower() == ".xmp":
                out.metadata["sidecar_xmp"] = sidecar.read_xmp_sidecar(path, notes)
            else:
                cues = sidecar.read_subtitles(path, notes)
                out.metadata.setdefault("transcript", []).extend(cues)
                out.metadata.setdefault("transcript_files", []).append(path.name)
        except MediaError as exc:
            out.problem(exc.stage, str(exc))
        for note in notes:
            out.problem("sidecar", f"{path.name}: {note}", "warning")


def examine(task: Task) -> Outcome:
    """Identify, extract and make thumbnails for one file; never raises for bad input.
    A face-only task (`task.scan`) reads its item's thumbnails instead of the file.

    Warnings the libraries print about a file (Pillow's "Corrupt EXIF data"…) are
    recorded against it instead of going to the terminal.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_thumbnail_faces(task) if task.scan else _examine(task)
    for message in dict.fromkeys(str(w.message) for w in caught[:20]):
        out.problem("extract", f"reader warning: {message}", "warning")
    return out


def _examine(task: Task) -> Outcome:
    out = Outcome(task)
    try:
        media_type, data = _identify(task, out)
        if media_type.kind == "photo":
            _photo(task, media_type, data or b"", out)
        else:
            _video(task, media_type, out)
        _sidecars(task, out)
        notes: list[str] = []
        dates.file_time(task.mtime_ns, dt.UTC, notes)  # the last resort of resolution
        for note in notes:
            out.problem("extract", note, "warning")
    except ArchiveWriteError as exc:
        out.fatal = str(exc)
    except MediaError as exc:
        out.item_id = None
        out.problem(exc.stage, str(exc))
    except OSError as exc:
        out.item_id = None
        out.problem("read", f"cannot read: {exc.strerror or exc}")
    except MemoryError:
        out.item_id = None
        out.problem(WORKER_STAGE, "ran out of memory reading this file; the next ingest "
                    "tries again")
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a batch
        if task.debug:
            raise
        out.item_id = None
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        out.problem("extract", f"internal error ({detail}); rerun with --debug to see it")
    return out

