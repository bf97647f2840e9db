"""The face stage in a worker: faces of the frames a file's examination decoded, or of
an unchanged item's stored thumbnails when the item was ingested without the stage.

Read from thumbnails, the item's file is never opened (it may be unreadable now, or
offline): a photo's faces come from its large thumbnail, which is the very frame the
stage reads on a first ingest, JPEG-compressed; a video's from its poster (large) and
the frames of its strip. The poster carries no time: a dark poster was replaced by a
later frame, which the thumbnail does not say. A strip frame's time is its moment's
when the strip holds every moment (else which are missing is not known).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from archive.ingest.tasks import Outcome, Task
from archive.media import faces, posters
from archive.media.extract import photo
from archive.model import Thumbnail, UnscannedItem

Frames = list[tuple[float | None, Image.Image]]  # (seconds into a video, upright frame)


def shown_size(image: Image.Image, meta: dict[str, Any]) -> tuple[int, int]:
    """The original's size as displayed: its pixels, EXIF orientation applied (a video's
    metadata has none); the decoded image's size when the metadata has no size."""
    w, h = (meta.get("width"), meta.get("height"))
    if not (isinstance(w, int) and isinstance(h, int)):
        w, h = image.size  # a raw's embedded preview
    return (h, w) if meta.get("orientation") in (5, 6, 7, 8) else (w, h)


def find_in_frames(task: Task, frames: Frames, shown: tuple[int, int], out: Outcome
                   ) -> None:
    """Faces of frames already decoded, boxed in `shown` pixels, into `out.faces`; dlib
    failing costs the faces (a warning), never the item."""
    models = faces.load_models() if task.faces else None
    if models is None:
        return
    try:
        out.faces = [face for at, frame in frames
                     for face in faces.find_faces(models, frame, shown, at)]
    except (RuntimeError, ValueError) as exc:  # dlib raises RuntimeError
        out.problem("faces", f"faces not read: {exc}", "warning")


def _open(root: Path, thumb: Thumbnail) -> Image.Image:
    with Image.open(root / thumb.path) as image:
        return image.convert("RGB")


def _strip_frames(strip: Image.Image, poster: Image.Image, duration: float | None
                  ) -> Frames:
    """The frames side by side in a strip, each as wide as the poster's shape makes it
    at the strip's height; none when the strip does not divide into such frames."""
    width = strip.height * poster.width / poster.height
    count = max(1, round(strip.width / width))
    if strip.width % count:
        return []
    times = posters.frame_times(duration)
    step = strip.width // count
    return [(times[n] if count == len(times) else None,
             strip.crop((n * step, 0, (n + 1) * step, strip.height)))
            for n in range(count)]


def _thumbnail_frames(item: UnscannedItem, root: Path) -> Frames:
    """The item's frames to read faces from, upright: its large thumbnail (a video's
    poster), then a video's strip frames.

    Raises OSError or a Pillow error when a thumbnail cannot be read.
    """
    large = _open(root, item.thumbnails["large"])
    if item.kind != "video":
        return [(None, large)]
    strip = item.thumbnails.get("strip")
    if strip is None:
        return [(None, large)]
    return [(None, large),
            *_strip_frames(_open(root, strip), large, item.metadata.get("duration"))]


def read_thumbnail_faces(task: Task) -> Outcome:
    """The faces of the task's unchanged item (`task.scan`), from its stored thumbnails;
    a thumbnail that cannot be read leaves the item unread (a warning), for the next
    ingest to try again."""
    assert task.scan is not None
    out = Outcome(task, item_id=task.scan.id)
    try:
        frames = _thumbnail_frames(task.scan, Path(task.root))
    except photo.PIL_ERRORS as exc:
        out.problem("faces", f"faces not read: thumbnail unreadable: {exc}", "warning")
        return out
    find_in_frames(task, frames, shown_size(frames[0][1], task.scan.metadata), out)
    return out
