"""Start page: districts and Sozialräume, city headline figures, delivery status."""

import streamlit as st

from quartier import format as fmt
from quartier import overview
from quartier.ui.common import attribution, city_name, data_stamp, get_con, page_header


@st.cache_data(show_spinner=False)
def _load(stamp: int):
    con = get_con()
    return overview.latest_population(con), overview.headline(con), overview.delivery_status(con)


page_header(f"Übersicht – {city_name()}")
pop, head, status = _load(data_stamp())

if pop.empty:
    st.warning("Noch keine Gebiete eingerichtet. Bitte `python -m quartier demo` oder `python -m quartier init` ausführen.")
    st.stop()

st.subheader("Kennzahlen der Gesamtstadt")
if head.empty:
    st.write("Noch keine Kennzahlen geliefert.")
else:
    cols = st.columns(min(3, len(head)))
    for i, r in enumerate(head.to_dict("records")):
        delta = None if r["vorjahr"] is None else r["wert"] - r["vorjahr"]
        good_when_lower = r["richtung"] == "higher"
        cols[i % len(cols)].metric(
            label=f"{r['name']} ({r['jahr']})",
            value=fmt.value(r["wert"], r["einheit"]),
            delta=None if delta is None else f"{fmt.change(delta, r['einheit'])} ggü. Vorjahr".replace("−", "-"),
            delta_color="off" if r["richtung"] is None else ("inverse" if good_when_lower else "normal"),
            border=True,
        )
    st.caption("Quoten der Gesamtstadt aus der Summe der Zähler und Nenner aller Sozialräume berechnet.")

st.subheader("Stadtbezirke und Sozialräume")
year = int(pop["jahr"].max()) if pop["jahr"].notna().any() else None
n_b = pop["stadtbezirk"].nunique()
st.markdown(
    f"{city_name()} ist in **{n_b} Stadtbezirke** mit **{len(pop)} Sozialräumen** gegliedert"
    + (f"; Einwohnerinnen und Einwohner am 31.12.{year}: **{fmt.integer(pop['einwohner'].sum())}**." if year else ".")
)
bez = pop.groupby(["bezirk_nr", "stadtbezirk"], dropna=False).agg(
    sozialraeume=("sozialraum", "size"), einwohner=("einwohner", "sum")
).reset_index()
cols = st.columns(max(1, len(bez)))
for col, b in zip(cols, bez.to_dict("records")):
    with col:
        st.markdown(f"**{b['stadtbezirk'] or 'ohne Bezirk'}**  \n{fmt.integer(b['einwohner'])} Einw. · {b['sozialraeume']} Sozialräume")
        part = pop[pop["stadtbezirk"] == b["stadtbezirk"]]
        st.markdown("\n".join(f"- {r['sozialraum']} ({fmt.integer(r['einwohner'])})" for r in part.to_dict("records")))

with st.expander("Tabelle: Sozialräume mit Einwohnerzahl"):
    table = pop.assign(
        Einwohner=pop["einwohner"].map(fmt.integer), Fläche=pop["flaeche_km2"].map(lambda v: f"{fmt.number(v, 2)} km²")
    )[["stadtbezirk", "sozialraum_id", "sozialraum", "Einwohner", "Fläche"]]
    table.columns = ["Stadtbezirk", "Nr.", "Sozialraum", "Einwohner", "Fläche"]
    st.dataframe(table, hide_index=True, width="stretch")

st.subheader("Datenstand")
if status.empty:
    st.write("Noch keine Lieferungen importiert.")
else:
    s = status.copy()
    s["importiert_am"] = s["importiert_am"].dt.strftime("%d.%m.%Y %H:%M")
    s = s.rename(columns={
        "lieferant": "Lieferant", "letztes_jahr": "Letztes Berichtsjahr", "indikatoren": "Indikatoren",
        "dateiname": "Letzte Lieferung", "importiert_am": "Importiert am", "importiert_von": "Importiert von",
    })
    st.dataframe(s, hide_index=True, width="stretch")
attribution()
