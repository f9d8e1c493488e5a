"""Gebietsstände: die Versionen der Gebietsgliederung, was sich geändert hat, und der Schlüssel mit seinen Anteilen."""

import json

import pandas as pd
import pydeck as pdk
import streamlit as st

from quartier import format as fmt
from quartier.areas import geometry as geo
from quartier.areas import versions
from quartier.tables import to_csv_bytes
from quartier.ui.common import data_stamp, get_con
from quartier.ui.guard import page_header

COLORS = {"unverändert": [200, 200, 200, 120], "geteilt": [31, 119, 180, 170], "zusammengelegt": [214, 39, 40, 170],
          "verschoben": [255, 127, 14, 170], "neu": [44, 160, 44, 170]}
BASIS = {"flaeche": "Flächenanteile", "einwohner": "Überschneidung, nach Einwohnern gewichtet",
         "einwohnerpunkte": "Einwohner-Punkte", "einwohnerraster": "Einwohner-Raster", "amtlich": "amtlicher Schlüssel"}


@st.cache_data(show_spinner=False)
def _versions(stamp: int) -> list[dict]:
    return versions.versions_json(get_con())


@st.cache_data(show_spinner=False)
def _changes(stamp: int, von: int, nach: int) -> pd.DataFrame:
    return versions.changes(get_con(), von, nach)


@st.cache_data(show_spinner=False)
def _key(stamp: int, von: int, nach: int) -> pd.DataFrame:
    return versions.key_table(get_con(), von, nach)


@st.cache_data(show_spinner=False)
def _areas(stamp: int, version: int) -> pd.DataFrame:
    return versions.version_areas(get_con(), version)


page_header("Gebietsstände", "Jede Gebietsgliederung ist ein datierter Gebietsstand. Werte, die in einem früheren "
            "Gebietsstand geliefert wurden, bleiben unverändert gespeichert und werden über einen Schlüssel auf die "
            "heutigen Sozialräume umgerechnet: Anzahlen, Zähler und Nenner nach ihren Anteilen, Quoten daraus neu "
            "berechnet. Ein amtlicher Schlüssel der Stadt gilt vor dem abgeleiteten.")
def _german_date(value) -> str:
    """TT.MM.JJJJ for a date (or an ISO text), as everywhere else on the pages."""
    try:
        return pd.Timestamp(value).strftime("%d.%m.%Y")
    except (TypeError, ValueError):
        return str(value or "")


stamp = data_stamp()
rows = _versions(stamp)
if not rows:
    st.info("Noch kein Gebietsstand: erst eine Stadt mit `python -m quartier init` einrichten.")
    st.stop()
table = pd.DataFrame([{"Nr.": r["id"], "Name": r["name"], "gültig ab": _german_date(r["gueltig_ab"]), "Sozialräume": r["sozialraeume"],
                       "Lieferungen": r["lieferungen"], "aktuell": "ja" if r["aktuell"] else ""} for r in rows])
st.subheader("Versionen")
st.dataframe(table, hide_index=True, width="stretch")
notice = versions.change_notice(get_con())
if notice:
    st.caption(notice + ".")
if len(rows) < 2:
    st.info("Es gibt nur einen Gebietsstand. Ein neuer entsteht mit `python -m quartier gebiete neu --geometry DATEI "
            "--id-field FELD --name-field FELD --gueltig-ab DATUM`.")
    st.stop()

ids = [r["id"] for r in rows]
c1, c2 = st.columns(2)
von = c1.selectbox("von Gebietsstand", ids[:-1], index=len(ids) - 2)
nach = c2.selectbox("nach Gebietsstand", [i for i in ids if i > von], index=len([i for i in ids if i > von]) - 1)
chg = _changes(stamp, von, nach)
key = _key(stamp, von, nach)
if key.empty:
    st.warning(f"Zwischen Gebietsstand {von} und {nach} gibt es keinen Schlüssel.")
    st.stop()
st.subheader("Was sich geändert hat")
counts = chg["art"].value_counts()
st.markdown(" · ".join(f"**{counts.get(k, 0)}** {k}" for k in versions.CHANGE_KINDS if counts.get(k, 0)))
tab_map, tab_table = st.tabs(["Karte", "Tabelle"])
with tab_map:
    new_areas = _areas(stamp, nach).merge(chg, left_on="id", right_on="neu_id", how="left")
    old_areas = _areas(stamp, von)
    feats = [{"type": "Feature", "geometry": json.loads(r["geometry"]),
              "properties": {"name": r["name_x"], "id": r["id"], "art": r["art"], "quellen": r["quellen"],
                             "farbe": COLORS.get(r["art"], COLORS["verschoben"])}} for r in new_areas.to_dict("records")]
    old_feats = [{"type": "Feature", "geometry": json.loads(g), "properties": {}} for g in old_areas["geometry"]]
    layers_ = [
        pdk.Layer("GeoJsonLayer", {"type": "FeatureCollection", "features": feats}, id="neu", pickable=True,
                  get_fill_color="properties.farbe", get_line_color=[60, 60, 60], line_width_min_pixels=1),
        pdk.Layer("GeoJsonLayer", {"type": "FeatureCollection", "features": old_feats}, id="alt", filled=False,
                  get_line_color=[0, 0, 0], line_width_min_pixels=2, get_dash_array=[4, 2]),
    ]
    centre = geo.to_wgs84(geo.to_metric(geo.geom_from_text(new_areas["geometry"].iloc[0])).centroid)
    deck = pdk.Deck(layers=layers_, initial_view_state=pdk.ViewState(latitude=centre.y, longitude=centre.x, zoom=10),
                    map_style=None, tooltip={"text": "{name} ({id}): {art}\naus {quellen}"})
    st.pydeck_chart(deck)
    st.caption("Farben: " + ", ".join(f"{k}" for k in versions.CHANGE_KINDS) + " (grau = unverändert). "
               f"Schwarze Linien: Grenzen von Gebietsstand {von}. Die Tabelle daneben zeigt dasselbe ohne Karte.")
with tab_table:
    st.dataframe(chg.rename(columns={"neu_id": "Sozialraum (neu)", "name": "Name", "art": "Änderung",
                                     "quellen": "aus alten Gebieten (Anteil)"}), hide_index=True, width="stretch")

st.subheader("Schlüssel")
st.markdown(f"Grundlage: **{BASIS.get(str(key['basis'].iloc[0]), key['basis'].iloc[0])}**. Anteil: welcher Teil des alten "
            "Gebiets im neuen liegt (je altem Gebiet zusammen 1).")
show = key.assign(anteil=key["anteil"].map(lambda x: fmt.number(x * 100, 1) + " %"),
                  basis=key["basis"].map(lambda b: BASIS.get(b, b)))
st.dataframe(show.rename(columns={"alt_id": "altes Gebiet", "neu_id": "neues Gebiet", "anteil": "Anteil", "basis": "Grundlage"}),
             hide_index=True, width="stretch")
st.download_button("Schlüssel als CSV", to_csv_bytes(key[["alt_id", "neu_id", "anteil", "basis"]]),
                   file_name=f"schluessel_{von}_{nach}.csv", mime="text/csv")
