"""Karte: choropleth of the Sozialräume for one indicator and year, and the corridor analysis along the axis."""

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import ADMIN, PermissionDenied
from quartier.areas import classes, corridor, layers, maps
from quartier.tables import to_csv_bytes, to_xlsx_bytes
from quartier.ui import karte as ui
from quartier.ui import profiles as ui_profiles
from quartier.ui import similar as ui_similar
from quartier.ui.common import attribution
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.widgets import indicator_select, persist_bezirk, set_shared_bezirk, year_select

page_header(
    "Karte",
    "Kennzahlen der Sozialräume auf der Karte, mit den Stadtbezirksgrenzen (und der Achse, wo eine eingerichtet ist). "
    "Ein Klick auf einen Sozialraum (oder die Auswahl rechts) zeigt seine Kennzahlen. Darunter: der Korridor-Vergleich "
    "entlang der Achse (falls vorhanden) und eine sortierbare Tabelle als Alternative zur Karte.",
)
actor = current_actor()
payload = ui.payload()
if not payload.ids:
    st.warning("Noch keine Gebiete eingerichtet. Bitte `python -m quartier demo` oder `python -m quartier init` ausführen.")
    st.stop()

ui_profiles.version_notice()
ind_id = indicator_select()
year = year_select(ind_id)
if ind_id is None or year is None:
    st.info("Bitte zuerst Kennzahlen importieren: ohne Werte kann die Karte nichts einfärben.")
    st.stop()
meta = ui.indicator_meta(ind_id)
unit, direction, name = meta["einheit"], meta["richtung"], meta["name"]

with st.sidebar:
    st.markdown("**Kartendarstellung**")
    method = st.selectbox("Klassenbildung", list(classes.METHODS), format_func=classes.METHODS.get, key="karte_methode")
    k = st.slider("Anzahl der Klassen", 3, 7, 5, key="karte_klassen")
    palette = st.selectbox("Farbschema (farbenblind-sicher)", list(classes.PALETTES), format_func=classes.PALETTE_LABELS.get,
                           key="karte_palette")
    bezirk_ids = ["__stadt__"] + list(payload.bezirk_bounds)
    qp_bez = st.query_params.get("bezirk")
    arriving = "karte_bezirk" not in st.session_state
    if qp_bez in bezirk_ids and arriving:
        set_shared_bezirk(None if qp_bez == "__stadt__" else qp_bez)  # a link wins over another page's choice
    bez_kwargs = persist_bezirk("karte_bezirk", bezirk_ids, whole_city="__stadt__")  # shared with the other pages
    if ui.large_city(payload) and arriving and st.session_state.get("karte_bezirk", "__stadt__") == "__stadt__":
        st.session_state["karte_bezirk"] = bezirk_ids[1]  # thousands of areas: start with one district
    bezirk = st.selectbox("Ausschnitt", bezirk_ids, **bez_kwargs,
                          format_func=lambda b: "Gesamtstadt" if b == "__stadt__" else payload.bezirk_names.get(b, b))
    if ui.large_city(payload):
        st.caption(f"{fmt.integer(len(payload.ids))} Sozialräume: die Karte zeigt je Stadtbezirk nur dessen "
                   "Sozialräume; „Gesamtstadt“ zeichnet alle (lädt länger). Die Tabelle unten enthält immer alle.")
    axis_names = sorted(payload.axes)
    show_corridor = bool(axis_names) and st.toggle("Korridor auf der Karte zeigen", value=True, key="karte_korridor")
    basemap_url = ui.basemap_setting()
    basemap = basemap_url if basemap_url and st.toggle(
        "Hintergrundkarte (Internet nötig)", value=False, key="karte_basiskarte",
        help="Kacheln von einem Kartendienst; ohne Internet bleibt die Karte auch ohne sie lesbar.") else None

