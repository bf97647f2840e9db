"""The search syntax: words, "phrases", field:value filters, ranges, AND/OR/NOT, ().

Parsed by hand into Whoosh query objects (no QueryParser: it fans out over
fields and turns user typos into exceptions). AND binds tighter than OR;
unbalanced quotes or brackets are closed for the user; a `word:` that is not a
field is text (pasted titles and URLs hold colons); a trailing `*` asks for a
prefix; inside quotes `\\"` is a quote. A malformed date or number, or brackets
nested too deep, is a QueryError with a message saying what to write instead.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from whoosh import query as q

from archive import settings
from archive.fsnames import separators

from .schema import FILE, FOLD, PROSE, RELATION_BOOST

# A prefix expands to at most max_prefix_words (settings): `a*` must not become a query
# of every word of the archive.


class QueryError(ValueError):
    """The query cannot mean anything; the message tells the user what to write."""


@dataclass
class Parsed:
    query: q.Query | None
    words: list[str] = field(default_factory=list)  # plain words, for "did you mean"
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Value:
    """A field's value as written: quoted (a phrase, taken literally) or ending in `*`."""

    text: str
    phrase: bool = False
    prefix: bool = False


class StemmedPrefix(q.Prefix):
    """Words starting with a prefix, in a stemmed field.

    A prefix of the stored stems misses words whose stem is shorter than the prefix
    (`materials*` must find `materi`), so the prefix is expanded over the unstemmed
    words of `spell` and each word found is stemmed as the field was.
    """

    def _btexts(self, ixreader):  # noqa: ANN001, ANN202 - Whoosh's interface
        seen = set()
        most = settings.value("max_prefix_words")
        for number, word in enumerate(ixreader.expand_prefix("spell", self.text)):
            if number >= most:
                break
            for token in PROSE(word.decode("utf-8")):
                btext = token.text.encode("utf-8")
                if btext not in seen and (self.fieldname, btext) in ixreader:
                    seen.add(btext)
                    yield btext


class LimitedPrefix(q.Prefix):
    """A prefix of exact values or unstemmed words, expanded to at most max_prefix_words."""

    def _btexts(self, ixreader):  # noqa: ANN001, ANN202 - Whoosh's interface
        most = settings.value("max_prefix_words")
        for number, btext in enumerate(ixreader.expand_prefix(self.fieldname, self.text)):
            if number >= most:
                return
            yield btext


def _tokens(text: str, analyzer: object) -> list[str]:
    return [t.text for t in analyzer(text)]


def _all_of(queries: list[q.Query]) -> q.Query | None:
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else q.And(queries)


