"""XMP packets (in files or `.xmp` sidecars) parsed with defusedxml.

Entity expansion and external entities are refused by defusedxml, so a
hostile packet fails like a malformed one: a recorded problem, never a hang.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from archive import settings
from archive.dates import capture_time
from archive.media.extract.exif import parse_exif_datetime

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "cc": "http://creativecommons.org/ns#",
}
_RDF = "{" + NS["rdf"] + "}"
_START = re.compile(rb"<x:xmpmeta|<x:xapmeta|<rdf:RDF")
_END = (b"</x:xmpmeta>", b"</x:xapmeta>", b"</rdf:RDF>")
_GPS = re.compile(r"(\d+),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?([NSEW])\Z")


class XmpError(ValueError):
    """The packet is not well-formed XML or is refused as hostile."""


def find_packet(data: bytes) -> bytes | None:
    """The first XMP packet embedded in a file's bytes, or None."""
    start = _START.search(data)
    if not start:
        return None
    for end_tag in _END:
        end = data.find(end_tag, start.start())
        if end >= 0:
            return data[start.start():end + len(end_tag)]
    return None


# Extended XMP (XMP specification part 3, 1.1.3.1): what does not fit in one JPEG
# segment (64 KB) goes in APP1 segments of its own, each a chunk of one packet named by
# the GUID the main packet gives in xmpNote:HasExtendedXMP. Editors move the largest
# properties there: a long dc:creator left the main packet and the file looked unsigned.
_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_HAS_EXTENDED = re.compile(rb"HasExtendedXMP\s*(?:=\s*[\"']|>)\s*([0-9A-Fa-f]{32})")


def extended_guid(packet: bytes) -> str | None:
    """The GUID of the Extended XMP the main packet says the file also holds."""
    found = _HAS_EXTENDED.search(packet)
    return found[1].decode("ascii").upper() if found else None


def _jpeg_app1(data: bytes) -> list[bytes]:
    """The payloads of a JPEG's APP1 segments, up to the image data."""
    found, at = [], 2
    if not data.startswith(b"\xff\xd8"):
        return found
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xDA or length < 2:  # start of scan: no metadata after it
            break
        if marker == 0xE1:
            found.append(data[at + 4:at + 2 + length])
        at += 2 + length
    return found


def extended_packet(data: bytes, guid: str) -> bytes | None:
    """The Extended XMP packet with this GUID, put together from a JPEG's chunks; None
    when the file has none, or chunks that do not add up.

    Raises XmpError when it would be larger than the xmp_packet_bytes setting.
    """
    chunks, total = [], None
    for payload in _jpeg_app1(data):
        if not payload.startswith(_EXTENSION) or len(payload) < len(_EXTENSION) + 40:
            continue
        head = payload[len(_EXTENSION):len(_EXTENSION) + 40]
        if head[:32].decode("ascii", "replace").upper() != guid:
            continue
        total = int.from_bytes(head[32:36], "big")
        chunks.append((int.from_bytes(head[36:40], "big"), payload[len(_EXTENSION) + 40:]))
    if total is None:
        return None
    largest = settings.value("xmp_packet_bytes")
    if total > largest:
        raise XmpError(f"Extended XMP of {total} bytes is larger than {largest}")
    packet = bytearray(total)
    for offset, chunk in chunks:
        packet[offset:offset + len(chunk)] = chunk[:max(0, total - offset)]
    return bytes(packet) if sum(len(c) for _, c in chunks) >= total else None


def _q(prefix: str, name: str) -> str:
    return "{" + NS[prefix] + "}" + name


def _value(element: ET.Element) -> Any:
    """Text, or a list for rdf:Bag/Seq/Alt (x-default first for Alt)."""
    for container in ("Bag", "Seq", "Alt"):
        found = element.find(_RDF + container)
        if found is not None:
            items = found.findall(_RDF + "li")
            if container == "Alt":
                items.sort(key=lambda li: li.get("{http://www.w3.org/XML/1998/namespace}lang")
                           != "x-default")
            return [(li.text or "").strip() for li in items if (li.text or "").strip()]
    return (element.text or "").strip() or element.get(_RDF + "resource")


def _properties(root: ET.Element) -> dict[str, Any]:
    """Every simple property of every rdf:Description, keyed by Clark name."""
    props: dict[str, Any] = {}
    for desc in root.iter(_RDF + "Description"):
        for name, value in desc.attrib.items():
            if not name.startswith(_RDF):
                props.setdefault(name, value.strip())
        for child in desc:
            value = _value(child)
            if value:
                props.setdefault(child.tag, value)
    return props


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    return [v for v in value if v] if isinstance(value, list) else [value]


def _as_text(value: Any) -> str | None:
    items = _as_list(value)
    return items[0] if items else None


def _region_names(root: ET.Element) -> list[str]:
    """Names of MWG face regions (the people a photo shows, as Lightroom/Picasa write)."""
    names = []
    for name in root.iter(_q("mwg-rs", "Name")):
        if name.text and name.text.strip():
            names.append(name.text.strip())
    for desc in root.iter(_RDF + "Description"):
        if desc.get(_q("mwg-rs", "Name")):
            names.append(desc.get(_q("mwg-rs", "Name")).strip())
    return list(dict.fromkeys(names))


def _field(element: ET.Element, prefix: str, name: str) -> str | None:
    """A struct field, written as an attribute or as a child element (both are XMP)."""
    value = element.get(_q(prefix, name))
    if value is None:
        child = element.find(_q(prefix, name))
        value = child.text if child is not None else None
    return value.strip() if value and value.strip() else None


