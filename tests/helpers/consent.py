"""A small event with consent refused and a takedown, as the consent tests and the
browser tests use it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers.media import make_exif, make_jpeg, make_video, make_xmp

HEAD = """
[event]
id = "consent-2019"
title = "Consent workshop"
date = 2019-03-19
timezone = "Europe/Rome"

[credit]
organisation = "ASEV"
creator = "Anna Rossi"

[[people]]
id = "peter-keller"
name = "Péter Keller"
aliases = ["Peter Keller"]
CONSENT

[[people]]
id = "roberto-pini"
name = "Roberto Pini"

[[sessions]]
id = "s2"
title = "Interreg Europe"
start = 11:00
end = 13:00
speakers = ["peter-keller", "roberto-pini"]
"""

TAKEDOWN = """
[[media]]
path = "photos/together.jpg"
publish = true

[[media]]
path = "video/**"
publish = false
"""


def event_text(consent: str = "", media: str = TAKEDOWN) -> str:
    return HEAD.replace("CONSENT", consent) + media


def make_event(folder: Path, consent: str = "consent = false") -> Path:
    """Four items: Keller shown (withheld while he refuses), Pini shown in Keller's
    session (published), both shown with written consent (published), a video under
    a `publish = false` glob (withheld)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "event.toml").write_text(event_text(consent), encoding="utf-8")
    day = dt.datetime(2019, 3, 19)
    for name, persons, minute in (("keller", ["Peter Keller"], 10),
                                  ("pini", ["Roberto Pini"], 20),
                                  ("together", ["Peter Keller", "Roberto Pini"], 30)):
        make_jpeg(folder / "photos" / f"{name}.jpg",
                  exif=make_exif(taken=day.replace(hour=11, minute=minute)),
                  xmp=make_xmp(persons=persons, title=f"Photo {name}"))
    make_video(folder / "video" / "backstage.mp4", seconds=1)
    return folder


# The items' names (file stems) as make_event makes them.
WITHHELD = ("keller", "backstage")
PUBLISHED = ("pini", "together")
