"""Staff section of the page "Angebote": upload an offers list, preview, take over (all or nothing)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from quartier.errors import QuartierError
from quartier.offers import importer, template
from quartier.ui.common import get_con


def section(actor) -> None:
    st.subheader("Angebote pflegen (Bearbeitung)")
    st.download_button("Vorlage (.xlsx) mit Auswahllisten", lambda: template.write_template(get_con()),
                       file_name="angebote_vorlage.xlsx", on_click="ignore", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    up = st.file_uploader("Angebotsliste (.xlsx, .xls, .ods, .csv oder .geojson) – die vollständige Liste",
                          type=["xlsx", "xls", "ods", "csv", "geojson"], key="ang_upload")
    if up is None:
        return
    try:
        rep = importer.analyse(get_con(), up.getvalue(), up.name)
    except QuartierError as exc:
        st.error(str(exc))
        return
    r = rep.report("dry-run")["rows"]
    st.markdown(f"**Vorschau:** {r['new']} neu, {r['changed']} geändert, {r['unchanged']} unverändert, "
                f"{r['closed']} werden geschlossen.")
    if rep.errors:
        st.error(f"{len(rep.errors)} Fehler – es wird nichts übernommen, bis sie behoben sind.")
        st.dataframe(pd.DataFrame(rep.errors), hide_index=True, width="stretch")
    if rep.warnings:
        st.warning("\n".join(f"- {w['message']}" for w in rep.warnings[:20]))
    if not rep.errors and st.button("Übernehmen", type="primary", key="ang_uebernehmen_import"):
        try:
            out = importer.commit(get_con(), rep, actor=actor)
        except QuartierError as exc:
            st.error(str(exc))
        else:
            st.success(f"Übernommen: {out['rows']['new']} neu, {out['rows']['changed']} geändert, "
                       f"{out['rows']['closed']} geschlossen.")
