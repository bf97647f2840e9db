"""The search result cache the worker processes of one server share."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

import diskcache
import pytest

from archive.store import Archive
from indexer.cache import SharedResultCache
from indexer.search import Page, SearchIndex
from indexer.sync import rebuild

from helpers.processes import serving


def _index(archive: Archive, folder: Path, entries: int = 100,
           budget: int = 2**20) -> SearchIndex:
    return SearchIndex(archive, rebuild_missing=False, persist=False, cache_size=entries,
                       cache_bytes=budget, cache_dir=folder)


def test_a_result_one_worker_found_is_a_hit_for_the_other(sample_archive: Path,
                                                           tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(sample_archive, root)
    SharedResultCache.create(tmp_path)
    with Archive.open(root, readonly=True) as reader:
        first, second = _index(reader, tmp_path), _index(reader, tmp_path)
        found = first.search("keller", Page(limit=5))
        assert second.search("keller", Page(limit=5)) == found
        assert (first.cache.misses, second.cache.hits, second.cache.misses) == (1, 1, 0)
        with Archive.open(root) as writer:
            rebuild(writer)  # a new index generation: what the old one found is not served
        again = second.search("keller", Page(limit=5))
        assert second.cache.misses == 1
        assert again["total"] == found["total"]
        first.close()
        second.close()


def test_the_shared_cache_keeps_the_newest_within_its_bounds(sample_archive: Path,
                                                             tmp_path: Path) -> None:
    SharedResultCache.create(tmp_path)
    with Archive.open(sample_archive, readonly=True) as reader:
        index = _index(reader, tmp_path, entries=5)
        for n in range(12):
            index.search(f"keller duration:>{n}")
        assert len(index.cache) == 5
        index.search("keller duration:>11")
        index.search("keller duration:>0")
        assert (index.cache.hits, index.cache.misses) == (1, 13)
        index.close()
        small = _index(reader, tmp_path / "small", budget=200_000)
        for n in range(1, 60):
            assert small.search("kind:photo", Page(n % 20 + 1, limit=3 + n // 20))["results"]
        assert 1 <= len(small.cache) < 59
        assert small.cache._cache.volume() <= 200_000
        small.close()


def test_a_broken_cache_file_is_a_miss_not_a_failed_search(sample_archive: Path, tmp_path: Path,
                                                           caplog) -> None:
    SharedResultCache.create(tmp_path)
    (tmp_path / "cache.db").write_bytes(b"not a database" * 100)
    with Archive.open(sample_archive, readonly=True) as reader:
        index = _index(reader, tmp_path)
        with caplog.at_level(logging.WARNING, logger="indexer.cache"):
            assert index.search("keller")["total"] == index.search("keller")["total"] > 0
        assert index.cache.hits == 0
        assert "search result cache" in caplog.text
        index.close()


@pytest.mark.slow
def test_serve_keeps_the_cache_in_a_private_folder_and_removes_it(sample_archive: Path,
                                                                  tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    with serving(sample_archive, tmp_path / "serve.log", "--workers", "2", env=env) as server:
        (folder,) = temp.glob("event-archive-results-*")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for _ in range(3):
            assert server.get("/?q=keller")[0] == 200
        with diskcache.Cache(str(folder)) as cache:
            keys = list(cache)
        assert len(keys) == 1 and "'keller'" in keys[0]
    assert not list(temp.iterdir())



def test_a_damaged_entry_is_a_miss_and_a_damaged_file_is_left_alone(sample_archive: Path,
                                                                    tmp_path: Path,
                                                                    caplog) -> None:
    SharedResultCache.create(tmp_path)
    with Archive.open(sample_archive, readonly=True) as reader:
        index = _index(reader, tmp_path)
        found = index.search("keller")
        with diskcache.Cache(str(tmp_path)) as cache:
            (key,) = list(cache)
            cache.set(key, cache.get(key)[:100])  # a pickle cut short
        with caplog.at_level(logging.WARNING, logger="indexer.cache"):
            assert index.search("keller") == found
        assert (index.cache.hits, index.cache.misses) == (0, 2)
        assert "search result cache" in caplog.text
        index.close()
