"""An event of real faces for the site's tests: two of the shared photographs (copied into
the test's own folder, never into the project), a photo without people, all three in one
session, and optionally a video of a face. Resolution names the faces from the event
file's reference faces, as an organiser confirms them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers.faces import faces_or_skip, models_or_skip

PORTRAIT = "obama_2012_oval_office.jpg"
GROUP = "group_obama_biden_2010.jpg"  # Obama on the left (face 1), Biden (face 2)
NOBODY = "noface_cyclamen.jpg"
# Obama is named by his portrait's face, which recognises him in the group; Biden, seen
# once, by his face in the group.
EVENT = f"""
[event]
id = "faces-2010"
title = "Faces"
date = 2010-06-01

[[people]]
id = "barack-obama"
name = "Barack Obama"
faces = ["photos/{PORTRAIT}#1"]

[[people]]
id = "joe-biden"
name = "Joe Biden"
faces = ["photos/{GROUP}#2"]

[[sessions]]
id = "s1"
title = "Opening"
start = 09:00
end = 10:00
speakers = ["barack-obama", "joe-biden"]
"""
SESSION_ENTRY = '\n[[media]]\npath = "{path}"\nsession = "s1"\n'
PHOTOS = (PORTRAIT, GROUP, NOBODY)


def make_faces_event(folder: Path, video: bool = False) -> Path:
    """The event in `folder`; with `video`, also `video/still.mp4`, three seconds of the
    portrait. Skips (saying why) without ../shared/faces or the faces extra."""
    source = faces_or_skip()
    models_or_skip()
    (folder / "photos").mkdir(parents=True)
    for name in PHOTOS:
        shutil.copyfile(source / name, folder / "photos" / name)
    entries = "".join(SESSION_ENTRY.format(path=f"photos/{name}") for name in PHOTOS)
    (folder / "event.toml").write_text(EVENT + entries, encoding="utf-8")
    if video:
        still_video(source / PORTRAIT, folder / "video" / "still.mp4")
    return folder


def still_video(image: Path, path: Path) -> None:
    """A three-second video of one photograph: every frame holds its face."""
    path.parent.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-loop", "1", "-framerate", "25", "-t", "3",
                    "-i", str(image), "-vf", "scale=640:-2", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True,
                   timeout=120)
