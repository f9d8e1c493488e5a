"""The cookie routes of server.py, called as ASGI (no browser): a one-time ticket becomes the HttpOnly,
SameSite=Strict session cookie; other sites, reused or made-up tickets get no cookie."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from starlette.routing import Router

from quartier.admin import sessions
from quartier.ui import login_cookie


def call(path: str, body: bytes = b"", headers: dict | None = None, scheme: str = "http", method: str = "POST"):
    """One request through the routes; returns (status, headers as a list of (name, value))."""
    router = Router(routes=login_cookie.routes())
    hdrs = {"host": "quartier.example:8501", **(headers or {})}
    scope = {"type": "http", "http_version": "1.1", "method": method, "scheme": scheme, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in hdrs.items()],
             "server": ("quartier.example", 8501), "client": ("127.0.0.1", 1234)}
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    out: list[dict] = []

    async def receive():
        return sent.pop(0) if sent else {"type": "http.disconnect"}

    async def send(message):
        out.append(message)

    # in a thread of its own: a browser test earlier in this worker may leave an event loop running here
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, router(scope, receive, send)).result()
    start = next(m for m in out if m["type"] == "http.response.start")
    return start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]]


def cookies(headers) -> list[str]:
    return [v for k, v in headers if k == "set-cookie"]


SAME = {"sec-fetch-site": "same-origin", "origin": "http://quartier.example:8501"}


def test_a_ticket_becomes_the_session_cookie_once():
    ticket = sessions.TICKETS.issue("wert.signatur")
    status, headers = call(login_cookie.SET_PATH, ticket.encode(), SAME)
    assert status == 204
    (cookie,) = cookies(headers)
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert parts[0] == "quartier_sitzung=wert.signatur"
    assert "httponly" in parts and "samesite=strict" in parts and "path=/" in parts
    assert not any(p.startswith(("expires", "max-age")) for p in parts)   # a session cookie
    assert "secure" not in parts                                          # plain http (local)
    assert ("cache-control", "no-store") in headers
    status, headers = call(login_cookie.SET_PATH, ticket.encode(), SAME)  # the same ticket again
    assert status == 400 and cookies(headers) == []


def test_https_sets_secure():
    ticket = sessions.TICKETS.issue("wert.signatur")
    status, headers = call(login_cookie.SET_PATH, ticket.encode(), SAME, scheme="https")
    assert status == 204 and "secure" in [p.strip().lower() for p in cookies(headers)[0].split(";")]


@pytest.mark.parametrize("headers", [
    {"sec-fetch-site": "cross-site", "origin": "https://boese.example"},
    {"sec-fetch-site": "same-site", "origin": "http://andere.quartier.example:8501"},
    {"origin": "https://boese.example"},                                   # a browser without Sec-Fetch-Site
])
def test_other_sites_get_no_cookie(headers):
    ticket = sessions.TICKETS.issue("wert.signatur")
    status, out = call(login_cookie.SET_PATH, ticket.encode(), headers)
    assert status == 403 and cookies(out) == []
    status, out = call(login_cookie.FORGET_PATH, b"", headers)
    assert status == 403 and cookies(out) == []


def test_made_up_or_oversized_tickets_and_get_are_refused():
    assert call(login_cookie.SET_PATH, b"ausgedacht", SAME)[0] == 400
    ticket = sessions.TICKETS.issue("wert.signatur")
    assert call(login_cookie.SET_PATH, ticket.encode() + b" " * 1000, SAME)[0] == 400
    assert call(login_cookie.SET_PATH, b"", SAME, method="GET")[0] == 405


def test_logout_route_deletes_the_cookie():
    status, headers = call(login_cookie.FORGET_PATH, b"", SAME)
    (cookie,) = cookies(headers)
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert status == 204 and parts[0] in ('quartier_sitzung=""', "quartier_sitzung=")
    assert "max-age=0" in parts and "httponly" in parts and "samesite=strict" in parts