# Corridor parameters (used by the map highlight and the analysis section)
axis = width = share_pct = None
if axis_names:
    default_axis = axis_names[0]
    c1, c2, c3 = st.columns([1, 2, 2])
    axis = c1.selectbox("Achse", axis_names, index=axis_names.index(default_axis), key="karte_achse")
    width = c2.slider("Korridorbreite je Seite (m)", 250, 2000, 500, step=50, key="karte_breite",
                      help="Abstand von der Achse, bis zu dem ein Gebiet zum Korridor zählt (gemessen in ETRS89/UTM 32N).")
    share_pct = c3.slider("Mindestanteil der Fläche im Korridor (%)", 5, 100, 25, step=5, key="karte_anteil",
                          help="Ein Sozialraum zählt zum Korridor, wenn mindestens dieser Anteil seiner Fläche im Korridor liegt.")

# Selection: map click (state of the keyed chart from the last interaction), select box, or ?sr=ID
map_state = st.session_state.get("karte_map")
map_id = layers.selected_from_event(map_state, valid_ids=payload.ids)
qp_sr = st.query_params.get("sr")
if qp_sr in payload.names and "karte_sr" not in st.session_state:
    st.session_state["karte_sr"] = qp_sr
selected, last_map = layers.next_selection(map_id, st.session_state.get("karte_last_map"), st.session_state.get("karte_sr"))
st.session_state["karte_last_map"] = last_map
if selected is not None and selected != st.session_state.get("karte_sr"):
    st.session_state["karte_sr"] = selected

st.subheader(f"{name} {year}")
o1, o2 = st.columns([2, 1])
layer = o1.radio("Kartenebene", list(ui.MAP_LAYERS), format_func=ui.MAP_LAYERS.get, key="karte_ebene", horizontal=True,
                 help="„Hot Spots und Cold Spots“: wo hohe (oder niedrige) Werte mit ebensolchen Nachbarn "
                      "zusammenliegen – lokaler Moran-Test (LISA).")
show_similar = selected is not None and o2.toggle("Vergleichbare Sozialräume umranden", value=False,
                                                  key="karte_aehnliche",
                                                  help="Die fünf Sozialräume mit dem ähnlichsten Profil (blau umrandet).")
similar_ids = ui_similar.similar_ids(selected, actor) if show_similar else []
view = ui.map_view(
    ind_id, int(year), actor, method, k, palette, axis, width, None if share_pct is None else share_pct / 100,
    show_corridor, selected, bezirk, basemap, layer, tuple(similar_ids),
)
frame, members, deck, city = view.frame, view.members, view.deck, view.city

col_map, col_side = st.columns([3, 1.25], gap="medium")
with col_map:
    st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="karte_map", height=560,
                    alt=f"Karte der Sozialräume: {name} {year}. Text und Tabelle unter der Karte beschreiben sie.")
    st.caption(
        "Dicke dunkle Linien: Stadtbezirksgrenzen" + (f" · rote Linie: {axis}" if axis else "")
        + (" · orange schraffiertes Band: Korridor, orange Umrandung: seine Sozialräume" if show_corridor and axis else "")
        + " · schwarz-weiße Umrandung: ausgewählter Sozialraum"
        + (" · blaue Umrandung: vergleichbare Sozialräume" if similar_ids else "")
        + ". Beschriftet sind die Namen, die ohne Überlappung Platz haben (größere Gebiete zuerst); alle anderen "
        "zeigt der Mauszeiger und die Tabelle. Ohne Hintergrundkarte lesbar."
    )
with col_side:
    st.markdown(view.legend_html, unsafe_allow_html=True)
    st.selectbox("Sozialraum", payload.ids, key="karte_sr", index=None, placeholder="Sozialraum wählen …",
                 format_func=lambda i: f"{payload.names[i]} ({i})")
    if selected is not None:
        ui.key_figures(selected, frame, members, unit, int(year), city, payload, decimals=meta["dezimalstellen"])
        if show_similar:
            st.markdown("**Vergleichbare Sozialräume** (blau umrandet): "
                        + (", ".join(f"{n}. {payload.names[i]} ({i})" for n, i in enumerate(similar_ids, start=1))
                           if similar_ids else "keine bestimmbar (keine Werte)."))
    else:
        st.caption("Auf der Karte einen Sozialraum anklicken oder hier auswählen.")

