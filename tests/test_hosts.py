"""The Host header: hosts pass, anything else is a 400 before the site routes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.hosts import HostCheck, valid_host


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "archive.example.org",
                                  "archive.example.org.", "[::1]:8000", "xn--bcher-kva.example",
                                  "a" * 63 + ".example", "my_host:80"])
def test_hosts_pass(host: str) -> None:
    assert valid_host(host)


@pytest.mark.parametrize("host", ["a" * 64, "a..b", "..", ".", "", "ex ample.org",
                                  "example.org:port", "bücher.example", "a/b", "-", "[::1",
                                  ("a." * 130) + "org", "host:123456", "host:99999"])
def test_what_names_no_host_is_refused(host: str) -> None:
    assert not valid_host(host)


def _through(host: str | None) -> tuple[str, bool]:
    reached = []

    def site(environ: dict, start_response: object) -> list[bytes]:
        reached.append(environ.get("HTTP_HOST"))
        start_response("200 OK", [])
        return [b"ok"]

    statuses = []
    environ = {} if host is None else {"HTTP_HOST": host}
    HostCheck(site)(environ, lambda status, headers: statuses.append(status))
    return statuses[0], bool(reached)


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_every_host_header_is_passed_or_refused_never_raised(host: str | None) -> None:
    status, reached = _through(host)
    assert reached == (host is None or valid_host(host))
    assert status == ("200 OK" if reached else "400 Bad Request")
