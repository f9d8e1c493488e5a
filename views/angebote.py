"""Angebote: offers by category over the need map, reach, supply per Sozialraum, need x supply, scenario, suggestion."""

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import EDITOR
from quartier.errors import QuartierError
from quartier.offers import locate, store
from quartier.tables import to_csv_bytes, to_xlsx_bytes
from quartier.ui import angebote as ui
from quartier.ui import angebote_edit as ed
from quartier.ui.common import attribution, get_con
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor

page_header(
    "Angebote",
    "Wo Angebote für Kinder und Familien sind und wo sie fehlen: Angebote einer Kategorie über der Karte des "
    "Handlungsbedarfs, die Fläche in Reichweite, Plätze je 100 der Zielgruppe, Versorgungslücken, ein Planungsszenario "
    "und Standortvorschläge. Unter jeder Karte und jedem Diagramm steht eine Tabelle als Textalternative.",
)
actor = current_actor()
cats = ui.categories()
if cats.empty:
    st.info("Noch keine Angebotskategorien. Staff: `python -m quartier angebote kategorien load DATEI` und "
            "`python -m quartier angebote import DATEI`.")
    st.stop()

c1, c2, c3 = st.columns([2, 1, 1])
kat = c1.selectbox("Kategorie", list(cats["name"]), key="ang_kategorie")
cat = cats[cats["name"] == kat].iloc[0]
from quartier.offers import supply as sup  # noqa: E402

year_default = sup.default_year(get_con(), cat["zielgruppe_indikator"])
year = int(c2.number_input("Jahr", 1990, 2100, year_default, step=1, key="ang_jahr"))
radius = float(c3.number_input("Radius (m)", 50, 20000, int(cat["radius_m"]), step=50, key="ang_radius",
                               help="Fußweg-Radius: Luftlinie in ETRS89/UTM 32N, oder entlang des Fußwegenetzes, wenn die "
                                    "Stadt eines geladen hat."))
planned: list[dict] = st.session_state.setdefault("ang_geplant", [])
suggested: list[dict] = st.session_state.get("ang_vorschlaege_pts", [])

# a click on a planning point (state of the keyed chart) places a planned offer there
pt = ui.clicked_point(st.session_state.get("ang_map"))
if pt is not None and st.session_state.get("ang_last_click") != pt:
    st.session_state["ang_last_click"] = pt
    planned.append({"lon": pt[0], "lat": pt[1], "plaetze": None, "name": f"geplant {len(planned) + 1}"})

try:
    base = ui.supply_for(kat, year, radius, [], actor, None)
    res = ui.supply_for(kat, year, radius, planned, actor, None) if planned else base
except QuartierError as exc:
    st.error(str(exc))
    st.stop()
need = ui.need(year, actor)

st.subheader(f"{kat} {year}: Angebote und Reichweite")
dist = "entlang des Fußwegenetzes" if res.distanz == "netz" else "in Luftlinie"
col_map, col_side = st.columns([3, 1.2], gap="medium")
with col_map:
    show_grid = st.toggle("Planungspunkte zeigen (Klick setzt ein geplantes Angebot)", value=True, key="ang_raster")
    deck = ui.deck_for(kat, year, radius, planned, suggested, show_grid, actor)
    st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="ang_map", height=560,
                    alt=f"Karte: Angebote „{kat}“ {year} über dem Handlungsbedarf, Reichweite {fmt.integer(radius)} m "
                        f"{dist}. Tabelle und Text unter der Karte.")
    st.caption(f"Blau umrandet: Fläche in Reichweite ({fmt.integer(radius)} m {dist}). Angebote nur mit Sozialraum "
               "(ohne Koordinaten) zählen im Gebiet, nicht in der Reichweite.")
with col_side:
    st.markdown(ui.legend_html(cats[cats["name"] == kat], need.order, need.source), unsafe_allow_html=True)
    s = res.stadt
    st.metric("Angebote", fmt.integer(s["angebote"]), border=True)
    st.metric("Plätze je 100 der Zielgruppe", fmt.number(s["plaetze_je_100"]) if s["plaetze_je_100"] is not None
              else fmt.NOTHING, border=True)
    st.metric("Stadtfläche in Reichweite", f"{fmt.number((s['erreichbar_anteil'] or 0) * 100, 1)} %", border=True)

text = (f"**Beschreibung der Karte.** {fmt.integer(res.stadt['angebote'])} Angebote „{kat}“ sind {year} geöffnet "
        f"({fmt.integer(res.stadt['plaetze'])} Plätze); {fmt.number((res.stadt['erreichbar_anteil'] or 0) * 100, 1)} % der "
        f"Stadtfläche liegen im Umkreis von {fmt.integer(radius)} m ({dist}) eines Angebots. Die Reichweite wurde "
        f"{'im Netz' if res.distanz == 'netz' else 'in Luftlinie'} berechnet.")
if res.stadt["zielgruppe"] is None:
    text += " Die Zielgruppe ist nicht für jeden Sozialraum bekannt (fehlend oder gesperrt): kein Stadtwert je 100."
st.markdown(text)

st.subheader("Versorgung je Sozialraum")
b = ui.bundle(kat, year, radius, planned, actor)
table = b["table"]
st.dataframe(b["table_arrow"], hide_index=True, width="stretch", key="ang_tabelle",
             column_config={c: st.column_config.NumberColumn(c, format="localized")
                            for c in ("Plätze", "Zielgruppe", "Plätze je 100", "Fläche in Reichweite (%)")})
