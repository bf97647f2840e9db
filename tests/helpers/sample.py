"""The sample event and the archive it ingests into, built in a background process that
starts with the test run (tests/conftest.py): encoding the event's video and ingesting it
take most of the fast tests' time, and collecting and the first tests run meanwhile.

A process, not a thread: the ingest forks its workers only while its process has a single
thread, so a thread beside the tests would change how their own ingests start workers.
Run as `python -m helpers.sample FOLDER` it writes FOLDER/event, then FOLDER/archive."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600.0


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
    # --force and rmtree: a build stopped half-way and started again begins afresh.
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_event.py"),
                    "--force", str(event)], check=True, timeout=300)
    (folder / "event-ready").touch()
    shutil.rmtree(archive_dir, ignore_errors=True)
    with Archive.open(archive_dir) as archive:
        ingest_folder(archive, event, jobs=2, progress=False)
        sync(archive)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
