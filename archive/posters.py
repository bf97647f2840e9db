"""Video posters and frame strips, cut with ffmpeg (commands built with ffmpeg-python).

One ffmpeg run opens the file once per frame wanted and seeks on input: the
poster seeks accurately to 10% of the video; each of the strip's evenly
spaced points takes the key frame at or before it (no decoding between key
frames), so the whole strip costs about one accurate seek. A dark poster
(a fade-in, a black leader) is replaced by the first bright strip frame.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ffmpeg
from PIL import Image, ImageStat

from . import tools
from .errors import MediaError
from .thumbs import _write_atomic, make_thumbnails

STRIP_FRAMES = 10
STRIP_HEIGHT = 90
FRAME_LONG_SIDE = 1280
POSTER_TIMEOUT = 60.0
DARK = 24  # mean luma below this (of 255) counts as a black frame


def strip_relpath(item_id: str) -> str:
    return f"thumbs/{item_id[:2]}/{item_id}-strip.jpg"


def frame_times(duration: float | None, count: int = STRIP_FRAMES) -> list[float]:
    """Evenly spaced points, each in the middle of its slice of the video."""
    if not duration or duration <= 0:
        return [0.0]
    return [round(duration * (i + 0.5) / count, 3) for i in range(count)]


def poster_time(duration: float | None) -> float:
    return round(duration * 0.1, 3) if duration and duration > 0 else 0.0


def _output(stream: ffmpeg.nodes.FilterableStream, target: Path) -> ffmpeg.nodes.OutputStream:
    scaled = stream.video.filter(
        "scale", f"min({FRAME_LONG_SIDE},iw)", f"min({FRAME_LONG_SIDE},ih)",
        force_original_aspect_ratio="decrease")
    # passthrough: keep the key frame even though its time is before the seek point.
    return scaled.output(str(target), vframes=1, fps_mode="passthrough")


def grab_command(path: Path, duration: float | None, outdir: Path) -> list[str]:
    """The ffmpeg arguments writing p.ppm (the poster) and f00.ppm… (the strip).

    Every input is limited (`t`) to a short window after its seek point: ffmpeg
    would otherwise keep reading each input to the end of the file.
    """
    window = 1.0
    poster = ffmpeg.input(str(path), ss=poster_time(duration), t=window)
    outputs = [_output(poster, outdir / "p.ppm")]
    for i, t in enumerate(frame_times(duration)):
        # The key frame at or before t, decoding nothing else.
        stream = ffmpeg.input(str(path), ss=t, t=window, noaccurate_seek=None,
                              skip_frame="nokey", threads=1)
        outputs.append(_output(stream, outdir / f"f{i:02d}.ppm"))
    return ffmpeg.merge_outputs(*outputs).global_args("-v", "error", "-nostdin").compile()


def grab_frames(path: Path, duration: float | None, timeout: float = POSTER_TIMEOUT
                ) -> tuple[Image.Image | None, list[Image.Image]]:
    """The poster frame (None if ffmpeg gave none) and the strip frames, upright.

    Raises MediaError when ffmpeg fails, times out or gives no frame at all.
    """
    with tempfile.TemporaryDirectory(prefix="ea-frames-") as tmp:
        outdir = Path(tmp)
        tools.run(grab_command(path, duration, outdir), "poster", timeout)
        loaded = {}
        for file in sorted(outdir.glob("*.ppm")):
            with Image.open(file) as im:
                loaded[file.stem] = im.convert("RGB")
    poster = loaded.pop("p", None)
    frames = [loaded[name] for name in sorted(loaded)]
    if poster is None and not frames:
        raise MediaError("poster", "ffmpeg produced no frame")
    return poster, frames


def _brightness(frame: Image.Image) -> float:
    return ImageStat.Stat(frame.convert("L").reduce(4)).mean[0]


def pick_poster(frames: list[Image.Image]) -> Image.Image:
    """The first frame that is not dark, else the brightest."""
    for frame in frames:
        if _brightness(frame) >= DARK:
            return frame
    return max(frames, key=_brightness)


def _strip(frames: list[Image.Image]) -> Image.Image:
    scaled = [f.resize((max(1, round(f.width * STRIP_HEIGHT / f.height)), STRIP_HEIGHT),
                       Image.Resampling.BILINEAR) for f in frames]
    strip = Image.new("RGB", (sum(f.width for f in scaled), STRIP_HEIGHT))
    x = 0
    for f in scaled:
        strip.paste(f, (x, 0))
        x += f.width
    return strip


def make_posters(path: Path, duration: float | None, root: Path,
                 item_id: str) -> dict[str, dict[str, object]]:
    """Poster thumbnails (small, large) and the frame strip of a video; name -> facts."""
    poster, frames = grab_frames(path, duration)
    frames = frames or [poster]
    if poster is None or _brightness(poster) < DARK:
        poster = pick_poster([f for f in (poster, *frames) if f is not None])
    thumbs = make_thumbnails(poster, 1, root, item_id)
    strip = _strip(frames)
    rel = strip_relpath(item_id)
    _write_atomic(strip, root / rel)
    thumbs["strip"] = {"path": rel, "width": strip.width, "height": strip.height,
                       "frames": len(frames)}
    return thumbs
