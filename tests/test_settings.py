"""One table of limits and sizes: README.md documents each, the command line and the site
take their defaults from it, and nothing else defines them again."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
import pytest

from archive import settings
from archive.cli import main
from archive.ingest.pipeline import ingest_folder
from archive.store import Archive
from indexer.query import parse
from indexer.search import Page, SearchIndex
from web.app import CONFIGURABLE, create_app

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"GiB": 2**30, "MiB": 2**20, "s": 1}


def readme_settings() -> dict[str, str]:
    """setting name -> the default README.md's Settings table shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Settings\n"):]
    section = section[:section.index("\n## ", 1)]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+?) \|", section, re.MULTILINE))


def number(shown: str) -> float:
    """'4 MiB' -> 4194304, '120 s' -> 120, '100,000,000' -> 100000000."""
    amount, _, unit = shown.replace(",", "").partition(" ")
    return float(amount) * UNITS.get(unit, 1)


def test_the_readme_documents_every_setting_with_its_default() -> None:
    documented = readme_settings()
    assert list(documented) == [s.name for s in settings.SETTINGS]
    for setting in settings.SETTINGS:
        assert number(documented[setting.name]) == setting.default, setting.name


def test_every_setting_has_a_unique_name_and_says_what_it_limits() -> None:
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help and isinstance(s.default, int | float) for s in settings.SETTINGS)


def test_a_misspelt_name_fails_where_it_is_read() -> None:
    with pytest.raises(KeyError, match="batch_sise"):
        settings.value("batch_sise")


def test_every_setting_is_read_somewhere() -> None:
    code = "".join(path.read_text(encoding="utf-8")
                   for package in ("archive", "indexer", "web")
                   for path in (ROOT / package).rglob("*.py")
                   if path != ROOT / "archive" / "settings.py")
    unread = [s.name for s in settings.SETTINGS if f'"{s.name}"' not in code]
    assert unread == []


def _option(path: tuple[str, ...], name: str) -> click.Option:
    command: click.Command = main
    for word in path:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    return next(p for p in command.params if isinstance(p, click.Option) and p.name == name)


@pytest.mark.parametrize(("path", "option", "setting", "scale"), [
    (("search",), "limit", "search_limit", 1),
    (("serve",), "threads", "threads", 1),
    (("serve",), "cache_size", "search_cache", 1),
    (("serve",), "cache_mb", "search_cache_bytes", settings.MiB),
    (("serve",), "connection_limit", "connection_limit", 1),
    (("serve",), "channel_timeout", "channel_timeout", 1),
    (("serve",), "replica_interval", "replica_interval", 1),
])
def test_the_command_line_takes_its_defaults_from_the_table(
        path: tuple[str, ...], option: str, setting: str, scale: int) -> None:
    assert _option(path, option).default * scale == settings.value(setting)


def test_search_limit_and_sorts_are_the_tables() -> None:
    limit = _option(("search",), "limit").type
    assert isinstance(limit, click.IntRange) and limit.max == settings.value("max_limit")
    assert tuple(_option(("search",), "sort").type.choices) == settings.SORTS


def test_library_defaults_are_the_tables() -> None:
    assert Page().limit == settings.value("search_limit")
    timeout = inspect.signature(ingest_folder).parameters["timeout"].default
    assert timeout == settings.value("file_timeout")
    cache_bytes = inspect.signature(SearchIndex).parameters["cache_bytes"].default
    assert cache_bytes == settings.value("search_cache_bytes")


@pytest.fixture
def empty_archive(tmp_path: Path) -> Path:
    Archive.open(tmp_path / "archive", create=True).close()
    return tmp_path / "archive"


def test_the_site_takes_its_defaults_from_the_table(empty_archive: Path) -> None:
    config = create_app(empty_archive, {"TESTING": True}).config
    assert {name: config[name.upper()] for name in CONFIGURABLE} == {
        name: settings.value(name) for name in CONFIGURABLE}


def test_one_query_length_for_the_site_and_the_index(empty_archive: Path) -> None:
    longest = settings.value("max_query_length")
    client = create_app(empty_archive, {"TESTING": True}).test_client()
    refused = client.get("/api/search", query_string={"q": "x" * (longest + 1)})
    assert refused.status_code == 400 and "too long" in refused.json["error"]
    # As long as allowed: searched (here there is no index yet, hence 503).
    assert client.get("/api/search", query_string={"q": "x" * longest}).status_code == 503
    assert parse("x" * longest).notices == []
    assert parse("x" * (longest + 1)).notices == [f"the query was cut to {longest} characters"]


def test_a_config_key_still_overrides_the_table(empty_archive: Path) -> None:
    client = create_app(empty_archive, {"TESTING": True, "MAX_QUERY_LENGTH": 5}).test_client()
    assert client.get("/api/search", query_string={"q": "keller"}).status_code == 400
