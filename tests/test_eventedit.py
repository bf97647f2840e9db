"""Editing event.toml as the curator's desk and `faces name` do: comments and layout
kept, the result always a valid event file, stale edits refused, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.errors import ManifestError
from archive.resolve.eventedit import (
    StaleEventFile,
    add_camera,
    edit_event_file,
    file_version,
    set_media_fields,
)
from archive.resolve.eventfile import load_event

EVENT = '''# Florence workshop, as the organisers keep it
[event]
id = "florence"   # never change this
title = "Workshop"
date = 2019-03-19
timezone = "Europe/Rome"

[[sessions]]
id = "s1"
title = "Opening"
start = 09:30
end = 10:30

[[people]]
id = "keller"
name = "Péter Keller"

# Fixes by hand
[[media]]
path = "photos/a.jpg"
title = "Old title"  # from the camera roll
'''


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "event.toml").write_text(EVENT, encoding="utf-8")
    return tmp_path


def test_fields_of_a_media_entry_change_and_the_rest_stays(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    event_file = folder / "event.toml"
    changed = edit_event_file(folder, event_file, lambda doc: set_media_fields(
        doc, "photos/a.jpg", {"title": "Opening words", "session": "s1",
                              "people": ["keller"], "publish": False}))
    assert changed == {"title": ("Old title", "Opening words"), "session": (None, "s1"),
                       "people": (None, ["keller"]), "publish": (None, False)}
    text = event_file.read_text(encoding="utf-8")
    assert text.startswith(EVENT.split("[[media]]")[0])
    assert "# from the camera roll" in text and 'id = "florence"   # never change this' in text
    entry = load_event(folder).media[0]
    assert (entry.title, entry.session, entry.people, entry.publish) == \
        ("Opening words", "s1", ("keller",), False)

    new = edit_event_file(folder, event_file, lambda doc: set_media_fields(
        doc, "photos/b.jpg", {"title": "Second", "description": ""}))
    assert new == {"title": (None, "Second")}
    assert [m.path for m in load_event(folder).media] == ["photos/a.jpg", "photos/b.jpg"]
    edit_event_file(folder, event_file,
                    lambda doc: set_media_fields(doc, "photos/a.jpg", {"title": None}))
    assert load_event(folder).media[0].title is None


def test_a_change_the_event_file_refuses_writes_nothing(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    event_file = folder / "event.toml"
    with pytest.raises(ManifestError, match="media.*session"):
        edit_event_file(folder, event_file, lambda doc: set_media_fields(
            doc, "photos/a.jpg", {"session": "nope"}))
    with pytest.raises(ManifestError, match="clock_offset"):
        edit_event_file(folder, event_file,
                        lambda doc: add_camera(doc, {"model": "X", "clock_offset": "soon"}))
    assert event_file.read_text(encoding="utf-8") == EVENT
    assert sorted(p.name for p in folder.iterdir()) == ["event.toml"]


def test_a_stale_form_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    event_file = folder / "event.toml"
    seen = file_version(event_file)
    edit_event_file(folder, event_file, lambda doc: add_camera(
        doc, {"model": "Canon EOS 80D", "clock_offset": "+00:02:00", "room": "Aula"}),
                    expected=seen)
    assert load_event(folder).cameras[0].room == "Aula"
    after = event_file.read_text(encoding="utf-8")
    with pytest.raises(StaleEventFile, match="changed since this page was loaded"):
        edit_event_file(folder, event_file, lambda doc: set_media_fields(
            doc, "photos/a.jpg", {"title": "Late"}), expected=seen)
    assert event_file.read_text(encoding="utf-8") == after


def test_a_link_to_the_event_file_stays_a_link(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "kept.toml").write_text(EVENT, encoding="utf-8")
    (folder / "event.toml").unlink()
    (folder / "event.toml").symlink_to("kept.toml")
    edit_event_file(folder, folder / "event.toml",
                    lambda doc: set_media_fields(doc, "photos/a.jpg", {"title": "New"}))
    assert (folder / "event.toml").is_symlink()
    assert 'title = "New"' in (folder / "kept.toml").read_text(encoding="utf-8")


@settings(deadline=None, max_examples=60)
@given(st.text(min_size=1, max_size=80).filter(lambda t: t.strip()))
def test_any_title_typed_is_written_and_read_back(tmp_path_factory: pytest.TempPathFactory,
                                                  title: str) -> None:
    folder = _folder(tmp_path_factory.mktemp("edit"))
    try:
        edit_event_file(folder, folder / "event.toml", lambda doc: set_media_fields(
            doc, "photos/a.jpg", {"title": title}))
    except ManifestError as exc:  # a text the event file refuses (too long, say)
        assert "media" in str(exc)  # noqa: PT017 - the refusal names the key
        assert (folder / "event.toml").read_text(encoding="utf-8") == EVENT
        return
    assert load_event(folder).media[0].title == title


def test_an_event_file_ingest_would_not_read_is_never_written(tmp_path: Path) -> None:
    """As ingest reads it: a link out of the folder, a FIFO (it would hang with the
    archive's lock held), a device: refused before anything is written."""
    import os

    outside = tmp_path / "outside.toml"
    outside.write_text(EVENT, encoding="utf-8")
    folder = tmp_path / "event"
    folder.mkdir()
    (folder / "event.toml").symlink_to(outside)

    def edit(doc: object) -> None:
        set_media_fields(doc, "photos/a.jpg", {"title": "New"})  # type: ignore[arg-type]

    with pytest.raises(ManifestError, match="a link out of the event folder"):
        edit_event_file(folder, folder / "event.toml", edit)
    assert outside.read_text(encoding="utf-8") == EVENT
    (folder / "event.toml").unlink()
    os.mkfifo(folder / "event.toml")
    with pytest.raises(ManifestError, match="not a regular file"):
        edit_event_file(folder, folder / "event.toml", edit)
    (folder / "event.toml").unlink()
    (folder / "event.toml").symlink_to("/dev/zero")
    with pytest.raises(ManifestError, match="a link out of the event folder|regular file"):
        file_version(folder / "event.toml")


def test_a_copy_left_by_a_killed_edit_goes_with_the_next_edit(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    left = folder / ".event-archive-edit.k1ll3d.toml"
    left.write_text(EVENT, encoding="utf-8")
    edit_event_file(folder, folder / "event.toml",
                    lambda doc: set_media_fields(doc, "photos/a.jpg", {"title": "New"}))
    assert sorted(p.name for p in folder.iterdir()) == ["event.toml"]
