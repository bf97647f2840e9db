"""Two small events for the browsing tests: an older one and a newer one whose first
session starts with a withheld photo, with more creators than a facet shows at first,
and with markup in its titles and names (it must be shown as text)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers.media import make_exif, make_jpeg, make_xmp

EVIL = '<script>alert("x")</script>'
CREATORS = 14  # more than the facet_values setting's 12

OLDER = """
[event]
id = "older-2018"
title = "Older meeting"
date = 2018-05-02

[[sessions]]
id = "s1"
title = "Only session"
start = 10:00
end = 11:00
"""

NEWER = f"""
[event]
id = "newer-2021"
title = 'Newer forum {EVIL}'
date = 2021-06-10

[[people]]
id = "hidden"
name = "Hidden Person"
consent = false

[[people]]
id = "marked"
name = 'Marked {EVIL}'
aliases = ["Marked"]

[[sessions]]
id = "s1"
title = 'Opening {EVIL}'
start = 09:00
end = 10:00
speakers = ["marked"]
"""


def _photo(folder: Path, name: str, taken: dt.datetime, **xmp: object) -> None:
    make_jpeg(folder / "photos" / f"{name}.jpg", size=(96, 64),
              exif=make_exif(taken=taken, artist=xmp.pop("artist", None)),
              xmp=make_xmp(**xmp) if xmp else None)


def make_browsing_events(folder: Path) -> tuple[Path, Path]:
    """The older and the newer event's folders. In the newer: `early` (before any
    session), `refused` (the first of session s1, withheld: it shows a person who gave no
    consent), then `p01`... `p14`, each by another creator; `p01` is the cover."""
    older, newer = folder / "older", folder / "newer"
    for path, text in ((older, OLDER), (newer, NEWER)):
        path.mkdir(parents=True)
        (path / "event.toml").write_text(text, encoding="utf-8")
    _photo(older, "first", dt.datetime(2018, 5, 2, 10, 5), title="Older first")
    _photo(older, "second", dt.datetime(2018, 5, 2, 10, 20), title="Older second")
    _photo(newer, "early", dt.datetime(2021, 6, 10, 8, 0), title="Before the sessions")
    _photo(newer, "refused", dt.datetime(2021, 6, 10, 9, 1), persons=["Hidden Person"],
           title="Withheld")
    for number in range(1, CREATORS + 1):
        _photo(newer, f"p{number:02}", dt.datetime(2021, 6, 10, 9, 2 + number),
               artist=f"Creator {number:02}", title=f"Photo {number:02} {EVIL}",
               persons=["Marked"] if number == 2 else None)
    return older, newer
