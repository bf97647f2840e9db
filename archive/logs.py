"""Where the library's log records go: one line each on standard error, at the level
the command line's `-v`/`-q` chose. Library modules only log; this is configured once,
by the CLI, before a command runs."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

# Our own packages: their notices ("building the search index") show by default, while
# other libraries (waitress, Pillow, Whoosh) stay at warnings, as they were unconfigured.
PACKAGES = ("archive", "indexer", "web")
SHORT = "%(message)s"
DETAILED = "%(levelname)s %(name)s: %(message)s"


class CurrentStderr(logging.StreamHandler):
    """A handler writing to `sys.stderr` as it is when a record comes, not as it was
    when the handler was made (a test runner replaces the stream per command)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass  # StreamHandler.__init__ sets it; the property always answers sys.stderr


def levels(verbosity: int) -> tuple[int, int]:
    """(our packages' level, every other logger's) for -q (-1), neither (0), -v, -vv."""
    if verbosity < 0:
        return logging.WARNING, logging.WARNING  # only what went wrong
    if verbosity == 0:
        return logging.INFO, logging.WARNING
    return logging.DEBUG, logging.INFO if verbosity == 1 else logging.DEBUG


def configure(verbosity: int) -> None:
    """Send log records to standard error: the message alone by default, its level and
    logger too with -v. `force`: a second command in one process (tests) replaces the
    first one's handler instead of adding another."""
    ours, others = levels(verbosity)
    logging.basicConfig(level=others, format=SHORT if verbosity < 1 else DETAILED,
                        handlers=[CurrentStderr()], force=True)
    for name in PACKAGES:
        logging.getLogger(name).setLevel(ours)
    # After a lost PostgreSQL server, psycopg warns that it could not end the pipeline
    # of the very statement whose error we report in one line; -vv shows it still.
    logging.getLogger("psycopg").setLevel(others if verbosity > 1 else logging.ERROR)
