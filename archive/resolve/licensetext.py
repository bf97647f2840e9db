"""Licence statements as files write them ("CC BY 4.0", a Creative Commons URL, "This
file is in the public domain") read as SPDX ids; and an id's URL and short human name,
for the credit line (Creative Commons' TASL: title, author, source, licence).

"Public domain" reads as `CC-PDM-1.0`, the Public Domain Mark: a statement that a work
is free of known copyright, which is what such text says. `CC0-1.0` is a waiver its
rights holder signs and `CC-PDDC` a retired US certification; neither is claimed by
a file that merely says "public domain".
"""

from __future__ import annotations

import re
import unicodedata

from archive.resolve.licenses import SPDX_IDS

_LOWER = {name.lower(): name for name in SPDX_IDS}
_CC_KIND = r"by(?:[\s_-]*nc)?(?:[\s_-]*(?:sa|nd))?"
# "CC BY-SA 4.0", "CC-BY-NC-ND-3.0", "cc by 2.5"
_CC_SHORT = re.compile(rf"\bcc[\s_-]*({_CC_KIND})[\s_-]*v?(\d\.\d)(?:[\s_-]*(igo))?\b")
# Creative Commons' deed and legal-code URLs.
_CC_URL = re.compile(rf"creativecommons\.org/licenses/({_CC_KIND})/(\d\.\d)(?:/(igo))?")
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/zero/1\.0|\bcc[\s_-]*(?:0|zero)\b")
_PD_MARK = re.compile(r"creativecommons\.org/publicdomain/mark/1\.0|\bpublic[\s_-]*domain\b")
# A clause denying what it names grants nothing ("not CC BY 4.0", "CC0 does not
# apply"); "no" before "derivatives" is part of a licence's name.
_NEGATION = re.compile(r"\b(?:not|never|without|neither|nor|isn'?t|doesn'?t|don'?t|"
                       r"no(?![\s_-]*deriv))\b")
# Clauses: split at ; ! ? and line ends, and at a full stop before a space ("4.0" and
# URLs keep theirs).
_CLAUSE = re.compile(r"[;!?\n]|\.(?=\s|$)")
_ALL_RESERVED = re.compile(r"\ball[\s_-]+rights[\s_-]+reserved\b")
# "Creative Commons Attribution-ShareAlike 4.0 International"
_CC_LONG = re.compile(r"creative[\s_-]*commons[\s_-]*attribution"
                      r"((?:[\s_-]*(?:non[\s_-]*commercial|share[\s_-]*alike|"
                      r"no[\s_-]*deriv(?:ative)?s?))*)[\s_-]*(?:license[\s_-]*)?v?(\d\.\d)")
_LONG_PARTS = (("noncommercial", "NC"), ("sharealike", "SA"), ("noderiv", "ND"))
_HUMAN = {"CC0-1.0": "CC0 1.0", "CC-PDM-1.0": "Public Domain Mark 1.0",
          "CC-PDDC": "Public Domain"}
_URLS = {"CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
         "CC-PDM-1.0": "https://creativecommons.org/publicdomain/mark/1.0/"}
_CC_ID = re.compile(r"CC-(BY(?:-NC)?(?:-SA|-ND)?)-(\d\.\d)(-IGO)?\Z")
_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+\Z")


def _cc_id(kind: str, version: str, igo: str | None) -> str | None:
    parts = re.findall(r"by|nc|sa|nd", kind.lower())
    found = "CC-" + "-".join(p.upper() for p in parts) + f"-{version}" + (
        "-IGO" if igo else "")
    return found if found in SPDX_IDS else None


def _long_form(match: re.Match[str]) -> str | None:
    words = re.sub(r"[\s_-]+", "", match[1])
    kind = "by" + "".join(f"-{short}" for long, short in _LONG_PARTS if long in words)
    return _cc_id(kind, match[2], None)


# Characters of a statement read: a licence is named near the start, and a file's text
# can be megabytes (the negation check would be quadratic in it).
STATEMENT_LENGTH = 2000


def spdx_license(text: str) -> str | None:
    """The SPDX id a licence statement names ("CC BY 4.0", a Creative Commons URL,
    "public domain"), or None when it names none this archive knows. Never raises."""
    plain = unicodedata.normalize("NFKC", text[:STATEMENT_LENGTH]).strip()
    if plain in SPDX_IDS or _REF.match(plain):
        return plain
    if plain.lower() in _LOWER:
        return _LOWER[plain.lower()]
    lower = plain.lower()
    if _ALL_RESERVED.search(lower):
        return None  # whatever else it names, it grants nothing
    for clause in _CLAUSE.split(lower):
        if not _NEGATION.search(clause) and (found := _named(clause)):
            return found
    return None


def _named(clause: str) -> str | None:
    """The licence one clause names, if any."""
    for pattern in (_CC_URL, _CC_SHORT):
        match = pattern.search(clause)
        if match:
            return _cc_id(match[1], match[2], match[3])
    match = _CC_LONG.search(clause)
    if match:
        return _long_form(match)
    if _CC_ZERO.search(clause):
        return "CC0-1.0"
    if _PD_MARK.search(clause):
        return "CC-PDM-1.0"
    return None


def same_license(one: str, other: str) -> bool:
    """Whether two licence values (SPDX ids, URLs or texts) name the same licence."""
    return (spdx_license(one) or one.strip()).casefold() == \
        (spdx_license(other) or other.strip()).casefold()


def license_url(license_: str | None) -> str | None:
    """A URL for a licence: itself if it is one, Creative Commons' page for CC ids, the
    SPDX page for other SPDX ids, else None (a licence text has no page)."""
    if not license_:
        return None
    if license_.startswith(("http://", "https://")):
        return license_
    match = _CC_ID.match(license_)
    if match:
        igo = "/igo" if match[3] else ""
        return f"https://creativecommons.org/licenses/{match[1].lower()}/{match[2]}{igo}/"
    if license_ in _URLS:
        return _URLS[license_]
    if license_ in SPDX_IDS or _REF.match(license_):
        return f"https://spdx.org/licenses/{license_}.html"
    return None


# A licence text longer than this is left out of the credit line (it stays in `license`).
LINE_TEXT = 60


def license_name(license_: str | None) -> str | None:
    """The licence's short human name for a credit line: "CC BY-SA 4.0", "CC0 1.0",
    "Public Domain Mark 1.0"; another SPDX id as it is; a URL of a known licence by
    that licence's name; a short text as it is; None for a long one."""
    if not license_:
        return None
    value = spdx_license(license_) or license_.strip()
    match = _CC_ID.match(value)
    if match:
        return f"CC {match[1]} {match[2]}" + (" IGO" if match[3] else "")
    if value in _HUMAN:
        return _HUMAN[value]
    return value if len(value) <= LINE_TEXT else None
