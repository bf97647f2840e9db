from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from archive.errors import MediaError
from archive.ingest.examine import Task, examine
from archive.media.extract.sidecar import parse_subtitles
from archive.media.extract.video import parse_iso6709
from archive.media.posters import (
    Cut,
    Moment,
    cut,
    grab_commands,
    moments,
    pick_poster,
    plan,
    share_out,
)
from archive.media.tools import run_all

from helpers.media import key_frame_times, make_video

# Slow: every test encodes videos with ffmpeg and cuts posters and strips.
pytestmark = pytest.mark.slow

META = {"title": "Opening talk é", "artist": "Barry Guckian", "comment": "recorded live",
        "creation_time": "2019-03-19T10:42:00Z"}


def run(path: Path, root: Path, sidecars: tuple = ()) -> object:
    st = path.stat()
    return examine(Task(str(path), path.name, st.st_size, st.st_mtime_ns, sidecars, str(root)))


@pytest.mark.parametrize(("suffix", "mime", "codec_args"), [
    ("mp4", "video/mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    ("mov", "video/quicktime", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    ("mkv", "video/x-matroska", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    ("webm", "video/webm", ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"]),
    ("avi", "video/x-msvideo", ["-c:v", "mjpeg", "-c:a", "pcm_s16le"]),
])
def test_every_container(tmp_path: Path, suffix: str, mime: str, codec_args: list) -> None:
    video = make_video(tmp_path / f"talk.{suffix}", seconds=2, metadata=META,
                       extra=codec_args)
    out = run(video, tmp_path / "arch")
    assert out.problems == []
    meta = out.metadata
    assert (out.kind, out.mime) == ("video", mime)
    assert meta["duration"] == pytest.approx(2.0, abs=0.15)
    assert (meta["width"], meta["height"]) == (320, 240)
    assert meta["video"]["fps"] == pytest.approx(25.0)
    assert meta["audio"]["sample_rate"] in (44100, 48000)
    assert meta["tags"]["title"] == "Opening talk é"
    assert meta["tags"]["artist"] == "Barry Guckian"
    if suffix != "avi":  # the AVI muxer writes no creation date
        assert meta["taken"] == "2019-03-19T10:42:00+00:00"
    assert set(out.thumbnails) == {"small", "large", "strip"}
    with Image.open(tmp_path / "arch" / out.thumbnails["strip"]["path"]) as strip:
        assert strip.height == 90
        assert strip.width > 4 * 120  # several frames side by side


def test_rotation_and_location(tmp_path: Path) -> None:
    plain = make_video(tmp_path / "plain.mp4", seconds=1, audio=False,
                       metadata={"location": "+43.7696+011.2558/"})
    rotated = tmp_path / "phone.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(plain), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(rotated)], check=True, timeout=60)
    out = run(rotated, tmp_path / "arch")
    meta = out.metadata
    assert meta["rotation"] in (90, 270)
    assert (meta["width"], meta["height"]) == (240, 320)  # as displayed
    assert meta["gps"] == {"lat": 43.7696, "lon": 11.2558, "alt": None}
    assert out.thumbnails["large"]["width"] < out.thumbnails["large"]["height"]


def test_poster_skips_a_black_first_second(tmp_path: Path) -> None:
    video = make_video(tmp_path / "fade.mp4", seconds=4, audio=False,
                       extra=["-vf", "fade=in:st=0:d=1.2"])
    out = run(video, tmp_path / "arch")
    with Image.open(tmp_path / "arch" / out.thumbnails["large"]["path"]) as poster:
        mean = ImageStat.Stat(poster.convert("L")).mean[0]
    assert mean > 40


