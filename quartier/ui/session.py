"""Who is using the app: the Actor of the logged-in user (set by the login gate in ``quartier.ui.auth``)."""

from __future__ import annotations

import streamlit as st

from quartier.access import VIEWER, Actor

ACTOR_KEY = "quartier_actor"
ANONYMOUS = Actor("anonym", VIEWER, raw_data=False)


def current_actor() -> Actor:
    """The logged-in Actor; without a login an anonymous viewer who may write nothing."""
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    return ANONYMOUS


def guard_page(page_file: str) -> Actor:
    """Stop a page script unless someone is logged in with the page's ``min_role``.

    ``app.py`` only offers allowed pages, but Streamlit runs page scripts directly in some cases (a
    ``pages/`` folder puts the first run after a server start into the old multipage mode), so every
    page checks again through ``page_header``. The core's ``access.require`` guards every write.
    """
    from pathlib import Path

    from quartier.ui.auth import logged_in
    from quartier.ui.pages import PAGES

    actor = logged_in()  # re-read from the database: a deactivation or role change applies at once
    root = Path(__file__).resolve().parents[2]
    here = Path(page_file).resolve()
    spec = next((p for p in PAGES if (root / p.file).resolve() == here), None)
    if not isinstance(actor, Actor):
        st.error("Bitte zuerst anmelden.", icon=":material/lock:")
        st.markdown("[Zur Anmeldung](/)")
        st.stop()
    if spec is not None and not actor.has(spec.min_role):
        st.error(f"Diese Seite ist für die Rolle „{spec.min_role}“ und höher freigegeben; Sie sind als "
                 f"„{actor.role}“ angemeldet.", icon=":material/block:")
        st.stop()
    return actor
