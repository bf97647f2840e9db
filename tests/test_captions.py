"""A video's `.srt`/`.vtt` sidecar served as WebVTT captions (/items/ID/captions.vtt):
the conversion, then the route through Flask's test client."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive import catalog as cat
from archive.ingest.pipeline import ingest_folder
from archive.media.extract.sidecar import parse_subtitles, read_subtitles
from archive.model import Cue
from archive.outputs.webvtt import cue_text, timestamp, webvtt
from archive.store import Archive
from indexer.sync import sync
from web import create_app

from helpers.media import make_jpeg, make_video

# An SRT as subtitle editors write them: a byte-order mark, CRLF line ends, numbered from
# 7 (a part cut from a longer file), commas before the milliseconds, and text that is
# markup in WebVTT: entities, '<', '&' and the "-->" of a timing line.
SRT = ("\ufeff7\r\n00:00:00,250 --> 00:00:01,500\r\nTom &amp; Jerry say &lt;hi&gt;\r\n\r\n"
       "8\r\n00:00:01,500 --> 00:00:02,000\r\nsecond line\r\nof the cue\r\n\r\n"
       "9\r\n01:02:03,004 --> 01:02:04,000\r\n1 --> 2 & x<3\r\n\r\n")
VTT = ("WEBVTT\n\n"
       "1\n00:00:00.250 --> 00:00:01.500\nTom &amp; Jerry say &lt;hi&gt;\n\n"
       "2\n00:00:01.500 --> 00:00:02.000\nsecond line of the cue\n\n"
       "3\n01:02:03.004 --> 01:02:04.000\n1 --&gt; 2 &amp; x&lt;3\n")


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "00:00:00.000"), (0.5, "00:00:00.500"), (1.0005, "00:00:01.000"),
    (59.9996, "00:01:00.000"), (61.25, "00:01:01.250"), (3723.004, "01:02:03.004"),
    (360000.0, "100:00:00.000"), (-2.0, "00:00:00.000")])
def test_timestamps_are_webvtt_with_a_dot(seconds: float, text: str) -> None:
    assert timestamp(seconds) == text


@pytest.mark.parametrize(("text", "written"), [
    ("plain", "plain"),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("&amp; stays text", "&amp;amp; stays text"),
    ("a --> b", "a --&gt; b"),
    ("two\nlines\r\nthree", "two lines  three"),
    ("blank\n\nline", "blank  line"),
    ("nul\x00", "nul\ufffd"),
    ("  spaced  ", "spaced"),
])
def test_cue_text_shows_as_it_reads(text: str, written: str) -> None:
    assert cue_text(text) == written
    # No markup is left, nor a line that would end the cue or start a timing line.
    assert "<" not in written and ">" not in written and "\n" not in written


def test_an_srt_with_bom_and_crlf_becomes_webvtt(tmp_path: Path) -> None:
    sidecar = tmp_path / "talk.srt"
    sidecar.write_bytes(SRT.encode("utf-8"))
    assert webvtt([Cue(**c) for c in read_subtitles(sidecar)]) == VTT


def test_a_webvtt_sidecar_reads_back_as_itself() -> None:
    cues = parse_subtitles(VTT)
    assert [c["text"] for c in cues] == ["Tom & Jerry say <hi>", "second line of the cue",
                                         "1 --> 2 & x<3"]
    assert webvtt([Cue(**c) for c in cues]) == VTT


def test_cues_a_track_could_not_use_are_mended_or_left_out() -> None:
    cues = [Cue(1.0, 1.0, "no length"), Cue(2.0, 1.5, "backwards"), Cue(3.0, 4.0, "  "),
            Cue(math.nan, 5.0, "no start"), Cue(5.0, math.inf, "no end"),
            Cue(-1.0, 6.0, "before the start")]
    assert webvtt(cues) == ("WEBVTT\n\n"
                            "1\n00:00:01.000 --> 00:00:01.001\nno length\n\n"
                            "2\n00:00:02.000 --> 00:00:02.001\nbackwards\n\n"
                            "6\n00:00:00.000 --> 00:00:06.000\nbefore the start\n")


def test_no_cues_is_a_header_alone() -> None:
    assert webvtt([]) == "WEBVTT\n"


# ---- the route (slow: its archive's videos are encoded and ingested) ---------------------

@pytest.fixture(scope="module")
def captions_archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A video with an SRT sidecar, one with a WebVTT sidecar that is withheld, a video
    without subtitles and a photo: the archive and the items' ids by file stem."""
    base = tmp_path_factory.mktemp("captions")
    event = base / "event"
    event.mkdir()
    (event / "event.toml").write_text(
        '[event]\nid = "captions-2019"\ntitle = "Captions"\ndate = 2019-03-19\n\n'
        '[[media]]\npath = "hidden.mp4"\npublish = false\n', encoding="utf-8")
    make_video(event / "talk.mp4", seconds=1, audio=False)
    (event / "talk.srt").write_bytes(SRT.encode("utf-8"))
    make_video(event / "silent.mp4", seconds=1, size="240x180", audio=False)
    make_video(event / "hidden.mp4", seconds=1, size="160x120", audio=False)
    (event / "hidden.vtt").write_text(VTT, encoding="utf-8")
    make_jpeg(event / "photo.jpg")
    root = base / "archive"
    with Archive.open(root) as archive:
        ingest_folder(archive, event, jobs=1, progress=False)
        sync(archive)
        ids = {Path(i.relpath).stem: i.id for i in cat.select_items(archive.catalog)}
    return {"root": root, "ids": ids}