def luma(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L")).mean[0]


def strip_tiles(root: Path, thumbnails: dict) -> list[Image.Image]:
    """The strip cut back into its frames (all of one width)."""
    facts = thumbnails["strip"]
    with Image.open(root / facts["path"]) as strip:
        width = strip.width // facts["frames"]
        return [strip.crop((i * width, 0, (i + 1) * width, strip.height))
                for i in range(facts["frames"])]


# A moving white bar under the picture tells the time of any frame: its left edge is
# at t / duration * (width - bar) pixels.
CLOCK = ("testsrc2=size=320x180:rate=25:duration={d},drawbox=y=ih-40:h=40:color=black:t=fill"
         "[bg];color=white:size=8x40:rate=25:duration={d}[bar];"
         "[bg][bar]overlay=x='t/{d}*(W-w)':y=H-h:eval=frame[out0]")
LONG_GOP = {
    "h264": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
             "-x265-params", "log-level=none"],
}


def bar_time(tile: Image.Image, duration: float) -> float:
    """When a strip frame of a CLOCK video was taken, from where its bar is."""
    band = tile.convert("L").crop((0, tile.height - 16, tile.width, tile.height - 4))
    columns = [sum(band.getpixel((x, y)) for y in range(band.height)) for x in
               range(band.width)]
    lit = [x for x, total in enumerate(columns) if total > 128 * band.height]
    scale = tile.width / 320
    left = lit[0] / scale
    return left / (320 - 8) * duration


@pytest.mark.parametrize("codec", sorted(LONG_GOP))
def test_strip_shows_evenly_spaced_moments_of_a_long_gop_video(tmp_path: Path,
                                                               codec: str) -> None:
    duration = 30.0
    video = make_video(tmp_path / "clip.mp4", seconds=duration, audio=True,
                       source=CLOCK.format(d=duration), extra=LONG_GOP[codec])
    assert key_frame_times(video)[:3] == [0.0, 10.0, 20.0]  # as x264/x265 write by default
    out = run(video, tmp_path / "arch")
    assert out.problems == []
    tiles = strip_tiles(tmp_path / "arch", out.thumbnails)
    assert len(tiles) == 10
    # Each frame lies in the middle half of its tenth of the video (the bar is read to
    # 0.2 s), so consecutive frames are distinct moments 3 s apart on average.
    step = duration / 10
    times = [bar_time(t, duration) for t in tiles]
    assert times == pytest.approx([step * (i + 0.5) for i in range(10)], abs=step / 4 + 0.25)
    assert times == sorted(set(times))


BLACK_INTRO = {
    # black leader then a hard cut (x264 puts a key frame on the cut)
    "cut": ("color=black:size=640x360:rate=25:duration=1.5[a];"
            "testsrc2=size=640x360:rate=25:duration=10.5[b];[a][b]concat=n=2:v=1:a=0[out0]",
            []),
    # black, then a fade that no key frame marks
    "fade": ("testsrc2=size=640x360:rate=25:duration=12", ["-vf", "fade=in:st=1.5:d=1"]),
}


@pytest.mark.parametrize("intro", sorted(BLACK_INTRO))
def test_black_intro_gives_a_bright_poster_and_strip(tmp_path: Path, intro: str) -> None:
    source, extra = BLACK_INTRO[intro]
    video = make_video(tmp_path / "summary.mp4", seconds=12, source=source, extra=extra)
    out = run(video, tmp_path / "arch")
    assert out.problems == []
    for size in ("small", "large"):
        with Image.open(tmp_path / "arch" / out.thumbnails[size]["path"]) as poster:
            assert luma(poster) > 40, size
    tiles = strip_tiles(tmp_path / "arch", out.thumbnails)
    assert [luma(t) > 40 for t in tiles[3:]] == [True] * 7  # from 4.2 s on: the picture


def test_poster_is_found_when_only_a_short_moment_is_not_black(tmp_path: Path) -> None:
    # 19.4 s of black then a title card: no strip moment falls on the card.
    source = ("color=black:size=320x240:rate=25:duration=19.4[a];"
              "testsrc2=size=320x240:rate=25:duration=0.6[b];[a][b]concat=n=2:v=1:a=0[out0]")
    video = make_video(tmp_path / "credits.mp4", seconds=20, source=source, audio=False)
    out = run(video, tmp_path / "arch")
    with Image.open(tmp_path / "arch" / out.thumbnails["large"]["path"]) as poster:
        assert luma(poster) > 40


