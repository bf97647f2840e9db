"""Path globs of the event file (`**` spans folders; `*`, `?` and `[...]` stay inside one).

Matching is case-insensitive and takes time linear in the path: a glob is an
automaton run over the path one character at a time, never a backtracking
regex, whose `.*a.*a.*b` took minutes on a long path that does not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache


class GlobError(ValueError):
    """The pattern cannot be compiled; the message says why."""


_NOT_SLASH = re.compile(r"[^/]")
_CACHED_STEPS = 4096  # per glob: a few paths' worth of distinct (state, character) pairs


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


def _char_class(body: str) -> re.Pattern[str]:
    """One character of `[body]` (`!` or `^` first negates; `a-z` ranges), never `/`."""
    negate = body[:1] in ("!", "^")
    chars = body[1:] if negate else body
    parts, i = [], 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            parts.append(f"{re.escape(chars[i])}-{re.escape(chars[i + 2])}")
            i += 3
        else:
            parts.append(re.escape(chars[i]))
            i += 1
    try:
        return re.compile(f"(?!/)[{'^' if negate else ''}{''.join(parts)}]", re.IGNORECASE)
    except re.error as exc:
        raise GlobError(f"{exc.msg} in '[{body}]'") from None


@dataclass
class Glob:
    """A compiled glob: a nondeterministic automaton, run as a lazily built DFA."""

    pattern: str
    # Per state: (test of one character, None for any, next state); and the states
    # reached without reading a character.
    edges: list[list[tuple[re.Pattern[str] | None, int]]] = field(default_factory=list)
    skips: list[list[int]] = field(default_factory=list)
    accept: int = 0
    start: frozenset[int] = frozenset()
    _steps: dict[tuple[frozenset[int], str], frozenset[int]] = field(default_factory=dict,
                                                                      repr=False)

    def state(self) -> int:
        self.edges.append([])
        self.skips.append([])
        return len(self.edges) - 1

    def closure(self, states: set[int]) -> frozenset[int]:
        todo, seen = list(states), set(states)
        while todo:
            for nxt in self.skips[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)

    def step(self, states: frozenset[int], char: str) -> frozenset[int]:
        """The states after reading `char`, kept for the next path (up to a bound)."""
        found = self.closure({nxt for s in states for test, nxt in self.edges[s]
                              if test is None or test.match(char)})
        if len(self._steps) < _CACHED_STEPS:
            self._steps[(states, char)] = found
        return found

    def match(self, path: str) -> bool:
        states, steps = self.start, self._steps
        for char in path:
            # The cached step looked up inline: this loop is what matching costs.
            states = steps.get((states, char)) or self.step(states, char)
            if not states:
                return False
        return self.accept in states


def _build(pattern: str) -> Glob:
    glob = Glob(pattern)
    here, i = glob.state(), 0
    while i < len(pattern):
        if pattern.startswith("**/", i):  # no folder, or any folders: `(.*/)?`
            inside, after = glob.state(), glob.state()
            glob.skips[here] += [after, inside]
            glob.edges[inside] += [(None, inside), (re.compile("/"), after)]
            here, i = after, i + 3
        elif pattern.startswith("**", i):
            glob.edges[here].append((None, here))
            i += 2
        elif pattern[i] == "*":
            glob.edges[here].append((_NOT_SLASH, here))
            i += 1
        else:
            if pattern[i] == "[":
                end = _class_end(pattern, i)
                test, i = _char_class(pattern[i + 1:end - 1]), end
            else:
                test = _NOT_SLASH if pattern[i] == "?" else re.compile(
                    re.escape(pattern[i]), re.IGNORECASE)
                i += 1
            nxt = glob.state()
            glob.edges[here].append((test, nxt))
            here = nxt
    glob.accept, glob.start = here, glob.closure({0})
    return glob


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> Glob:
    """Compile a glob relative to the event folder.

    Raises GlobError for an empty pattern, an absolute one, one with `..`,
    or an unclosed or malformed character class.
    """
    if not pattern.strip():
        raise GlobError("empty pattern")
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise GlobError("must be relative to the event folder, without '..'")
    return _build(pattern)


def glob_matches(pattern: str, relpath: str) -> bool:
    return compile_glob(pattern).match(relpath)
