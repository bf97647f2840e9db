"""Write the sample event: the Florence workshop of tests/data/sample/seed-workshop.txt,
with media.

Photos from two cameras (the Canon's clock ran 3 min 20 s slow, as the event
file says), each camera in one of the parallel afternoon rooms, EXIF times,
XMP people and creators on some; a short video summary with a WebVTT
transcript naming speakers. Everything is generated: no real photo is shipped.
The photographers (Chiara Neri, Luca Bianchi) are [[people]] of the event file,
so their photos take its organisation and licence rather than being third-party.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(TESTS))
from helpers.media import make_exif, make_video, make_xmp  # noqa: E402

# The tests' sample event file: the tests and the demo build the same event.
EVENT_FILE = TESTS / "data" / "sample" / "event.toml"

DAY = dt.date(2019, 3, 19)
CANON_SLOW = dt.timedelta(minutes=3, seconds=20)
SESSION_COLOURS = {"s1": (40, 90, 160), "s2": (30, 130, 110), "s3a": (170, 90, 40),
                   "s3b": (120, 60, 150), None: (90, 90, 90)}

# (true local time, session it shows, people shown in XMP) per camera.
CANON = ([("09:40", "s1", []), ("09:55", "s1", ["Paolo Martinez"]), ("10:10", "s1", []),
          ("10:25", "s1", []), ("10:40", "s1", []), ("10:52", "s1", []),
          ("11:16", "s2", []),  # slow clock says 11:12:40, the coffee break
          ("11:25", "s2", ["Paolo Martinez"]), ("11:40", "s2", ["Xavier Testar Ymbert"]),
          ("11:55", "s2", ["Ester Silva"]), ("12:10", "s2", ["Peter Keller"]),
          ("12:20", "s2", ["Peter Keller"]), ("12:35", "s2", ["Roberto Pini"]),
          ("12:50", "s2", []), ("13:30", None, [])]
         + [(f"{14 + (30 + 10 * i) // 60}:{(30 + 10 * i) % 60:02d}", "s3a",
             ["Alberto Bramanti"] if i % 4 == 1 else []) for i in range(15)])
NIKON = ([("09:35", "s1", []), ("09:50", "s1", []), ("10:20", "s1", ["Paolo Martinez"]),
          ("10:45", "s1", []), ("11:20", "s2", []), ("11:35", "s2", ["Xavier Testar Ymbert"]),
          ("11:50", "s2", ["Ester Silva"]), ("12:05", "s2", ["Péter Keller"]),
          ("12:30", "s2", ["Roberto Pini"]), ("12:45", "s2", []), ("12:58", "s2", [])]
         + [(f"{14 + (35 + 9 * i) // 60}:{(35 + 9 * i) % 60:02d}", "s3b",
             ["Massimo Innocenti"] if i % 3 == 0 else []) for i in range(16)]
         + [("17:30", None, [])])

TRANSCRIPT = """WEBVTT

00:00:00.500 --> 00:00:03.000
Welcome to Florence: the summary of the workshop on industrial modernisation.

00:00:03.000 --> 00:00:06.000
Péter Keller presented the INNOPROVEMENT project of the Hungarian Ministry of Finance.

00:00:06.000 --> 00:00:09.000
Alberto Bramanti moderated the workshop on traditional manufacturing SMEs.

00:00:09.000 --> 00:00:12.000
Massimo Innocenti spoke about advanced materials and public policy.
"""


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (scripts/setup installs it) draws the names' accents; Pillow's own
    font has no "é" and would draw "P▯ter Keller"."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def picture(text: list[str], colour: tuple[int, int, int], size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    font = _font(size[1] // 14)
    y = size[1] // 6
    for line in text:
        draw.text((size[0] // 12, y), line, fill=(255, 255, 255), font=font)
        y += size[1] // 9
    draw.rectangle((0, size[1] - size[1] // 10, size[0], size[1]), fill=(20, 20, 20))
    return image


def write_photos(folder: Path, shots: list, camera: dict, prefix: str, start: int,
                 slow: dt.timedelta, creator: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, (clock, session, people) in enumerate(shots, start):
        hour, minute = map(int, clock.split(":"))
        true = dt.datetime.combine(DAY, dt.time(hour, minute, 7 + n % 50))
        recorded = true - slow
        image = picture([f"{camera['model']}  #{n}", f"session {session or '-'}",
                         recorded.strftime("camera clock %H:%M:%S"), ", ".join(people)],
                        SESSION_COLOURS[session], (1600, 1067))
        exif = make_exif(make=camera["make"], model=camera["model"], taken=recorded,
                         serial=camera.get("serial"), iso=800, fnumber=4.0, focal=50.0,
                         artist=creator.get("artist") if n % 9 else None)
        xmp = make_xmp(creator=creator.get("xmp"), persons=people or None)
        image.save(folder / f"{prefix}{n:04d}.jpg", "JPEG", quality=85, exif=exif, xmp=xmp)


def write_video(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "workshop-summary.mp4"
    make_video(target, seconds=12, size="1280x720",
               metadata={"title": "Florence workshop: video summary", "artist": "Barry Guckian",
                         "creation_time": "2019-03-19T16:20:00Z"},
               # x264's own GOP (one key frame in 12 s) after a fade from black, as
               # editors export a clip.
               extra=["-vf", "fade=in:st=0:d=1.5", "-preset", "veryfast"])
    (folder / "workshop-summary.en.vtt").write_text(TRANSCRIPT, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("sample-event"))
    parser.add_argument("--force", action="store_true", help="replace an existing folder")
    args = parser.parse_args()
    if args.outdir.exists():
        if not args.force:
            print(f"{args.outdir} exists; keeping it (use --force to rebuild)")
            return
        shutil.rmtree(args.outdir)
    args.outdir.mkdir(parents=True)
    shutil.copy(EVENT_FILE, args.outdir / "event.toml")
    canon = {"make": "Canon", "model": "Canon EOS 80D", "serial": "083021001234"}
    nikon = {"make": "NIKON CORPORATION", "model": "NIKON D750"}
    write_photos(args.outdir / "photos" / "canon", CANON, canon, "IMG_", 32, CANON_SLOW,
                 {"xmp": ["Chiara Neri"]})
    write_photos(args.outdir / "photos" / "nikon", NIKON, nikon, "DSC_", 100, dt.timedelta(0),
                 {"artist": "Luca Bianchi"})
    write_video(args.outdir / "video")
    count = len(CANON) + len(NIKON)
    print(f"wrote {args.outdir}: {count} photos, 1 video with transcript, event.toml")


if __name__ == "__main__":
    main()
