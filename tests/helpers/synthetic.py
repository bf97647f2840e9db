"""The benchmarks' synthetic events and items (scripts/synthetic.py), for tests that need
a large catalog without media."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from synthetic import generate, write_catalog  # noqa: E402

__all__ = ["generate", "write_catalog"]
