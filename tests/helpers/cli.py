"""`event-archive` run in-process, as the `cli` fixture gives it to a test."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archive.cli import main


class Cli:
    """Runs `event-archive` in-process against one archive, checking the exit code."""

    def __init__(self, archive_dir: Path) -> None:
        self.archive_dir = archive_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(main, ["--archive", str(self.archive_dir), *args])
        if result.exit_code != code:
            raise AssertionError(f"exit {result.exit_code} != {code}\n{result.output}"
                                 f"\n{result.exception!r}")
        return result.output

    def json(self, *args: str, code: int = 0) -> object:
        return json.loads(self.__call__(*args, "--json", code=code))
