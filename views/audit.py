"""Audit-Log (Administration): who changed what and when; filter and export. Read only."""

from datetime import date, timedelta

import streamlit as st

from quartier import format as fmt
from quartier.access import ADMIN
from quartier.admin import audit
from quartier.tables import to_csv_bytes, to_xlsx_bytes
from quartier.ui.auth import require_role
from quartier.ui.common import data_stamp, get_con
from quartier.ui.guard import page_header

page_header(
    "Audit-Log",
    "Jede Änderung – Importe, Rückzüge, Änderungen am Katalog und an Handlungsempfehlungen, Benutzer, "
    "Einstellungen, Anmeldungen – wird mit Benutzer und Zeitpunkt protokolliert. Das Protokoll kann in der App "
    "nur gelesen, gefiltert und exportiert werden.",
)
actor = require_role(ADMIN, "das Audit-Log")
con = get_con()


@st.cache_data(show_spinner=False, ttl=60)
def _choices(stamp: int):
    return audit.choices(get_con(), actor)


users, actions = _choices(data_stamp())
c1, c2, c3 = st.columns(3)
sel_users = c1.multiselect("Benutzer", users, key="audit_benutzer", placeholder="alle")
sel_actions = c2.multiselect("Aktion", actions, key="audit_aktion", placeholder="alle")
today = date.today()
span = c3.date_input("Zeitraum", value=(today - timedelta(days=365), today), format="DD.MM.YYYY", key="audit_zeitraum")
text = st.text_input("Suche in Objekt und Details", key="audit_suche", max_chars=200)
since, until = (span if isinstance(span, (list, tuple)) and len(span) == 2 else (span[0] if span else None, None))

df = audit.entries(con, actor, users=sel_users or None, actions=sel_actions or None, since=since, until=until, text=text or None)
st.markdown(f"**{fmt.integer(len(df))} Einträge**" + (" (neueste zuerst)" if len(df) else ""))
shown = audit.export_frame(df)
if not shown.empty:
    shown["Zeitpunkt"] = shown["Zeitpunkt"].dt.strftime("%d.%m.%Y %H:%M:%S")
    shown[["Objekt", "Details"]] = shown[["Objekt", "Details"]].fillna("")
st.dataframe(shown.head(2000), hide_index=True, width="stretch")
if len(df) > 2000:
    st.caption("Angezeigt werden die neuesten 2.000 Einträge; der Export enthält alle gefilterten Einträge.")
e1, e2 = st.columns(2)
e1.download_button("Als Excel (.xlsx) herunterladen", lambda: to_xlsx_bytes({"Audit-Log": audit.export_frame(df)}),
                   file_name=f"audit-log-{today:%Y%m%d}.xlsx", icon=":material/download:", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
e2.download_button("Als CSV herunterladen", lambda: to_csv_bytes(audit.export_frame(df)), file_name=f"audit-log-{today:%Y%m%d}.csv",
                   mime="text/csv", icon=":material/download:", on_click="ignore")
