"""Streamlit glue for "Vergleichbare Sozialräume" on the Steckbrief: similar profiles, why, and their
Handlungsempfehlungen (a partner area where a measure already runs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import Actor
from quartier.actions import store
from quartier.alerts import similar
from quartier.areas import layers
from quartier.ui.common import data_stamp, get_con, view_of
from quartier.ui.karte import payload
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


def similar_ids(sozialraum_id: str, actor: Actor, k: int = 5) -> list[str]:
    """The ids of the k most similar areas (most similar first); empty when none can be determined."""
    res = _similar(data_stamp(), view_of(actor), sozialraum_id, k)
    return [r["id"] for r in res["aehnliche"]] if res else []


SIMILAR_TOOLTIP = "<b>{name}</b> ({id})<br/>{rolle}"


def map_props(payload, sozialraum_id: str, res: dict) -> dict[str, dict]:
    """Feature properties of the similar-areas map: the chosen area orange, the similar ones light blue
    (and outlined), the others pale; labels only for these (numbered by similarity)."""
    rank = {r["id"]: (n, r) for n, r in enumerate(res["aehnliche"], start=1)}
    props = {}
    for i in payload.ids:
        name = payload.names[i]
        if i == sozialraum_id:
            props[i] = {"id": i, "name": name, "fill": [230, 97, 0, 235], "label": name, "label_prio": 1e9,
                        "rolle": "gewählter Sozialraum"}
        elif i in rank:
            n, r = rank[i]
            props[i] = {"id": i, "name": name, "fill": [146, 197, 222, 235], "label": f"{n}. {name}",
                        "label_prio": 1e6 - n,
                        "rolle": f"vergleichbar: Nr. {n} (Abstand {fmt.number(r['distanz'], 2)})"}
        else:
            props[i] = {"id": i, "name": name, "fill": [242, 242, 242, 220], "label": "", "rolle": "nicht unter den ähnlichsten"}
    return props


@st.cache_resource(show_spinner=False, max_entries=16)
def _map(stamp: int, looking: Actor, sozialraum_id: str, k: int):
    res = _similar(stamp, looking, sozialraum_id, k)
    if not res or not res["aehnliche"]:
        return None
    pl = payload()
    props = map_props(pl, sozialraum_id, res)
    ids = [sozialraum_id] + [r["id"] for r in res["aehnliche"]]
    b = [pl.area_bounds[i] for i in ids if i in pl.area_bounds]
    bounds = (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b)) if b else pl.bounds
    return layers.build_deck(pl, props, selected=sozialraum_id, similar=ids[1:], tooltip_html=SIMILAR_TOOLTIP,
                             view=layers.view_for_bounds(bounds, 900, 420, padding=0.1)).freeze()


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
    deck = _map(data_stamp(), view_of(actor), sozialraum_id, k)
    if deck is not None:
        names = ", ".join(f"{n}. {r['name']}" for n, r in enumerate(res["aehnliche"], start=1))
        st.pydeck_chart(deck, height=420, key=f"aehnliche_karte_{sozialraum_id}",
                        alt=f"Karte: Lage der vergleichbaren Sozialräume ({names}); die Tabelle darüber nennt sie.")
        st.caption("Orange: dieser Sozialraum (schwarz umrandet) · hellblau mit blauer Umrandung: die vergleichbaren, "
                   f"nummeriert nach Ähnlichkeit ({names}). Dieselben Angaben stehen in der Tabelle darüber.")
