"""What one ingest of an event did: counts, problems, and the summary line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class IngestSummary:
    event: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    duplicate: int = 0
    failed: int = 0
    missing: int = 0
    pruned: int = 0
    # Items whose answer (time, title, sessions, people, credit) changed because the
    # event file did, without their file being read again (those count as updated).
    resolved: int = 0
    warnings: int = 0
    seconds: float = 0.0
    # The event's problems: path, stage, message, level, kind (level: the older name).
    errors: list[dict[str, str]] = field(default_factory=list)
    unmatched_media: list[dict[str, str | None]] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.added:,} added", f"{self.updated:,} updated",
                 f"{self.unchanged:,} unchanged"]
        for name, label in (("resolved", "re-resolved"), ("moved", "moved"),
                            ("duplicate", "duplicate"), ("failed", "failed"),
                            ("missing", "missing"), ("pruned", "pruned")):
            if getattr(self, name):
                parts.append(f"{getattr(self, name):,} {label}")
        return f"{self.event}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)
