"""Quartier – Streamlit entry point: page config, login gate and the navigation the user's role may see."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from quartier.ui.a11y import fix_nav_semantics
from quartier.ui.addresses import unknown_address_pages
from quartier.ui.auth import allowed, gate, sidebar_account
from quartier.ui.common import begin_run, city_name, end_run
from quartier.ui.pages import PAGES
from quartier.ui.session import set_current_page

# A local icon: a material icon here would make the browser fetch it from the internet.
ICON = Path(__file__).resolve().parent / "data" / "quartier-icon.png"
st.set_page_config(page_title="Quartier", page_icon=str(ICON), layout="wide")

begin_run()  # per-run lookups (connection, data stamp, settings) once per run
try:
    actor = gate()  # shows the login page and stops while nobody is logged in

    visible = [spec for spec in PAGES if allowed(actor, spec.min_role)]
    sections: dict[str, list] = {}
    spec_of = {}
    for i, spec in enumerate(visible):
        page = st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=(i == 0))
        sections.setdefault(spec.section, []).append(page)
        spec_of[id(page)] = spec
    hidden = unknown_address_pages({spec.url_path for spec in visible})  # a German answer, no English dialog
    if hidden:
        sections.setdefault(visible[0].section, []).extend(hidden)

    nav = st.navigation(sections, expanded=True)  # every page in view: Streamlit folds lists over 10 items
    with st.sidebar:
        st.markdown(f"Quartier · {city_name()}")  # not st.caption: too little contrast on the sidebar colour
    sidebar_account(actor)
    with st.sidebar:
        fix_nav_semantics()
    spec = spec_of.get(id(nav))
    if any(nav is page for page in hidden):  # an unknown address or a page above the role
        nav.run()
        st.stop()
    if spec is None or not allowed(actor, spec.min_role):  # second line of defence; the core checks every write
        st.error("Diese Seite ist für Ihre Rolle nicht freigegeben.")
        st.stop()
    set_current_page(spec)  # the page guard in page_header checks against this page
    nav.run()
finally:
    set_current_page(None)
    end_run()
