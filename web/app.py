"""The application factory: one app per archive, blueprints per area."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from archive import settings
from archive.catalog.database import CatalogError
from archive.catalog.errors import CatalogUnreachable
from archive.errors import ArchiveError
from archive.model import taken_text
from archive.resolve.licensetext import license_name
from archive.store import Archive

from . import api, browse, captions, faces, files, pages, sheets, takeaway
from .alttext import alt_text
from .context import SiteArchive, site
from .hosts import HostCheck

# Scripts only from our own static files; no inline script may run (the JSON-LD
# block is data, which browsers do not execute).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
# Settings the site's Flask config may set, each under its name in capitals (PER_PAGE);
# the table gives their defaults.
CONFIGURABLE = ("max_query_length", "per_page", "search_cache", "search_cache_bytes",
                "transcript_page")


def create_app(archive_dir: str | Path | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Make the site for the archive at `archive_dir`.

    Raises ArchiveError when there is no archive there.
    """
    app = Flask(__name__)
    app.config.from_mapping(ARCHIVE_DIR=str(archive_dir) if archive_dir else None,
                            SEARCH_CACHE_DIR=None, BASE_URL=None, REPLICA_DIR=None,
                            **{name.upper(): settings.value(name) for name in CONFIGURABLE})
    if test_config:
        app.config.update(test_config)
    if not app.config["ARCHIVE_DIR"]:
        raise ArchiveError("create_app needs the archive directory")
    # Fail now, not on the first request, if the archive is not there.
    Archive.open(Path(app.config["ARCHIVE_DIR"]), create=False, readonly=True).close()
    app.extensions["site_archive"] = SiteArchive(Path(app.config["ARCHIVE_DIR"]),
                                                 app.config["SEARCH_CACHE"],
                                                 app.config["SEARCH_CACHE_BYTES"],
                                                 _path(app.config["SEARCH_CACHE_DIR"]),
                                                 app.config["MAX_QUERY_LENGTH"],
                                                 _path(app.config["REPLICA_DIR"]))
    for blueprint in (pages.bp, browse.bp, files.bp, faces.bp, captions.bp, api.bp, sheets.bp,
                      takeaway.bp):
        app.register_blueprint(blueprint)
    if app.config.get("CURATE"):  # serve --curate: the one part of the site that writes
        from .curate import register

        register(app)
    app.teardown_appcontext(_close_catalog)
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 409, 413, 416, 500, 503):
        app.register_error_handler(code, _error_page)
    app.jinja_env.filters["taken"] = taken_text
    app.jinja_env.filters["alt_text"] = alt_text
    app.jinja_env.filters["license_name"] = lambda v: license_name(v) or v
    for damage in (CatalogError, sqlite3.DatabaseError):  # the catalog went bad while serving
        app.register_error_handler(damage, _catalog_unreadable)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    # No redirect for '//' in a path: werkzeug builds its Location from the Host header.
    app.url_map.merge_slashes = False
    app.wsgi_app = HostCheck(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


def _close_catalog(_exc: BaseException | None) -> None:
    archive = g.pop("archive", None)
    if archive is not None:
        site().release(archive)


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _catalog_unreadable(error: Exception) -> Any:
    if isinstance(error, CatalogUnreachable):  # a server down: nothing to repair
        return _error_page(ServiceUnavailable("The archive's catalog server cannot be "
                                              "reached just now; try again in a moment."))
    return _error_page(ServiceUnavailable("The archive's catalog cannot be read; run "
                                          "'event-archive verify' on the server."))


def _error_page(error: Any) -> Any:
    code = getattr(error, "code", 500) or 500
    message = getattr(error, "description", "") or "Something went wrong."
    # Keep what the error says in headers (416: Content-Range, 405: Allow); the body and
    # its type are ours.
    given = error.get_headers() if isinstance(error, HTTPException) else []
    headers = [(k, v) for k, v in given if k.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return {"error": message, "status": code}, code, headers
    # The reason's name too ("Not Found"): a heading of a bare number says little.
    name = getattr(error, "name", "") if isinstance(error, HTTPException) else "Error"
    return render_template("error.html", code=code, name=name, message=message), code, headers
