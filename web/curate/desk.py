"""The desk itself: logging in and out, the "to do" page built from the report (with a
form adding a camera the event file lacks), the log of changes, and a search that
finds withheld items too."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from archive import settings
from archive.catalog import curator_changes, event_folders, withheld_ids
from archive.errors import ArchiveError
from archive.ingest.curation import EventFile, add_camera_entry, read_event_file
from archive.outputs.facelist import face_clusters
from archive.outputs.itemjson import camera_label
from archive.outputs.report import build_report, unmatched_line
from indexer.search import IndexDamaged, IndexMissing, Page, QueryError

from ..context import site
from ..searching import int_arg
from .access import curator, log_in, log_out, tokens
from .blueprint import bp
from .forms import camera_values
from .reading import curator_archive
from .writes import REFUSED, Refusal, refusal, write

# The report's lists the desk shows, with their headings; each row links its item.
TODO = (("without_creator", "Items without a creator"),
        ("third_party", "Third-party rights: the file's own metadata names someone else"),
        ("ambiguous", "Items between parallel sessions (no camera room decides)"))
SEARCH_RESULTS = 50


@bp.get("/login")
def login() -> Any:
    if log_in(request.args.get("token", "")):
        return redirect(url_for("curate.desk"), code=303)  # the token leaves the address bar
    return render_template("curate/login.html", reason="spent"), 403


@bp.get("/help")
def login_help() -> str:
    return render_template("curate/login.html", reason=None)


@bp.post("/logout")
def logout() -> Any:
    log_out()
    return redirect(url_for("curate.login_help"), code=303)


@bp.post("/invite")
def invite() -> str:
    """A new one-time login link, for another curator (or another browser)."""
    base = current_app.config.get("BASE_URL") or request.host_url
    link = f"{base.rstrip('/')}{url_for('curate.login', token=tokens().issue())}"
    return render_template("curate/invite.html", link=link)


def _cameras(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's unknown cameras, each with its event's file version and rooms (the
    form adding it carries them)."""
    files: dict[str, EventFile | str] = {}
    rows = []
    for cam in report["unknown_cameras"][:settings.value("curate_list")]:
        if cam["event"] not in files:
            try:
                files[cam["event"]] = read_event_file(curator_archive().catalog, cam["event"])
            except ArchiveError as exc:
                files[cam["event"]] = str(exc)
        found = files[cam["event"]]
        rows.append({**cam, "label": camera_label(cam),
                     "key": f"{cam['event']}|{cam['make']}|{cam['model']}|{cam['serial']}",
                     "version": found.version if isinstance(found, EventFile) else None,
                     "problem": found if isinstance(found, str) else None,
                     "rooms": _rooms(found) if isinstance(found, EventFile) else []})
    return rows


def _rooms(found: EventFile) -> list[str]:
    event = found.event
    return sorted({r for r in (*(s.room for s in event.sessions),
                               *(c.room for c in event.cameras)) if r})


def _shortened(rows: list[dict[str, Any]], folders: dict[str, str]) -> list[dict[str, Any]]:
    """Report rows with `path` as its event and the path in its folder ('curate-2019:
    photos/a.jpg'): the server's folders say nothing to a curator and take a line."""
    def short(path: str) -> str:
        for event_id, folder in folders.items():
            if path.startswith(folder.rstrip("/") + "/"):
                return f"{event_id}: {path[len(folder.rstrip('/')) + 1:]}"
        return path

    return [{**row, "path": short(row["path"])} for row in rows]


def _why(key: str, row: dict[str, Any]) -> str:
    """What makes a row of the report's list `key` a thing to do."""
    if key == "third_party":
        return "; ".join(f"{n['field']} ({n['source']}) says {n['value']!r}"
                         for n in row["names"])
    if key == "ambiguous":
        return "could be " + " or ".join(json.loads(row["sessions"]))
    return ""


def _todo(status: int = 200, refused: Refusal | None = None,
          camera: dict[str, str] | None = None) -> tuple[str, int]:
    catalog = curator_archive().catalog
    report = build_report(catalog)
    folders = event_folders(catalog)
    waiting = [c for c in face_clusters(catalog) if c["person"] is None]
    lists = [(key, title, _shortened(report[key], folders)) for key, title in TODO]
    return render_template(
        "curate/todo.html", report=report, lists=lists, waiting=waiting, why=_why,
        withheld=withheld_ids(catalog),
        cameras=_cameras(report), most=settings.value("curate_list"), refused=refused,
        camera=camera or {}, unmatched=[unmatched_line(r) for r in report["unmatched_media"]]
    ), status


@bp.get("/")
def desk() -> tuple[str, int]:
    return _todo()


@bp.post("/cameras")
def add_camera() -> Any:
    submitted = request.form.to_dict()
    event_id = submitted.get("event", "")
    try:
        fields = camera_values(submitted)
        name = curator() or "curator"
        edit, index_problem = write(lambda catalog: add_camera_entry(
            catalog, event_id, fields, submitted.get("version", ""), name))
    except REFUSED as exc:
        found = refusal(exc)
        return _todo(found.status, found, {**submitted, "key": submitted.get("key", "")})
    said = (f"Added the camera {camera_label(fields)} to the event file of {event_id}; "
            f"{edit.resolved} item(s) resolved again.")
    flash(f"{said} But {index_problem}" if index_problem else said)
    return redirect(url_for("curate.desk", _anchor="cameras"), code=303)


@bp.get("/changes")
def changes() -> str:
    before = request.args.get("before")
    limit = settings.value("curate_list")
    found = curator_changes(curator_archive().catalog, limit,
                            int_arg("before", 0, 1, 2**62) if before else None)
    older = found[-1].id if len(found) == limit else None
    return render_template("curate/changes.html", changes=found, older=older)


@bp.get("/search")
def search() -> tuple[str, int]:
    """Items by the site's query language, withheld ones included (marked)."""
    query = request.args.get("q", "").strip()
    if not query:
        return render_template("curate/search.html", query="", result=None, error=None), 200
    if len(query) > current_app.config["MAX_QUERY_LENGTH"]:
        return render_template("curate/search.html", query=query[:200], result=None,
                               error="The query is too long."), 400
    try:
        result = site().index().search(query, Page(1, SEARCH_RESULTS), facets=False,
                                       withheld=True)
    except QueryError as exc:
        return render_template("curate/search.html", query=query, result=None,
                               error=f"Bad query: {exc}"), 400
    except (IndexMissing, IndexDamaged) as exc:
        return render_template("curate/search.html", query=query, result=None,
                               error=f"The search index cannot be used ({exc}); run "
                               "'event-archive verify' on the server."), 503
    return render_template("curate/search.html", query=query, result=result, error=None), 200

