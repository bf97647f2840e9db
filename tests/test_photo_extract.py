from __future__ import annotations

import datetime as dt
import io
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from archive.ingest.examine import Task, examine
from archive.media import types as mediatypes
from archive.media.extract import exif, photo, xmp

from helpers.media import add_iptc, make_exif, make_jpeg, make_xmp, pattern

TAKEN = dt.datetime(2019, 3, 19, 11, 42, 7)


def run(path: Path, root: Path) -> object:
    st = path.stat()
    return examine(Task(str(path), path.name, st.st_size, st.st_mtime_ns, (), str(root)))


def test_exif_fields_are_normalised(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "a.jpg", exif=make_exif(
        taken=TAKEN, subsec="25", offset="+01:00", serial="0123456", lens="EF 35mm f/2",
        gps=(43.7696, 11.2558, 52.5), artist="Anna Rossi", copyright="Copyright ASEV 2019",
        description="Opening", iso=800, fnumber=4.0, exposure=Fraction(1, 125), focal=35.0,
        orientation=1))
    out = run(photo, tmp_path / "arch")
    meta = out.metadata
    assert out.kind == "photo"
    assert out.mime == "image/jpeg"
    assert meta["taken"] == "2019-03-19T11:42:07.250000+01:00"
    assert meta["camera"] == {"make": "Canon", "model": "Canon EOS 80D", "serial": "0123456",
                              "lens": "EF 35mm f/2"}
    assert meta["exposure"] == {"iso": 800, "fnumber": 4.0, "exposure_time": "1/125",
                                "focal_length": 35.0}
    assert meta["gps"]["lat"] == pytest.approx(43.7696, abs=1e-4)
    assert meta["gps"]["lon"] == pytest.approx(11.2558, abs=1e-4)
    assert meta["gps"]["alt"] == pytest.approx(52.5)
    assert meta["exif"] == {"artist": "Anna Rossi", "copyright": "Copyright ASEV 2019",
                            "description": "Opening"}
    assert (meta["width"], meta["height"]) == (64, 48)
    assert out.problems == []


def test_southern_western_gps_and_below_sea_level(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "s.jpg", exif=make_exif(gps=(-33.8688, -70.6693, -12.0)))
    gps = run(photo, tmp_path / "arch").metadata["gps"]
    assert gps["lat"] == pytest.approx(-33.8688, abs=1e-4)
    assert gps["lon"] == pytest.approx(-70.6693, abs=1e-4)
    assert gps["alt"] == pytest.approx(-12.0)


@pytest.mark.parametrize(("value", "subsec", "offset", "expected"), [
    ("2019:03:19 11:42:07", None, None, "2019-03-19T11:42:07"),
    ("2019:03:19 11:42:07", "5", None, "2019-03-19T11:42:07.500000"),
    ("2019:03:19 11:42:07", "123456789", "-04:00", "2019-03-19T11:42:07.123456-04:00"),
    ("2019-03-19 11:42:07", None, "+0530", "2019-03-19T11:42:07+05:30"),
    ("    :  :     :  :  ", None, None, None),
    ("0000:00:00 00:00:00", None, None, None),
    ("2019:02:30 11:42:07", None, None, None),
    (None, None, None, None),
])
def test_exif_datetime_parsing(value: str | None, subsec: str | None, offset: str | None,
                               expected: str | None) -> None:
    assert exif.parse_exif_datetime(value, subsec, offset) == expected


