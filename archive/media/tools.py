"""External programs (ffprobe, ffmpeg): argument lists, a timeout, stderr captured."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from archive.errors import MediaError

INSTALL_HINT = "install FFmpeg (Debian/Ubuntu: 'sudo apt-get install ffmpeg'; " \
               "macOS: 'brew install ffmpeg') or run scripts/setup"


def missing(*names: str) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def run(args: Sequence[str], stage: str, timeout: float) -> bytes:
    """Run a program and return its stdout.

    Raises MediaError (with the tail of stderr) when it fails or exceeds the
    timeout; the child is killed, never left behind.
    """
    try:
        done = subprocess.run(list(args), capture_output=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MediaError(stage, f"{args[0]} timed out after {timeout:g} s") from None
    except FileNotFoundError:
        raise MediaError(stage, f"{args[0]} not found on PATH; {INSTALL_HINT}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise MediaError(stage, f"{args[0]} failed: {reason[:300]}")
    return done.stdout


def run_all(commands: Sequence[Sequence[str]], stage: str, timeout: float) -> list[bytes]:
    """Run programs side by side and return their stdouts, in order.

    Raises the first MediaError any of them raises (as `run` does); each child is
    killed at the time-out, never left behind.
    """
    if len(commands) == 1:
        return [run(commands[0], stage, timeout)]
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = [pool.submit(run, command, stage, timeout) for command in commands]
        return [future.result() for future in futures]
