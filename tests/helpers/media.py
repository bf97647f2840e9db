"""Media made by the tests: Pillow images with EXIF, XMP and IPTC, ffmpeg lavfi videos."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import escape

import numpy
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

EXIF_IFD, GPS_IFD = ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo
T = ExifTags.Base


def _rational(value: float | Fraction) -> IFDRational:
    frac = Fraction(value).limit_denominator(10000)
    return IFDRational(frac.numerator, frac.denominator)


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 1000), 1000)
    return _rational(degrees), _rational(minutes), _rational(seconds)


def make_exif(make: str | None = "Canon", model: str | None = "Canon EOS 80D",
              taken: dt.datetime | None = None, subsec: str | None = None,
              offset: str | None = None, orientation: int | None = None,
              serial: str | None = None, lens: str | None = None,
              gps: tuple[float, float, float | None] | None = None,
              artist: str | None = None, copyright: str | None = None,
              description: str | None = None, iso: int | None = None,
              fnumber: float | None = None, exposure: Fraction | None = None,
              focal: float | None = None) -> Image.Exif:
    exif = Image.Exif()
    for tag, value in ((T.Make, make), (T.Model, model), (T.Orientation, orientation),
                       (T.Artist, artist), (T.Copyright, copyright),
                       (T.ImageDescription, description)):
        if value is not None:
            exif[tag] = value
    sub = exif.get_ifd(EXIF_IFD)
    if taken:
        sub[T.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    for tag, value in ((T.SubsecTimeOriginal, subsec), (T.OffsetTimeOriginal, offset),
                       (T.BodySerialNumber, serial), (T.LensModel, lens),
                       (T.ISOSpeedRatings, iso),
                       (T.FNumber, _rational(fnumber) if fnumber else None),
                       (T.ExposureTime, _rational(exposure) if exposure else None),
                       (T.FocalLength, _rational(focal) if focal else None)):
        if value is not None:
            sub[tag] = value
    if gps:
        lat, lon, alt = gps
        g = exif.get_ifd(GPS_IFD)
        g[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        g[ExifTags.GPS.GPSLatitude] = _dms(lat)
        g[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        g[ExifTags.GPS.GPSLongitude] = _dms(lon)
        if alt is not None:
            g[ExifTags.GPS.GPSAltitudeRef] = b"\x01" if alt < 0 else b"\x00"
            g[ExifTags.GPS.GPSAltitude] = _rational(abs(alt))
    return exif


def make_xmp(creator: list[str] | None = None, rights: str | None = None,
             title: str | None = None, description: str | None = None,
             subjects: list[str] | None = None, credit: str | None = None,
             persons: list[str] | None = None, event: str | None = None,
             date_created: str | None = None, usage_terms: str | None = None,
             web_statement: str | None = None, cc_license: str | None = None) -> bytes:
    def bag(kind: str, values: list[str]) -> str:
        items = "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values)
        return f"<rdf:{kind}>{items}</rdf:{kind}>"

    def alt(value: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt>'

    parts = []
    for tag, value in (("dc:creator", creator and bag("Seq", creator)),
                       ("dc:rights", rights and alt(rights)),
                       ("dc:title", title and alt(title)),
                       ("dc:description", description and alt(description)),
                       ("dc:subject", subjects and bag("Bag", subjects)),
                       ("photoshop:Credit", credit and escape(credit)),
                       ("photoshop:DateCreated", date_created),
                       ("Iptc4xmpExt:PersonInImage", persons and bag("Bag", persons)),
                       ("Iptc4xmpExt:Event", event and alt(event)),
                       ("xmpRights:UsageTerms", usage_terms and alt(usage_terms)),
                       ("xmpRights:WebStatement", web_statement and escape(web_statement))):
        if value:
            parts.append(f"<{tag}>{value}</{tag}>")
    if cc_license:  # as Creative Commons' own tools write it: a resource, not text
        resource = escape(cc_license, {'"': "&quot;"})
        parts.append(f'<cc:license rdf:resource="{resource}"/>')
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
            'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
            'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
            'xmlns:cc="http://creativecommons.org/ns#">'
            + "".join(parts) + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def iptc_segment(fields: dict[tuple[int, int], list[str] | str]) -> bytes:
    """A JPEG APP13 'Photoshop 3.0' segment holding IPTC IIM datasets (UTF-8 declared)."""
    iim = b"\x1c\x01\x5a\x00\x03\x1b%G"  # 1:90 coded character set = UTF-8
    for (record, dataset), values in fields.items():
        for value in [values] if isinstance(values, str) else values:
            data = value.encode("utf-8")
            iim += struct.pack(">BBBH", 0x1C, record, dataset, len(data)) + data
    if len(iim) % 2:
        iim += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(
        ">I", len(iim)) + iim
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def add_iptc(path: Path, fields: dict[tuple[int, int], list[str] | str]) -> None:
    """Insert an IPTC APP13 segment right after the JPEG's SOI marker."""
    data = path.read_bytes()
    path.write_bytes(data[:2] + iptc_segment(fields) + data[2:])


