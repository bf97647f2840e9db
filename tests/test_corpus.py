"""The real camera files of ../shared/corpus: every one is an item or a recorded error."""

from __future__ import annotations

import csv
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from archive.catalog import select_items
from archive.ingest.pipeline import ingest_folder
from archive.outputs.itemjson import items_json
from archive.store import Archive

from helpers.corpus import corpus_or_skip, disagreements, exiftool, ours, theirs

# Slow: an ingest of the whole real-camera corpus, compared with exiftool.
pytestmark = pytest.mark.slow

KNOWN = Path(__file__).parent / "data" / "corpus-known-differences.toml"
# Files the corpus calls corrupt that are valid media to us, and why.
# Manifest facts that come from places ffprobe does not expose (nor exiftool without -ee).
BEYOND_FFPROBE = {
    "videos/gopro__karma.mp4": "make and model only in the GoPro GPMF telemetry track",
    "videos/gopro__max-heromode.mp4": "make and model only in GoPro's udta/GPMF boxes",
}
VALID_DESPITE_MANIFEST = {
    "broken/ianare__image01551.jpg": "valid JPEG with an XMP APP1; only old exif-py looped",
    "broken/ianare__image02206.jpg": "valid JPEG with an XMP APP1; only old exif-py looped",
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    corpus = corpus_or_skip()
    root = tmp_path_factory.mktemp("corpus-archive")
    with Archive.open(root) as archive:
        summary = ingest_folder(archive, corpus, jobs=2, progress=False)
        records = select_items(archive.catalog)
        items = items_json(archive.catalog, records)
        for item, record in zip(items, records, strict=True):
            item["rotation"] = record.metadata.get("rotation")
        errors = archive.catalog.query("SELECT * FROM errors")
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        manifest = list(csv.DictReader(fh, delimiter="\t"))
    return {"corpus": corpus, "summary": summary, "manifest": manifest,
            "items": {i["relpath"]: i for i in items},
            "errors": {Path(e["path"]).relative_to(corpus.resolve()).as_posix(): e
                       for e in errors}}


def test_every_corpus_file_is_an_item_or_a_recorded_error(ingested: dict) -> None:
    items, errors = ingested["items"], ingested["errors"]
    for row in ingested["manifest"]:
        path = row["path"]
        if row["category"] in ("sidecars", "subtitles"):
            continue  # not media: paired with media or reported as orphans
        if row["corrupt"] == "yes" and path not in VALID_DESPITE_MANIFEST:
            assert path in errors, f"{path}: corrupt, but no error recorded"
            assert errors[path]["level"] == "error"
            continue
        assert path in items, f"{path}: not catalogued ({dict(errors.get(path) or {})})"
        item = items[path]
        camera = item["camera"] or {}
        if path in BEYOND_FFPROBE:
            continue
        if row["make"] and path not in KNOWN_FIELDS.get("make", set()):
            assert camera.get("make") == row["make"].strip(), path
        if row["model"] and path not in KNOWN_FIELDS.get("model", set()):
            assert camera.get("model") == row["model"].strip(), path
        assert item["thumbnails"] or row["category"] == "raw", f"{path}: no thumbnail"


def _known() -> dict[str, set[str]]:
    entries = tomllib.loads(KNOWN.read_text(encoding="utf-8"))["difference"]
    for entry in entries:
        assert entry["reason"].strip(), entry
    return {e["file"]: set(e["fields"]) for e in entries}


KNOWN_BY_FILE = _known()
KNOWN_FIELDS: dict[str, set[str]] = {}
for _file, _fields in KNOWN_BY_FILE.items():
    for _field in _fields:
        KNOWN_FIELDS.setdefault(_field, set()).add(_file)


def test_manifest_dates_are_read(ingested: dict) -> None:
    for row in ingested["manifest"]:
        note = row["note"]
        if "DateTimeOriginal=" not in note or row["path"] not in ingested["items"]:
            continue
        expected = note.split("DateTimeOriginal=")[1][:19].replace(":", "-", 2)
        if not expected[:4].strip() or row["path"] in KNOWN_FIELDS.get("taken", set()):
            continue
        item = ingested["items"][row["path"]]
        assert item["taken"][:19].replace("T", " ") == expected, row["path"]


@pytest.mark.skipif(shutil.which("exiftool") is None,
                    reason="exiftool not installed (scripts/setup installs it)")
def test_agrees_with_exiftool_except_known_differences(ingested: dict) -> None:
    items = list(ingested["items"].values())
    theirs_by_path = exiftool([Path(i["path"]) for i in items])
    unexplained = {}
    for item in items:
        if item["kind"] == "video":
            item = {**item, "orientation": item["rotation"]}
        found = disagreements(ours(item), theirs(theirs_by_path.get(item["path"], {}),
                                                 item["kind"]))
        extra = set(found) - KNOWN_BY_FILE.get(item["relpath"], set())
        if extra:
            unexplained[item["relpath"]] = {k: found[k] for k in extra}
    assert not unexplained, json.dumps(unexplained, indent=1, default=str)


def test_known_differences_are_still_real(ingested: dict) -> None:
    """A listed difference that no longer happens must be removed from the list."""
    items = ingested["items"]
    theirs_by_path = exiftool([Path(items[f]["path"]) for f in KNOWN_BY_FILE if f in items])
    for file, fields in KNOWN_BY_FILE.items():
        item = items[file]
        if item["kind"] == "video":
            item = {**item, "orientation": item["rotation"]}
        found = disagreements(ours(item), theirs(theirs_by_path[item["path"]], item["kind"]))
        assert set(found) == fields, (file, found)
