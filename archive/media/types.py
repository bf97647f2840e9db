"""Recognise media by their content (magic bytes), not by their file names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

HEAD_BYTES = 1024


@dataclass(frozen=True)
class MediaType:
    kind: str  # photo | video | audio
    mime: str
    extensions: tuple[str, ...]

    @property
    def is_raw(self) -> bool:
        """Camera raw: we read its metadata and embedded preview, never its sensor data."""
        return self.mime in RAW_MIMES


JPEG = MediaType("photo", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"))
PNG = MediaType("photo", "image/png", (".png",))
GIF = MediaType("photo", "image/gif", (".gif",))
TIFF = MediaType("photo", "image/tiff", (".tif", ".tiff"))
CR2 = MediaType("photo", "image/x-canon-cr2", (".cr2",))
NEF = MediaType("photo", "image/x-nikon-nef", (".nef", ".nrw"))
DNG = MediaType("photo", "image/x-adobe-dng", (".dng",))
WEBP = MediaType("photo", "image/webp", (".webp",))
HEIC = MediaType("photo", "image/heic", (".heic", ".heif", ".hif"))
AVIF = MediaType("photo", "image/avif", (".avif",))
MP4 = MediaType("video", "video/mp4", (".mp4", ".m4v", ".3gp", ".3g2"))
MOV = MediaType("video", "video/quicktime", (".mov", ".qt"))
THREE_GP = MediaType("video", "video/3gpp", (".3gp", ".3g2", ".mp4"))
MKV = MediaType("video", "video/x-matroska", (".mkv", ".mka", ".mks"))
WEBM = MediaType("video", "video/webm", (".webm",))
AVI = MediaType("video", "video/x-msvideo", (".avi",))
MPEG_TS = MediaType("video", "video/mp2t", (".mts", ".m2ts", ".ts"))
MPEG_PS = MediaType("video", "video/mpeg", (".mpg", ".mpeg", ".vob"))
MP3 = MediaType("audio", "audio/mpeg", (".mp3",))
M4A = MediaType("audio", "audio/mp4", (".m4a",))
WAV = MediaType("audio", "audio/wav", (".wav",))
FLAC = MediaType("audio", "audio/flac", (".flac",))
OGG = MediaType("audio", "audio/ogg", (".ogg", ".oga", ".opus"))

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A "}


def _iso_bmff(head: bytes) -> MediaType | None:
    """ftyp-boxed files: HEIF/AVIF images, MP4/MOV/3GP video, M4A audio."""
    if head[4:8] != b"ftyp":
        return None
    major = head[8:12]
    size = int.from_bytes(head[:4], "big")
    compatible = {head[i:i + 4] for i in range(16, min(max(size, 16), len(head)), 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _HEIF_BRANDS or (brands & _HEIF_BRANDS and not brands & {b"isom", b"mp41",
                                                                           b"mp42", b"qt  "}):
        return AVIF if brands & _AVIF_BRANDS else HEIC
    if major in _AUDIO_BRANDS:
        return M4A
    if major == b"qt  ":
        return MOV
    if major.startswith((b"3gp", b"3g2")):
        return THREE_GP
    return MP4


def _riff(head: bytes) -> MediaType | None:
    return {b"WEBP": WEBP, b"AVI ": AVI, b"WAVE": WAV}.get(head[8:12])


def _tiff(head: bytes) -> MediaType | None:
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    if head[8:10] == b"CR":
        return CR2
    return TIFF


def _transport_stream(head: bytes) -> MediaType | None:
    for offset, step in ((0, 188), (4, 192)):
        if len(head) > offset + 2 * step and all(
                head[offset + k * step] == 0x47 for k in range(3)
                if offset + k * step < len(head)):
            return MPEG_TS
    return None


def _matroska(head: bytes) -> MediaType | None:
    if head[:4] != b"\x1a\x45\xdf\xa3":
        return None
    return WEBM if b"webm" in head[:64] else MKV


def _mp3(head: bytes) -> MediaType | None:
    """An ID3 tag, or a bare MPEG audio frame header whose fields are all valid."""
    if head[:3] == b"ID3":
        return MP3
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    valid = version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3
    return MP3 if valid else None


_SIGNATURES: tuple[tuple[bytes, MediaType], ...] = (
    (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"GIF87a", GIF), (b"GIF89a", GIF),
    (b"fLaC", FLAC), (b"OggS", OGG), (b"\x00\x00\x01\xba", MPEG_PS),
)


def sniff(head: bytes) -> MediaType | None:
    """The media type of a file from its first bytes, or None if it is not media."""
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    for probe in (_iso_bmff, _tiff, _matroska, _transport_stream, _mp3):
        found = probe(head)
        if found:
            return found
    return _riff(head) if head[:4] == b"RIFF" else None


def refine_tiff(media_type: MediaType, make: str | None, path: PurePath) -> MediaType:
    """TIFF-based raw files are told apart by maker and extension after EXIF is read."""
    suffix = path.suffix.lower()
    if media_type is TIFF and suffix in NEF.extensions and (make or "").upper().startswith(
            "NIKON"):
        return NEF
    if media_type is TIFF and suffix in DNG.extensions:
        return DNG
    return media_type


def extension_mismatch(media_type: MediaType, path: PurePath) -> bool:
    """True when the file name promises another format than its content."""
    suffix = path.suffix.lower()
    known = {ext for t in ALL_TYPES for ext in t.extensions}
    return suffix in known and suffix not in media_type.extensions


ALL_TYPES = (JPEG, PNG, GIF, TIFF, CR2, NEF, DNG, WEBP, HEIC, AVIF, MP4, MOV, THREE_GP, MKV,
             WEBM, AVI, MPEG_TS, MPEG_PS, MP3, M4A, WAV, FLAC, OGG)
SIDECAR_SUFFIXES = (".xmp", ".srt", ".vtt")
RAW_MIMES = frozenset({"image/x-canon-cr2", "image/x-nikon-nef", "image/x-adobe-dng"})
