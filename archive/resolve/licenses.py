"""License values (an SPDX identifier, checked against a list, or a URL) and the URLs
an event file may give: http(s) only, since the site and exports link them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The SPDX ids an event archive meets in practice; a full list would only add
# software licenses. `LicenseRef-…` stays open for custom terms, as SPDX allows.
SPDX_IDS = frozenset("""
CC0-1.0 PDDL-1.0 ODbL-1.0 ODC-By-1.0
CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-3.0 CC-BY-4.0
CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.5 CC-BY-SA-3.0 CC-BY-SA-4.0
CC-BY-ND-1.0 CC-BY-ND-2.0 CC-BY-ND-2.5 CC-BY-ND-3.0 CC-BY-ND-4.0
CC-BY-NC-1.0 CC-BY-NC-2.0 CC-BY-NC-2.5 CC-BY-NC-3.0 CC-BY-NC-4.0
CC-BY-NC-SA-1.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-2.5 CC-BY-NC-SA-3.0 CC-BY-NC-SA-4.0
CC-BY-NC-ND-1.0 CC-BY-NC-ND-2.0 CC-BY-NC-ND-2.5 CC-BY-NC-ND-3.0 CC-BY-NC-ND-4.0
CC-BY-3.0-IGO CC-BY-SA-3.0-IGO CC-BY-NC-SA-2.0-UK CC-BY-SA-2.0-UK
CC-PDDC CC-PDM-1.0 GFDL-1.2-or-later GFDL-1.3-or-later GFDL-1.3-only
MIT Apache-2.0 GPL-3.0-or-later GPL-2.0-or-later Artistic-2.0 OFL-1.1 Unlicense
""".split())

_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+\Z")
_LOWER = {name.lower(): name for name in SPDX_IDS}
# What RFC 3986 leaves out of URLs and HTML attributes and scripts rely on: white space,
# controls, quotes, angle brackets and the like. Other non-ASCII letters (IRIs) may stay.
_NOT_IN_URL = re.compile(r'[\s\x00-\x1f\x7f-\x9f"<>\\^`{|}]')


def url_problem(value: str) -> str | None:
    """None for an absolute http(s) URL, else what is wrong with `value`."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http(s) URL; expected e.g. 'https://example.org/terms'"
    bad = _NOT_IN_URL.search(value)
    if bad:
        return (f"{value!r} holds {bad[0]!r}, which a URL cannot; percent-encode it "
                "(e.g. %22 for a double quote)")
    return None


def license_problem(value: str) -> str | None:
    """None when `value` is a known SPDX id or an http(s) URL, else what to write instead."""
    if ":" in value:  # a scheme: SPDX ids never hold a colon
        return url_problem(value)
    if value in SPDX_IDS or _REF.match(value):
        return None
    guess = _LOWER.get(value.strip().lower().replace(" ", "-"))
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return f"{value!r} is neither an SPDX license id (e.g. 'CC-BY-4.0') nor a URL{hint}"
