"""Start page: districts and Sozialräume, city headline figures, delivery status."""

import streamlit as st

from quartier import format as fmt
from quartier.ui import hinweise as hinweise_ui
from quartier.ui.common import arrow, attribution, city_name, data_stamp, get_con, view_of
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.values import indicators, overview

LIST_LIMIT = 300  # up to this many Sozialräume, each district lists its areas by name


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(stamp: int, city: str, looking):
    """Everything the page shows, formatted once per data stamp (20 sessions opening the start page
    at once each only render it: the grouping, German number formatting and the conversion of the
    tables are not repeated). Shared between sessions: read-only."""
    con = get_con()
    cat = indicators.catalogue(con)  # read once for the population count and the headline figures
    pop = overview.latest_population(con, cat)
    head, status = overview.headline(con, actor=looking, cat=cat), overview.delivery_status(con)
    if pop.empty:
        return None
    cards, notes = [], []
    for r in head.to_dict("records"):
        if isinstance(r.get("unvollstaendig"), str):
            notes.append(f"{r['name']} {r['unvollstaendig']}")
        delta = None if r["vorjahr"] is None else r["wert"] - r["vorjahr"]
        good_when_lower = r["richtung"] == "higher"
        cards.append(dict(
            label=f"{r['name']} ({r['jahr']})",
            value=fmt.value(r["wert"], r["einheit"], r.get("dezimalstellen")),
            delta=None if delta is None else f"{fmt.change(delta, r['einheit'], r.get('dezimalstellen'))} ggü. Vorjahr".replace("−", "-"),
            delta_color="off" if r["richtung"] is None else ("inverse" if good_when_lower else "normal"),
        ))
    year = int(pop["jahr"].max()) if pop["jahr"].notna().any() else None
    n_b = pop["stadtbezirk"].nunique()
    intro = (
        f"{city} ist in **{n_b} Stadtbezirke** mit **{len(pop)} Sozialräumen** gegliedert"
        + (f"; Einwohnerinnen und Einwohner am 31.12.{year}: **{fmt.integer(pop['einwohner'].sum())}**." if year else ".")
    )
    bez = pop.groupby(["bezirk_nr", "stadtbezirk"], dropna=False).agg(
        sozialraeume=("sozialraum", "size"), einwohner=("einwohner", "sum")
    ).reset_index()
    districts = []
    long_lists = len(pop) > LIST_LIMIT  # a Kreis with thousands of areas: the names only in the table below
    for b in bez.to_dict("records"):
        part = pop[pop["stadtbezirk"] == b["stadtbezirk"]]
        districts.append((
            f"**{b['stadtbezirk'] or 'ohne Bezirk'}**  \n{fmt.integer(b['einwohner'])} Einw. · {b['sozialraeume']} Sozialräume",
            "" if long_lists else
            "\n".join(f"- {r['sozialraum']} ({fmt.integer(r['einwohner'])})" for r in part.to_dict("records")),
        ))
    if long_lists:
        intro += f" Die {fmt.integer(len(pop))} Sozialräume stehen in der Tabelle unter den Stadtbezirken."
    table = pop.assign(
        Einwohner=pop["einwohner"].map(fmt.integer), Fläche=pop["flaeche_km2"].map(lambda v: f"{fmt.number(v, 2)} km²")
    )[["stadtbezirk", "sozialraum_id", "sozialraum", "Einwohner", "Fläche"]]
    table.columns = ["Stadtbezirk", "Nr.", "Sozialraum", "Einwohner", "Fläche"]
    if not status.empty:
        status = status.copy()
        status["importiert_am"] = status["importiert_am"].dt.strftime("%d.%m.%Y %H:%M")
        status = status.rename(columns={
            "lieferant": "Lieferant", "letztes_jahr": "Letztes Berichtsjahr", "indikatoren": "Indikatoren",
            "dateiname": "Letzte Lieferung", "importiert_am": "Importiert am", "importiert_von": "Importiert von",
        })
    return cards, notes, intro, districts, arrow(table), (None if status.empty else arrow(status))


page_header(f"Übersicht – {city_name()}")
view = _load(data_stamp(), city_name(), view_of(current_actor()))  # viewers get protected city figures

if view is None:
    st.warning("Noch keine Gebiete eingerichtet. Bitte `python -m quartier demo` oder `python -m quartier init` ausführen.")
    st.stop()
cards, notes, intro, districts, table, status = view

st.subheader("Kennzahlen der Gesamtstadt")
if not cards:
    st.write("Noch keine Kennzahlen geliefert.")
else:
    cols = st.columns(min(3, len(cards)))
    for i, card in enumerate(cards):
        cols[i % len(cols)].metric(**card, border=True)
    st.caption("Quoten der Gesamtstadt aus der Summe der Zähler und Nenner aller Sozialräume berechnet; "
               "je Kennzahl das letzte vollständig gelieferte Jahr.")
    for note in notes:
        st.caption(f"Neueres Jahr noch ohne Stadtwert: {md(note)}.")

st.subheader("Stadtbezirke und Sozialräume")
st.markdown(intro)
cols = st.columns(max(1, len(districts)))
for col, (head_md, list_md) in zip(cols, districts):
    with col:
        st.markdown(head_md)
        if list_md:
            st.markdown(list_md)

with st.expander("Tabelle: Sozialräume mit Einwohnerzahl"):
    st.dataframe(table, hide_index=True, width="stretch")

hinweise_ui.section_choice(current_actor(), key="start_hw")

st.subheader("Datenstand")
if status is None:
    st.write("Noch keine Lieferungen importiert.")
else:
    st.dataframe(status, hide_index=True, width="stretch")
attribution()
