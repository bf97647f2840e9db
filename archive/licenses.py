"""License values: an SPDX identifier (checked against a list) or a URL."""

from __future__ import annotations

import re

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

_URL = re.compile(r"https?://[^\s/$.?#][^\s]*\Z", re.IGNORECASE)
_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+\Z")
_LOWER = {name.lower(): name for name in SPDX_IDS}


def license_problem(value: str) -> str | None:
    """None when `value` is a known SPDX id or a URL, else what to write instead."""
    if value in SPDX_IDS or _REF.match(value) or _URL.match(value):
        return None
    guess = _LOWER.get(value.strip().lower().replace(" ", "-"))
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return f"{value!r} is neither an SPDX license id (e.g. 'CC-BY-4.0') nor a URL{hint}"