st.markdown("**Beschreibung der Karte.** " + view.summary)
if view.lisa_table is not None:
    with st.expander("Tabelle zur Karte: Hot Spots und Cold Spots (LISA)", expanded=True):
        st.dataframe(view.lisa_table, hide_index=True, width="stretch", key="karte_lisa_tabelle")

if axis is None:
    st.subheader("Korridor-Vergleich")
    st.info(corridor.NO_AXIS_HINT, icon=":material/info:")
else:
    st.subheader(f"Korridor entlang der {axis}")
    allow = False
    if city.get("unvollstaendig"):
        allow = st.checkbox("Vergleich trotz unvollständiger Lieferung berechnen", key="karte_unvollstaendig",
                            help=f"Gesamtstadt {year}: {city['unvollstaendig']}. Ohne Haken wird nicht verglichen.")
    cv = ui.corridor_bundle(ind_id, int(year), axis, float(width), share_pct / 100, actor, allow)
    res, years_df = cv.result, cv.years
    st.markdown(f"**{res.sentence}**")
    dec = meta["dezimalstellen"]
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Im Korridor ({res.inside['count']} Sozialräume)", fmt.value(res.inside["value"], unit, dec), border=True)
    m2.metric(f"Übriges Stadtgebiet ({res.outside['count']})", fmt.value(res.outside["value"], unit, dec), border=True)
    m3.metric("Differenz", fmt.change(res.difference, unit, dec) if res.difference is not None else fmt.NOTHING,
              border=True)
    if (unit or "").lower() != "anzahl":
        st.caption("Werte im Korridor und im übrigen Stadtgebiet: Summe der Zähler geteilt durch Summe der Nenner "
                   "(gewichtet nach dem Nenner, keine Mittelwerte von Quoten). Gesperrte Werte zählen nicht mit.")
    t_sentence, _t, _m, lisa_table = ui.corridor_test(ind_id, int(year), axis, float(width), share_pct / 100, actor)
    st.markdown(f"**Ist der Unterschied größer als der Zufall?** {t_sentence}")
    with st.expander("Hot Spots und Cold Spots (LISA)"):
        st.caption(ui.LISA_NOTE + " Auf der Karte: Kartenebene „Hot Spots und Cold Spots“.")
        st.dataframe(lisa_table.sort_values("Lokales Muster (LISA)"), hide_index=True, width="stretch")
    c_sc, c_yr = st.columns(2)
    with c_sc:
        st.vega_lite_chart(spec=cv.scatter_spec, width="stretch",
                           alt="Streudiagramm: Wert je Sozialraum gegen den Abstand zur Achse; Tabelle darunter.")
        r = res.fit["r"]
        st.caption(
            "Jeder Punkt ist ein Sozialraum; Dreiecke liegen im Korridor. "
            + (f"Korrelation r = {fmt.number(r, 2)}: "
               + ("höhere Werte nahe der Achse." if r < -0.1 else "höhere Werte fern der Achse." if r > 0.1
                  else "kaum ein Zusammenhang mit dem Abstand.")
               + f" Ausgleichsgerade: {fmt.change(res.fit['slope'] * 1000, unit, 2)} je km Abstand."
               if r is not None else "Zu wenige Werte für eine Korrelation.")
        )
        with st.expander("Tabelle zum Streudiagramm"):
            st.dataframe(cv.scatter_table, hide_index=True, width="stretch",
                         column_config={"Abstand (km)": st.column_config.NumberColumn(format="localized")})
    with c_yr:
        if cv.years_spec is not None:
            st.vega_lite_chart(spec=cv.years_spec, width="stretch",
                               alt="Liniendiagramm: Wert im Korridor und im übrigen Stadtgebiet je Jahr; Tabelle darunter.")
        else:
            st.caption("Für den Zeitverlauf braucht es Werte aus mindestens zwei Jahren.")
        with st.expander("Tabelle zum Zeitverlauf"):
            st.dataframe(cv.years_table, hide_index=True, width="stretch")
    st.download_button(
        "Korridor-Ergebnis als Excel (.xlsx)", lambda: to_xlsx_bytes(corridor.result_tables(res, years_df)),
        file_name=f"korridor_{axis.replace(' ', '')}_{ind_id}_{year}_{int(width)}m.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
        icon=":material/download:",
    )

