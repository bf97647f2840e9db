"""Credit lines and credit exports."""

from __future__ import annotations

from collections.abc import Mapping

_LABEL = {"photo": "Photo", "video": "Video", "audio": "Audio"}


def credit_line(kind: str, credit: Mapping[str, str | None]) -> str | None:
    """'Photo: Creator / Organisation (Project)'; parts that are unknown are left out."""
    creator, org, project = (credit.get(k) for k in ("creator", "organisation", "project"))
    who = " / ".join(p for p in (creator, org) if p)
    if project:
        who = f"{who} ({project})" if who else f"({project})"
    if not who:
        return None
    return f"{_LABEL.get(kind, 'Media')}: {who}"