@pytest.fixture(scope="module")
def client(captions_archive: dict) -> FlaskClient:
    return create_app(captions_archive["root"], {"TESTING": True}).test_client()


@pytest.mark.slow
def test_the_srt_is_served_as_webvtt(client: FlaskClient, captions_archive: dict) -> None:
    response = client.get(f"/items/{captions_archive['ids']['talk']}/captions.vtt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert response.data.decode("utf-8") == VTT
    assert not response.data.startswith(b"\xef\xbb\xbf")  # the sidecar's BOM is not kept
    assert b"\r" not in response.data
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/items/{captions_archive['ids']['talk']}/captions.vtt",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.slow
def test_the_item_page_gives_the_video_its_track(client: FlaskClient,
                                                 captions_archive: dict) -> None:
    ids = captions_archive["ids"]
    page = client.get(f"/items/{ids['talk']}").get_data(as_text=True)
    assert (f'<track kind="captions" label="Captions" default '
            f'src="/items/{ids["talk"]}/captions.vtt">') in page
    assert "<track" not in client.get(f"/items/{ids['silent']}").get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["silent", "photo", "hidden"])
def test_an_item_without_public_captions_is_404(client: FlaskClient, captions_archive: dict,
                                                name: str) -> None:
    response = client.get(f"/items/{captions_archive['ids'][name]}/captions.vtt")
    assert response.status_code == 404
    assert b"WEBVTT" not in response.data


@pytest.mark.slow
@pytest.mark.parametrize("item", [
    "0" * 64, "ABC", "x" * 64, "%2e%2e%2fevent.toml", "..", "../../etc/passwd",
    "0" * 63 + "g", "0" * 65, "%00", "talk.srt"])
def test_a_bad_id_is_404_never_a_file(client: FlaskClient, item: str) -> None:
    response = client.get(f"/items/{item}/captions.vtt")
    assert response.status_code == 404
    assert b"WEBVTT" not in response.data


@pytest.mark.slow
@pytest.mark.parametrize(("stored", "status", "body"), [
    ('"just text"', 404, None),
    ("42", 404, None),
    ("null", 404, None),
    ('[{"start": "1", "end": 2, "text": "a"}, 7, {"start": 0, "end": 1}]', 404, None),
    ('[{"start": true, "end": 2, "text": "a"}, {"start": 1, "end": 2, "text": "<b>"}]',
     200, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n&lt;b&gt;\n"),
])
def test_a_damaged_stored_transcript_is_never_a_500(captions_archive: dict, tmp_path: Path,
                                                    stored: str, status: int,
                                                    body: str | None) -> None:
    root = tmp_path / "archive"
    shutil.copytree(captions_archive["root"], root, symlinks=True)
    with Archive.open(root) as archive, archive.catalog.transaction():
        archive.catalog.execute("UPDATE items SET metadata = json_set(metadata, "
                                "'$.transcript', json(?)) WHERE id = ?",
                                (stored, captions_archive["ids"]["talk"]))
    client = create_app(root, {"TESTING": True}).test_client()
    response = client.get(f"/items/{captions_archive['ids']['talk']}/captions.vtt")
    assert response.status_code == status
    if body is not None:
        assert response.get_data(as_text=True) == body
