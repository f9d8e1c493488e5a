"""Handlungsbedarf: transparente, nachvollziehbare Rangfolge der Sozialräume (Index), erklärt und auf Robustheit geprüft."""

import json
from urllib.parse import quote

import pandas as pd
import streamlit as st

from quartier import access
from quartier import format as fmt
from quartier.areas import classes, layers, versions
from quartier.need import charts as hc
from quartier.need import compute, explain, export, store
from quartier.need import method as index_method
from quartier.ui.common import attribution, data_stamp, get_con, view_of
from quartier.ui.guard import page_header
from quartier.ui.karte import payload as shared_payload
from quartier.ui.pages import PAGES
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.values import charts, indicators, query

STECKBRIEF_PATH = "/" + next(p.url_path for p in PAGES if p.file.endswith("sozialraeume.py"))
KINDS = {"zscore": "z-Wert-Index (Standard)", "points:quintile": "Punkte nach Quintilen", "points:rank": "Rangpunkte"}


@st.cache_data(show_spinner=False)
def _base(stamp: int):
    con = get_con()
    return indicators.catalogue(con), index_method.methods(con)


@st.cache_data(show_spinner=False)
def _years(stamp: int, ids: tuple[str, ...]):
    return compute.years_available(get_con(), list(ids))


@st.cache_data(show_spinner=False)
def _incomplete(stamp: int, ids: tuple[str, ...], years: tuple[int, ...]):
    return compute.incomplete_years(get_con(), list(ids), list(years))


def _gap_text(gaps, names: dict) -> str:
    """'HzE-Quote: 5 von 23 Sozialräumen geliefert; Jugendarbeitslosigkeit: nicht geliefert'."""
    return "; ".join(f"{names.get(i, i)}: " + ("nicht geliefert" if t is None else f"{d} von {t} Sozialräumen geliefert")
                     for i, d, t in gaps)


# Every cache below is keyed by ``view`` (view_of(actor): role and right to raw values): a viewer's index is
# computed from the protected values and must never come from a cached staff result (or the other way round).
@st.cache_data(show_spinner=False)
def _compute(stamp: int, method_json: str, year: int, view: access.Actor):
    con = get_con()
    res = compute.compute(con, json.loads(method_json), year, actor=view)
    return res, compute.previous_year(con, res.method, year, actor=view)


@st.cache_resource(show_spinner=False, max_entries=8)  # shared between sessions: read-only
def _tables(stamp: int, method_json: str, year: int, view: access.Actor):
    """Ranking table, its German display version, the robustness chart and the map properties of one
    result: derived once per (data state, method, year, view), not on every rerun (10,000 Sozialräume: ~2 s)."""
    res, prev = _compute(stamp, method_json, year, view)
    cat, _ = _base(stamp)
    table = explain.ranking_table(res, prev)
    return table, explain.display_table(table, res, cat), hc.robustness_chart(table), hc.map_properties(res)


@st.cache_resource(show_spinner=False, max_entries=8)
def _deck(stamp: int, method_json: str, year: int, view: access.Actor):
    """The index map with its JSON built once per (data state, method, year, view); read-only."""
    _, _, _, (props, _) = _tables(stamp, method_json, year, view)
    payload = shared_payload()  # the same simplified geometry as the map pages (one copy per process)
    return layers.build_deck(payload, props, tooltip_html=hc.TOOLTIP,
                           view=layers.view_for_bounds(payload.bounds, width_px=640, height_px=520)).freeze()


@st.cache_data(show_spinner=False)
def _hidden(stamp: int, method_json: str, year: int, view: access.Actor) -> set:
    """Cells whose raw value is protected for users without the right to see raw data."""
    if view.can_see_raw:
        return set()
    res, _ = _compute(stamp, method_json, year, view)
    return explain.protected_cells(get_con(), res, actor=view)


@st.cache_data(show_spinner=False)
def _stored(stamp: int):
    return store.stored_results(get_con())


