"""Resolution: the event file and embedded metadata into each item's time, sessions,
people and credit."""

from archive.resolve.rules import ItemFacts, Resolution, resolve, resolve_taken

__all__ = ["ItemFacts", "Resolution", "resolve", "resolve_taken"]
