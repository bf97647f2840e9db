"""Requests whose Host header names no host are answered 400 before the site sees them.

Werkzeug binds its URL map to the Host header; a label over 63 characters or an empty
one (`a..b`) made it raise while routing, and the error page, which builds links,
raise again: a 500 with two tracebacks for every such request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
MAX_HOST = 253 + 6  # a name's most, and ":65535"


def valid_host(host: str) -> bool:
    """A host name, IPv4 or bracketed IPv6 address, with an optional port."""
    if len(host) > MAX_HOST or _HOST.fullmatch(host) is None:
        return False
    _, colon, port = host.rpartition(":")
    return not colon or "]" in port or int(port) <= 65535


class HostCheck:
    """WSGI middleware: 400 for a Host header that is no host (none at all is fine:
    HTTP/1.0 clients send none, and the server's name is used)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is None or valid_host(host):
            return self.app(environ, start_response)
        body = b"400 Bad Request: the Host header names no host\n"
        start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                           ("Content-Length", str(len(body)))])
        return [body]
