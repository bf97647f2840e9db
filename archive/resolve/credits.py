"""Credit: who must be credited for an item, field by field, and the credit line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.model import CREDIT_FIELDS, CreditRule, Event, MediaEntry
from archive.resolve.embedded import embedded_blocks
from archive.resolve.globs import glob_matches

_LABEL = {"photo": "Photo", "video": "Video", "audio": "Audio"}

Credit = dict[str, tuple[str, str]]  # field -> (value, source)


def credit_line(kind: str, credit: Mapping[str, str | None]) -> str | None:
    """'Photo: Creator / Organisation (Project)'; parts that are unknown are left out."""
    creator, org, project = (credit.get(k) for k in ("creator", "organisation", "project"))
    who = " / ".join(p for p in (creator, org) if p)
    if project:
        who = f"{who} ({project})" if who else f"({project})"
    if not who:
        return None
    return f"{_LABEL.get(kind, 'Media')}: {who}"


def _joined(value: Any) -> str | None:
    if isinstance(value, list):
        value = ", ".join(v.strip() for v in value if v and v.strip())
    return value.strip() if isinstance(value, str) and value.strip() else None


def embedded_credit(meta: dict[str, Any]) -> Credit:
    """Creator, copyright and credit-line organisation written in the file or sidecar.

    XMP (sidecar first) over IPTC over EXIF, as the Metadata Working Group
    advises; the IPTC/XMP Credit Line names the provider, so it fills the
    organisation unless it only repeats the creator.
    """
    blocks = embedded_blocks(meta)
    keys = {"creator": {"xmp": "creator", "iptc": "creator", "exif": "artist",
                        "video": "artist"},
            "copyright": {"xmp": "rights", "iptc": "copyright", "exif": "copyright",
                          "video": "copyright"},
            "organisation": {"xmp": "credit", "iptc": "credit"}}
    found: Credit = {}
    for name, by_source in keys.items():
        for source, block in blocks:
            value = _joined(block.get(by_source.get(source, "")))
            if value and name not in found:
                found[name] = (value, source)
    creator = found.get("creator", ("",))[0].casefold()
    if "organisation" in found and found["organisation"][0].casefold() == creator:
        del found["organisation"]
    return found


def first_rule(event: Event, relpath: str) -> CreditRule | None:
    return next((r for r in event.credit_rules if glob_matches(r.match, relpath)), None)


def resolve_credit(relpath: str, meta: dict[str, Any], event: Event,
                   entry: MediaEntry | None) -> Credit:
    """Each field on its own: [[media]] > embedded > first matching rule > [credit].

    A rule with `force = true` beats what the file says.
    """
    rule = first_rule(event, relpath)
    rule_values = rule.credit.as_dict() if rule else {}
    embedded = embedded_credit(meta)
    entry_values = entry.credit.as_dict() if entry else {}
    default = event.credit.as_dict()
    credit: Credit = {}
    for name in CREDIT_FIELDS:
        layers = [(entry_values.get(name), "media")]
        ruled = (rule_values.get(name), "rule")
        layers += [ruled, embedded.get(name, (None, ""))] if rule and rule.force else [
            embedded.get(name, (None, "")), ruled]
        layers.append((default.get(name), "default"))
        for value, source in layers:
            if value:
                credit[name] = (value, source)
                break
    return credit
