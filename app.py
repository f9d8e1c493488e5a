"""Quartier – Streamlit entry point: page config and navigation."""

from __future__ import annotations

import streamlit as st

from quartier.ui.common import city_name
from quartier.ui.pages import PAGES

st.set_page_config(page_title="Quartier", page_icon=":material/location_city:", layout="wide")

sections: dict[str, list] = {}
for i, spec in enumerate(PAGES):
    sections.setdefault(spec.section, []).append(
        st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=(i == 0))
    )

nav = st.navigation(sections)
with st.sidebar:
    st.caption(f"Quartier · {city_name()}")
nav.run()