@st.cache_data(show_spinner=False)
def _xlsx(stamp: int, method_json: str, year: int, view: access.Actor) -> bytes:
    res, prev = _compute(stamp, method_json, year, view)
    return export.export_xlsx(get_con(), res, prev, actor=view)


page_header(
    "Handlungsbedarf",
    "Welche Sozialräume brauchen am dringendsten Unterstützung? Der Index fasst die gewählten Kennzahlen zu "
    "einem Wert je Sozialraum zusammen, ordnet die Sozialräume (Rang 1 = höchster Handlungsbedarf) und "
    "erklärt, wodurch jeder Wert entsteht. Methode, Gewichte und Datenstand lassen sich speichern, damit eine "
    "veröffentlichte Rangfolge später genau nachgerechnet werden kann.",
)
actor = current_actor()
view = view_of(actor)
stamp = data_stamp()
cat, saved = _base(stamp)
directed = cat[cat["richtung"].notna()]
if directed.empty:
    st.warning("Noch keine Indikatoren mit Richtung geladen. Bitte zuerst den Indikatorenkatalog laden.")
    st.stop()

# ---- method, year, indicators and weights -----------------------------------------------------
if saved.empty:
    base = index_method.validate_method({"name": "Neue Methode", "indicators": [{"id": i, "weight": 1} for i in directed["id"]]}, cat)
    st.info("Noch keine Methode gespeichert: gezeigt wird ein Vorschlag mit allen Indikatoren, die eine Richtung haben.")
    base_methods = {base.name: base}
else:
    base_methods = {r["name"]: r["methode"] for r in saved.to_dict("records")}
c1, c2, c3 = st.columns([2, 1, 1.4])
name = c1.selectbox("Methode", list(base_methods), key="hb_methode",
                    format_func=lambda n: f"{n} (Version {base_methods[n].version or '–'})")
base = base_methods[name]
years = _years(stamp, tuple(base.indicator_ids))
if not years:
    st.warning("Für die Indikatoren dieser Methode liegen noch keine Werte vor.")
    st.stop()
# an incomplete delivery year is not ranked: the page starts with the latest complete year and says so
gaps = _incomplete(stamp, tuple(base.indicator_ids), tuple(years))
complete = [y for y in years if y not in gaps]
if st.session_state.get("hb_jahr") not in years:
    st.session_state["hb_jahr"] = complete[-1] if complete else years[-1]
year = c2.selectbox("Jahr", years[::-1], key="hb_jahr",
                    format_func=lambda y: f"{y} (unvollständig)" if y in gaps else str(y))
kind_default = base.kind + (f":{base.scheme}" if base.kind == "points" else "")
kind_key = f"hb_verfahren_{name}"
if st.session_state.get(kind_key) not in KINDS:
    st.session_state[kind_key] = kind_default
kind_sel = c3.selectbox("Verfahren", list(KINDS), format_func=KINDS.get, key=kind_key)
short_names = dict(zip(cat["id"], cat["kurzname"].fillna(cat["name"])))
if year in gaps:
    st.warning(f"**{year} ist unvollständig geliefert** ({md(_gap_text(gaps[year], short_names))}). Eine Rangfolge "
               "würde Sozialräume mit und ohne diese Werte vergleichen und wird deshalb nicht berechnet. "
               + (f"Neuestes vollständiges Jahr: **{complete[-1]}**." if complete else "Kein Jahr ist vollständig geliefert."),
               icon=":material/warning:")
    st.stop()
later = [y for y in years if y > year and y in gaps]
if later:
    st.caption(f"Gezeigt wird {year}, das neueste vollständig gelieferte Jahr. "
               + " ".join(f"{y} ist unvollständig ({md(_gap_text(gaps[y], short_names))}) und wird nicht gereiht."
                          for y in later))

