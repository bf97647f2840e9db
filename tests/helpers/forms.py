"""HTML forms read as a browser sends them: each form's action and its fields' values
(hidden and text inputs, textareas, the selected option of each select)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type", "text") not in (
                "submit", "checkbox", "radio"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            fields = self.forms[-1].fields
            if "selected" in a or self._select not in fields:  # the first, unless one is
                fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self.forms:
            # The first line break after <textarea> is not part of its value.
            fields = self.forms[-1].fields
            value = fields[self._textarea] + data
            fields[self._textarea] = value[1:] if value.startswith("\n") else value


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action: str) -> Form:
    """The one form of the page posting to `action`."""
    found = [f for f in forms(html) if f.action == action]
    assert len(found) == 1, f"{len(found)} forms post to {action}"
    return found[0]
