"""A page's HTML as a tree of elements, to check what it shows with CSS-like picks
(tag, classes, id) rather than with substrings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    parts: list[str | Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """Its text and its descendants', spaces collapsed."""
        return " ".join(self._raw().split())

    def _raw(self) -> str:
        return "".join(p if isinstance(p, str) else p._raw() for p in self.parts)

    def walk(self) -> Iterator[Element]:
        for child in self.children:
            yield child
            yield from child.walk()

    def all(self, tag: str = "", cls: str = "", ident: str = "") -> list[Element]:
        """The descendants with this tag, class and id (each optional), in page order."""
        return [e for e in self.walk() if (not tag or e.tag == tag)
                and (not cls or cls in e.classes) and (not ident or e.attrs.get("id") == ident)]

    def one(self, tag: str = "", cls: str = "", ident: str = "") -> Element:
        found = self.all(tag, cls, ident)
        assert len(found) == 1, (tag, cls, ident, len(found))
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(element)
        self.open[-1].parts.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element (a forgotten end tag closes with its parent).
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].parts.append(data)


def parse_html(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root