weights_now = {i.id: i.weight for i in base.indicators}
dirs = {i.id: i.direction for i in base.indicators}
with st.expander("Indikatoren und Gewichte", expanded=False):
    st.caption("Gewicht 0 = Indikator nicht verwenden. Indikatoren ohne Richtung (z. B. Einwohnerzahl) sind nicht wählbar. "
               "Die Vorgaben stammen aus der gespeicherten Methode.")
    editor_df = pd.DataFrame({
        "id": directed["id"], "Indikator": directed["name"], "Lieferant": directed["lieferant"].fillna(""),
        "Richtung": [dirs.get(i, r) for i, r in zip(directed["id"], directed["richtung"])],
        "Gewicht": [float(weights_now.get(i, 0.0)) for i in directed["id"]],
    })
    editor_df["Richtung"] = editor_df["Richtung"].map({"higher": "höher = mehr Bedarf", "lower": "niedriger = mehr Bedarf"})
    edited = st.data_editor(
        editor_df, key=f"hb_gewichte_{name}", hide_index=True, width="stretch", disabled=["id", "Indikator", "Lieferant", "Richtung"],
        column_config={"id": None, "Gewicht": st.column_config.NumberColumn("Gewicht", min_value=0.0, max_value=10.0, step=0.5,
                                                                            format="%.1f")},
    )
    r1, r2 = st.columns(2)
    min_pop = r1.number_input("Mindestzahl Einwohner (kleinere Sozialräume: „zu klein“)", min_value=0, step=50,
                              value=int(base.min_population), key=f"hb_minpop_{name}")
    max_miss = r2.number_input("Höchstens fehlende Indikatoren (%), sonst „nicht bewertbar“", min_value=0, max_value=99,
                               step=5, value=int(round(base.max_missing_share * 100)), key=f"hb_maxmiss_{name}")
all_dirs = {i: ("higher" if d.startswith("höher") else "lower") for i, d in zip(edited["id"], edited["Richtung"])}
changes = {"kind": kind_sel.split(":")[0], "min_population": int(min_pop), "max_missing_share": max_miss / 100}
if kind_sel.startswith("points"):
    changes["points_scheme"] = kind_sel.split(":")[1]
    if base.kind != "points":
        changes["cutoffs"] = list(index_method.POINTS_DEFAULT_CUTOFFS)
elif base.kind == "points":
    changes["cutoffs"] = list(index_method.DEFAULTS["cutoffs"])
try:
    method = index_method.with_weights(base, dict(zip(edited["id"], edited["Gewicht"])), all_dirs, **changes)
    method = index_method.validate_method(method, cat)
    method_json = method.to_json()
    res, prev = _compute(stamp, method_json, int(year), view)
except index_method.MethodError as exc:
    st.error(f"Die Methode ist so nicht berechenbar: {md(exc)}")
    st.stop()
if method.version is None:
    st.caption(f"Geänderte Methode auf Grundlage von „{md(name)}“ – noch nicht gespeichert (siehe „Methode und Export“).")

# ---- summary -----------------------------------------------------------------------------------
table, table_display, robust_spec, (props, legend) = _tables(stamp, method_json, int(year), view)
table_display, realloc_methods = explain.mark_reallocated(table_display, table, res, cat,
                                                          query.reallocated(get_con(), list(res.indicator_ids), actor=view))
protection_note = compute.protection_note(res)
if protection_note:
    st.info(protection_note, icon=":material/shield:")
n_rated = int((res.klass >= 0).sum())
top = table[table["rank"].notna()].head(5)
counts = ", ".join(f"{int((res.klass == k).sum())} „{c}“" for k, c in reversed(list(enumerate(method.classes))))
st.markdown(
    f"**{year}: {n_rated} von {len(table)} Sozialräumen bewertet** ({counts})."
    + (" Höchster Handlungsbedarf: " + ", ".join(f"{int(r['rank'])}. {r['name']}" for r in top.to_dict("records")) + "."
       if len(top) else " Kein Sozialraum erfüllt die Regeln der Methode – bitte Mindestzahl und fehlende Werte prüfen.")
)
if n_rated < len(table):
    st.caption("Ohne Klasse: " + "; ".join(f"{r['name']} – {r['flags']}" for r in table[table["rank"].isna()].to_dict("records")))

