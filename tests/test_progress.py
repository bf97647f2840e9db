"""The ingest progress bar: on a terminal (sized or not), never in a pipe, --json or -q."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from helpers.media import make_exif, make_jpeg

# Slow: every test runs the real command in a subprocess, some on a terminal.
pytestmark = pytest.mark.slow

FILES = 12
# tqdm redraws at most every 0.1 s; with no minimum it draws every file, so the test sees
# the bar's last state without waiting for the clock.
ENV = {**os.environ, "TQDM_MININTERVAL": "0"}


@pytest.fixture
def photos(event_dir: Path) -> Path:
    start = dt.datetime(2019, 3, 19, 9, 0)
    for i in range(FILES):
        make_jpeg(event_dir / f"IMG_{i:04d}.jpg", size=(64 + i, 48),
                  exif=make_exif(taken=start + dt.timedelta(minutes=i)))
    return event_dir


def command(archive: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "archive", "--archive", str(archive), *args]


def run_in_terminal(argv: list[str], columns: int | None) -> str:
    """Run `argv` with a pseudo-terminal as stdin, stdout and stderr; what it printed.

    `columns=None` leaves the terminal without a size, as `script`, CI runners and
    editors' consoles open one (0 x 0)."""
    main, secondary = pty.openpty()
    if columns:
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with subprocess.Popen(argv, stdin=secondary, stdout=secondary, stderr=secondary,
                          env=ENV) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the last holder of the terminal closed it
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


BAR = re.compile(rf"\b{FILES}/{FILES} \[\d\d:\d\d<\d\d:\d\d, +[\d.]+file/s\]")


@pytest.mark.parametrize("columns", [100, None], ids=["sized", "unsized"])
def test_progress_bar_on_a_terminal(photos: Path, tmp_path: Path, columns: int | None) -> None:
    shown = run_in_terminal(command(tmp_path / "arch", "ingest", str(photos), "--jobs", "2"),
                            columns)
    # files done/total, elapsed<left and the rate, redrawn in place
    assert BAR.search(shown), shown
    assert "\r" in shown and "0/12" in shown
    assert f"{FILES} added" in shown
    bars = [line for line in re.split(r"[\r\n]", shown) if "file/s" in line]
    assert max(len(bar.rstrip()) for bar in bars) <= (columns or 80)


@pytest.mark.parametrize("flags", [("-q", "ingest"), ("ingest", "--json")],
                         ids=["quiet", "json"])
def test_no_progress_bar_with_quiet_or_json(photos: Path, tmp_path: Path,
                                            flags: tuple[str, ...]) -> None:
    shown = run_in_terminal(command(tmp_path / "arch", *flags, str(photos)), 100)
    assert "file/s" not in shown and "/12" not in shown, shown


def test_no_progress_bar_in_a_pipe(photos: Path, tmp_path: Path) -> None:
    done = subprocess.run(command(tmp_path / "arch", "ingest", str(photos)), env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{FILES} added" in done.stdout
    assert "\r" not in done.stdout + done.stderr
    assert "file/s" not in done.stderr