def test_phone_video_rotated_in_a_mov(tmp_path: Path) -> None:
    """A portrait phone clip: landscape frames, a display matrix turning them upright."""
    coded = make_video(tmp_path / "coded.mov", seconds=14, size="640x360",
                       metadata={"com.apple.quicktime.make": "Apple",
                                 "com.apple.quicktime.model": "iPhone 12"},
                       extra=["-vf", "fade=in:st=0:d=2", "-movflags", "use_metadata_tags"])
    phone = tmp_path / "IMG_0001.MOV"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(coded), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", "-movflags", "use_metadata_tags",
                    str(phone)], check=True, timeout=60)
    out = run(phone, tmp_path / "arch")
    assert out.problems == []
    assert (out.metadata["width"], out.metadata["height"]) == (360, 640)
    assert out.metadata["camera"]["model"] == "iPhone 12"
    large = out.thumbnails["large"]
    assert large["width"] < large["height"]
    tiles = strip_tiles(tmp_path / "arch", out.thumbnails)
    assert all(t.width < t.height for t in tiles)
    assert all(luma(t) > 40 for t in tiles[2:])


def test_pick_poster_prefers_the_first_bright_frame() -> None:
    dark, grey, bright = (Image.new("RGB", (8, 8), (v, v, v)) for v in (5, 100, 200))
    assert pick_poster([dark, grey, bright]) is grey
    assert pick_poster([dark, Image.new("RGB", (8, 8), (10, 10, 10))]).getpixel((0, 0))[0] == 10


MOMENT = Moment("f02", 15.0, 1.5)


@pytest.mark.parametrize(("before", "before_latest", "expected"), [
    (10.0, 10.0, Cut(MOMENT, 10.0, 13.5, True)),    # decode from 10 s to the window's start
    (14.0, 16.0, Cut(MOMENT, 14.0, 14.0, True)),    # key frames inside: the nearer one
    (10.0, 16.4, Cut(MOMENT, 16.4, 16.4, True)),
    (None, None, Cut(MOMENT, 13.5, 13.5, False)),   # no key frame known: a seek of its own
])
def test_cut_takes_a_key_frame_in_its_window_else_decodes_least(
        before: float | None, before_latest: float | None, expected: Cut) -> None:
    assert cut(MOMENT, before, before_latest) == expected


def test_truncated_video_is_kept_or_recorded_never_raised(tmp_path: Path) -> None:
    video = make_video(tmp_path / "long.mp4", seconds=3,
                       extra=["-c:v", "libx264", "-preset", "ultrafast"])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    out = run(cut, tmp_path / "arch")
    assert out.problems, "a truncated video must leave a recorded problem"
    assert out.problems[0].stage in ("probe", "poster")


def test_audio_only_files_are_audio_items(tmp_path: Path) -> None:
    for suffix in ("mp3", "m4a", "wav"):
        path = tmp_path / f"talk.{suffix}"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2",
                        "-metadata", "title=Keynote", str(path)], check=True, timeout=60)
        out = run(path, tmp_path / "arch")
        assert out.kind == "audio", suffix
        assert out.metadata["duration"] == pytest.approx(2.0, abs=0.1)
        assert out.metadata["tags"]["title"] == "Keynote"
        assert out.thumbnails == {}


def test_subtitles_become_the_transcript(tmp_path: Path) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=1)
    vtt = tmp_path / "talk.en.vtt"
    vtt.write_text("WEBVTT\n\n00:00.500 --> 00:02.000\nPéter <b>Keller</b> speaks\n",
                   encoding="utf-8")
    st = vtt.stat()
    out = run(video, tmp_path / "arch", ((str(vtt), st.st_size, st.st_mtime_ns),))
    assert out.metadata["transcript"] == [{"start": 0.5, "end": 2.0,
                                           "text": "Péter Keller speaks"}]


