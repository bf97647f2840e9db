"""The curator's desk (`serve --curate`): fixing items, naming faces, a "to do" page and
the log of changes, on the site itself. Registered only when asked for: without it no
route of the site writes anything."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g

from archive import settings
from archive.catalog import CatalogError
from archive.errors import ArchiveError
from archive.store import Archive

from . import desk, faces, items  # noqa: F401 - their routes join the blueprint
from .access import Desk, csrf_token, curator, curator_desk
from .blueprint import bp
from .reading import close_curator_archive

__all__ = ["Desk", "curator_desk", "register"]


def register(app: Flask) -> None:
    """Add the desk to the site. Raises ArchiveError when the run's keys are missing
    (serve makes them: curator_desk) or the archive cannot be written."""
    config = app.config
    if not config.get("SECRET_KEY") or not config.get("CURATE_TOKENS"):
        raise ArchiveError("the curator's desk needs SECRET_KEY and CURATE_TOKENS "
                           "(event-archive serve --curate makes them)")
    _check_writable(Path(config["ARCHIVE_DIR"]))
    https = str(config.get("BASE_URL") or "").startswith("https:")
    config.update(
        SESSION_COOKIE_NAME="event_archive_curator", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.value("curate_session_hours")),
        MAX_CONTENT_LENGTH=settings.value("curate_form_bytes"),
        MAX_FORM_MEMORY_SIZE=settings.value("curate_form_bytes"))
    config.setdefault("CURATE_LOCK_WAIT", settings.value("curate_lock_wait"))
    app.register_blueprint(bp)
    app.teardown_appcontext(close_curator_archive)
    app.after_request(_panel_never_stored)
    app.jinja_env.globals.update(curating=lambda: curator() is not None,
                                 curator_panel=items.item_panel, csrf_token=csrf_token)
    app.jinja_env.filters.update(curate_time=logged_time, curate_value=logged_value)


def _check_writable(root: Path) -> None:
    """Open the catalog for writing once (which brings its schema up to date, the
    curators' log included), so an archive the desk cannot write fails at the start."""
    try:
        Archive.open(root, create=False).close()
    except CatalogError as exc:
        raise ArchiveError(f"--curate writes to the archive, which cannot be written: "
                           f"{exc}") from None


def logged_time(at: float) -> str:
    """When a change was made, on the server's clock (where the curators are)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def logged_value(value: Any) -> str:
    """A logged value as the changes page shows it: lists joined, tables as key = value,
    nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(logged_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} = {logged_value(v)}" for k, v in value.items())
    return str(value)


def _panel_never_stored(response: Any) -> Any:
    # A public page carrying the curator's form (and its CSRF token) is no public page.
    if g.get("curator_panel"):
        response.headers["Cache-Control"] = "no-store"
    return response