def pattern(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """An image whose corners differ, so orientation handling can be checked."""
    w, h = size
    im = Image.new("RGB", size, (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, w // 2, h // 2))        # top-left red
    im.paste((0, 0, 255), (w // 2, 0, w, h // 2))        # top-right blue
    im.paste((0, 255, 0), (0, h // 2, w // 2, h))        # bottom-left green
    return im


def make_jpeg(path: Path, size: tuple[int, int] = (64, 48), exif: Image.Exif | None = None,
              xmp: bytes | None = None, image: Image.Image | None = None,
              quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    if xmp is not None:
        options["xmp"] = xmp
    (image or pattern(size)).save(path, "JPEG", **options)
    return path


# What ffmpeg writes into these containers when asked for nothing: x264 at its
# defaults (a key frame every 250 frames, 10 s at 25 fps, plus scene cuts; B-frames),
# 4:2:0 chroma and AAC, as cameras, phones and editors write them.
_CAMERA_CODECS = {".mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
                  ".mov": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
                  ".mkv": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]}


def make_video(path: Path, seconds: float = 1.0, size: str = "320x240",
               metadata: dict[str, str] | None = None, extra: list[str] | None = None,
               source: str | None = None, audio: bool = True) -> Path:
    """A real video made with ffmpeg's lavfi test sources (`source`: a lavfi graph).

    Encoded as cameras and editors do by default (see _CAMERA_CODECS): key frames
    are never forced, so a clip under 10 s has one. `extra` adds or overrides
    output options (codecs, filters).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
            source or f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    for key, value in (metadata or {}).items():
        args += ["-metadata", f"{key}={value}"]
    args += _CAMERA_CODECS.get(path.suffix.lower(), []) + (extra or []) + ["-shortest",
                                                                          str(path)]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png16(path: Path, width: int, height: int, alpha: bool = True,
               block_rows: int = 64) -> Path:
    """A 16-bit RGB(A) PNG as raw developers and scanners export it: a grey ramp from black
    on the left to white on the right, every row after the first filtered "Up".

    Written without holding the pixels (15,000 x 15,000 would be 1.8 GB): the deflate
    data of a block of rows is made once and repeated, which a full flush allows, since
    no block then refers back into the one before.
    """
    channels = 4 if alpha else 3
    ramp = numpy.repeat(numpy.linspace(0, 65535, width), channels).astype(">u2")
    if alpha:
        ramp[3::4] = 65535
    first = b"\x00" + ramp.tobytes()
    up = b"\x02" + bytes(width * 2 * channels)  # "Up": the same pixels as the row above

    def deflated(data: bytes, last: bool = False) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else
                                                    zlib.Z_FULL_FLUSH)

    blocks, rest = divmod(height - 1, block_rows)
    block, tail = up * block_rows, up * rest
    check = zlib.adler32(first)
    for _ in range(blocks):
        check = zlib.adler32(block, check)
    check = zlib.adler32(tail, check)
    stream = (b"\x78\xda" + deflated(first) + deflated(block) * blocks
              + deflated(tail, last=True) + struct.pack(">I", check))
    header = struct.pack(">IIBBBBB", width, height, 16, 6 if alpha else 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", stream) + _png_chunk(b"IEND", b""))
    return path


def _deflated_rows(row: bytes, count: int) -> tuple[bytes, int]:
    """Raw deflate data of `row` repeated `count` times, made from one block of rows
    repeated (a full flush keeps blocks independent), and the Adler-32 of the rows."""
    per_block = max(1, min(count, (1 << 22) // len(row)))
    blocks, rest = divmod(count, per_block)
    check = 1
    for part in (row * per_block,) * blocks + (row * rest,):
        check = zlib.adler32(part, check)

    def deflated(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    return deflated(row * per_block) * blocks + deflated(row * rest), check


def _zlib_rows(row: bytes, count: int) -> bytes:
    """A zlib stream (TIFF's Adobe deflate) of `row` repeated `count` times."""
    body, check = _deflated_rows(row, count)
    return b"\x78\xda" + body + b"\x03\x00" + struct.pack(">I", check)


def make_tiff16(path: Path, width: int, height: int, alpha: bool = True,
                rows_per_strip: int | None = None) -> Path:
    """A 16-bit RGB(A) TIFF, Adobe-deflate compressed, of four grey bars from black on
    the left to white on the right; one strip for the whole image unless
    `rows_per_strip` is given (every full strip then points at the same data).

    Written without holding the pixels: 100 MP of 16-bit RGBA are 800 MB, the file a
    few hundred KB.
    """
    channels = 4 if alpha else 3
    bars = numpy.repeat(numpy.linspace(0, 65535, 4), -(-width // 4))[:width]
    pixels = numpy.repeat(bars, channels).astype("<u2")
    if alpha:
        pixels[3::4] = 65535
    row = pixels.tobytes()
    rows = rows_per_strip or height
    full, rest = divmod(height, rows)
    strips = [_zlib_rows(row, rows)] + ([_zlib_rows(row, rest)] if rest else [])
    count = full + (1 if rest else 0)
    starts = [8, 8 + len(strips[0])]
    offsets = [starts[0]] * full + [starts[1]] * (count - full)
    lengths = [len(strips[0])] * full + [len(strips[-1])] * (count - full)
    extra = starts[0] + sum(len(s) for s in strips)  # bits, offsets, lengths, then IFD
    arrays = struct.pack(f"<{channels}H", *[16] * channels) + struct.pack(
        f"<{count}I", *offsets) + struct.pack(f"<{count}I", *lengths)
    at_offsets, at_lengths = extra + 2 * channels, extra + 2 * channels + 4 * count
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, channels, extra),
               (259, 3, 1, 8), (262, 3, 1, 2),
               (273, 4, count, at_offsets if count > 1 else offsets[0]),
               (277, 3, 1, channels), (278, 4, 1, rows),
               (279, 4, count, at_lengths if count > 1 else lengths[0]), (284, 3, 1, 1)]
    if alpha:
        entries.append((338, 3, 1, 2))  # unassociated alpha
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHIHH" if kind == 3 and n == 1 else "<HHII", tag, kind, n, value,
                    *((0,) if kind == 3 and n == 1 else ()))
        for tag, kind, n, value in entries) + struct.pack("<I", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"II*\x00" + struct.pack("<I", extra + len(arrays)) + b"".join(strips)
                     + arrays + ifd)
    return path


def key_frame_times(path: Path) -> list[float]:
    """When the video's key frames are, read from its packets (nothing decoded)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    times = [line.split(",") for line in out.split()]
    return sorted(float(t) for t, flags, *_ in times if "K" in flags)
