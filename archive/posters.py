"""Video posters and frame strips, cut with ffmpeg (commands built with ffmpeg-python).

One ffmpeg run seeks to N evenly spaced points (seek on input, key frames
only), so the cost is N small decodes rather than decoding the video. The
first frame that is not dark becomes the poster; all of them make the strip.
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


def _grab_command(path: Path, times: list[float], outdir: Path) -> list[str]:
    outputs = []
    for i, t in enumerate(times):
        stream = ffmpeg.input(str(path), ss=t, skip_frame="nokey", noaccurate_seek=None)
        scaled = stream.video.filter(
            "scale", f"min({FRAME_LONG_SIDE},iw)", f"min({FRAME_LONG_SIDE},ih)",
            force_original_aspect_ratio="decrease")
        outputs.append(scaled.output(str(outdir / f"f{i:02d}.png"), vframes=1))
    return ffmpeg.merge_outputs(*outputs).global_args("-v", "error", "-nostdin").compile()


def grab_frames(path: Path, times: list[float], timeout: float = POSTER_TIMEOUT
                ) -> list[Image.Image]:
    """Frames at the given times, upright (ffmpeg applies the rotation), in order.

    Raises MediaError when ffmpeg fails, times out or gives no frame.
    """
    with tempfile.TemporaryDirectory(prefix="ea-frames-") as tmp:
        outdir = Path(tmp)
        tools.run(_grab_command(path, times, outdir), "poster", timeout)
        frames = []
        for file in sorted(outdir.glob("f*.png")):
            with Image.open(file) as im:
                frames.append(im.convert("RGB"))
    if not frames:
        raise MediaError("poster", "ffmpeg produced no frame")
    return frames


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
    frames = grab_frames(path, frame_times(duration))
    thumbs = make_thumbnails(pick_poster(frames), 1, root, item_id)
    strip = _strip(frames)
    rel = strip_relpath(item_id)
    _write_atomic(strip, root / rel)
    thumbs["strip"] = {"path": rel, "width": strip.width, "height": strip.height,
                       "frames": len(frames)}
    return thumbs
