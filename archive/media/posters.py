"""Video posters and frame strips, cut with ffmpeg (commands built with ffmpeg-python).

The poster is the frame at 10% of the video; the strip shows ten evenly spaced
moments of the whole of it. Cameras write long GOPs (x264: a key frame every 250
frames, 10 s at 25 fps), so a key frame is rarely near a moment and every frame
between the key frame and the moment must be decoded. That decoding is the cost:

- each strip moment may be a quarter of its slice early or late (`SLACK`): a key
  frame in that window is taken as it is, else decoding stops at the window's start;
- one decoder runs per key frame that moments start from (ffprobe finds them by
  seeking, reading a few packets) and takes its moments on its way; where a seek
  lands on no key frame (MPEG-TS), each moment gets a seek of its own;
- frames no other frame is predicted from are never decoded (`skip_frame noref`);
- the decoders are shared out among as many ffmpeg processes as there are CPUs,
  each decoding on one thread: H.264's frame threads kept two cores only 1.4
  times busy (a frame waits for the one it is predicted from), two processes
  keep both busy and spend less CPU time.

On the benchmark's 60 s clip exact moments took 4.3 times the reference (one
ffprobe and one seek), these 2.6 (CPU time: 4.4 and 3.1); in one process 3.2
times, in two 2.5 on two cores. A dark poster (a black
leader, a fade) is replaced by the first bright moment, else by the first bright
frame of the video.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
from PIL import Image, ImageStat

from archive import settings
from archive.errors import MediaError
from archive.media import tools
from archive.media.thumbs import _write_atomic, make_thumbnails

DARK = 24  # mean luma below this (of 255) counts as a black frame
SLACK = 0.25  # of a slice: how far a strip frame may be from its moment
WINDOW = 1.0  # seconds each decoder may read past its last frame
EPSILON = 0.0005  # seconds: timestamps printed by ffprobe are rounded to microseconds


@dataclass(frozen=True)
class Moment:
    name: str  # the frame's file stem: "p" for the poster, "f00"… for the strip
    time: float  # seconds from the start of the video
    slack: float  # how much earlier or later its frame may be

    @property
    def earliest(self) -> float:
        return max(0.0, self.time - self.slack)

    @property
    def latest(self) -> float:
        return self.time + self.slack


@dataclass(frozen=True)
class Cut:
    """Where one moment's frame comes from: a decoder seeks to `seek` (a key frame,
    or the moment itself when no key frame is known) and the first frame at or
    after `at` is taken (seconds from the start of the video)."""

    moment: Moment
    seek: float
    at: float
    keyed: bool  # `seek` is a known key frame, which other cuts may decode from too


def strip_relpath(item_id: str) -> str:
    return f"thumbs/{item_id[:2]}/{item_id}-strip.jpg"


def frame_times(duration: float | None,
                count: int = settings.value("strip_frames")) -> list[float]:
    """Evenly spaced points, each in the middle of its slice of the video."""
    if not duration or duration <= 0:
        return [0.0]
    return [round(duration * (i + 0.5) / count, 3) for i in range(count)]


def poster_time(duration: float | None) -> float:
    return round(duration * 0.1, 3) if duration and duration > 0 else 0.0


def moments(duration: float | None) -> list[Moment]:
    """The poster's and the strip's moments, in time order (without a duration, only
    the poster's: the first frame, which is then the strip too)."""
    wanted = [Moment("p", poster_time(duration), 0.0)]  # the poster: that very frame
    if not duration or duration <= 0:
        return wanted
    slack = round(duration / settings.value("strip_frames") * SLACK, 3)
    wanted += [Moment(f"f{i:02d}", t, slack) for i, t in enumerate(frame_times(duration))]
    return sorted(wanted, key=lambda m: (m.time, m.name))


def key_frames(path: Path, times: list[float], start: float, timeout: float
               ) -> list[float | None]:
    """For each time, the time of the key frame at or before it (where a seek lands),
    or None where a seek lands elsewhere (MPEG-TS) or ffprobe cannot say.

    ffprobe seeks to each time and reads one packet: a few packets, not the file.
    """
    intervals = ",".join(f"{start + t:.6f}%+#1" for t in times)
    try:
        out = tools.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                         "-read_intervals", intervals, "-show_entries",
                         "packet=pts_time,flags", "-of", "csv=p=0", str(path)], "poster",
                        timeout)
    except MediaError:
        return [None] * len(times)
    found: list[float | None] = []
    for line in out.decode("ascii", "replace").split():
        stamp, _, flags = line.partition(",")
        try:
            found.append(float(stamp) - start if "K" in flags else None)
        except ValueError:
            found.append(None)
    return found if len(found) == len(times) else [None] * len(times)