st.subheader("Tabelle der Kartenwerte")
table = view.table
st.caption("Zum Sortieren auf eine Spaltenüberschrift klicken. „gesperrt“: Wert aus Datenschutzgründen nicht "
           f"ausgewiesen ({fmt.SUPPRESSED})."
           + (f" Gezeigt: die {fmt.integer(view.table_arrow.num_rows)} Sozialräume des Ausschnitts; die Downloads "
              f"enthalten alle {fmt.integer(len(table))}." if view.table_arrow.num_rows < len(table) else ""))
st.dataframe(
    view.table_arrow, hide_index=True, width="stretch", key="karte_tabelle",
    column_config={
        "sozialraum_id": st.column_config.TextColumn("Nr."),
        "sozialraum": st.column_config.TextColumn("Sozialraum"),
        "stadtbezirk": st.column_config.TextColumn("Stadtbezirk"),
        "wert": st.column_config.NumberColumn(maps.unit_title(name, unit), format="localized"),
        "zaehler": st.column_config.NumberColumn("Zähler", format="localized"),
        "nenner": st.column_config.NumberColumn("Nenner", format="localized"),
        "gesperrt": st.column_config.TextColumn("gesperrt"),
        "rang": st.column_config.NumberColumn("Rang (1 = größter Bedarf)" if direction else "Rang (1 = höchster Wert)",
                                              format="%d"),
        "ki_unten": st.column_config.NumberColumn("95-%-KI unten", format="localized"),
        "ki_oben": st.column_config.NumberColumn("95-%-KI oben", format="localized"),
        "veraenderung_vorjahr": st.column_config.NumberColumn("Veränderung zum Vorjahr", format="localized"),
        "klasse": st.column_config.TextColumn("Klasse"),
        "im_korridor": st.column_config.TextColumn("im Korridor"),
        "flaechenanteil_korridor_prozent": st.column_config.NumberColumn("Fläche im Korridor (%)", format="localized"),
        "abstand_achse_m": st.column_config.NumberColumn("Abstand zur Achse (m)", format="localized"),
    },
)


def export() -> pd.DataFrame:  # built only when a download is clicked
    return pd.concat([pd.DataFrame({"indikator_id": [ind_id] * len(table), "jahr": [int(year)] * len(table)}), table],
                     axis=1)


d1, d2 = st.columns(2)
d1.download_button("Tabelle als Excel (.xlsx)", lambda: to_xlsx_bytes({"Karte": export()}), file_name=f"karte_{ind_id}_{year}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                   icon=":material/download:")
d2.download_button("Tabelle als CSV", lambda: to_csv_bytes(export()), file_name=f"karte_{ind_id}_{year}.csv", mime="text/csv",
                   on_click="ignore", icon=":material/download:")
if actor.has(ADMIN):
    with st.expander("Karteneinstellungen (Administration)"):
        with st.form("karte_einstellungen"):
            url = st.text_input("Hintergrundkarte (Adresse eines Kartenstils, leer = keine)", value=basemap_url or "",
                                placeholder=layers.CARTO_LIGHT,
                                help="Nur in Netzen mit Internetzugang sinnvoll; die Karte ist auch ohne lesbar.")
            brk = st.text_input(f"Feste Klassengrenzen für „{name}“ (z. B. 10; 20; 30; leer = aus dem Wertebereich)",
                                value=";".join(fmt.number(b, 1) for b in (ui.fixed_breaks(ind_id) or [])))
            if st.form_submit_button("Speichern"):
                try:
                    maps.save_map_settings(ui.con(), actor, basemap=url, indicator_id=ind_id, breaks=brk)
                except (ValueError, PermissionDenied) as exc:
                    st.error(str(exc))
                else:
                    st.success("Gespeichert.")
                    st.rerun()
attribution()
