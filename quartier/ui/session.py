"""Who is using the app and which page runs: the bottom of ``quartier.ui`` (imports no other ui module).

The login gate (``quartier.ui.auth``) stores the logged-in Actor under ``ACTOR_KEY``; ``app.py`` tells
``set_current_page`` which registered page (a ``quartier.ui.pages.PageSpec``) it runs in this script run,
and the page guard (``quartier.ui.guard``) reads both.
"""

from __future__ import annotations

import threading

import streamlit as st

from quartier.access import VIEWER, Actor
from quartier.ui.pages import PageSpec

ACTOR_KEY = "quartier_actor"
LOGIN_KEY = "quartier_login"          # {"art": "lokal"|"oidc", "name": ...}
ANONYMOUS = Actor("anonym", VIEWER, raw_data=False)

_page = threading.local()  # per script run: app.py sets it before the page runs and clears it afterwards


def current_actor() -> Actor:
    """The logged-in Actor; without a login an anonymous viewer who may write nothing."""
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    return ANONYMOUS


def set_current_page(spec: PageSpec | None) -> None:
    """``app.py``: the page ``st.navigation`` runs now (``None`` when the run is over)."""
    _page.spec = spec


def current_page() -> PageSpec | None:
    """The registered page ``app.py`` runs in this script run; ``None`` when a script runs without ``app.py``."""
    return getattr(_page, "spec", None)
