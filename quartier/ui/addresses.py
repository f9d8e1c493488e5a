"""Addresses that are no page: a German answer instead of Streamlit's English "Page not found" dialog.

``st.navigation`` sends its own dialog when the browser asks for an address it does not know (a typo, an old
bookmark, a page of a higher role). Before the navigation is built we look at the address the browser asked
for; when no page of the list has it, a hidden page under exactly that address explains in German what
happened and where to go. Pages of a role above the user's get the same hidden page with the role notice.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.util import calc_hash

from quartier.ui.pages import PAGES

_SEEN_KEY = "_quartier_unknown_addresses"  # unknown addresses of this session: reruns name them by hash only


def requested_address() -> str:
    """The page address (url path without slashes) the browser asked for, "" for the start page or unknown."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return ""
    try:  # Streamlit keeps the requested page name on the pages manager until the navigation resolves it
        name = ctx.pages_manager.intended_page_name or ""
        wanted_hash = ctx.pages_manager.intended_page_script_hash or ""
    except AttributeError:  # pragma: no cover - another Streamlit version: its own dialog stays
        return ""
    if wanted_hash:  # a rerun (e.g. after the login) names the page by hash: a page of Quartier or an unknown one
        names = [spec.url_path for spec in PAGES] + list(st.session_state.get(_SEEN_KEY, ()))
        return next((n for n in names if calc_hash(n) == wanted_hash), "")
    return name.strip().strip("/")


def _not_found() -> None:
    st.title("Seite nicht gefunden")
    st.warning("Unter dieser Adresse gibt es in Quartier keine Seite. Vielleicht ist der Link veraltet oder "
               "enthält einen Tippfehler.", icon=":material/link_off:")
    st.page_link(PAGES[0].file, label=f"Zur Seite „{PAGES[0].title}“", icon=":material/home:")


def _role_page(title: str) -> Callable[[], None]:
    def page() -> None:
        st.title("Keine Berechtigung")
        st.warning(f"Die Seite „{title}“ ist für Ihre Rolle nicht freigegeben. Bitte wenden Sie sich an die "
                   "Administration, wenn Sie sie benötigen.", icon=":material/block:")
        st.page_link(PAGES[0].file, label=f"Zur Seite „{PAGES[0].title}“", icon=":material/home:")
    return page


def unknown_address_pages(known: set[str], content: Callable[[], None] | None = None,
                          title: str = "Seite nicht gefunden") -> list[st.Page]:
    """Hidden pages for a requested address that ``known`` lacks (empty when the address is known).

    ``content``: what the page shows (default: the explanation; the login gate passes its login form).
    """
    name = requested_address()
    if not name or name in known or "/" in name:
        return []  # nested paths cannot be pages; Streamlit falls back to the start page for them
    spec = next((s for s in PAGES if s.url_path == name), None)
    seen = st.session_state.setdefault(_SEEN_KEY, [])
    if spec is None and name not in seen:
        seen.append(name)
    if content is None:
        content = _role_page(spec.title) if spec is not None else _not_found
    return [st.Page(content, title=title, url_path=name, visibility="hidden")]
