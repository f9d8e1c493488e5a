"""Sozialräume: Zeitreihen, Steckbrief und Vergleich. Die Auswahl steht in der URL (?sr=M04,S01&ind=…)."""

import streamlit as st

from quartier import format as fmt
from quartier.ui import profiles as ui
from quartier.ui import similar as similar_ui
from quartier.ui.common import attribution, city_name
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.ui.widgets import set_shared_bezirk
from quartier.values import charts, series

page_header(
    "Sozialräume",
    "Entwicklung der Kennzahlen einzelner Sozialräume im Vergleich zu Stadtbezirk und Gesamtstadt. "
    "Die Auswahl steht in der Adresse der Seite und kann als Lesezeichen gespeichert oder verschickt werden.",
)
actor = current_actor()
city = city_name()
cat = ui.catalogue()
areas = ui.areas()
bez = ui.bezirke()
if areas.empty or cat.empty:
    st.warning("Noch keine Sozialräume oder Indikatoren eingerichtet. Bitte zuerst `python -m quartier demo` "
               "oder `python -m quartier init` ausführen.")
    st.stop()

unknown = ui.restore_from_url()
if unknown:
    st.warning(f"Nicht gefunden und daher übergangen: {md(', '.join(unknown))}. Bitte die Auswahl unten prüfen.")

area_label = dict(zip(areas["id"], areas["name"] + " (" + areas["id"] + ")"))
bez_label = dict(zip(bez["id"], bez["name"]))
ind_label = dict(zip(cat["id"], cat["name"]))
meta = cat.set_index("id")

c1, c2 = st.columns([1, 2])
mode = c1.radio("Auswahl nach", [ui.MODE_AREAS, ui.MODE_DISTRICT], key=ui.K_MODE, horizontal=True)
bezirk = None
if mode == ui.MODE_DISTRICT and len(bez):
    if st.session_state.get(ui.K_BEZ) not in bez_label:
        st.session_state[ui.K_BEZ] = bez["id"].iloc[0]
    bezirk = c2.selectbox("Stadtbezirk", list(bez["id"]), format_func=lambda b: bez_label.get(b, b), key=ui.K_BEZ,
                          on_change=lambda: set_shared_bezirk(st.session_state[ui.K_BEZ]))  # shared with the other pages
    srs = list(areas.loc[areas["bezirk_id"] == bezirk, "id"])
else:
    srs = c2.multiselect("Sozialräume", list(areas["id"]), format_func=lambda s: area_label.get(s, s), key=ui.K_SR,
                         placeholder="Einen oder mehrere Sozialräume wählen")
inds = st.multiselect("Indikatoren", list(cat["id"]), format_func=lambda i: ind_label.get(i, i), key=ui.K_IND,
                      placeholder="Einen oder mehrere Indikatoren wählen")
view = st.radio("Ansicht", ui.VIEWS, key=ui.K_VIEW, horizontal=True)
ui.write_url(mode, srs, bezirk, inds, view)
st.divider()


def zeitreihen() -> None:
    if not inds:
        st.info("Bitte mindestens einen Indikator wählen.")
        return
    if not srs:
        st.info(f"Kein Sozialraum gewählt: gezeigt wird nur der Wert der Gesamtstadt {city}.")
    data = ui.load_series(actor, inds, srs)
    for iid in inds:
        m = meta.loc[iid]
        unit = m["einheit"]
        st.subheader(m["name"])
        ui.definition_popover(m)
        dec = fmt.decimals_for(unit, m.get("dezimalstellen"))
        frame = charts.line_frame(data.values, data.refs, iid, unit, city=city, decimals=dec)
        chart = charts.line_chart(frame, str(m["kurzname"] or m["name"]), unit, decimals=dec)
        ui.show_chart(chart, ui.line_summary(frame, unit))
        st.caption(f"Gestrichelt: Vergleichswerte aus der Summe der Zähler und Nenner aller Sozialräume. "
                   f"{fmt.SUPPRESSED} = gesperrt (Schutz kleiner Fallzahlen), {fmt.NOTHING} = kein Wert geliefert; "
                   "beides bleibt eine Lücke. Ein Klick auf einen Namen in der Legende hebt den Sozialraum hervor.")
        with st.expander(f"Tabelle und Download: {m['kurzname'] or m['name']}"):
            st.dataframe(ui.line_table(frame), hide_index=True, width="stretch")
            ui.downloads(ui.export_frame(frame.assign(indikator_id=iid)), chart, f"zeitreihe_{iid}", key=f"z_{iid}")