def cut(moment: Moment, before: float | None, before_latest: float | None) -> Cut:
    """The cheapest frame for a moment, given the key frames at or before its time
    and at or before the end of its window."""
    known = [k for k in (before, before_latest) if k is not None]
    inside = [k for k in known if moment.earliest <= k <= moment.latest]
    if inside:
        key = min(inside, key=lambda k: abs(k - moment.time))
        return Cut(moment, key, key, True)
    if before is not None:
        return Cut(moment, max(0.0, min(before, moment.earliest)), moment.earliest, True)
    return Cut(moment, moment.earliest, moment.earliest, False)


def plan(path: Path, wanted: list[Moment], start: float, timeout: float) -> list[list[Cut]]:
    """The cuts grouped by the key frame they decode from: one decoder per group."""
    keys = key_frames(path, [t for m in wanted for t in (m.time, m.latest)], start, timeout)
    groups: dict[object, list[Cut]] = {}
    taken = set()
    for n, moment in enumerate(wanted):
        chosen = cut(moment, keys[2 * n], keys[2 * n + 1])
        group = round(chosen.seek, 3) if chosen.keyed else moment.name
        if (group, round(chosen.at, 3)) in taken:
            continue  # the frame another moment takes: one picture once
        taken.add((group, round(chosen.at, 3)))
        groups.setdefault(group, []).append(chosen)
    return list(groups.values())


def _scaled(stream: ffmpeg.nodes.FilterableStream) -> ffmpeg.nodes.FilterableStream:
    # Frames as large as the largest thumbnail made from them, no larger.
    side = settings.value("thumbnail_large")
    return stream.filter("scale", f"min({side},iw)", f"min({side},ih)",
                         force_original_aspect_ratio="decrease")


def _group_outputs(path: Path, group: list[Cut], outdir: Path, threads: int | None
                   ) -> list[ffmpeg.nodes.OutputStream]:
    """One seek, one decoder; each cut takes the first frame at or after its time (one
    frame may serve two close moments). Frames skipped by `noref` are never needed by
    another: the timestamps stay right (`bidir` would skip B-frames that x264 and x265
    predict others from, and shifted the pictures against their times)."""
    seek = min(c.seek for c in group)
    last = max(c.moment.latest for c in group)
    options = {"threads": threads} if threads else {}
    source = ffmpeg.input(str(path), ss=f"{seek:.6f}", t=f"{last - seek + WINDOW:.3f}",
                          skip_frame="noref", **options).video
    branches = source.split() if len(group) > 1 else None
    outputs = []
    for n, c in enumerate(group):
        stream = branches[n] if branches is not None else source
        picked = stream.filter("select", f"gte(t,{c.at - seek - EPSILON:.6f})"
                                         "*isnan(prev_selected_t)")
        outputs.append(_scaled(picked).output(str(outdir / f"{c.moment.name}.ppm"),
                                              vframes=1))
    return outputs


def _span(group: list[Cut]) -> float:
    """Seconds of video a group's decoder reads: from its seek to its last frame."""
    return max(c.at for c in group) - min(c.seek for c in group)


def share_out(groups: list[list[Cut]], parts: int) -> list[list[list[Cut]]]:
    """The groups dealt to at most `parts` decoders, the longest first to the least
    loaded, so the decoders finish about together."""
    shares: list[list[list[Cut]]] = [[] for _ in range(max(1, min(parts, len(groups))))]
    load = [0.0] * len(shares)
    for group in sorted(groups, key=_span, reverse=True):
        least = load.index(min(load))
        shares[least].append(group)
        load[least] += _span(group)
    return [share for share in shares if share]


def grab_commands(path: Path, groups: list[list[Cut]], outdir: Path,
                  parts: int = os.cpu_count() or 1) -> list[list[str]]:
    """ffmpeg argument lists, to run side by side, writing one PPM per moment (p.ppm,
    f00.ppm…) between them.

    Every input is limited (`t`) to a short window after its last frame: ffmpeg
    would otherwise keep reading each input to the end of the file.
    """
    shares = share_out(groups, parts)
    threads = 1 if len(shares) > 1 else None  # the processes keep the cores busy
    commands = []
    for share in shares:
        outputs = [out for group in share
                   for out in _group_outputs(path, group, outdir, threads)]
        commands.append(ffmpeg.merge_outputs(*outputs)
                        .global_args("-v", "error", "-nostdin").compile())
    return commands


def _load(outdir: Path) -> dict[str, Image.Image]:
    loaded = {}
    for file in sorted(outdir.glob("*.ppm")):
        with Image.open(file) as im:
            loaded[file.stem] = im.convert("RGB")
    return loaded


TimedFrame = tuple[float, Image.Image]  # seconds from the start of the video, frame


