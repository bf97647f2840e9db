"""Path globs of the event file (`**` spans folders, `*` and `?` stay inside one)."""

from __future__ import annotations

import re
from functools import lru_cache


class GlobError(ValueError):
    """The pattern cannot be compiled; the message says why."""


def _class_end(pattern: str, start: int) -> int:
    """Index just past the `]` closing the class opened at `start`."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    close = pattern.find("]", i)
    if close < 0:
        raise GlobError(f"unclosed '[' at position {start + 1}")
    return close + 1


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = _class_end(pattern, i)
            body = pattern[i + 1:end - 1]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile a glob relative to the event folder.

    Raises GlobError for an empty pattern, an absolute one, one with `..`,
    or an unclosed character class.
    """
    if not pattern.strip():
        raise GlobError("empty pattern")
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise GlobError("must be relative to the event folder, without '..'")
    try:
        return re.compile(_translate(pattern) + r"\Z", re.IGNORECASE)
    except re.error as exc:
        raise GlobError(str(exc)) from exc


def glob_matches(pattern: str, relpath: str) -> bool:
    return compile_glob(pattern).match(relpath) is not None