t_rank, t_map, t_matrix, t_explain, t_robust, t_method = st.tabs(
    ["Rangfolge", "Karte", "Status × Dynamik", "Erklärung", "Robustheit", "Methode und Export"])

def _steckbrief_links(frame: pd.DataFrame, ids) -> pd.DataFrame:
    """The Sozialraum column as a link to its Steckbrief (the Sozialräume page opens in Steckbrief for one area)."""
    return frame.assign(Sozialraum=[f"{STECKBRIEF_PATH}?sr={quote(str(i))}&ansicht=steckbrief#{n}"
                                    for i, n in zip(ids, frame["Sozialraum"])])


with t_rank:
    st.dataframe(_steckbrief_links(table_display, table["id"]), hide_index=True, width="stretch",
                 height=min(900, 38 + 35 * len(table)), column_config={
                     "Sozialraum": st.column_config.LinkColumn(
                         "Sozialraum", display_text=r"#(.*)$", help="öffnet den Steckbrief des Sozialraums")})
    st.caption("Ein Klick auf einen Sozialraum öffnet seinen Steckbrief (Seite Sozialräume).")
    if realloc_methods:  # values of an earlier Gebietsstand (Issue 19)
        notice = versions.change_notice(get_con())
        st.caption(f":material/layers: {notice + '. ' if notice else ''}„{charts.UMR_MARK}“ = Wert aus einem früheren "
                   "Gebietsstand auf die heutigen Sozialräume umgerechnet: " + md("; ".join(realloc_methods)) + ".")
    st.caption(
        "Indexwert: 0 = Durchschnitt der bewerteten Sozialräume, gemessen in Standardabweichungen "
        if method.kind == "zscore" else "Indexwert: gewichteter Mittelwert der Punkte (1–5) "
    )
    st.caption(
        "Spalten je Indikator: Beitrag zum Indexwert (die Beiträge ergeben zusammen den Indexwert). "
        f"Rang ggü. Vorjahr: ▲ = im Vergleich zu {int(year) - 1} weiter vorn (mehr Bedarf), ▼ = weiter hinten."
        + ("" if prev is not None else f" Für {int(year) - 1} liegen keine Werte vor.")
    )

with t_map:
    deck = _deck(stamp, method_json, int(year), view)
    mc1, mc2 = st.columns([3, 1])
    with mc1:
        st.pydeck_chart(deck, height=520, key="hb_karte")
    with mc2:
        st.html(classes.legend_html(legend, f"Handlungsbedarf {year}", "Die Karte braucht keine Hintergrundkarte; "
                                 "Beschriftung: Rang und Name der ersten zehn, dann weitere "
                                 "Namen, soweit sie ohne Überlappung Platz haben; alle zeigt der Mauszeiger."))
    st.markdown("**Textfassung der Karte**  \n" + hc.map_text(res))

with t_matrix:
    st.markdown("Welche Sozialräume sind stark belastet **und** entwickeln sich ungünstig? Zeilen: Status "
                f"{year}, Spalten: Dynamik {res.dynamics_years[0]}–{res.dynamics_years[1]} (Veränderung der Indikatoren).")
    st.vega_lite_chart(spec=hc.matrix_chart(explain.status_dynamics_counts(res), method.classes, method.dynamics_classes),
                    width="stretch")
    matrix = explain.status_dynamics_matrix(res)
    styles = hc.matrix_table_styles(matrix, list(method.classes), list(method.dynamics_classes))
    st.dataframe(matrix.style.apply(lambda _: styles, axis=None), hide_index=True, width="stretch")
    st.caption("Farbe = Aufmerksamkeit: **dringend** (dunkel) – höchster Status mit stabiler oder ungünstiger Dynamik "
               "und zweithöchster Status mit ungünstiger Dynamik; **beobachten** (hell) – einen Schritt davon entfernt. "
               "Diagramm und Tabelle in derselben Reihenfolge: oben der höchste Status, links die ungünstigste Dynamik.")

