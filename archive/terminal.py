"""Output to the user's terminal: text from media never reaches it as control codes."""

from __future__ import annotations

import sys

import click

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
    the text unchanged."""
    stream = sys.stderr if err else sys.stdout
    if stream.isatty():
        message = printable(message)
    click.echo(message, err=err, nl=nl)