def _timed(loaded: dict[str, Image.Image], duration: float | None) -> list[TimedFrame]:
    """Every frame grabbed, with its moment's time, in time order."""
    times = {m.name: m.time for m in moments(duration)}
    return sorted(((times[name], frame) for name, frame in loaded.items() if name in times),
                  key=lambda pair: pair[0])


def grab_frames(path: Path, duration: float | None, start: float = 0.0,
                timeout: float = settings.value("poster_timeout")
                ) -> tuple[Image.Image | None, list[Image.Image], list[TimedFrame]]:
    """The poster frame (None if ffmpeg gave none) and the strip frames, upright; then
    all of them with their times.

    Raises MediaError when ffmpeg fails, times out or gives no frame at all.
    """
    deadline = time.monotonic() + timeout
    keyframes_timeout = min(settings.value("keyframe_timeout"), timeout / 4)
    groups = plan(path, moments(duration), start, keyframes_timeout)
    with tempfile.TemporaryDirectory(prefix="ea-frames-") as tmp:
        outdir = Path(tmp)
        tools.run_all(grab_commands(path, groups, outdir), "poster",
                      max(1.0, deadline - time.monotonic()))
        loaded = _load(outdir)
    timed = _timed(loaded, duration)
    poster = loaded.pop("p", None)
    frames = [loaded[name] for name in sorted(loaded)]
    if poster is None and not frames:
        raise MediaError("poster", "ffmpeg produced no frame")
    return poster, frames, timed


def first_bright_frame(path: Path, timeout: float) -> Image.Image | None:
    """The first frame of the video that is not dark, decoding from the start; None
    when there is none or the time runs out (the poster then stays as it is)."""
    with tempfile.TemporaryDirectory(prefix="ea-scan-") as tmp:
        target = Path(tmp) / "bright.ppm"
        # yuvj420p: full-range luma, the scale _brightness measures on.
        measured = (_scaled(ffmpeg.input(str(path), skip_frame="noref").video)
                    .filter("format", "yuvj420p").filter("signalstats")
                    .filter("metadata", mode="select", key="lavfi.signalstats.YAVG",
                            value=DARK, function="greater"))
        command = (measured.output(str(target), vframes=1)
                   .global_args("-v", "error", "-nostdin").compile())
        try:
            tools.run(command, "poster", timeout)
        except MediaError:
            return None
        if not target.is_file():
            return None
        with Image.open(target) as im:
            return im.convert("RGB")


def _brightness(frame: Image.Image) -> float:
    return ImageStat.Stat(frame.convert("L").reduce(4)).mean[0]


def pick_poster(frames: list[Image.Image]) -> Image.Image:
    """The first frame that is not dark, else the brightest."""
    for frame in frames:
        if _brightness(frame) >= DARK:
            return frame
    return max(frames, key=_brightness)


def choose_poster(path: Path, poster: Image.Image | None, frames: list[Image.Image],
                  timeout: float) -> Image.Image:
    """The poster frame unless it is dark; then the first bright moment of the strip;
    then the first bright frame of the whole video; the brightest when all are dark."""
    candidates = [f for f in (poster, *frames) if f is not None]
    chosen = pick_poster(candidates)
    if _brightness(chosen) >= DARK or timeout <= 0:
        return chosen
    # The first bright frame of a dark video (one dark throughout is not retried).
    scan_timeout = min(settings.value("bright_frame_timeout"), timeout)
    return first_bright_frame(path, scan_timeout) or chosen


def _strip(frames: list[Image.Image]) -> Image.Image:
    height = settings.value("strip_height")
    scaled = [f.resize((max(1, round(f.width * height / f.height)), height),
                       Image.Resampling.BILINEAR) for f in frames]
    strip = Image.new("RGB", (sum(f.width for f in scaled), height))
    x = 0
    for f in scaled:
        strip.paste(f, (x, 0))
        x += f.width
    return strip


def make_posters(path: Path, duration: float | None, root: Path, item_id: str,
                 start: float | None = None
                 ) -> tuple[dict[str, dict[str, object]], list[TimedFrame]]:
    """Poster thumbnails (small, large) and the frame strip of a video (name -> facts),
    and the poster's and strip's frames with their times (for the face stage).

    `start` is the container's start time (ffprobe's format start_time), which
    seeks count from. Raises MediaError when ffmpeg fails or times out.
    """
    deadline = time.monotonic() + settings.value("poster_timeout")
    poster, frames, timed = grab_frames(path, duration, start or 0.0)
    frames = frames or [poster]
    poster = choose_poster(path, poster, frames, deadline - time.monotonic())
    thumbs = make_thumbnails(poster, 1, root, item_id)
    strip = _strip(frames)
    rel = strip_relpath(item_id)
    _write_atomic(strip, root / rel)
    thumbs["strip"] = {"path": rel, "width": strip.width, "height": strip.height,
                       "frames": len(frames)}
    return thumbs, timed
