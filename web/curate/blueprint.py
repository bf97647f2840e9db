"""The curator's desk blueprint: registered only by `serve --curate`, every route of it
behind a curator's session, every POST behind the session's CSRF token."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from .access import check_csrf, curator

bp = Blueprint("curate", __name__, url_prefix="/curate")

# The pages that explain how to log in, and the login itself: open to anyone.
OPEN = frozenset({"curate.login", "curate.login_help"})


@bp.before_request
def _guard() -> tuple[str, int] | None:
    if request.endpoint in OPEN:
        return None
    if curator() is None:
        return render_template("curate/login.html", reason="none"), 403
    if request.method == "POST":
        check_csrf()
    return None


@bp.after_request
def _never_stored(response: Response) -> Response:
    # Pages with CSRF tokens and withheld items: no copy in a cache or the history.
    response.headers["Cache-Control"] = "no-store"
    return response