def test_malformed_subtitles_are_recorded_and_the_item_kept(tmp_path: Path) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=1)
    srt = tmp_path / "talk.srt"
    srt.write_text("1\n00:00:01,000 --> soon\nhello\n", encoding="utf-8")
    st = srt.stat()
    out = run(video, tmp_path / "arch", ((str(srt), st.st_size, st.st_mtime_ns),))
    assert out.item_id is not None
    assert [p.stage for p in out.problems] == ["sidecar"]
    assert "bad timing line" in out.problems[0].message


@pytest.mark.parametrize(("text", "cues"), [
    ("1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:01:00,000 --> 00:01:01,000\nBye",
     [(1.0, 2.5, "Hello world"), (60.0, 61.0, "Bye")]),
    ("WEBVTT\nKind: captions\n\nNOTE a comment\n\nid-1\n01:02:03.250 --> 01:02:04.000 "
     "align:start\n<c.yellow>Hi</c> &amp; bye", [(3723.25, 3724.0, "Hi & bye")]),
])
def test_subtitle_parsing(text: str, cues: list) -> None:
    assert [(c["start"], c["end"], c["text"]) for c in parse_subtitles(text)] == cues


THREE_CUES = ("WEBVTT\n\nNOTE made by hand\n\n1\n00:01.000 --> 00:02.000\nFirst\n\n"
              "2\n00:03.000 --> {second}\nSecond\n\n3\n00:05.000 --> 00:06.000\nThird\n")


@pytest.mark.parametrize(("second", "why"), [("00:0x.000", "bad timing line"),
                                             ("00:02.500", "ends before it starts")])
def test_a_bad_cue_is_skipped_and_named_by_its_number(second: str, why: str) -> None:
    notes: list[str] = []
    cues = parse_subtitles(THREE_CUES.format(second=second), "talk.vtt", notes)
    assert [c["text"] for c in cues] == ["First", "Third"]
    assert len(notes) == 1 and notes[0].startswith(f"cue 2: {why}") and "skipped" in notes[0]


def test_a_bad_cue_is_a_warning_and_the_transcript_kept(tmp_path: Path) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=1)
    vtt = tmp_path / "talk.vtt"
    vtt.write_text(THREE_CUES.format(second="soon"), encoding="utf-8")
    st = vtt.stat()
    out = run(video, tmp_path / "arch", ((str(vtt), st.st_size, st.st_mtime_ns),))
    assert [c["text"] for c in out.metadata["transcript"]] == ["First", "Third"]
    assert [(p.stage, p.kind) for p in out.problems] == [("sidecar", "warning")]
    assert out.problems[0].message.startswith("talk.vtt: cue 2: bad timing line")


def test_many_bad_cues_are_counted() -> None:
    bad = "".join(f"{i}\n00:0{i}.000 --> later\nx\n\n" for i in range(1, 9))
    notes: list[str] = []
    cues = parse_subtitles(bad + "9\n00:10.000 --> 00:11.000\nok\n", "a.srt", notes)
    assert [c["text"] for c in cues] == ["ok"]
    assert [n.split(":")[0] for n in notes[:5]] == [f"cue {i}" for i in range(1, 6)]
    assert notes[5:] == ["3 more malformed cues skipped"]


def test_empty_subtitles_are_an_error() -> None:
    with pytest.raises(MediaError, match="no subtitle cues"):
        parse_subtitles("WEBVTT\n\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("+32.0929+034.8620+028.516/", {"lat": 32.0929, "lon": 34.862, "alt": 28.516}),
    ("-33.8688-070.6693/", {"lat": -33.8688, "lon": -70.6693, "alt": None}),
    ("+99.0000+000.0000/", None),
    ("nowhere", None),
])
def test_iso6709(text: str, expected: dict | None) -> None:
    assert parse_iso6709(text) == expected


