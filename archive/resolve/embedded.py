"""The metadata blocks a file carries, in the order resolution trusts them."""

from __future__ import annotations

from typing import Any


def embedded_blocks(meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Embedded metadata blocks in precedence order, each with its source name: an
    `.xmp` sidecar over the file's XMP, over IPTC, over EXIF, over video tags."""
    return [("xmp", meta.get("sidecar_xmp") or {}), ("xmp", meta.get("xmp") or {}),
            ("iptc", meta.get("iptc") or {}), ("exif", meta.get("exif") or {}),
            ("video", meta.get("tags") or {})]
