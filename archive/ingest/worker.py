"""`event-archive worker`: a Celery worker reading the files that ingests send to the
broker, on any machine that sees the media and the archive at the ingest's paths.

Its processes are forked (Celery's prefork pool) from one that has loaded the face
models, so they share them as the local pool's workers do; each process is then
prepared once (`prepare_worker`: memory bound, allocator tuned).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from celery.signals import worker_process_init

from archive.ingest.queue import make_app

log = logging.getLogger(__name__)


def default_name() -> str:
    """A node name of its own for each worker, even several on one machine."""
    return f"event-archive-{os.getpid()}@{socket.gethostname()}"


def _faces_on() -> bool:
    """Load the face models before the processes fork; False (said) without the extra."""
    from archive.media.faces import INSTALL_HINT, load_models, unavailable

    reason = unavailable()
    if reason:
        log.warning("faces are off on this worker: %s; %s (files ingested with faces "
                    "are then read for faces by a later ingest)", reason, INSTALL_HINT)
        return False
    load_models()
    return True


def run_worker(url: str, concurrency: int, name: str, loglevel: str) -> int:
    """Run a worker until it is stopped (SIGTERM or Ctrl-C: the files being read are
    finished first); returns its exit code."""
    from archive.ingest.examine import prepare_worker

    app = make_app(url)
    with_faces = _faces_on()

    def prepare(**_kwargs: Any) -> None:
        prepare_worker(with_faces)

    worker_process_init.connect(prepare, weak=False)
    worker = app.Worker(hostname=name, concurrency=concurrency, pool_cls="prefork",
                        loglevel=loglevel, quiet=True,
                        # Workers need not know each other: no start-up wait to meet them.
                        without_mingle=True, without_gossip=True)
    worker.start()
    return worker.exitcode or 0
