"""Accent- and case-insensitive name matching (`Peter Keller` finds `Péter Keller`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from archive.model import Person


def fold(text: str) -> str:
    """Lower-case, accents removed, runs of spaces and punctuation made one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", plain.casefold()).strip()


class NameIndex:
    """Finds the people of an event by any of their names."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.by_name: dict[str, str] = {}
        for person in people:
            for name in person.names:
                if fold(name):
                    self.by_name.setdefault(fold(name), person.id)
        names = sorted(self.by_name, key=len, reverse=True)
        self._pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") \
            if names else None

    def exact(self, text: str) -> str | None:
        """The person whose name or alias is exactly `text` (folded), also written last
        name first ("Keller, Péter", as IPTC lists people), else None."""
        found = self.by_name.get(fold(text))
        if found is None and text.count(",") == 1:
            last, first = text.split(",")
            found = self.by_name.get(fold(f"{first} {last}"))
        return found

    def each(self, text: str) -> list[str]:
        """The people a list written as one text names ("A; B"), or the text itself."""
        whole = self.exact(text)
        if whole is not None:
            return [whole]
        return [pid for part in text.split(";") if (pid := self.exact(part)) is not None]

    def mentioned(self, text: str) -> list[str]:
        """Ids of the people named anywhere in `text`, in order of first mention."""
        if self._pattern is None:
            return []
        found = [self.by_name[m] for m in self._pattern.findall(fold(text))]
        return list(dict.fromkeys(found))
