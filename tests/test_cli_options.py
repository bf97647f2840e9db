"""`--archive` goes before or after any command; the one after wins; $EVENT_ARCHIVE last."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.store import CATALOG_FILE, ENV_VAR

from helpers.media import make_exif, make_jpeg


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


def invoke(*args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, f"{result.output}\n{result.exception!r}"
    return result.output


@pytest.fixture
def photos(event_dir: Path) -> Path:
    (event_dir / "event.toml").write_text('[event]\nid = "e"\ntitle = "E"\n[credit]\n'
                                          'creator = "Anna Rossi"\n', encoding="utf-8")
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    return event_dir


@pytest.mark.parametrize("path", command_paths(main), ids=" ".join)
def test_every_command_lists_archive_in_its_help(path: tuple[str, ...]) -> None:
    shown = invoke(*path, "--help")
    if path == ("worker",):  # it reads files for ingests, never an archive of its own
        assert "--archive" not in shown and "--catalog" not in shown and "--verbose" in shown
    else:
        assert "--archive DIRECTORY" in shown and "--catalog URL" in shown


def test_archive_after_the_command_reaches_every_command(tmp_path: Path, photos: Path
                                                         ) -> None:
    root = str(tmp_path / "after")
    invoke("ingest", "-j", "1", str(photos), "--archive", root)
    assert (tmp_path / "after" / CATALOG_FILE).is_file()
    [item] = json.loads(invoke("list", "--json", "--archive", root))
    assert json.loads(invoke("show", item["id"], "--archive", root, "--json"))["id"] == item["id"]
    assert json.loads(invoke("search", "kind:photo", "--archive", root, "--json"))["total"] == 1
    assert json.loads(invoke("report", "--archive", root, "--json"))["errors"] == []
    rows = json.loads(invoke("export", "credits", "--format", "json", "--archive", root))
    assert [r["credit"]["creator"] for r in rows] == ["Anna Rossi"]
    assert json.loads(invoke("reindex", "--archive", root, "--json"))["items"] == 1
    assert json.loads(invoke("verify", "--archive", root, "--json"))["ok"] is True


def test_the_option_after_the_command_wins_and_the_environment_comes_last(
        tmp_path: Path, photos: Path) -> None:
    before, after, env = (str(tmp_path / name) for name in ("before", "after", "env"))
    invoke("--archive", before, "ingest", "-j", "1", str(photos), "--archive", after,
           env={ENV_VAR: env})
    assert (tmp_path / "after" / CATALOG_FILE).is_file()
    assert not (tmp_path / "before").exists() and not (tmp_path / "env").exists()
    # Before the command beats the environment; the environment beats the default.
    assert len(json.loads(invoke("--archive", after, "list", "--json", env={ENV_VAR: env}))) == 1
    assert len(json.loads(invoke("list", "--json", env={ENV_VAR: after}))) == 1
    assert "no archive here" in invoke("list", "--archive", before, env={ENV_VAR: after},
                                       code=1)
    # A nested group takes it too, and its command's own option is parsed last.
    assert "Anna Rossi" in invoke("export", "--archive", before, "credits", "--archive",
                                  after)
