"""The Flask site and its JSON API: reads the catalog and the index, and writes nothing
but the face pictures it cuts from thumbnails (a cache under thumbs/faces/)."""

from .app import create_app

__all__ = ["create_app"]