def steckbrief() -> None:
    if not srs:
        st.info("Bitte einen Sozialraum wählen, um seinen Steckbrief zu sehen.")
        return
    if st.session_state.get(ui.K_PROFILE) not in srs:
        st.session_state[ui.K_PROFILE] = srs[0]
    sr = st.selectbox("Steckbrief für", srs, format_func=lambda s: area_label.get(s, s), key=ui.K_PROFILE) \
        if len(srs) > 1 else srs[0]
    st.caption("Der Steckbrief zeigt alle Kennzahlen; die Auswahl der Indikatoren gilt für Zeitreihen und Vergleich.")
    prof, pdata = ui.load_profile(actor, sr)
    row = areas.set_index("id").loc[sr]
    st.subheader(f"Steckbrief {row['name']} ({sr})")
    st.markdown(f"Stadtbezirk **{row['bezirk'] or '–'}** · Fläche {fmt.number(row['flaeche_km2'], 2)} km² · "
                f"Rang 1 = höchster Bedarf unter {pdata.n_areas} Sozialräumen")
    ui.population_block(series.population(pdata, actor=actor), city)
    st.markdown("#### Kennzahlen")
    ui.profile_cards(prof, meta)
    st.markdown("#### Entwicklung aller Kennzahlen")
    mframe, mspec = ui.steckbrief_chart(actor, sr, city)
    ui.show_chart(None, f"Kleine Liniendiagramme je Kennzahl für {row['name']} (durchgezogen) und die Gesamtstadt "
                        f"{city} (gestrichelt, nur bei Quoten). Die Werte stehen in der Tabelle darunter.", spec=mspec)
    with st.expander("Tabelle und Download: alle Kennzahlen"):
        st.dataframe(ui.profile_table(prof), hide_index=True, width="stretch")
        ui.downloads(ui.export_frame(mframe), lambda: charts.small_multiples(mframe), f"steckbrief_{sr}", key=f"p_{sr}")
    ui.recommendations_block(sr, actor)
    similar_ui.block(sr, actor)
    ui.offers_block(sr, actor)
    with st.expander("Definitionen aller Kennzahlen"):
        for iid in prof["indikator_id"]:
            st.markdown(ui.definition_md(meta.loc[iid]))


def vergleich() -> None:
    if not srs or not inds:
        st.info("Bitte Sozialräume (oder einen Stadtbezirk) und mindestens einen Indikator wählen.")
        return
    data = ui.load_series(actor, inds, srs)
    years = sorted(data.values["jahr"].dropna().astype(int).unique())
    if not years:
        st.info("Für diese Auswahl liegen keine Werte vor.")
        return
    year = st.selectbox("Jahr", years[::-1], index=0, key="sr_vergleich_jahr")
    comp = series.comparison(data, year)
    for iid in inds:
        m = meta.loc[iid]
        st.subheader(m["name"])
        ui.definition_popover(m)
        dec = fmt.decimals_for(m["einheit"], m.get("dezimalstellen"))
        bframe = charts.bar_frame(comp, iid, m["einheit"], dec)
        if bframe.empty:
            st.write(f"Für {year} liegen keine Werte vor.")
            continue
        chart = charts.bar_chart(bframe, str(m["kurzname"] or m["name"]), m["einheit"], m["richtung"], city=city, decimals=dec)
        ui.show_chart(chart, ui.bar_summary(bframe, m["einheit"], city, decimals=dec))
        with st.expander(f"Tabelle und Download: {m['kurzname'] or m['name']} {year}"):
            t = bframe[["sozialraum", "wert_text", "zaehler_text", "nenner_text", "rang_text", "lieferung", "umgerechnet"]]
            t.columns = ["Sozialraum", "Wert", "Zähler", "Nenner", "Rang", "Lieferung", "Umrechnung"]
            if not (t["Umrechnung"] != "").any():  # nothing re-allocated: no empty column
                t = t.drop(columns="Umrechnung")
            st.dataframe(t, hide_index=True, width="stretch")
            ui.downloads(ui.export_frame(bframe.assign(indikator_id=iid)), chart, f"vergleich_{iid}_{year}", key=f"v_{iid}")
    st.subheader(f"Alle Werte {year}")
    st.caption("Zum Sortieren auf eine Spaltenüberschrift klicken. Leere Zellen: gesperrt oder nicht geliefert.")
    wide, config = ui.comparison_table(comp, meta, city)
    st.dataframe(wide, hide_index=True, width="stretch", column_config=config)
    ui.downloads(wide, None, f"vergleich_{year}", key="v_alle")


{"Zeitreihen": zeitreihen, "Steckbrief": steckbrief, "Vergleich": vergleich}[view]()
attribution()
