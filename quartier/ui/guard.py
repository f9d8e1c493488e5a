"""Page heading and page guard: the second line of defence every page script passes through.

``app.py`` only offers the pages the user's role may see and checks the chosen page before running it;
``page_header`` checks again, explicitly, against the page ``app.py`` declared (``session.current_page``):
without a login, below the page's ``min_role``, or when a page script runs outside ``app.py``'s
navigation, the page stops here. The core's ``access.require`` guards every write.

Sits above ``quartier.ui.auth`` and ``quartier.ui.common`` (nothing below imports it).
"""

from __future__ import annotations

import streamlit as st

from quartier.access import Actor
from quartier.ui.auth import ROLE_LABEL, logged_in
from quartier.ui.common import DEMO_NOTICE, city_name, is_demo
from quartier.ui.session import current_page


def guard_page() -> Actor:
    """Stop the page script unless someone is logged in with the ``min_role`` of the page ``app.py`` runs."""
    actor = logged_in()  # re-read from the database: a deactivation or role change applies at once
    if not isinstance(actor, Actor):
        st.error("Bitte zuerst anmelden.", icon=":material/lock:")
        st.markdown("[Zur Anmeldung](/)")
        st.stop()
    spec = current_page()
    if spec is None:  # not run through app.py's navigation: nothing says which role the page needs
        st.error("Diese Seite ist nur über die Navigation von Quartier erreichbar.", icon=":material/block:")
        st.markdown("[Zur Startseite](/)")
        st.stop()
    if not actor.has(spec.min_role):
        st.error(f"Diese Seite ist für die Rolle „{ROLE_LABEL.get(spec.min_role, spec.min_role)}“ und höher "
                 f"freigegeben; Sie sind als „{ROLE_LABEL.get(actor.role, actor.role)}“ angemeldet.",
                 icon=":material/block:")
        st.stop()
    return actor


def page_header(title: str, intro: str | None = None) -> None:
    """Page heading, optional intro and the demo-data notice on every view, after the page guard."""
    guard_page()
    st.title(title)
    if is_demo():
        st.info(DEMO_NOTICE.format(stadt=city_name()), icon=":material/info:")
    if intro:
        st.markdown(intro)
