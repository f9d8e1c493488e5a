"""Streamlit glue for "Vergleichbare Sozialräume" on the Steckbrief: similar profiles, why, and their
Handlungsempfehlungen (a partner area where a measure already runs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import Actor
from quartier.actions import store
from quartier.alerts import similar
from quartier.ui.common import data_stamp, get_con, view_of
from quartier.values import indicators

TITLE = "Vergleichbare Sozialräume"


@st.cache_resource(show_spinner=False, max_entries=4)
def _profiles(stamp: int, looking: Actor) -> similar.Profiles | None:
    """All areas' profiles of the latest year, loaded once per data stamp and viewer kind (read-only)."""
    con = get_con()
    ids = similar.default_indicators(con)
    year = similar.latest_year(con, ids) if ids else None
    if year is None:
        return None
    try:
        return similar.profiles(con, year, ids, actor=looking)
    except similar.SimilarError:
        return None


def _similar(stamp: int, looking: Actor, sozialraum_id: str, k: int) -> dict | None:
    prof = _profiles(stamp, looking)
    if prof is None:
        return None
    try:
        return similar.similar_in(prof, sozialraum_id, k)
    except similar.SimilarError:
        return None


def table(res: dict, labels: dict[str, str], actor: Actor) -> pd.DataFrame:
    con = get_con()
    rows = []
    for r in res["aehnliche"]:
        recs = store.of_sozialraum(con, r["id"], actor=actor)
        rows.append({
            "Sozialraum": f"/sozialraeume?sr={r['id']}#{r['name']} ({r['id']})",
            "Abstand": fmt.number(r["distanz"], 2),
            "ähnlich, weil …": "ähnliche Werte bei " + ", ".join(labels.get(i, i) for i in r["naechste_indikatoren"]),
            "Handlungsempfehlungen": "; ".join(f"{i}: {t} ({s})" for i, t, s in zip(recs["id"], recs["titel"], recs["status"]))
                                     or fmt.NOTHING,
        })
    return pd.DataFrame(rows)


def block(sozialraum_id: str, actor: Actor, k: int = 5) -> None:
    st.markdown(f"#### {TITLE}")
    res = _similar(data_stamp(), view_of(actor), sozialraum_id, k)
    if not res or not res["aehnliche"]:
        st.write("Für diesen Sozialraum lassen sich keine vergleichbaren Sozialräume bestimmen (keine Werte).")
        return
    cat = indicators.catalogue(get_con())
    labels = {str(i): str(k or n) for i, k, n in zip(cat["id"], cat["kurzname"], cat["name"])}
    st.caption(f"Die {len(res['aehnliche'])} Sozialräume mit dem ähnlichsten Profil {res['jahr']} über "
               f"{', '.join(labels.get(i, i) for i in res['indikatoren'])}: je Kennzahl z-standardisiert über alle "
               "Sozialräume, Abstand = euklidische Distanz über die gemeinsamen Kennzahlen (0 = gleiches Profil). "
               "Nützlich, um Partner zu finden, in denen eine Maßnahme schon läuft.")
    st.dataframe(table(res, labels, actor), hide_index=True, width="stretch", column_config={
        "Sozialraum": st.column_config.LinkColumn("Sozialraum", display_text=r"#(.*)$"),
        "Handlungsempfehlungen": st.column_config.TextColumn("Handlungsempfehlungen", width="large"),
    })
