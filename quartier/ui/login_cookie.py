"""The session cookie in the browser (Streamlit and HTTP side of :mod:`quartier.admin.sessions`).

The login runs over Streamlit's websocket, which cannot set cookies. So, after a successful login, the page
posts a one-time ticket to ``/_quartier/sitzung`` (a route of Quartier's ``st.App`` in ``server.py``), which
answers with the signed session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's link
or form sends it), Secure on HTTPS, no expiry date (it ends with the browser; the server ends it after the idle
time). A reload or a second tab sends the cookie with the websocket handshake (``st.context.cookies``), and
the gate resumes the session without asking for the password. ``/_quartier/abmelden`` deletes the cookie.

Both routes accept only same-origin POSTs (``Sec-Fetch-Site``, else ``Origin``). Without ``server.py`` (plain
``streamlit run app.py``) the routes are missing: the login then lasts for the browser tab, as before.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import streamlit as st

from quartier.admin import sessions

COOKIE = sessions.COOKIE_NAME
SET_PATH, FORGET_PATH = "/_quartier/sitzung", "/_quartier/abmelden"
TICKET_KEY = "quartier_cookie_ticket"    # session state: the ticket the page still has to hand over
FORGET_KEY = "quartier_cookie_loeschen"  # session state: the browser's cookie is to be deleted
MAX_BODY = 256


def _base() -> str:
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def cookie_value() -> str | None:
    """The session cookie the browser sent when this tab connected (None without one, or outside a server)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        return None
    return str(value) if value else None


def user_agent() -> str | None:
    try:
        return st.context.headers.get("User-Agent")
    except Exception:  # noqa: BLE001 - no request context
        return None


def _post(path: str, body: str, marker: str) -> None:
    """Send a same-origin POST from the page; afterwards ``<html data-quartier-sitzung=marker>`` (for tests)."""
    url = json.dumps(_base() + path).replace("</", "<\\/")
    payload = json.dumps(body).replace("</", "<\\/")
    st.html(
        "<script>(() => { fetch(" + url + ", {method: 'POST', credentials: 'same-origin', cache: 'no-store',"
        " headers: {'Content-Type': 'text/plain'}, body: " + payload + "})"
        ".then((r) => { document.documentElement.dataset.quartierSitzung = r.ok ? " + json.dumps(marker)
        + " : 'fehler'; }).catch(() => { document.documentElement.dataset.quartierSitzung = 'fehler'; }); })();</script>",
        unsafe_allow_javascript=True, width="content",
    )


def hand_over_pending() -> None:
    """After a login: let the browser fetch its session cookie (once)."""
    ticket = st.session_state.pop(TICKET_KEY, None)
    if ticket:
        _post(SET_PATH, str(ticket), "gesetzt")


def forget_pending() -> None:
    """After a logout or with an ended session: delete the cookie in the browser (once)."""
    if st.session_state.pop(FORGET_KEY, False):
        _post(FORGET_PATH, "", "geloescht")


# ------------------------------------------------------------------------------------- HTTP routes (st.App)

def _same_origin(request) -> bool:
    """A request from Quartier's own pages: the browser says so (``Sec-Fetch-Site``, which no page can set; a
    proxy may rewrite ``Host``), or, from a browser without it, the ``Origin`` matches the ``Host``."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _body(request) -> str:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return ""
    return data.decode("ascii", "replace").strip()


def _cookie_args(request) -> dict:
    return {"path": _base() or "/", "httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


async def _set_cookie(request):
    from starlette.responses import Response

    if not _same_origin(request):
        return Response(status_code=403)
    value = sessions.TICKETS.redeem(await _body(request))
    if value is None:
        return Response(status_code=400)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE, value, **_cookie_args(request))
    return response


async def _delete_cookie(request):
    from starlette.responses import Response

    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, **_cookie_args(request))
    return response


def routes() -> list:
    """The routes ``server.py`` adds to Streamlit's ASGI app."""
    from starlette.routing import Route

    base = _base()
    return [Route(base + SET_PATH, _set_cookie, methods=["POST"]),
            Route(base + FORGET_PATH, _delete_cookie, methods=["POST"])]
