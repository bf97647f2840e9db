"""The sample event and the archive it ingests into, built in a background process that
starts with the test run (tests/conftest.py): encoding the event's video and ingesting it
take most of the fast tests' time, and collecting and the first tests run meanwhile.

A process, not a thread: the ingest forks its workers only while its process has a single
thread, so a thread beside the tests would change how their own ingests start workers.
Run as `python -m helpers.sample FOLDER` it writes FOLDER/event, then FOLDER/archive.

The event's media are kept in tests/.sample_cache between runs, named by what makes them
(the generator, the event file, Pillow and ffmpeg): the video's encoding was the larger
part of the build. The archive is always ingested afresh: it is what the tests test."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600.0
MEDIA_CACHE = ROOT / "tests" / ".sample_cache"
# What the sample's media are made from; a change to any makes them again.
MADE_FROM = [ROOT / "scripts" / "make_sample_event.py", ROOT / "tests" / "helpers" / "media.py",
             ROOT / "tests" / "data" / "sample" / "event.toml"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class SampleBuild:
    """The background build of the sample event and its archive under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.event = folder / "event"
        self.archive = folder / "archive"
        self._event_ready = folder / "event-ready"
        self._log = folder / "build.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.process is None:
            self._event_ready.unlink(missing_ok=True)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))}
            with self._log.open("wb") as log:
                # A session of its own: stop() ends ffmpeg and the ingest's workers too.
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "helpers.sample", str(self.folder)], cwd=ROOT,
                    env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)

    def stop(self) -> None:
        """Stop a build no test needs (it is restarted if one asks after all)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=60)
            self.process = None

    def wait_event(self) -> Path:
        self.start()
        deadline = time.monotonic() + TIMEOUT
        while not self._event_ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._fail()
            time.sleep(0.05)
        return self.event

    def wait_archive(self) -> Path:
        self.start()
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._fail()
        if self.process.returncode != 0:
            self._fail()
        return self.archive

    def _fail(self) -> None:
        output = self._log.read_text(encoding="utf-8", errors="replace")
        raise AssertionError(f"building the sample failed (exit {self.process.poll()}):\n"
                             f"{output}")


def build(folder: Path) -> None:
    # Imported here: the test process only starts this one.
    from archive.ingest.pipeline import ingest_folder
    from archive.store import Archive
    from indexer.sync import sync

    event, archive_dir = folder / "event", folder / "archive"
    # rmtree: a build stopped half-way and started again begins afresh.
    shutil.rmtree(event, ignore_errors=True)
    # Copied without their times: the files are as new as a freshly made event's.
    shutil.copytree(_cached_media(), event, copy_function=shutil.copy)
    (folder / "event-ready").touch()
    shutil.rmtree(archive_dir, ignore_errors=True)
    with Archive.open(archive_dir) as archive:
        ingest_folder(archive, event, jobs=2, progress=False)
        sync(archive)


def _cached_media() -> Path:
    import PIL

    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True,
                            timeout=60).stdout.split("\n", 1)[0]
    key = hashlib.sha256()
    for path in MADE_FROM:
        key.update(path.read_bytes())
    key.update(f"{PIL.__version__}|{ffmpeg}|{FONT.exists() and FONT.stat().st_size}".encode())
    cached = MEDIA_CACHE / key.hexdigest()[:16]
    if not cached.is_dir():
        MEDIA_CACHE.mkdir(exist_ok=True)
        (MEDIA_CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
        for old in MEDIA_CACHE.iterdir():
            if old.is_dir() and (not old.name.startswith(".") or _abandoned(old)):
                shutil.rmtree(old, ignore_errors=True)  # older inputs, or a killed run's
        # Made beside it, then renamed: a run stopped half-way, or another run making
        # it at the same time, never leaves a partial event under the name.
        making = MEDIA_CACHE / f".{cached.name}-{os.getpid()}"
        shutil.rmtree(making, ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_event.py"),
                        str(making)], check=True, timeout=300)
        try:
            making.rename(cached)
        except OSError:  # another run was first
            shutil.rmtree(making, ignore_errors=True)
    return cached


def _abandoned(making: Path) -> bool:
    """A folder `.<key>-<pid>` whose maker is gone."""
    try:
        os.kill(int(making.name.rsplit("-", 1)[1]), 0)
    except (IndexError, ValueError, ProcessLookupError):
        return True
    except PermissionError:
        pass
    return False


if __name__ == "__main__":
    build(Path(sys.argv[1]))