def test_missing_ffmpeg_is_one_clear_message_and_photos_still_ingest(
        cli, event_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.media import make_jpeg

    make_video(event_dir / "talk.mp4", seconds=1)
    make_jpeg(event_dir / "photo.jpg")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = cli("ingest", "-j", "1", str(event_dir))
    assert out.count("ffprobe, ffmpeg not found") == 1
    assert "apt-get install ffmpeg" in out
    assert "1 added" in out and "1 failed" in out
    report = cli.json("report")
    (error,) = report["errors"]
    assert error["path"].endswith("talk.mp4")
    assert "ffprobe not found on PATH" in error["message"]


def test_subtitles_belong_to_every_encoding_of_a_recording(cli, event_dir: Path) -> None:
    """talk.mp4, talk.mkv and talk.webm are one recording: talk.vtt and talk.en.srt
    beside them belong to all three."""
    make_video(event_dir / "talk.mp4", seconds=1)
    make_video(event_dir / "talk.mkv", seconds=1, size="160x120")
    make_video(event_dir / "talk.webm", seconds=1,
               extra=["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"])
    (event_dir / "talk.vtt").write_text("WEBVTT\n\n00:00.500 --> 00:02.000\nPéter Keller\n",
                                        encoding="utf-8")
    (event_dir / "talk.en.srt").write_text("1\n00:00:03,000 --> 00:00:04,000\nGrazie\n",
                                           encoding="utf-8")
    cli("ingest", "-j", "1", str(event_dir))

    def transcripts() -> dict[str, list[str]]:
        return {Path(i["path"]).name: sorted(c["text"] for c in i["transcript"])
                for i in cli.json("list")}

    both = ["Grazie", "Péter Keller"]
    assert transcripts() == {"talk.mp4": both, "talk.mkv": both, "talk.webm": both}
    assert cli.json("report")["errors"] == []
    assert "0 added, 0 updated, 3 unchanged" in cli("ingest", "-j", "1", str(event_dir))
    (event_dir / "talk.vtt").unlink()
    assert "0 added, 3 updated" in cli("ingest", "-j", "1", str(event_dir))
    assert transcripts() == {"talk.mp4": ["Grazie"], "talk.mkv": ["Grazie"],
                             "talk.webm": ["Grazie"]}
    assert "3 unchanged" in cli("ingest", "-j", "1", str(event_dir))


def _group(seek: float, *ats: float) -> list[Cut]:
    return [Cut(Moment(f"f{at:04.1f}", at, 1.0), seek, at, True) for at in ats]


@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_decoders_share_the_groups_once_each_and_evenly(parts: int) -> None:
    groups = [_group(0.0, 1.5, 6.0), _group(10.0, 13.5), _group(20.0, 25.5),
              _group(30.0, 31.5), _group(40.0, 43.5), _group(50.0, 56.5)]
    shares = share_out(groups, parts)
    assert len(shares) == min(parts, len(groups))
    assert sorted(id(g) for share in shares for g in share) == sorted(map(id, groups))
    loads = [sum(max(c.at for c in g) - g[0].seek for g in share) for share in shares]
    longest = max(max(c.at for c in g) - g[0].seek for g in groups)
    assert max(loads) - min(loads) <= longest  # dealt longest first to the least loaded


def test_a_failed_or_hung_decoder_is_a_media_error_and_is_killed() -> None:
    with pytest.raises(MediaError, match="false failed"):
        run_all([["true"], ["false"]], "poster", 10)
    with pytest.raises(MediaError, match="timed out"):
        run_all([["sleep", "30"], ["true"]], "poster", 0.5)


def test_a_strip_cut_by_several_decoders_is_the_strip_cut_by_one(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=30.0, source=CLOCK.format(d=30.0),
                       extra=LONG_GOP["h264"])
    wanted = moments(30.0)
    groups = plan(video, wanted, 0.0, 10)
    pictures = {}
    for parts in (1, 3):
        out = tmp_path / f"parts{parts}"
        out.mkdir()
        commands = grab_commands(video, groups, out, parts)
        assert len(commands) == min(parts, len(groups))
        run_all(commands, "poster", 60)
        pictures[parts] = {f.name: f.read_bytes() for f in out.iterdir()}
    assert sorted(pictures[1]) == sorted(["p.ppm"] + [f"f{i:02d}.ppm" for i in range(10)])
    assert pictures[3] == pictures[1]  # decoding is exact: the same pictures, bit for bit
