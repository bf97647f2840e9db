"""The JSON columns: how model values are stored as text, and read back.

Callers of the catalog never see this text: query functions decode it into the
records of `archive.model`.
"""

from __future__ import annotations

import json
from typing import Any

from archive.catalog.errors import DamagedValue


def stored_json(text: str) -> Any:
    """A JSON value read from the catalog; raises DamagedValue when it does not parse."""
    try:
        return json.loads(text)
    except ValueError:
        raise DamagedValue("a stored value is damaged (not JSON)") from None


def to_json(value: Any) -> str:
    """A value as the catalog stores it: JSON text, not ASCII-escaped."""
    return json.dumps(value, ensure_ascii=False)
