"""Alt texts of an item's pictures: its title and the people it shows."""

from __future__ import annotations

import pytest

from web.alttext import alt_text


def person(name: str, relation: str = "shown") -> dict:
    return {"id": name.lower().replace(" ", "-"), "name": name, "relation": relation}


@pytest.mark.parametrize(("item", "alt"), [
    ({"title": "Opening words", "people": [person("Péter Keller"), person("Ana Silva")]},
     "Opening words — Péter Keller, Ana Silva"),
    # Only those in the picture: a session's speakers and names in a transcript are not.
    ({"title": "Opening words", "people": [person("Péter Keller"),
                                           person("Roberto Pini", "session"),
                                           person("Ester Silva", "mentioned")]},
     "Opening words — Péter Keller"),
    # A name the title gives is not said again, however it is written there.
    ({"title": "Peter KELLER presents INNOPROVEMENT",
      "people": [person("Péter Keller"), person("Ana Silva")]},
     "Peter KELLER presents INNOPROVEMENT — Ana Silva"),
    # ...but a name inside another word is no mention of it.
    ({"title": "Banana split", "people": [person("Ana")]}, "Banana split — Ana"),
    ({"title": "Keynote", "people": []}, "Keynote"),
    ({"title": "  Two   spaces\n", "people": None}, "Two spaces"),
    # Without a title: the people; the file name only when nothing else names it.
    ({"title": None, "relpath": "photos/DSC_0107.jpg", "people": [person("Péter Keller")]},
     "Péter Keller"),
    ({"title": "", "relpath": "photos/DSC_0110.jpg", "people": []}, "DSC_0110.jpg"),
    ({"title": None, "relpath": "DSC_0111.jpg"}, "DSC_0111.jpg"),
    # Each person once; a person without a name by their id.
    ({"title": "Panel", "people": [person("Ana Silva"), person("Ana Silva"),
                                   {"id": "x-y", "name": None, "relation": "shown"}]},
     "Panel — Ana Silva, x-y"),
    # A crowd is counted past the fifth.
    ({"title": "Group photo", "people": [person(f"Person {n}") for n in "ABCDEFG"]},
     "Group photo — Person A, Person B, Person C, Person D and 3 more"),
    ({"title": "Five", "people": [person(f"Person {n}") for n in "ABCDE"]},
     "Five — Person A, Person B, Person C, Person D, Person E"),
])
def test_alt_text_is_the_title_and_the_people_shown(item: dict, alt: str) -> None:
    assert alt_text(item) == alt


def test_markup_in_a_title_is_left_for_the_template_to_escape() -> None:
    # Jinja escapes the attribute; the text itself is the title as it is.
    assert alt_text({"title": '<b>"x"</b>', "people": []}) == '<b>"x"</b>'
