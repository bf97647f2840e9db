"""Child processes that end with their parent, even when it is killed with SIGKILL.

A child left behind keeps what it inherited: the port `serve` listens on, or the
archive's write lock (a forked child shares its open file description), on which
every later ingest would wait for ever.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # linux/prctl.h

_forking_parent: int | None = None  # set just before each fork, read in the child


def end_with_parent(parent: int, signum: int = signal.SIGTERM) -> None:
    """Have the kernel send `signum` to this process when `parent` (the process that
    forked it) ends; exit now if it already has. Elsewhere than Linux, nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum))
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(0)


def _before_fork() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _after_fork_in_child() -> None:
    if _forking_parent is not None:
        end_with_parent(_forking_parent, signal.SIGKILL)


_registered = False


def forked_children_end_with_this_process() -> None:
    """From now on, every child this process forks through Python (multiprocessing
    included: Whoosh's index writers fork theirs) is killed when this process ends.
    Programs started by `subprocess` are not affected. Idempotent."""
    global _registered
    if not _registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _registered = True
