"""The Flask site and its JSON API: reads the catalog and the index, never writes."""

from .app import create_app

__all__ = ["create_app"]
