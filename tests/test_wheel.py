"""Installed as users install it: the wheel, in a fresh virtual environment outside the
checkout, ingests the sample event and serves every kind of page."""

from __future__ import annotations

import email
import importlib.metadata
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.processes import environment_without, serving

ROOT = Path(__file__).resolve().parents[1]
# What a source checkout holds that a build must not see (derived, local or large).
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                    ".*_cache", "test-artifacts", "artifacts", "event-archive",
                                    "sample-event", "bench-out")


def build_wheel(out: Path) -> Path:
    """Build from a copy of the source, so no build/ of the checkout leaks into it, with
    this environment's setuptools (what pip's isolated build would fetch)."""
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                    "--no-index", "-q", "-w", str(out), str(source)], check=True,
                   capture_output=True, timeout=300)
    [wheel] = out.glob("event_archive-*.whl")
    return wheel


def requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name)).get_all("Requires-Dist") or []


def dependency_closure(wanted: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions these requirements need, transitively (no extras)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [Requirement(r) for r in wanted]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        dist = importlib.metadata.distribution(req.name)
        key = canonicalize_name(dist.metadata["Name"])
        if key not in found:
            found[key] = dist
            todo += [Requirement(r) for r in dist.requires or []]
    return list(found.values())


def link_dependencies(wheel: Path, into: Path) -> Path:
    """A folder of links to the wheel's dependencies in this environment, and nothing
    else: what pip would install, without downloading it again."""
    into.mkdir()
    site = Path(sysconfig.get_path("purelib"))
    for dist in dependency_closure(requirements(wheel)):
        for top in {f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            if not (into / top).exists():
                (into / top).symlink_to(site / top)
    return into


def make_venv(base: Path, wheel: Path) -> Path:
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path"
                              "('purelib'))"], check=True, capture_output=True, text=True,
                             timeout=60).stdout.strip()
    deps = link_dependencies(wheel, base / "deps")
    (Path(purelib) / "dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    # --no-index: every dependency must already be there, through the links.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    return venv


@pytest.mark.slow
def test_the_installed_wheel_ingests_and_serves_every_kind_of_page(
        tmp_path: Path, sample: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    venv = make_venv(tmp_path, wheel)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = environment_without("PYTHONPATH", "VIRTUAL_ENV", "EVENT_ARCHIVE")

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=outside, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done.stdout

    where = json.loads(run(str(venv / "bin" / "python"), "-c", "import json, archive, "
                           "indexer, web; print(json.dumps([m.__file__ for m in (archive, "
                           "indexer, web)]))"))
    assert all(Path(f).is_relative_to(venv) for f in where), where
    program = venv / "bin" / "event-archive"
    archive = outside / "archive"
    run(str(program), "ingest", "-j", "2", str(sample), "--archive", str(archive))
    with serving(archive, tmp_path / "serve.log", executable=program, cwd=outside,
                 env=env) as server:
        _, _, body = server.get("/api/search?q=keller+kind:photo")
        item = json.loads(body)["results"][0]["id"]
        pages = ["/?q=keller", f"/items/{item}", "/events", "/events/florence-2019",
                 "/events/florence-2019/sessions/s2",
                 "/events/florence-2019/people/peter-keller", "/credits?q=session:s2",
                 "/api/search?q=keller", f"/api/items/{item}", "/api/events",
                 "/api/sessions/s2?event=florence-2019",
                 "/api/people/peter-keller?event=florence-2019",
                 "/api/credits?q=session:s2&format=csv", f"/media/{item}/small",
                 f"/media/{item}/original", "/static/style.css", "/static/app.js"]
        statuses = {page: server.get(page)[0] for page in pages}
        assert statuses == dict.fromkeys(pages, 200)