with t_explain:
    st.subheader("Wodurch entsteht der Wert?")
    order = list(table["id"])
    labels = dict(zip(table["id"], table["name"]))
    if st.session_state.get("hb_sr") not in order:
        st.session_state["hb_sr"] = order[0]
    sid = st.selectbox("Sozialraum", order, format_func=lambda s: f"{labels[s]} ({s})", key="hb_sr")
    st.markdown(explain.explain(res, sid, cat))
    cf = explain.contributions_frame(res, sid, cat, _hidden(stamp, method_json, int(year), view))
    decs = indicators.decimals(cat)
    if cf["Beitrag"].notna().any():
        st.vega_lite_chart(spec=hc.contributions_chart(cf, f"Beiträge der Indikatoren – {labels[sid]}"), width="stretch")
    show = cf.assign(
        Wert=[fmt.value(v, u, decs.get(i), suppressed=g) for i, v, u, g in zip(cf["id"], cf["Wert"], cf["Einheit"], cf["gesperrt"])],
        Gewicht=cf["Gewicht"].map(lambda v: fmt.number(v, 1)),
        Beitrag=cf["Beitrag"].map(lambda v: fmt.NOTHING if pd.isna(v) else ("+" if v >= 0 else "−") + fmt.number(abs(v), 2)),
    )
    score_col = "Punktwert" if method.kind == "points" else "z-Wert"
    show[score_col] = [fmt.SUPPRESSED if g else fmt.number(v, 2) for v, g in zip(show[score_col], cf["gesperrt"])]
    st.dataframe(show.drop(columns=["id", "Einheit", "gesperrt"]), hide_index=True, width="stretch")
    if cf["gesperrt"].any():
        st.caption(f"{fmt.SUPPRESSED} = Wert aus Datenschutzgründen geschützt (kleine Fallzahl); für Betrachtende zählt "
                   "er im Index als fehlend, sein Gewicht ist auf die übrigen Indikatoren verteilt.")
    st.caption("z-Wert: Abstand zum Durchschnitt der bewerteten Sozialräume in Standardabweichungen, so gedreht, "
               "dass ein höherer z-Wert immer mehr Bedarf bedeutet. Beitrag: Gewichtsanteil × z-Wert, geteilt durch "
               "die Standardabweichung der Summe.")

with t_robust:
    st.markdown(
        "Wie stabil ist die Rangfolge? Für jeden Sozialraum: die Spanne seines Rangs, wenn **je ein Indikator "
        "weggelassen** wird, und wenn **jedes Gewicht einzeln um ±50 %** verändert wird. Sozialräume, deren Klasse sich "
        "schon ändert, wenn ein einzelner Indikator fehlt, sind markiert."
    )
    rob = table[table["rank"].notna()]
    dep = rob[rob["class_depends_on"].map(len) > 0]
    ind_lbl = explain.indicator_labels(cat, res.indicator_ids)
    if len(dep):
        st.markdown("**Klasse hängt an einem einzelnen Indikator:** " + "; ".join(
            f"{r['name']} ({r['class']}; ohne {', '.join(ind_lbl[i] for i in r['class_depends_on'])} andere Klasse)"
            for r in dep.to_dict("records")))
    else:
        st.markdown("Keine Klasse hängt an einem einzelnen Indikator.")
    if len(rob):
        st.vega_lite_chart(spec=robust_spec, width="stretch")
    st.dataframe(pd.DataFrame({
        "Rang": rob["rank"], "Sozialraum": rob["name"], "Klasse": rob["class"],
        "Rang ohne je 1 Indikator": [f"{a}–{b}" for a, b in zip(rob["rank_loo_min"], rob["rank_loo_max"])],
        "Rang bei Gewichten ±50 %": [f"{a}–{b}" for a, b in zip(rob["rank_weights_min"], rob["rank_weights_max"])],
        "Klasse hängt an": [", ".join(ind_lbl[i] for i in d) or fmt.NOTHING for d in rob["class_depends_on"]],
    }), hide_index=True, width="stretch")
    st.subheader("Was der Index sagen kann – und was nicht")
    st.markdown(export.LIMITS_TEXT)

