"""Output to the user's terminal: text from media never reaches it as control codes."""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

import click

from archive.errors import ArchiveError

# C0 controls but tab and line feed, DEL, and the C1 controls (0x9b is an 8-bit CSI):
# enough to move the cursor, clear the screen, retitle the window or rewrite a line.
_CONTROLS = dict.fromkeys(code for code in (*range(0x20), *range(0x7F, 0xA0))
                          if chr(code) not in "\t\n")


def printable(text: str) -> str:
    """`text` without the control characters a terminal would act on."""
    return text.translate(_CONTROLS)


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """click.echo that strips control characters when the stream is a terminal: metadata,
    file names and ids typed by others are shown, never executed. Pipes and files get
    the text unchanged.

    Raises ArchiveError when standard output cannot be written (a full disk, /dev/full);
    a closed pipe stays BrokenPipeError, which the command line ends quietly on.
    """
    stream = sys.stderr if err else sys.stdout
    if stream.isatty():
        message = printable(message)
    try:
        # color=True: click would otherwise remove what looks like a colour code (CSI, not
        # OSC) from text going to a pipe or a file, which must get it as it is.
        click.echo(message, err=err, nl=nl, color=True)
    except BrokenPipeError:
        raise
    except OSError as exc:
        if err:
            raise
        _discard(stream)
        raise ArchiveError(f"cannot write the output ({exc.strerror or exc})") from None


def _discard(stream: TextIO) -> None:
    """Send a stream that failed to /dev/null: the interpreter flushes what it still
    holds on the way out, which would fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # no file behind the stream (a test's buffer): nothing is flushed at exit