@pytest.mark.parametrize("orientation", range(1, 9))
def test_thumbnails_are_upright_for_every_orientation(tmp_path: Path, orientation: int) -> None:
    # Store the pixels as a camera would for this orientation, so the upright
    # picture is always `pattern()`: red top-left, blue top-right, green bottom-left.
    upright = pattern((80, 60))
    inverse = {1: [], 2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
               4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
               6: [Image.Transpose.ROTATE_90], 7: [Image.Transpose.TRANSVERSE],
               8: [Image.Transpose.ROTATE_270]}[orientation]
    stored = upright
    for step in inverse:
        stored = stored.transpose(step)
    photo = make_jpeg(tmp_path / f"o{orientation}.jpg", image=stored,
                      exif=make_exif(orientation=orientation), quality=95)
    out = run(photo, tmp_path / "arch")
    assert out.metadata["orientation"] == orientation
    with Image.open(tmp_path / "arch" / out.thumbnails["small"]["path"]) as thumb:
        thumb = thumb.convert("RGB")
        assert thumb.size == (80, 60)
        w, h = thumb.size
        for (x, y), colour in (((w // 4, h // 4), (255, 0, 0)),
                               ((3 * w // 4, h // 4), (0, 0, 255)),
                               ((w // 4, 3 * h // 4), (0, 255, 0))):
            assert all(abs(a - b) < 60 for a, b in zip(thumb.getpixel((x, y)), colour,
                                                       strict=True)), (orientation, x, y)


def test_large_photo_thumbnails_have_both_sizes(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "big.jpg", size=(3000, 2000), exif=make_exif())
    out = run(photo, tmp_path / "arch")
    assert out.thumbnails["large"]["width"] == 1280
    assert out.thumbnails["small"]["width"] == 320
    assert out.thumbnails["small"]["path"] == f"thumbs/{out.item_id[:2]}/{out.item_id}-320.jpg"
    for name in ("small", "large"):
        with Image.open(tmp_path / "arch" / out.thumbnails[name]["path"]) as im:
            assert im.format == "JPEG"


def test_draft_decoding_never_decodes_full_size(tmp_path: Path) -> None:
    from archive.media import thumbs

    photo = make_jpeg(tmp_path / "big.jpg", size=(6000, 4000))
    with Image.open(photo) as image:
        thumbs.make_thumbnails(image, 1, tmp_path / "arch", "ab" * 32)
        # draft() made libjpeg scale by 1/4 while decoding: 1500 x 1000, never 6000 x 4000.
        assert image.size == (1500, 1000)


def test_xmp_and_iptc_are_read(tmp_path: Path) -> None:
    packet = make_xmp(creator=["Anna Rossi"], rights="© ASEV", title="Opening",
                      description="Péter Keller at the lectern", subjects=["industry 4.0"],
                      credit="ASEV / TRINNO", persons=["Péter Keller"], event="s2")
    photo = make_jpeg(tmp_path / "x.jpg", exif=make_exif(), xmp=packet)
    add_iptc(photo, {(2, 80): "Marco Bianchi", (2, 110): "Regione Toscana",
                     (2, 116): "© Regione Toscana", (2, 120): "Caption è",
                     (2, 25): ["workshop", "Firenze"], (2, 5): "IPTC title"})
    meta = run(photo, tmp_path / "arch").metadata
    assert meta["xmp"]["creator"] == ["Anna Rossi"]
    assert meta["xmp"]["rights"] == "© ASEV"
    assert meta["xmp"]["persons"] == ["Péter Keller"]
    assert meta["xmp"]["event"] == "s2"
    assert meta["xmp"]["keywords"] == ["industry 4.0"]
    assert meta["xmp"]["credit"] == "ASEV / TRINNO"
    assert meta["iptc"] == {"creator": ["Marco Bianchi"], "credit": "Regione Toscana",
                            "copyright": "© Regione Toscana", "description": "Caption è",
                            "keywords": ["workshop", "Firenze"], "title": "IPTC title"}


def test_xmp_entity_expansion_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>')
    with pytest.raises(xmp.XmpError):
        xmp.parse_packet(bomb)


def test_malformed_xmp_spoils_only_xmp(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "m.jpg", exif=make_exif(taken=TAKEN),
                      xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF></x:xmpmeta>')
    out = run(photo, tmp_path / "arch")
    assert out.item_id is not None
    assert out.metadata["taken"] == "2019-03-19T11:42:07"
    assert [p.stage for p in out.problems] == ["extract"]
    assert "XMP" in out.problems[0].message


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("WEBP", "image/webp"),
                                           ("TIFF", "image/tiff"), ("GIF", "image/gif")])
def test_other_formats(tmp_path: Path, fmt: str, mime: str) -> None:
    path = tmp_path / f"img.{fmt.lower()}"
    options = {"exif": make_exif(taken=TAKEN)} if fmt in ("PNG", "WEBP", "TIFF") else {}
    pattern().save(path, fmt, **options)
    out = run(path, tmp_path / "arch")
    assert (out.kind, out.mime) == ("photo", mime)
    assert out.thumbnails["small"]["width"] == 64
    if options:
        assert out.metadata["camera"]["model"] == "Canon EOS 80D"
    if fmt in ("PNG", "WEBP"):  # Pillow's TIFF writer keeps IFD0 only, not the Exif IFD
        assert out.metadata["taken"] == "2019-03-19T11:42:07"


def test_heic_is_read_with_pillow_heif(tmp_path: Path) -> None:
    path = tmp_path / "phone.heic"
    pattern((128, 96)).save(path, "HEIF", exif=make_exif(model="iPhone 7", taken=TAKEN))
    out = run(path, tmp_path / "arch")
    assert out.mime == "image/heic"
    assert out.metadata["camera"]["model"] == "iPhone 7"
    assert out.metadata["taken"] == "2019-03-19T11:42:07"
    assert out.thumbnails["small"]["width"] == 128


@pytest.mark.parametrize(("head", "mime"), [
    (b"\xff\xd8\xff\xe0", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "image/avif"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm", "video/webm"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
    (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "image/x-canon-cr2"),
    (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
    (b"ID3\x04\x00", "audio/mpeg"),
    (b"\xff\xfe<\x00?\x00x\x00", None),  # UTF-16 text, not an MPEG audio frame
    (b"hello world", None),
    (b"%PDF-1.7", None),
])
def test_sniff_recognises_content(head: bytes, mime: str | None) -> None:
    found = mediatypes.sniff(head)
    assert (found.mime if found else None) == mime


@pytest.mark.slow
def test_decompression_bomb_is_an_error_not_a_hang(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buf, "PNG", optimize=False)
    path = tmp_path / "bomb.png"
    path.write_bytes(buf.getvalue())
    out = run(path, tmp_path / "arch")
    assert out.item_id is None
    assert out.problems[0].stage == "decode"


def _with_extended_xmp(tmp_path: Path, creator: str) -> Path:
    """A JPEG whose dc:creator exiftool moved to Extended XMP (it is over 64 KB)."""
    path = tmp_path / "long.jpg"
    Image.new("RGB", (64, 48), (200, 50, 50)).save(path)
    (tmp_path / "creator.txt").write_text(creator, encoding="utf-8")
    subprocess.run(["exiftool", "-q", "-overwrite_original",
                    f"-XMP-dc:Creator<={tmp_path / 'creator.txt'}", "-XMP-dc:Title=Long one",
                    str(path)], check=True, timeout=60)
    return path


def test_a_creator_moved_to_extended_xmp_is_read(tmp_path: Path) -> None:
    creator = "Phil Harvey " + "x" * 100_000
    data = _with_extended_xmp(tmp_path, creator).read_bytes()
    assert b"http://ns.adobe.com/xmp/extension/" in data  # as exiftool writes it
    problems: list[str] = []
    facts = photo.xmp_of(data, problems)
    # It was dropped: the item named no creator and took the event's rights.
    assert facts["creator"] == [creator] and facts["title"] == "Long one"
    assert problems == []


def test_extended_xmp_missing_a_chunk_is_said(tmp_path: Path) -> None:
    data = _with_extended_xmp(tmp_path, "Phil Harvey " + "x" * 100_000).read_bytes()
    start = data.index(b"http://ns.adobe.com/xmp/extension/") - 4  # the segment's marker
    length = int.from_bytes(data[start + 2:start + 4], "big")
    cut = data[:start] + data[start + 2 + length:]
    problems: list[str] = []
    facts = photo.xmp_of(cut, problems)
    assert facts["title"] == "Long one" and facts["creator"] == []
    assert any("Extended XMP" in p for p in problems), problems
