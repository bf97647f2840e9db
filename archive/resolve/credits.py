"""Credit: who must be credited for an item, with what licence, and the credit line.

Descriptive fields resolve each on its own; the event's rights fields (a default's or a
rule's organisation, project, licence, copyright, licence page) reach only the work of
the creator it names, of a person of the event file, items that name no one, or items
under a forced rule. Anything else is third-party and keeps what it says itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.model import CREDIT_FIELDS, CreditRule, CreditSpec, Event, MediaEntry
from archive.resolve.embedded import embedded_blocks
from archive.resolve.globs import glob_matches
from archive.resolve.licensetext import license_name, same_license, spdx_license
from archive.resolve.names import NameIndex, fold

_LABEL = {"photo": "Photo", "video": "Video", "audio": "Audio"}

Credit = dict[str, tuple[str, str]]  # field -> (value, source)


def credit_line(kind: str, credit: Mapping[str, str | None]) -> str | None:
    """'Photo: Creator / Organisation (Project), CC BY 4.0': Creative Commons' TASL
    (the title and the source are the item page's; author and licence are here). Parts
    that are unknown are left out; None when no one is named."""
    creator, org, project = (credit.get(k) for k in ("creator", "organisation", "project"))
    who = " / ".join(p for p in (creator, org) if p)
    if project:
        who = f"{who} ({project})" if who else f"({project})"
    if not who:
        return None
    licence = license_name(credit.get("license"))
    return f"{_LABEL.get(kind, 'Media')}: {who}" + (f", {licence}" if licence else "")


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
    licence = embedded_license(meta)
    if licence:
        found["license"] = licence
    return found


def _block_license(block: dict[str, Any]) -> str | None:
    """The licence one XMP block states: cc:license and xmpRights:UsageTerms say one
    (an SPDX id where one fits, else their text); dc:rights and xmpRights:WebStatement
    count only when they name a known licence ("CC BY 4.0", "public domain", a Creative
    Commons URL), since they mostly hold a copyright notice or the owner's web site."""
    stated = [_joined(block.get(k)) for k in ("cc_license", "usage_terms")]
    others = [_joined(block.get(k)) for k in ("rights", "license_url")]
    for text in (*stated, *others):
        found = spdx_license(text) if text else None
        if found:
            return found
    return next((text for text in stated if text), None)


def embedded_license(meta: dict[str, Any]) -> tuple[str, str] | None:
    """(licence, "xmp") from the first XMP block (sidecar first) that states one."""
    for source, block in embedded_blocks(meta):
        if source == "xmp" and (found := _block_license(block)):
            return found, source
    return None


def embedded_creators(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Every creator the file or its sidecar names, (value, source), each once: XMP may
    name the event's photographer while EXIF Artist names someone else."""
    keys = {"xmp": "creator", "iptc": "creator", "exif": "artist", "video": "artist"}
    found: dict[str, tuple[str, str]] = {}
    for source, block in embedded_blocks(meta):
        value = _joined(block.get(keys.get(source, "")))
        if value:
            found.setdefault(fold(value), (value, source))
    return list(found.values())


def first_rule(event: Event, relpath: str) -> CreditRule | None:
    return next((r for r in event.credit_rules if glob_matches(r.match, relpath)), None)


@dataclass
class CreditAnswer:
    """An item's credit, field -> (value, source), and what the report needs of it."""

    fields: Credit = field(default_factory=dict)
    # The embedded fields naming someone the event's rights may not be given to, while
    # no [[media]] entry or forced rule decides: {field, source, value} each.
    third_party: list[dict[str, str]] = field(default_factory=list)
    # An embedded licence the event's (rule or default) disagrees with.
    license_conflict: dict[str, str] | None = None
    creator_person: str | None = None  # the person of the event file who is the creator

    def rights(self) -> dict[str, Any]:
        return {"third_party": self.third_party, "license_conflict": self.license_conflict,
                "creator_person": self.creator_person}


def _names(text: str) -> list[str]:
    """The names of a creator field ("A, B" or "A; B")."""
    return [part.strip() for part in re.split(r"[;,]", text) if part.strip()]


def _creator_is_ours(creator: str, named: list[str | None], people: NameIndex) -> bool:
    """Whether each name of `creator` is the one a default or rule names, or a person's."""
    known = {fold(n) for n in named if n}
    return all(fold(n) in known or people.exact(n) is not None for n in _names(creator))


def _event_rights_apply(creators: list[str], embedded: Credit, specs: list[CreditSpec],
                        force: bool, people: NameIndex) -> bool:
    """The four cases in which a default's or rule's rights fields reach an item: every
    creator it names (a [[media]] entry's, else each embedded one) is ours."""
    if force:
        return True
    if creators:
        named = [s.creator for s in specs]
        return all(_creator_is_ours(c, named, people) for c in creators)
    return not embedded


def _layers(name: str, entry: dict[str, str | None], embedded: Credit,
            rule: CreditRule | None, default: dict[str, str | None],
            event_rights: bool) -> list[tuple[str | None, str]]:
    """Where field `name` may come from, in precedence order."""
    layers = [(entry.get(name), "media")]
    mine = embedded.get(name, (None, ""))
    if not event_rights:
        return [*layers, mine]
    ruled = (rule.credit.as_dict().get(name) if rule else None, "rule")
    layers += [ruled, mine] if rule and rule.force else [mine, ruled]
    return [*layers, (default.get(name), "default")]


def _conflict(credit: Credit, embedded: Credit, rule: CreditRule | None,
              default: dict[str, str | None]) -> dict[str, str] | None:
    """The embedded licence against the event's, unless a [[media]] entry decided."""
    mine = embedded.get("license")
    ruled = rule.credit.license if rule else None
    theirs, source = (ruled, "rule") if ruled else (default.get("license"), "default")
    if not mine or not theirs or credit.get("license", ("", ""))[1] == "media" or \
            same_license(mine[0], theirs):
        return None
    return {"embedded": mine[0], "event_license": theirs, "event_source": source,
            "license": credit["license"][0]}


def _naming(embedded: Credit, creators: list[tuple[str, str]]) -> list[dict[str, str]]:
    """What a third-party item says of whom: its embedded fields, and each creator
    another source names."""
    said = [{"field": k, "source": s, "value": v} for k, (v, s) in embedded.items()]
    return said + [{"field": "creator", "source": s, "value": v} for v, s in creators
                   if {"field": "creator", "source": s, "value": v} not in said]


def resolve_credit(relpath: str, meta: dict[str, Any], event: Event,
                   entry: MediaEntry | None) -> CreditAnswer:
    """[[media]] > embedded > first matching rule > [credit], field by field, the
    event's layers only where its rights apply (a rule with `force = true` beats what
    the file says)."""
    rule = first_rule(event, relpath)
    embedded = embedded_credit(meta)
    entry_values = entry.credit.as_dict() if entry else {}
    default = event.credit.as_dict()
    people = NameIndex(event.people)
    others = embedded_creators(meta)
    creators = [entry_values["creator"]] if entry_values.get("creator") else [
        value for value, _ in others]
    specs = [event.credit, *([rule.credit] if rule else [])]
    event_rights = _event_rights_apply(creators, embedded, specs, bool(rule and rule.force),
                                       people)
    credit: Credit = {}
    for name in CREDIT_FIELDS:
        for value, source in _layers(name, entry_values, embedded, rule, default,
                                     event_rights):
            if value:
                credit[name] = (value, source)
                break
    decided = any(entry_values.values())
    final_creator = credit.get("creator", ("", ""))[0]
    return CreditAnswer(
        fields=credit,
        third_party=[] if event_rights or decided else _naming(embedded, others),
        license_conflict=_conflict(credit, embedded, rule, default),
        creator_person=next((p for n in _names(final_creator)
                             if (p := people.exact(n)) is not None), None))
