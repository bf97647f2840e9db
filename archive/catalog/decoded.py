"""Rows read now, decoded into records only as they are used."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class Decoded(Sequence[T]):
    """Records of rows read in one go (one state of the catalog), each decoded when it
    is taken: decoded, a whole catalog's items take several times the memory of their
    stored text, and their reader wants a batch at a time."""

    def __init__(self, rows: list[sqlite3.Row], decode: Callable[[sqlite3.Row], T]) -> None:
        self._rows, self._decode = rows, decode

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._decode(row) for row in self._rows[index]]
        return self._decode(self._rows[index])
