"""Library code logs; the command line's -v/-q, before or after the command, set the
level once, and the notices users saw before still show by default."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import logs
from archive.cli import main

from helpers.media import make_exif, make_jpeg

ROOT = Path(__file__).resolve().parent.parent
# The command line's own output (results, summaries, errors) is not logging.
CLI_OUTPUT = {ROOT / "archive" / "cli.py", ROOT / "archive" / "terminal.py"}


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


@pytest.fixture
def photos(event_dir: Path) -> Path:
    make_jpeg(event_dir / "a.jpg", exif=make_exif())
    return event_dir


def test_a_first_index_build_is_said_by_default(tmp_path: Path, photos: Path) -> None:
    out = invoke("--archive", str(tmp_path / "a"), "ingest", "-j", "1", str(photos))
    assert "building the search index\n" in out
    assert "INFO" not in out  # the message alone, as before


@pytest.mark.parametrize("flags", [("-q", "ingest"), ("ingest", "-q"), ("ingest", "--quiet")],
                         ids=["before", "after", "long"])
def test_quiet_before_or_after_the_command_keeps_notices_back(
        tmp_path: Path, photos: Path, flags: tuple[str, ...]) -> None:
    out = invoke("--archive", str(tmp_path / "a"), *flags, "-j", "1", str(photos))
    assert "building the search index" not in out and "added" not in out


@pytest.mark.parametrize("flags", [("-v", "ingest"), ("ingest", "-v")], ids=["before", "after"])
def test_verbose_before_or_after_the_command_names_level_and_logger(
        tmp_path: Path, photos: Path, flags: tuple[str, ...]) -> None:
    out = invoke("--archive", str(tmp_path / "a"), *flags, "-j", "1", str(photos))
    assert "INFO indexer.sync: building the search index" in out
    assert logging.getLogger("archive").getEffectiveLevel() == logging.DEBUG


def test_quiet_wins_over_verbose_wherever_they_stand(tmp_path: Path, photos: Path) -> None:
    out = invoke("--archive", str(tmp_path / "a"), "-v", "ingest", "-q", "-j", "1",
                 str(photos))
    assert "building the search index" not in out


def test_verbose_after_a_query_is_no_query_word(tmp_path: Path, photos: Path) -> None:
    root = str(tmp_path / "a")
    invoke("--archive", root, "-q", "ingest", "-j", "1", str(photos))
    for flags in (("-v",), ("-vv",), ("-v", "-q"), ("-vq",)):
        out = invoke("--archive", root, "search", "kind:photo", *flags, "--json")
        result = json.loads(out[out.index("{"):])  # -vv may log before it
        assert (result["query"], result["total"]) == ("kind:photo", 1), flags
    # A word of one dash that is no option (nor flags of one) stays the query: NOT vx.
    assert json.loads(invoke("--archive", root, "search", "-vx", "--json"))["query"] == "-vx"


def test_levels() -> None:
    assert logs.levels(-1) == (logging.WARNING, logging.WARNING)
    assert logs.levels(0) == (logging.INFO, logging.WARNING)  # other libraries as before
    assert logs.levels(1) == (logging.DEBUG, logging.INFO)
    assert logs.levels(2) == (logging.DEBUG, logging.DEBUG)


def test_verbose_and_quiet_are_in_every_help() -> None:
    for args in ((), ("ingest",), ("export", "credits")):
        shown = invoke(*args, "--help")
        assert "-v, --verbose" in shown and "-q, --quiet" in shown


def _writes_to_the_terminal(node: ast.AST) -> bool:
    """print(...), sys.stderr.write(...), sys.stdout.write(...) or click.echo(...)."""
    if not isinstance(node, ast.Call):
        return False
    if isinstance(node.func, ast.Name):
        return node.func.id == "print"
    return isinstance(node.func, ast.Attribute) and ast.unparse(node.func) in (
        "sys.stderr.write", "sys.stdout.write", "click.echo")


def test_library_code_logs_instead_of_printing() -> None:
    found = []
    for package in ("archive", "indexer", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in CLI_OUTPUT:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                      if _writes_to_the_terminal(node)]
    assert found == []
