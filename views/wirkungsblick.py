"""Wirkungsblick: a recommendation's linked indicators in its target Sozialräume before/after its start vs. the rest of the city."""

from datetime import date

import pandas as pd
import streamlit as st

from quartier.actions import store
from quartier.ui import actions as cu
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import html_text

page_header(
    "Wirkungsblick",
    "Wie haben sich die Kennzahlen einer Empfehlung in ihren Ziel-Sozialräumen seit dem Start entwickelt – "
    "verglichen mit der übrigen Stadt? Eine Beschreibung, kein Wirkungsnachweis.",
)
actor = current_actor()
df = store.filter_frame(store.visible(cu.catalogue(date.today()), actor))
has_start = df["beginn_ist"].notna() | df["beginn_geplant"].notna()
df = df[has_start & df["indikatoren"].map(len).astype(bool)]
if df.empty:
    st.info("Keine Empfehlung hat bisher einen Start und verknüpfte Kennzahlen.")
    st.stop()
ids = list(df["id"])
titles = dict(zip(df["id"], df["titel"]))
if "wb_id" not in st.session_state and st.query_params.get("id") in ids:
    st.session_state["wb_id"] = st.query_params["id"]
rid = st.selectbox("Empfehlung", ids, key="wb_id", format_func=lambda i: f"{i} · {titles[i]}")
if st.query_params.get("id") != rid:
    st.query_params["id"] = rid
rec = df.set_index("id").loc[rid]
where = ", ".join(rec["sozialraum_namen"]) if rec["ebene"] == "Sozialraum" else "stadtweit"
st.markdown(f"{cu.status_badge(rec['status'])} &nbsp; {html_text(rec['handlungsfeld'])} · {html_text(where)} · "
            f"{html_text(rec['federfuehrung'] or 'Federführung offen')}", unsafe_allow_html=True)
cu.render_effect(rid, actor)
st.caption("Werte aus den aktuellen Lieferungen; Gruppen aus der Summe der Zähler und Nenner ihrer Sozialräume. "
           f"Stand {pd.Timestamp(date.today()):%d.%m.%Y}.")
