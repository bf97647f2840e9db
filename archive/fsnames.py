"""File names that are not UTF-8 (`caf\\xe9.jpg` from an old zip): exact inside, readable out.

Python keeps each byte of a name that is not UTF-8 as a lone surrogate (U+DC80 plus the
byte: `os.fsdecode`), so the name still opens the file and gives back the same bytes
with `os.fsencode`; the catalog stores it so (catalog.py). Such text cannot be written
as UTF-8, so what is shown (item JSON, terminal, the site) writes those bytes as `\\xe9`.
"""

from __future__ import annotations

import codecs
import re

_BYTE = re.compile("[\udc80-\udcff]")
_SHOWN_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")
ERRORS = "archive-readable"  # an error handler for streams: the same `\xe9` form


def _shown(match: re.Match[str]) -> str:
    return f"\\x{ord(match[0]) - 0xDC00:02x}"


def readable(text: str) -> str:
    """`text` with each byte a file name had that is not UTF-8 written as `\\xe9`."""
    return text if text.isascii() else _BYTE.sub(_shown, text)


def readable_json(text: str) -> str:
    """JSON text whose strings had such bytes, with `\\\\xe9` in them: valid JSON reading
    as `readable` shows them."""
    return text if text.isascii() else _BYTE.sub(lambda m: "\\" + _shown(m), text)


def exact(text: str) -> str:
    """The name `readable` showed as `text`, for looking it up again."""
    return _SHOWN_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), text)


def _on_error(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    return readable(bad).encode("ascii", "backslashreplace").decode("ascii"), error.end


codecs.register_error(ERRORS, _on_error)
