"""Handlungsempfehlungen: filterable catalogue (table/cards), detail with history, indicators, Wirkungsblick; editing for staff."""

from datetime import date

import streamlit as st

from quartier.access import EDITOR
from quartier.actions import model, store
from quartier.ui import actions as cu
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor

page_header(
    "Handlungsempfehlungen",
    "Die Empfehlungen aus den Workshops und der Beteiligung von Kindern, Jugendlichen und Familien, mit ihrem "
    "Umsetzungsstand. Filter stehen in der Adresszeile und lassen sich als Link weitergeben.",
)
cu.show_flash()
actor = current_actor()
can_edit = actor.has(EDITOR)
today = date.today()
full = cu.catalogue(today)
if full.empty:
    st.info("Noch keine Handlungsempfehlungen erfasst." + (" Unten lassen sich welche anlegen oder aus Excel laden."
                                                           if can_edit else ""))
areas, _ = cu.lookups()
visible = store.visible(full, actor)
filters = cu.filter_widgets(visible, areas, can_edit)
view = store.filter_frame(visible, **filters)

c1, c2 = st.columns([3, 1])
c1.markdown(f"**{len(view)} von {len(visible[~visible['ausgeschieden'].astype(bool)])} Empfehlungen** · "
            f"{int(view['ueberfaellig'].sum())} überfällig · {int(view['ohne_aktualisierung'].sum())} ohne Aktualisierung "
            f"seit {store.stale_months(cu.get_con())} Monaten (Stichtag {today:%d.%m.%Y})")
ansicht = c2.segmented_control("Ansicht", ["Tabelle", "Karten"], key="emp_ansicht", default="Tabelle")
if view.empty:
    st.write("Keine Empfehlung passt zu den Filtern.")
elif ansicht == "Karten":
    cu.render_cards(view)
else:
    cu.render_table(view)

options = [""] + list(visible["id"])
titles = dict(zip(visible["id"], visible["titel"]))
sel = st.selectbox("Empfehlung öffnen", options, key="emp_id",
                   format_func=lambda i: "– bitte wählen –" if not i else f"{i} · {titles.get(i, '')}")
cu.write_url()
if sel:
    cu.render_detail(visible.set_index("id").loc[sel].rename(sel).to_frame().T.assign(id=sel).iloc[0], actor,
                     can_edit, today)
if can_edit:
    cu.render_staff_tools(view, full, actor)

with st.expander("Was bedeuten die Status?"):
    st.markdown("\n".join(f"- {cu.status_badge(s.name)} {s.definition}" for s in model.STATUSES), unsafe_allow_html=True)
    st.markdown("\n".join(f"- **{k}:** {v}" for k, v in model.FLAG_DEFINITIONS.items()))