d1, d2 = st.columns(2)
d1.download_button("Tabelle als Excel (.xlsx)", lambda: to_xlsx_bytes({"Versorgung": table}),
                   file_name=f"versorgung_{kat}_{year}.xlsx", on_click="ignore", icon=":material/download:",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
d2.download_button("Tabelle als CSV", lambda: to_csv_bytes(table), file_name=f"versorgung_{kat}_{year}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:")
ed.districts(res)
ed.offers_list(kat, year, actor)

st.subheader("Bedarf und Versorgung")
st.markdown("**" + b["sentence"] + "**")
st.vega_lite_chart(spec=b["chart"], width="stretch",
                   alt="Streudiagramm: Plätze je 100 gegen Fläche in Reichweite je Sozialraum, Farbe = Handlungsbedarf. "
                       "Die Tabelle „Versorgungslücken“ und die Tabelle oben enthalten dieselben Werte.")
with st.expander(f"Versorgungslücken ({b['n_gaps']})", expanded=bool(b["n_gaps"])):
    st.dataframe(b["gaps"], hide_index=True, width="stretch")

st.subheader("Planungsszenario")
st.caption("Geplante Angebote gelten nur für diese Ansicht; gespeichert wird nur ein ausdrücklich benanntes Szenario.")
ed.scenario_section(kat, planned, actor)
with st.form("ang_neu"):
    f1, f2, f3 = st.columns(3)
    lat = f1.number_input("Breitengrad", value=None, format="%.5f", key="ang_neu_lat")
    lon = f2.number_input("Längengrad", value=None, format="%.5f", key="ang_neu_lon")
    pl = f3.number_input("Plätze (optional)", min_value=0, value=None, key="ang_neu_plaetze")
    if st.form_submit_button("Geplantes Angebot hinzufügen") and lat is not None and lon is not None:
        planned.append({"lon": float(lon), "lat": float(lat), "plaetze": pl, "name": f"geplant {len(planned) + 1}"})
        st.rerun()
if planned:
    before, after = base.table.set_index("id"), res.table.set_index("id")
    diff = pd.DataFrame({"Sozialraum": after["name"],
                         "Reichweite vorher (%)": (before["erreichbar_anteil"] * 100).round(1),
                         "Reichweite nachher (%)": (after["erreichbar_anteil"] * 100).round(1),
                         "Plätze je 100 vorher": before["plaetze_je_100"].round(2),
                         "Plätze je 100 nachher": after["plaetze_je_100"].round(2)})
    changed = diff[(diff["Reichweite vorher (%)"] != diff["Reichweite nachher (%)"])
                   | (diff["Plätze je 100 vorher"].fillna(-1) != diff["Plätze je 100 nachher"].fillna(-1))]
    st.markdown(f"**{len(planned)} geplante Angebote:** Stadtfläche in Reichweite "
                f"{fmt.number((base.stadt['erreichbar_anteil'] or 0) * 100, 1)} % → "
                f"{fmt.number((res.stadt['erreichbar_anteil'] or 0) * 100, 1)} %.")
    st.dataframe(changed.reset_index(), hide_index=True, width="stretch", key="ang_szenario_tabelle")
    b1, b2 = st.columns(2)
    if b1.button("Geplante Angebote verwerfen", key="ang_verwerfen"):
        planned.clear()
        st.session_state.pop("ang_last_click", None)
        st.rerun()
    if actor.has(EDITOR):
        with b2.form("ang_szenario"):
            name = st.text_input("Name des Szenarios")
            if st.form_submit_button("Szenario speichern"):
                try:
                    store.save_scenario(get_con(), name, kat, planned, actor=actor)
                    st.success(f"Szenario „{name}“ gespeichert.")
                except QuartierError as exc:
                    st.error(str(exc))

st.subheader("Standortvorschlag")
st.caption("Maximale Abdeckung: die Standorte, die am meisten Zielgruppe zusätzlich in Reichweite bringen; Gebiete mit "
           "höherem Handlungsbedarf zählen stärker. Ein Vorschlag für die Planung, keine Entscheidung.")
n = st.number_input("Zahl neuer Standorte", 1, 10, 2, key="ang_anzahl")
if st.button("Standorte vorschlagen", key="ang_vorschlagen"):
    with st.spinner("Rechne …"):
        st.session_state["ang_vorschlag"] = ui.suggest(kat, int(n), radius, year, actor, None)
sug = st.session_state.get("ang_vorschlag")
if sug:
    names = dict(zip(res.table["id"], res.table["name"]))
    st.markdown(locate.explain(sug, kat, radius, names))
    st.session_state["ang_vorschlaege_pts"] = [{**v, "name": f"Vorschlag {i + 1}"} for i, v in enumerate(sug["vorschlaege"])]
    st.dataframe(pd.DataFrame([{"Nr.": i + 1, "Sozialraum": names.get(v["sozialraum"], v["sozialraum"]),
                                "Breitengrad": v["lat"], "Längengrad": v["lon"], "zusätzlich erreicht": v["neu_erreicht"]}
                               for i, v in enumerate(sug["vorschlaege"])]), hide_index=True, width="stretch")
    if st.button("Vorschläge als geplante Angebote übernehmen", key="ang_uebernehmen"):
        planned.extend({"lon": v["lon"], "lat": v["lat"], "plaetze": None, "name": f"Vorschlag {i + 1}"}
                       for i, v in enumerate(sug["vorschlaege"]))
        st.rerun()

ed.edit_section(kat, list(cats["name"]), actor)
if actor.has(EDITOR):
    from quartier.ui import angebote_import

    angebote_import.section(actor)
attribution()
