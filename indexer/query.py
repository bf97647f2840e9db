"""The search syntax: words, "phrases", field:value filters, ranges, AND/OR/NOT, ().

Parsed by hand into Whoosh query objects (no QueryParser: it fans out over
fields and turns user typos into exceptions). Only known fields are allowed;
unbalanced quotes or brackets are closed for the user; a malformed date or
number, or an unknown field, is a QueryError with a message saying what to
write instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as q

from .schema import FOLD, PROSE, RELATION_BOOST

MAX_CLAUSES = 48
MAX_QUERY = 10_000


class QueryError(ValueError):
    """The query cannot mean anything; the message tells the user what to write."""


@dataclass
class Parsed:
    query: q.Query | None
    words: list[str] = field(default_factory=list)  # plain words, for "did you mean"
    notices: list[str] = field(default_factory=list)


def _tokens(text: str, analyzer: object) -> list[str]:
    return [t.text for t in analyzer(text)]


def _all_of(fieldname: str, words: list[str]) -> q.Query | None:
    if not words:
        return None
    terms = [q.Term(fieldname, w) for w in words]
    return terms[0] if len(terms) == 1 else q.And(terms)


def _text(fieldname: str, value: str, analyzer: object, phrase: bool) -> q.Query | None:
    words = _tokens(value, analyzer)
    if phrase and len(words) > 1:
        return q.Phrase(fieldname, words)
    return _all_of(fieldname, words)


def _phrase_of_all(value: str) -> q.Query | None:
    """A phrase in the combined field, as the conjunction of its word pairs."""
    words = _tokens(value, PROSE)
    if len(words) < 2:
        return _all_of("all", words)
    return _all_of("pairs", [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)])


def _any(*queries: q.Query | None) -> q.Query | None:
    present = [x for x in queries if x is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else q.Or(present)


def _date(text: str, end: bool) -> dt.datetime:
    """YYYY, YYYY-MM or YYYY-MM-DD (optionally THH:MM) -> the first or last instant."""
    try:
        if re.fullmatch(r"\d{4}", text):
            start, nxt = dt.datetime(int(text), 1, 1), dt.datetime(int(text) + 1, 1, 1)
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = map(int, text.split("-"))
            start = dt.datetime(y, m, 1)
            nxt = dt.datetime(y + m // 12, m % 12 + 1, 1)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            start = dt.datetime.fromisoformat(text)
            nxt = start + dt.timedelta(days=1)
        else:
            start = dt.datetime.fromisoformat(text)
            nxt = start + dt.timedelta(minutes=1)
    except ValueError:
        raise QueryError(f"taken:{text} is not a date; write taken:2019-03-19, "
                         "taken:2019-03 or taken:2019-03-19..2019-03-20") from None
    return nxt - dt.timedelta(microseconds=1) if end else start


def _taken(value: str) -> q.Query:
    if ".." in value:
        low, high = value.split("..", 1)
        return q.DateRange("taken", _date(low, False) if low else None,
                           _date(high, True) if high else None)
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            when = value[len(op):]
            if op in (">", ">="):
                return q.DateRange("taken", _date(when, op == ">"), None,
                                   startexcl=op == ">")
            return q.DateRange("taken", None, _date(when, op == "<="), endexcl=op == "<")
    return q.DateRange("taken", _date(value, False), _date(value, True))


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise QueryError(f"{name}:{text} is not a number; write {name}:>60, "
                         f"{name}:<30 or {name}:10..60 (seconds)") from None


def _duration(value: str) -> q.Query:
    if ".." in value:
        low, high = value.split("..", 1)
        return q.NumericRange("duration", _number(low, "duration") if low else None,
                              _number(high, "duration") if high else None)
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            number = _number(value[len(op):], "duration")
            if op[0] == ">":
                return q.NumericRange("duration", number, None, startexcl=op == ">")
            return q.NumericRange("duration", None, number, endexcl=op == "<")
    number = _number(value, "duration")
    return q.NumericRange("duration", number, number)


def _person(value: str, phrase: bool) -> q.Query | None:
    by_relation = []
    for relation, boost in RELATION_BOOST.items():
        found = _text(f"person_{relation}", value, FOLD, phrase)
        if found is not None:
            found.boost = boost
            by_relation.append(found)
    return _any(q.Term("person", value), *by_relation)


FIELDS: dict[str, Callable[[str, bool], q.Query | None]] = {
    "session": lambda v, p: _any(*(q.Term("session", x) for x in dict.fromkeys(
        (v, v.lower()))), _text("session_text", v, FOLD, p)),
    "person": _person,
    "kind": lambda v, p: q.Term("kind", v.lower()),
    "event": lambda v, p: _any(q.Term("event", v), _text("event_text", v, FOLD, p)),
    "credit": lambda v, p: _text("credit", v, FOLD, p),
    "creator": lambda v, p: _any(q.Term("creator", v), _text("credit", v, FOLD, p)),
    "camera": lambda v, p: _text("camera_text", v, FOLD, p),
    "room": lambda v, p: _text("room", v, FOLD, p),
    "title": lambda v, p: _text("title", v, PROSE, p),
    "keyword": lambda v, p: _text("keywords", v, FOLD, p),
    "transcript": lambda v, p: _text("transcript", v, PROSE, p),
    "file": lambda v, p: _text("filename", v, FOLD, p),
    "taken": lambda v, p: _taken(v),
    "duration": lambda v, p: _duration(v),
}
ALIASES = {"keywords": "keyword", "people": "person", "filename": "file", "type": "kind",
           "date": "taken", "sessions": "session", "said": "transcript"}
KNOWN = ", ".join(sorted(FIELDS))

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<open>\() | (?P<close>\)) |
      (?P<neg>-)?(?P<field>[A-Za-z_]+):(?P<fvalue>"[^"]*"?|[^\s()]*) |
      (?P<neg2>-)?(?P<phrase>"[^"]*"?) |
      (?P<word>[^\s()"]+)
    )""", re.VERBOSE)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [m for m in _TOKEN.finditer(text) if m.group(0).strip()]
        self.pos = 0
        self.words: list[str] = []
        self.clauses = 0
        self.notices: list[str] = []

    def peek(self) -> re.Match[str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self, depth: int = 0) -> q.Query | None:
        parts: list[q.Query] = []
        joiner = q.And
        while (token := self.peek()) is not None:
            if token["close"]:
                if depth:
                    self.pos += 1
                    break
                self.pos += 1  # a stray ')' means nothing
                continue
            word = (token["word"] or "").upper()
            if word in ("AND", "OR") and parts:
                self.pos += 1
                if word == "OR" and len(parts) > 1 and joiner is q.And:
                    parts = [q.And(parts)]
                joiner = q.Or if word == "OR" else joiner
                continue
            node = self.unary(depth)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else joiner(parts)

    def unary(self, depth: int) -> q.Query | None:
        token = self.tokens[self.pos]
        if (token["word"] or "").upper() == "NOT":
            self.pos += 1
            inner = self.unary(depth) if self.peek() is not None else None
            return q.Not(inner) if inner is not None else None
        self.pos += 1
        if token["open"]:
            return self.expression(depth + 1)
        if self.clauses >= MAX_CLAUSES:
            if not self.notices:
                self.notices.append(f"only the first {MAX_CLAUSES} terms were used")
            return None
        self.clauses += 1
        node, negated = self.atom(token)
        return q.Not(node) if negated and node is not None else node

    def atom(self, token: re.Match[str]) -> tuple[q.Query | None, bool]:
        if token["field"] is not None:
            name = ALIASES.get(token["field"].lower(), token["field"].lower())
            value, phrase = _unquote(token["fvalue"])
            if name not in FIELDS:
                raise QueryError(f"unknown field {token['field']!r}; known fields: {KNOWN}")
            if not value:
                raise QueryError(f"{name}: needs a value, e.g. {name}:keller")
            return FIELDS[name](value, phrase), bool(token["neg"])
        if token["phrase"] is not None:
            value, _ = _unquote(token["phrase"])
            return _phrase_of_all(value), bool(token["neg2"])
        word = token["word"]
        negated = word.startswith("-") and len(word) > 1
        word = word[1:] if negated else word
        self.words.append(word)
        return _text("all", word, PROSE, False), negated


def _unquote(value: str) -> tuple[str, bool]:
    if value.startswith('"'):
        return value.strip('"'), True
    return value, False


def parse(text: str) -> Parsed:
    """Parse a query; raises QueryError for an unknown field or a bad date or number."""
    notices = []
    if len(text) > MAX_QUERY:
        text = text[:MAX_QUERY]
        notices.append(f"the query was cut to {MAX_QUERY} characters")
    parser = _Parser(text)
    tree = parser.expression()
    tree = _positive(tree)
    return Parsed(tree, parser.words, notices + parser.notices)


def _positive(tree: q.Query | None) -> q.Query | None:
    """Whoosh cannot run a query made only of NOTs: anchor it to every document."""
    if isinstance(tree, q.Not):
        return q.And([q.Every(), tree])
    if isinstance(tree, q.And) and tree.subqueries and all(
            isinstance(s, q.Not) for s in tree.subqueries):
        return q.And([q.Every(), *tree.subqueries])
    return tree
