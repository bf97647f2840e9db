"""Children forked by our processes end with them, even when those are SIGKILLed: a
`reindex` killed while Whoosh's writer processes ran left them behind, holding the
archive's write lock, and every later ingest waited for ever."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from archive.store import Archive

from helpers.processes import EVENT_ARCHIVE
from helpers.synthetic import generate, write_catalog

# The parent takes the lock, forks a multiprocessing child that inherits it and blocks
# on a queue nobody feeds (as an orphaned index writer did), then says both pids.
PARENT = """
import fcntl, multiprocessing as mp, os, sys
from archive.processes import forked_children_end_with_this_process
if sys.argv[2] == "guarded":
    forked_children_end_with_this_process()
lock = open(sys.argv[1], "w")
fcntl.flock(lock, fcntl.LOCK_EX)
ctx = mp.get_context("fork")
queue = ctx.Queue()
child = ctx.Process(target=queue.get)
child.start()
print(os.getpid(), child.pid, flush=True)
sys.stdin.readline()
"""


def _kill_parent_and_wait_for_child(tmp_path: Path, mode: str) -> tuple[bool, bool]:
    """(the child ended, the lock is free) once the parent is SIGKILLed."""
    lock = tmp_path / "ingest.lock"
    with subprocess.Popen([sys.executable, "-c", PARENT, str(lock), mode],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        parent, child = map(int, proc.stdout.readline().split())
        os.kill(parent, signal.SIGKILL)
        proc.wait(timeout=30)
    gone, alive = psutil.wait_procs([psutil.Process(child)], timeout=5)
    with open(lock, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            free = True
        except BlockingIOError:
            free = False
    for p in alive:
        p.kill()
    return bool(gone), free


def test_a_forked_child_ends_with_its_killed_parent_and_frees_the_lock(tmp_path: Path) -> None:
    assert _kill_parent_and_wait_for_child(tmp_path, "guarded") == (True, True)


@pytest.mark.slow  # it waits out the time-out: the orphan never ends
def test_without_it_the_orphan_keeps_the_lock(tmp_path: Path) -> None:
    # What the guard is for: the same child, unguarded, outlives its parent.
    assert _kill_parent_and_wait_for_child(tmp_path, "bare") == (False, False)


@pytest.mark.slow
def test_a_killed_reindex_leaves_no_writer_and_the_next_command_runs(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    events, items = generate(1500)  # enough that Whoosh forks its writer processes
    with Archive.open(root) as archive:
        write_catalog(archive, events, items, [("thumbs/a-320.jpg", "thumbs/a-1280.jpg")])
    with subprocess.Popen([str(EVENT_ARCHIVE), "--archive", str(root), "-q", "reindex"]) as proc:
        writers = _children_once_forked(psutil.Process(proc.pid), proc)
        proc.send_signal(signal.SIGKILL)
    gone, alive = psutil.wait_procs(writers, timeout=30)
    for p in alive:
        p.kill()
    assert alive == []
    # The write lock is free: verify takes it at once (it waited for ever before).
    done = subprocess.run([str(EVENT_ARCHIVE), "--archive", str(root), "verify", "--json",
                           "--no-hashes"], capture_output=True, text=True, timeout=120)
    assert "waiting for another ingest" not in done.stderr
    assert "index rebuilt" in " ".join(json.loads(done.stdout)["repaired"])


def _children_once_forked(parent: psutil.Process, proc: subprocess.Popen,
                          within: float = 60.0) -> list[psutil.Process]:
    """The parent's children as soon as it has any (polled: no event says so)."""
    deadline = time.monotonic() + within
    while proc.poll() is None and time.monotonic() < deadline:
        if children := parent.children(recursive=True):
            return children
        time.sleep(0.005)
    raise AssertionError("reindex finished or hung before forking its writers")