def _number(element: ET.Element, prefix: str, name: str) -> float | None:
    try:
        value = float(_field(element, prefix, name) or "nan")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _area(region: ET.Element) -> list[float] | None:
    """A region's normalised box [left, top, width, height]: MWG gives the centre."""
    area = region.find(_q("mwg-rs", "Area"))
    if area is None:
        area = next((d for d in region.iter(_RDF + "Description")
                     if _field(d, "stArea", "x") is not None), None)
    if area is None or (_field(area, "stArea", "unit") or "normalized") != "normalized":
        return None
    x, y, w, h = (_number(area, "stArea", k) for k in "xywh")
    if None in (x, y, w, h) or not (0 < w <= 1 and 0 < h <= 1  # type: ignore[operator]
                                     and 0 <= x <= 1 and 0 <= y <= 1):  # type: ignore[operator]
        return None  # not a region of this picture
    return [round(x - w / 2, 6), round(y - h / 2, 6), w, h]  # type: ignore[operator]


def _applied_to(root: ET.Element) -> list[int] | None:
    """The image size the regions were drawn on (AppliedToDimensions), if given."""
    dims = root.find(f".//{_q('mwg-rs', 'AppliedToDimensions')}")
    if dims is None:
        return None
    w, h = _number(dims, "stDim", "w"), _number(dims, "stDim", "h")
    return [int(w), int(h)] if w and h and w > 0 and h > 0 else None


def face_regions(root: ET.Element) -> list[dict[str, Any]]:
    """Named MWG face regions (Lightroom, digiKam, Picasa): [{name, box, applied_to}],
    `box` normalised [left, top, width, height] of the image the regions were drawn on,
    `applied_to` that image's [width, height] when the packet says it."""
    applied = _applied_to(root)
    regions = []
    # A region is a struct: an rdf:Description, or an rdf:li of parseType Resource
    # (as exiftool writes it), holding mwg-rs:Name as an attribute or an element.
    for desc in (e for e in root.iter() if e.tag in (_RDF + "Description", _RDF + "li")):
        name = _field(desc, "mwg-rs", "Name")
        kind = _field(desc, "mwg-rs", "Type") or "Face"
        box = _area(desc) if name else None
        if name and box and kind == "Face":
            regions.append({"name": name, "box": box, "applied_to": applied})
    return regions[:settings.value("face_regions")]


def _gps(lat: Any, lon: Any) -> dict[str, float | None] | None:
    """XMP GPS values look like '43,46.2N' or '43,46,12N'."""
    values = []
    for text in (_as_text(lat), _as_text(lon)):
        match = _GPS.match((text or "").strip())
        if not match:
            return None
        deg = int(match[1]) + float(match[2]) / 60 + float(match[3] or 0) / 3600
        values.append(round(-deg if match[4] in "SW" else deg, 7))
    if abs(values[0]) > 90 or abs(values[1]) > 180:
        return None
    return {"lat": values[0], "lon": values[1], "alt": None}


def _taken(p: dict[str, Any], notes: list[str] | None) -> str | None:
    """The first plausible of the XMP dates; notes the absurd ones."""
    for prefix, name in (("photoshop", "DateCreated"), ("exif", "DateTimeOriginal"),
                         ("xmp", "CreateDate")):
        text = _as_text(p.get(_q(prefix, name)))
        if text:
            iso = parse_exif_datetime(text[:19].replace("-", ":", 2),
                                      offset=text[19:].replace("Z", "+00:00")[-6:]
                                      if len(text) > 19 else None)
            iso = capture_time(iso, f"XMP {prefix}:{name}", notes)
            if iso:
                return iso
    return None


def parse_packet(packet: bytes, notes: list[str] | None = None) -> dict[str, Any]:
    """The credit, people, keyword and date facts of an XMP packet; `notes` gets a line
    for each value ignored (an absurd date).

    Raises XmpError when the packet is malformed, too large or hostile.
    """
    largest = settings.value("xmp_packet_bytes")
    if len(packet) > largest:
        raise XmpError(f"XMP packet of {len(packet)} bytes is larger than {largest}")
    try:
        root = fromstring(packet.strip(b"\x00").lstrip(b"\xef\xbb\xbf"))
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise XmpError(f"XMP is not well-formed: {exc}") from None
    p = _properties(root)
    persons = _as_list(p.get(_q("Iptc4xmpExt", "PersonInImage"))) + _region_names(root)
    return {
        "title": _as_text(p.get(_q("dc", "title"))),
        "description": _as_text(p.get(_q("dc", "description"))),
        "creator": _as_list(p.get(_q("dc", "creator"))),
        "rights": _as_text(p.get(_q("dc", "rights"))),
        "credit": _as_text(p.get(_q("photoshop", "Credit"))),
        "keywords": _as_list(p.get(_q("dc", "subject")))
        + _as_list(p.get(_q("lr", "hierarchicalSubject"))),
        "persons": list(dict.fromkeys(persons)),
        "face_regions": face_regions(root),
        "event": _as_text(p.get(_q("Iptc4xmpExt", "Event"))
                          or p.get(_q("Iptc4xmpCore", "Event"))),
        "license_url": _as_text(p.get(_q("xmpRights", "WebStatement"))),
        "usage_terms": _as_text(p.get(_q("xmpRights", "UsageTerms"))),
        "cc_license": _as_text(p.get(_q("cc", "license"))),
        "taken": _taken(p, notes),
        "make": _as_text(p.get(_q("tiff", "Make"))),
        "model": _as_text(p.get(_q("tiff", "Model"))),
        "gps": _gps(p.get(_q("exif", "GPSLatitude")), p.get(_q("exif", "GPSLongitude"))),
    }
