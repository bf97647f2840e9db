"""File names that are not UTF-8 (`caf\\xe9.jpg` from an old zip): exact inside, readable out.

Python keeps each byte of a name that is not UTF-8 as a lone surrogate (U+DC80 plus the
byte: `os.fsdecode`), so the name still opens the file and gives back the same bytes
with `os.fsencode`; the catalog stores it so (catalog.py). Such text cannot be written
as UTF-8, so what is shown (item JSON, terminal, the site) writes those bytes as `\\xe9`.

A name may also hold those four characters themselves (`caf\\xe9.jpg`, backslash
included). So that the two never look alike, `readable` doubles the backslashes right
before anything that reads as an escaped byte: that name is shown `caf\\\\xe9.jpg`, and
`exact` undoes both. Any other backslash is shown as it is.
"""

from __future__ import annotations

import codecs
import os
import re

_BYTE = re.compile("[\udc80-\udcff]")
# A run of backslashes before an escaped byte as shown (`xe9`, or the byte itself).
_BEFORE_BYTE = re.compile(r"(\\+)(?=x[89a-f][0-9a-f]|[\udc80-\udcff])")
_SHOWN_BYTE = re.compile(r"(\\+)x([89a-f][0-9a-f])")
_SEPARATOR = re.compile(r"(\\+)(?=x[89a-f][0-9a-f])|\\")
ERRORS = "archive-readable"  # an error handler for streams: the same `\xe9` form


def _shown(match: re.Match[str]) -> str:
    return f"\\x{ord(match[0]) - 0xDC00:02x}"


def readable(text: str) -> str:
    """A file name as shown: each byte that is not UTF-8 written as `\\xe9`, and a
    backslash before such a form doubled (`\\\\xe9` is those characters, not a byte).
    Apply it once, to the name as catalogued."""
    if text.isascii() and "\\x" not in text:
        return text
    return _BYTE.sub(_shown, _BEFORE_BYTE.sub(lambda m: m[1] * 2, text))


def readable_json(text: str) -> str:
    """JSON text whose strings had such bytes, with `\\\\xe9` in them: valid JSON reading
    as `readable` shows them."""
    return text if text.isascii() else _BYTE.sub(lambda m: "\\" + _shown(m), text)


def _restore(match: re.Match[str]) -> str:
    backslashes, odd = divmod(len(match[1]), 2)
    byte = chr(0xDC00 + int(match[2], 16)) if odd else f"x{match[2]}"
    return "\\" * backslashes + byte


def exact(text: str) -> str:
    """The name `readable` showed as `text`, for looking it up again."""
    return _SHOWN_BYTE.sub(_restore, text) if "\\x" in text else text


def separators(path: str) -> str:
    """A path typed by a user with each backslash a folder separator (Windows' way),
    except those of a byte shown as `\\xe9` and the ones `readable` doubled."""
    return _SEPARATOR.sub(lambda m: m[1] or "/", path) if "\\" in path else path


def _on_error(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    return _BYTE.sub(_shown, bad).encode("ascii", "backslashreplace").decode("ascii"), \
        error.end


codecs.register_error(ERRORS, _on_error)


def within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether `path` is `folder` or lies under it, comparing the paths as written (the
    caller resolves links where they matter); False when one is relative and the other
    absolute. A shared prefix is not enough: /ev2/a.jpg is not within /ev."""
    try:
        return os.path.commonpath([path, folder]) == os.path.normpath(folder)
    except ValueError:
        return False
