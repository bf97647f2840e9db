"""Who may use the curator's desk: one-time login links, a signed session, a CSRF token.

`serve --curate` prints a login URL carrying a random token, as notebook servers do.
Visiting it spends the token and starts a session: Flask's cookie, signed with a key
made for this run (so a restart logs everyone out), HttpOnly and SameSite=Strict. Each
session has a random CSRF token that every curator form carries and every POST must
match. Tokens are files in a private folder, named by the token's SHA-256: spending
one is removing its file, which succeeds once, whichever worker process (serve forks
one per core) or thread gets there first.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, request, session

TOKEN_BYTES = 32  # secrets.token_urlsafe: 43 characters
LONGEST_TOKEN = 128  # past this, a token is not ours: refused without hashing it


class LoginTokens:
    """The one-time login tokens of one run of the site, kept in a private folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, token: str) -> Path:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / digest

    def issue(self) -> str:
        """A new token, good for one login."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        fd = os.open(self._file(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        return token

    def spend(self, token: str) -> bool:
        """Whether `token` was issued and not spent yet; spends it. The file is named by
        the token's hash: a guess is compared with nothing, so its time tells nothing."""
        if not token or len(token) > LONGEST_TOKEN:
            return False
        try:
            os.unlink(self._file(token))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Desk:
    """What `serve --curate` passes to every worker: the config keys, and the first login
    token (to print)."""

    config: dict[str, object]
    token: str


@contextmanager
def curator_desk() -> Iterator[Desk]:
    """The keys of one run of the desk: a signing key, a private folder of login tokens
    (removed when the block ends) and a first token."""
    folder = Path(tempfile.mkdtemp(prefix="event-archive-curate-"))  # mode 0700
    try:
        token = LoginTokens(folder).issue()
        yield Desk({"CURATE": True, "CURATE_TOKENS": str(folder),
                    "SECRET_KEY": secrets.token_hex(32)}, token)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tokens() -> LoginTokens:
    return LoginTokens(Path(current_app.config["CURATE_TOKENS"]))


def log_in(token: str) -> bool:
    """Start a curator's session when `token` is good (and spend it)."""
    if not tokens().spend(token):
        return False
    session.clear()
    session.permanent = True  # lasts PERMANENT_SESSION_LIFETIME, not the browser's whim
    # A name for the change log, so that two curators' changes can be told apart.
    session["curator"] = f"curator-{secrets.token_hex(3)}"
    session["csrf"] = secrets.token_urlsafe(TOKEN_BYTES)
    return True


def curator() -> str | None:
    """The name of the logged-in curator of this request, or None."""
    name = session.get("curator")
    return name if isinstance(name, str) and isinstance(session.get("csrf"), str) else None


def csrf_token() -> str:
    return str(session.get("csrf", ""))


def check_csrf() -> None:
    """Abort with 400 unless the form's CSRF token is this session's (compared in
    constant time). A form body that is not UTF-8 reads as an empty form: said so."""
    given = request.form.get("csrf", "")
    if not given and not request.form and (request.content_length or 0) > 0:
        abort(400, description="The form could not be read (is it UTF-8 text?); nothing "
              "was written.")
    expected = csrf_token()
    if not expected or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                               expected.encode()):
        abort(400, description="The form's security token is missing or wrong (a form "
              "from another site, or from before you logged in again); nothing was "
              "written. Load the page again.")


def log_out() -> None:
    session.clear()