def _any(*queries: q.Query | None) -> q.Query | None:
    present = [x for x in queries if x is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else q.Or(present)


def _text(fieldname: str, value: Value, analyzer: object) -> q.Query | None:
    """Every word of the value in a text field: a phrase when quoted, the last word
    a prefix when it ended in `*`."""
    if value.prefix:
        words = _tokens(value.text, FOLD)
        if not words:
            return q.Every()
        kind = StemmedPrefix if analyzer is PROSE else LimitedPrefix
        head = [x for w in words[:-1] for x in _tokens(w, analyzer)]
        return _all_of([q.Term(fieldname, w) for w in head] + [kind(fieldname, words[-1])])
    words = _tokens(value.text, analyzer)
    if value.phrase and len(words) > 1:
        return q.Phrase(fieldname, words)
    return _all_of([q.Term(fieldname, w) for w in words])


def _exact(fieldname: str, value: Value, fold: Callable[[str], str] = str) -> q.Query:
    """An exact value (an id, a kind), or the values starting with it."""
    text = fold(value.text)
    return LimitedPrefix(fieldname, text) if value.prefix and text else q.Term(fieldname, text)


def _file(value: Value) -> q.Query | None:
    """A file by stem, name or relative path, any case; or its words."""
    key = re.sub(r"^(\./|/)+", "", separators(value.text))
    keys = _tokens(key, FILE)
    exact = (LimitedPrefix if value.prefix else q.Term)("filekey", keys[0]) if keys else None
    return _any(exact, _text("filename", value, FOLD))


def _phrase_of_all(value: str) -> q.Query | None:
    """A phrase in the combined field, as the conjunction of its word pairs."""
    words = _tokens(value, PROSE)
    if len(words) < 2:
        return _all_of([q.Term("all", w) for w in words])
    return _all_of([q.Term("pairs", f"{a} {b}") for a, b in zip(words, words[1:],
                                                                 strict=False)])


def _word(word: str) -> q.Query | None:
    """A plain word: in the combined text, or a file's stem, name or relative path."""
    value = Value(word.rstrip("*"), prefix=word.endswith("*"))
    if value.prefix and not _tokens(value.text, FOLD):
        return q.Every()
    text = _text("all", value, PROSE)
    return _any(text, _file(value)) if text is not None else None


def _next(start: dt.datetime, step: str) -> dt.datetime | None:
    """The first instant after the year, month, day, minute or second `start` begins;
    None past the last date Python can hold."""
    try:
        if step == "year":
            return start.replace(year=start.year + 1)
        if step == "month":
            return start.replace(year=start.year + start.month // 12,
                                 month=start.month % 12 + 1)
        return start + dt.timedelta(**{f"{step}s": 1})
    except (ValueError, OverflowError):
        return None


def _date(text: str, end: bool) -> dt.datetime:
    """YYYY, YYYY-MM or YYYY-MM-DD (optionally THH:MM[:SS]) -> the first or last instant."""
    try:
        if re.fullmatch(r"\d{4}", text):
            start, step = dt.datetime(int(text), 1, 1), "year"
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            start, step = dt.datetime(*map(int, text.split("-")), 1), "month"
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            start, step = dt.datetime.fromisoformat(text), "day"
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", text):
            start = dt.datetime.fromisoformat(text)
            step = "minute" if len(text) == 16 else "second"
        else:
            raise ValueError(text)
    except ValueError:
        raise QueryError(f"taken:{text} is not a date; write taken:2019-03-19, "
                         "taken:2019-03 or taken:2019-03-19..2019-03-20") from None
    if not end:
        return start
    after = _next(start, step)
    return dt.datetime.max if after is None else after - dt.timedelta(microseconds=1)


def _number(text: str, name: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise QueryError(f"{name}:{text} is not a number; write {name}:>60, "
                         f"{name}:<30 or {name}:10..60 (seconds)")
    return number


def _range(value: str, low: Callable[[str], object], high: Callable[[str], object],
           make: Callable[..., q.Query]) -> q.Query:
    """`a..b`, `a..`, `..b`, `>a`, `>=a`, `<b`, `<=b` or one value, read with `low`
    (the first instant or number) and `high` (the last)."""
    if ".." in value:
        start, end = value.split("..", 1)
        return make(low(start) if start else None, high(end) if end else None)
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            bound = value[len(op):]
            if op[0] == ">":
                return make(low(bound) if op == ">=" else high(bound), None,
                            startexcl=op == ">")
            return make(None, high(bound) if op == "<=" else low(bound), endexcl=op == "<")
    return make(low(value), high(value))


def _taken(value: Value) -> q.Query:
    return _range(value.text, lambda t: _date(t, False), lambda t: _date(t, True),
                  lambda *a, **k: q.DateRange("taken", *a, **k))


def _duration(value: Value) -> q.Query:
    number = partial(_number, name="duration")
    return _range(value.text, number, number,
                  lambda *a, **k: q.NumericRange("duration", *a, **k))


def _person(value: Value) -> q.Query | None:
    by_relation = []
    for relation, boost in RELATION_BOOST.items():
        found = _text(f"person_{relation}", value, FOLD)
        if found is not None:
            found.boost = boost
            by_relation.append(found)
    return _any(_exact("person", value), *by_relation)


def _by(value: Value) -> list[q.Query | None]:
    """The work of a creator: by person id, or by the name credited or the person's
    name or alias."""
    return [_exact("creator_person", value), _text("creator_text", value, FOLD)]


def _session(value: Value) -> q.Query | None:
    ids = dict.fromkeys((value.text, value.text.lower()))
    return _any(*(_exact("session", Value(v, prefix=value.prefix)) for v in ids),
                _text("session_text", value, FOLD))


FIELDS: dict[str, Callable[[Value], q.Query | None]] = {
    "session": _session,
    "person": _person,
    "kind": lambda v: _exact("kind", v, str.lower),
    "event": lambda v: _any(_exact("event", v), _text("event_text", v, FOLD)),
    "credit": lambda v: _text("credit", v, FOLD),
    "creator": lambda v: _any(_exact("creator", v), _text("credit", v, FOLD),
                              *_by(v)),
    "by": lambda v: _any(*_by(v)),
    "camera": lambda v: _text("camera_text", v, FOLD),
    "room": lambda v: _text("room", v, FOLD),
    "title": lambda v: _text("title", v, PROSE),
    "keyword": lambda v: _text("keywords", v, FOLD),
    "transcript": lambda v: _text("transcript", v, PROSE),
    "file": _file,
    "taken": _taken,
    "duration": _duration,
}
ALIASES = {"keywords": "keyword", "people": "person", "filename": "file", "type": "kind",
           "date": "taken", "sessions": "session", "said": "transcript"}
KNOWN = ", ".join(sorted(FIELDS))

# A backslash escapes the next character; one left at the very end is kept as it is.
_QUOTED = r'"(?:[^"\\]|\\[\s\S])*(?:"|\\)?'
_QUOTED_PARTS = re.compile(r'"((?:[^"\\]|\\[\s\S])*\\?)("?)')
_TOKEN = re.compile(rf"""
    \s*(?:
      (?P<open>\() | (?P<close>\)) |
      (?P<neg>-)?(?P<field>[A-Za-z_]+):(?P<fvalue>{_QUOTED}|[^\s()]*) |
      (?P<neg2>-)?(?P<phrase>{_QUOTED}) |
      (?P<word>[^\s()"]+)
    )""", re.VERBOSE)
_BARE_VALUE = re.compile(r'[^\s()"\\:*]+')


def _unquote(raw: str) -> tuple[str, bool, bool]:
    """(text, quoted, closed): `"a \\"b\\""` is `a "b"`, quoted and closed."""
    parts = _QUOTED_PARTS.fullmatch(raw) if raw.startswith('"') else None
    if parts is None:
        return raw, False, False
    return re.sub(r"\\([\s\S])", r"\1", parts[1]), True, bool(parts[2])


def _value(raw: str) -> Value:
    text, quoted, _ = _unquote(raw)
    if not quoted and text.endswith("*"):
        return Value(text.rstrip("*"), prefix=True)
    return Value(text, phrase=quoted)


class _Parser:
    """Recursive descent over the tokens: either := both (OR both)*;
    both := unary (AND? unary)*; unary := NOT* primary; primary := ( either ) | atom."""

    def __init__(self, text: str) -> None:
        self.tokens = [m for m in _TOKEN.finditer(text) if m.group(0).strip()]
        self.pos = 0
        self.words: list[str] = []
        self.clauses = 0
        self.notices: list[str] = []

    def peek(self) -> re.Match[str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self) -> str:
        """AND, OR or NOT when the next token is one (any case), else ''."""
        token = self.peek()
        word = ((token["word"] or "") if token is not None else "").upper()
        return word if word in ("AND", "OR", "NOT") else ""

    def either(self, depth: int = 0) -> q.Query | None:
        branches = [self.both(depth)]
        while self.keyword() == "OR":
            self.pos += 1
            branches.append(self.both(depth))
        return _any(*branches)

    def both(self, depth: int) -> q.Query | None:
        parts: list[q.Query] = []
        while (token := self.peek()) is not None and self.keyword() != "OR":
            if token["close"]:
                if depth:
                    break
                self.pos += 1  # a stray ')' means nothing
            elif self.keyword() == "AND":
                self.pos += 1
            elif (node := self.unary(depth)) is not None:
                parts.append(node)
        return _all_of(parts)

    def unary(self, depth: int) -> q.Query | None:
        negated = False
        while self.keyword() == "NOT":
            self.pos += 1
            negated = not negated
        token = self.peek()
        if token is None or token["close"] or self.keyword():
            return None  # NOT before nothing
        self.pos += 1
        if token["open"]:
            node = self.group(depth + 1)
        else:
            node, minus = self.atom(token)
            negated ^= minus
        return q.Not(node) if negated and node is not None else node

    def group(self, depth: int) -> q.Query | None:
        if depth > (deepest := settings.value("max_query_depth")):
            raise QueryError(f"brackets nested more than {deepest} deep; "
                             "write fewer brackets")
        node = self.either(depth)
        if (token := self.peek()) is not None and token["close"]:
            self.pos += 1
        return node

    def atom(self, token: re.Match[str]) -> tuple[q.Query | None, bool]:
        if self.clauses >= (most := settings.value("max_query_terms")):
            if not self.notices:
                self.notices.append(f"only the first {most} terms were used")
            return None, False
        self.clauses += 1
        if token["field"] is not None:
            return self.field(token)
        if token["phrase"] is not None:
            return _phrase_of_all(_unquote(token["phrase"])[0]), bool(token["neg2"])
        word = token["word"]
        negated = word.startswith("-") and len(word) > 1
        return self.plain(word[1:] if negated else word), negated

    def field(self, token: re.Match[str]) -> tuple[q.Query | None, bool]:
        name = ALIASES.get(token["field"].lower(), token["field"].lower())
        value = _value(token["fvalue"])
        if name in FIELDS and value.text:
            return FIELDS[name](value), bool(token["neg"])
        # Not a filter but text: `Materials:` in a pasted title, `https://…`,
        # `keynote: opening`; a likely misspelt field is named in a notice.
        close = difflib.get_close_matches(name, [*FIELDS, *ALIASES], n=1, cutoff=0.75)
        if close and name not in FIELDS and token["fvalue"]:
            self.notices.append(f"{token['field']}: is not a field, so it was searched as "
                                f"words; did you mean {ALIASES.get(close[0], close[0])}:?")
        return self.plain(token.group(0).strip().removeprefix("-")), bool(token["neg"])

    def plain(self, word: str) -> q.Query | None:
        self.words.append(word)
        return _word(word)


def parse(text: str, max_length: int = settings.value("max_query_length")) -> Parsed:
    """Parse a query (its first `max_length` characters, with a notice); raises
    QueryError for a bad date or number, or brackets nested too deep."""
    notices = []
    if len(text) > max_length:
        text = text[:max_length]
        notices.append(f"the query was cut to {max_length} characters")
    # Lone surrogates (undecodable bytes in a command line) cannot be index terms.
    text = text.encode("utf-8", "replace").decode("utf-8")
    parser = _Parser(text)
    tree = parser.either()
    return Parsed(_positive(tree), parser.words, notices + parser.notices)


def field_term(name: str, value: str) -> str:
    """`name:value`, quoted and escaped where needed so that `parse` reads back exactly
    `value` (a facet link)."""
    if _BARE_VALUE.fullmatch(value):
        return f"{name}:{value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}:"{escaped}"'


def narrowed(text: str, term: str) -> str:
    """`text` AND `term` (see `narrowable`)."""
    return f"{narrowable(text)} {term}".strip()


def narrowable(text: str) -> str:
    """`text` written so that a term after it narrows all of it: the quote and brackets
    it left open are closed first, and a query with OR (or ending in NOT) is bracketed.
    A page of facet links tokenizes its query once, here, not once per link."""
    tokens = _Parser(text).tokens
    depth = stray = 0
    for token in tokens:
        if token["open"]:
            depth += 1
        elif token["close"]:
            stray, depth = (stray + 1, 0) if not depth else (stray, depth - 1)
    last = (tokens[-1]["phrase"] or tokens[-1]["fvalue"] or "") if tokens else ""
    _, quoted, closed = _unquote(last)
    quote = ""
    if quoted and not closed:  # a lone backslash at the end must not escape the quote
        quote = '"' if _unquote(last + '"')[2] else '\\"'
    base = "(" * stray + (text.lstrip() if quote else text.strip()) + quote + ")" * depth
    words = [(t["word"] or "").upper() for t in tokens]
    if "OR" in words or words[-1:] == ["NOT"]:
        base = f"({base})"
    return base


def _positive(tree: q.Query | None) -> q.Query | None:
    """Whoosh cannot run a query made only of NOTs: anchor it to every document."""
    if isinstance(tree, q.Not):
        return q.And([q.Every(), tree])
    if isinstance(tree, q.And) and tree.subqueries and all(
            isinstance(s, q.Not) for s in tree.subqueries):
        return q.And([q.Every(), *tree.subqueries])
    return tree


@dataclass(frozen=True)
class Filter:
    """A `field:value` term at the top level of a query: one filter of an AND."""

    field: str  # the field's own name (an alias is read as the field it names)
    value: str  # unquoted, as the field reads it
    negated: bool  # `-field:value` or `NOT field:value`
    without: str  # the query with the term (and its NOT) taken out


def filters(text: str) -> list[Filter]:
    """The filters of a query, in its order, each with the query that drops it. A term
    in brackets, or in a query with OR at the top, is no filter: taking it out would
    change more than what it filters. A `word:` that is no field is a word, as `parse`
    reads it."""
    tokens = _Parser(text).tokens
    depth, spans, found = 0, [], []
    for index, token in enumerate(tokens):
        depth = max(0, depth + bool(token["open"]) - bool(token["close"]))
        if depth or token["open"] or token["close"]:
            continue
        if (token["word"] or "").upper() == "OR":
            return []
        if token["field"] is not None and (item := _filter_of(token)) is not None:
            # Its NOTs go with it, and an AND before them (`a AND kind:photo` -> `a`).
            first, nots = index, 0
            while _keyword(tokens, first - 1) == "NOT":
                first, nots = first - 1, nots + 1
            first -= _keyword(tokens, first - 1) == "AND"
            spans.append((tokens[first].start(), token.end()))
            found.append((item, nots % 2 == 1))
    return [Filter(name, value, minus != by_not, (text[:start] + text[end:]).strip())
            for ((name, value, minus), by_not), (start, end) in zip(found, spans,
                                                                    strict=True)]


def _keyword(tokens: list[re.Match[str]], index: int) -> str:
    """The word of token `index` in capitals ('' for none, or a token of another kind)."""
    return (tokens[index]["word"] or "").upper() if index >= 0 else ""


def _filter_of(token: re.Match[str]) -> tuple[str, str, bool] | None:
    """(field, value, negated by a minus) of a `field:value` token that filters."""
    name = ALIASES.get(token["field"].lower(), token["field"].lower())
    value = _unquote(token["fvalue"])[0]
    if name not in FIELDS or not value:
        return None
    return name, value, bool(token["neg"])