with t_method:
    st.dataframe(export.method_description(method, cat, int(year), res.data_state, get_con()), hide_index=True, width="stretch")
    mjson = method.to_json(indent=2)
    d1, d2 = st.columns(2)
    # built when clicked, not on every run (10,000 Sozialräume: ~10 s)
    d1.download_button("Rangfolge mit Methode (.xlsx)", lambda: _xlsx(stamp, method_json, int(year), view),
                       file_name=f"handlungsbedarf_{year}.xlsx", icon=":material/download:", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    d2.download_button("Methode als JSON-Datei", mjson.encode("utf-8"), file_name="methode.json", mime="application/json",
                       icon=":material/download:")
    st.caption("Dieselbe Rangfolge auf der Kommandozeile: `python -m quartier index --year "
               f"{year} --method-file methode.json --json`")
    stored = _stored(stamp)
    if len(stored):
        st.subheader("Gespeicherte Ergebnisse")
        st.dataframe(pd.DataFrame({
            "Nr.": stored["id"], "Titel": stored["titel"].fillna(""), "Methode": stored["methode_name"],
            "Version": stored["methode_version"], "Jahr": stored["jahr"],
            "Lieferungen": stored["datenstand"].map(lambda t: ", ".join(map(str, json.loads(t)))),
            "gespeichert von": stored["gespeichert_von"], "am": stored["gespeichert_am"].dt.strftime("%d.%m.%Y %H:%M"),
        }), hide_index=True, width="stretch")
        rc1, rc2 = st.columns([2, 1])
        rid = rc1.selectbox("Ergebnis nachrechnen (aus genau seinen Lieferungen)", list(stored["id"]), key="hb_reproduce",
                            format_func=lambda i: f"Nr. {i}")
        if rc2.button("Nachrechnen", key="hb_reproduce_btn"):
            try:
                again = store.reproduce(get_con(), int(rid), actor=access.SYSTEM).to_json()
                same = again == store.stored_result(get_con(), int(rid), actor=access.SYSTEM)
                if same:
                    st.success(f"Ergebnis Nr. {rid} nachgerechnet: identisch mit dem gespeicherten Ergebnis.")
                else:
                    st.error(f"Ergebnis Nr. {rid} weicht beim Nachrechnen ab – bitte die Datenbank prüfen.")
            except index_method.MethodError as exc:
                st.error(str(exc))
    if actor.has(access.EDITOR):
        st.subheader("Speichern (Fachplanung)")
        with st.form("hb_save_method"):
            new_name = st.text_input("Name der Methode", value=method.name)
            ok = st.form_submit_button("Methode speichern")
        if ok:
            try:
                s = index_method.save_method(get_con(), {**method.to_dict(), "name": new_name, "version": None}, actor)
                st.success(f"Methode „{md(s.name)}“ gespeichert (Version {s.version}).")
            except (index_method.MethodError, access.PermissionDenied) as exc:
                st.error(str(exc))
        unsaved = method.version is None
        if unsaved:
            st.info("Ein Ergebnis lässt sich nur mit einer gespeicherten Methode festhalten: bitte zuerst die "
                    "geänderte Methode speichern.")
        with st.form("hb_store_result"):
            title = st.text_input("Titel des Ergebnisses (z. B. Vorlage)", value=f"Handlungsbedarf {year}")
            ok2 = st.form_submit_button("Ergebnis mit Datenstand speichern", disabled=unsaved)
        if ok2:
            try:
                rid = store.store_result(get_con(), res, actor, title)
                st.success(f"Ergebnis Nr. {rid} gespeichert (Lieferungen {', '.join(map(str, res.data_state))}). "
                           f"Nachrechnen: `python -m quartier index --reproduce {rid}`")
            except (index_method.MethodError, access.PermissionDenied) as exc:
                st.error(str(exc))
attribution()
