"""Streamlit glue for the page "Sozialräume": cached loaders, URL state, definitions, downloads."""

from __future__ import annotations

import re
from types import FunctionType

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier import tables
from quartier.access import Actor
from quartier.actions import store
from quartier.actions.model import STATUS_BY_NAME
from quartier.ui import vega
from quartier.ui.common import data_stamp, get_con
from quartier.ui.text import md
from quartier.ui.widgets import set_shared_bezirk, shared_bezirk
from quartier.values import charts, indicators, series, uncertainty

VIEWS = ["Zeitreihen", "Steckbrief", "Vergleich"]
VIEW_SLUGS = {"zeitreihen": "Zeitreihen", "steckbrief": "Steckbrief", "vergleich": "Vergleich"}
MODE_AREAS, MODE_DISTRICT = "Sozialräume", "Stadtbezirk"
K_MODE, K_SR, K_BEZ, K_IND, K_VIEW, K_PROFILE, K_URL = (
    "sr_modus", "sr_auswahl", "sr_bezirk", "sr_indikatoren", "sr_ansicht", "sr_steckbrief", "_sr_url")


def _default_indicators() -> list[str]:
    """The catalogue's default indicator (never an id written in code)."""
    from quartier.values import indicators

    iid = indicators.default_indicator(get_con())
    return [iid] if iid else []


def _actor_key(actor: Actor) -> tuple:
    """What the loaders' results depend on: only whether raw values may be seen (not the name), so all
    viewers share one cached result."""
    return (bool(actor.can_see_raw),)


def _actor(key: tuple) -> Actor:
    from quartier.access import ADMIN, VIEWER

    return Actor("cache", ADMIN, raw_data=True) if key[0] else Actor("cache", VIEWER, raw_data=False)


@st.cache_data(show_spinner=False, max_entries=64)
def _series(stamp: int, actor_key: tuple, indicator_ids: tuple, sozialraum_ids: tuple) -> series.SeriesData:
    return series.load_series(get_con(), list(indicator_ids), list(sozialraum_ids), actor=_actor(actor_key))


@st.cache_data(show_spinner=False, max_entries=64)
def _profile(stamp: int, actor_key: tuple, sozialraum_id: str):
    return series.profile(get_con(), sozialraum_id, actor=_actor(actor_key))


@st.cache_data(show_spinner=False)
def _areas(stamp: int) -> pd.DataFrame:
    return indicators.areas(get_con())


@st.cache_data(show_spinner=False)
def _bezirke(stamp: int) -> pd.DataFrame:
    return indicators.bezirke(get_con())


@st.cache_data(show_spinner=False)
def _catalogue(stamp: int) -> pd.DataFrame:
    return indicators.catalogue(get_con())


@st.cache_data(show_spinner=False, max_entries=64)
def _steckbrief_chart(stamp: int, actor_key: tuple, sozialraum_id: str, city: str) -> tuple[pd.DataFrame, dict]:
    _, pdata = _profile(stamp, actor_key, sozialraum_id)
    mframe = charts.multiples_frame(pdata.values, pdata.refs, pdata.meta, city=city)
    return mframe, vega.spec_of(charts.german(charts.small_multiples(mframe)))


def steckbrief_chart(actor: Actor, sozialraum_id: str, city: str) -> tuple[pd.DataFrame, dict]:
    """(frame, Vega-Lite spec) of the small multiples of a Steckbrief, built once per data stamp (building the
    Altair chart of all indicators is most of a Steckbrief run); rebuild the chart from the frame for exports."""
    return _steckbrief_chart(data_stamp(), _actor_key(actor), sozialraum_id, city)


def load_series(actor: Actor, indicator_ids: list[str], sozialraum_ids: list[str]) -> series.SeriesData:
    return _series(data_stamp(), _actor_key(actor), tuple(indicator_ids), tuple(sozialraum_ids))


def load_profile(actor: Actor, sozialraum_id: str):
    return _profile(data_stamp(), _actor_key(actor), sozialraum_id)


def areas() -> pd.DataFrame:
    return _areas(data_stamp())


def bezirke() -> pd.DataFrame:
    return _bezirke(data_stamp())


def catalogue() -> pd.DataFrame:
    return _catalogue(data_stamp())


# --------------------------------------------------------------------------------------------
# URL state: ?sr=P004,P017&ind=ind_a,ind_b  |  ?bezirk=nord  |  &ansicht=vergleich


def _url_key() -> tuple:
    qp = st.query_params
    return tuple(tuple(qp.get_all(k)) for k in ("sr", "ind", "bezirk", "ansicht"))


def restore_from_url() -> list[str]:
    """On first load or when the URL changed (a link from another page), put the URL's choice into the
    widgets' state. Returns ids from the URL that do not exist."""
    key = _url_key()
    if st.session_state.get(K_URL) == key and K_IND in st.session_state:
        return []
    qp = st.query_params
    shared = st.session_state.get("sel_indikator")
    sel = series.resolve_selection(get_con(), sr=qp.get_all("sr"), ind=qp.get_all("ind"), bezirk=qp.get_all("bezirk"),
                                   default_indicators=([shared] if shared else []) + _default_indicators())
    bezirk, chosen = sel.bezirk, list(sel.sozialraeume)
    if bezirk:
        set_shared_bezirk(bezirk)  # a link wins over the district chosen on another page
    elif not qp.get_all("sr") and shared_bezirk() in set(bezirke()["id"]):
        bezirk = shared_bezirk()  # no areas in the address: the district chosen on another page
        chosen = list(areas().loc[areas()["bezirk_id"] == bezirk, "id"])
    st.session_state[K_MODE] = MODE_DISTRICT if bezirk else MODE_AREAS
    if bezirk:
        st.session_state[K_BEZ] = bezirk
    st.session_state[K_SR] = chosen if not bezirk else []
    st.session_state[K_IND] = sel.indikatoren
    view = VIEW_SLUGS.get(str(qp.get("ansicht", "")).lower())
    if view is None:
        view = "Steckbrief" if len(chosen) == 1 else "Zeitreihen"
    st.session_state[K_VIEW] = view
    if len(chosen) >= 1:
        st.session_state[K_PROFILE] = chosen[0]
    st.session_state[K_URL] = key
    return sel.unbekannt


def write_url(mode: str, srs: list[str], bezirk: str | None, inds: list[str], view: str) -> None:
    params: dict[str, str] = {}
    if mode == MODE_DISTRICT and bezirk:
        params["bezirk"] = bezirk
    elif srs:
        params["sr"] = ",".join(srs)
    if inds:
        params["ind"] = ",".join(inds)
    params["ansicht"] = view.lower()
    current = {k: ",".join(st.query_params.get_all(k)) for k in st.query_params}
    if current != params:
        st.query_params.from_dict(params)
    st.session_state[K_URL] = _url_key()


# --------------------------------------------------------------------------------------------
# rendering helpers


def definition_md(meta_row: pd.Series) -> str:
    def val(k):
        v = meta_row.get(k)
        return fmt.NOTHING if v is None or (isinstance(v, float) and pd.isna(v)) or v == "" else str(v)

    return "\n".join([
        f"**{val('name')}**",
        "",
        f"- **Definition:** {val('definition')}",
        f"- **Zähler:** {val('zaehler_def')}",
        f"- **Nenner:** {val('nenner_def')}",
        f"- **Quelle (Lieferant):** {val('lieferant')}",
        f"- **Einheit:** {val('einheit')}",
        f"- **Richtung:** {indicators.DIRECTION_LABEL.get(meta_row.get('richtung') if pd.notna(meta_row.get('richtung')) else None)}",
        f"- **Handlungsfeld:** {val('handlungsfeld')}",
    ])


def definition_popover(meta_row: pd.Series, container=None) -> None:
    c = container or st
    with c.popover(f"Definition: {meta_row.get('kurzname') or meta_row.get('name')}", icon=":material/info:"):
        st.markdown(definition_md(meta_row))


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:60] or "daten"


def downloads(table: pd.DataFrame, chart, name: str, key: str) -> None:
    """Download buttons: data as .xlsx/.csv (formula-neutralised), chart as SVG/PNG (built on click;
    ``chart``: the Altair chart, or a function building it)."""
    base = safe_name(name)
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Daten (.xlsx)", data=lambda: tables.to_xlsx_bytes({"Daten": table}), file_name=f"{base}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
                       on_click="ignore", icon=":material/table:")
    c2.download_button("Daten (.csv)", data=lambda: tables.to_csv_bytes(table), file_name=f"{base}.csv", mime="text/csv",
                       key=f"{key}_csv", on_click="ignore", icon=":material/description:")
    if chart is not None:  # the export chart is built only when a download is clicked (not on every run)
        def export():
            return charts.german(charts.export_width(chart() if isinstance(chart, FunctionType) else chart))

        c3.download_button("Grafik (.svg)", data=lambda: charts.to_svg(export()).encode("utf-8"),
                           file_name=f"{base}.svg", mime="image/svg+xml", key=f"{key}_svg", on_click="ignore",
                           icon=":material/image:")
        c4.download_button("Grafik (.png)", data=lambda: charts.to_png(export()), file_name=f"{base}.png",
                           mime="image/png", key=f"{key}_png", on_click="ignore", icon=":material/image:")


def line_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The accessible table of a line chart (German text values)."""
    t = frame[["reihe", "jahr", "wert_text", "zaehler_text", "nenner_text", "rang_text", "status_text", "lieferung"]].copy()
    t.columns = ["Reihe", "Jahr", "Wert", "Zähler", "Nenner", "Rang", "Status", "Lieferung"]
    if "umgerechnet" in frame and (frame["umgerechnet"].fillna("") != "").any():
        t["Umrechnung"] = frame["umgerechnet"].fillna("").to_numpy()  # the text of the "*" mark (Issue 19)
    t["Jahr"] = t["Jahr"].astype(str)
    return t


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers (not text) for the download of a chart's data."""
    cols = [c for c in ["indikator_id", "titel", "reihe", "art", "sozialraum", "jahr", "wert", "zaehler", "nenner",
                        "status", "rang", "n_rang", "wert_stadt", "lieferung", "umgerechnet"] if c in frame.columns]
    return frame[cols].rename(columns={"status": "status"})


def trend_md(delta, richtung, unit, since: str, decimals: int | None = None) -> str:
    """A change with arrow, sign and its meaning in words; coloured (blue good, orange bad) as a second carrier."""
    t = series.trend(delta, richtung, unit)
    if not t.richtung:
        return f"{since}: {fmt.NOTHING}"
    text = f"{t.symbol} {fmt.change(delta, unit, decimals)} {since} – {t.text}"
    if t.bewertung == "verbessert":
        return f":blue[{text}]"
    if t.bewertung == "verschlechtert":
        return f":orange[{text}]"
    return text


def tested_trend_md(r: dict, k: int, since: str) -> str:
    """The change against year − k: arrow and meaning only when the test calls it auffällig
    (:mod:`quartier.values.uncertainty`); otherwise the change in words without an arrow."""
    delta, unit, flag = r.get(f"aenderung_{k}"), r["einheit"], r.get(f"auffaellig_{k}")
    if flag is True:
        return trend_md(delta, r["richtung"], unit, since, _dec(r)) + " (auffällig)"
    if pd.isna(delta):
        return f"{since}: {fmt.NOTHING}"
    if flag is False:
        return f"{fmt.change(delta, unit, _dec(r))} {since} – nicht auffällig (im Rahmen des Zufalls)"
    return f"{fmt.change(delta, unit, _dec(r))} {since} – ohne Prüfung (Zähler oder Nenner fehlen)"


def value_text(r: dict) -> str:
    """'12,4 % (9,8–15,5)': the value with its 95 % interval (German decimals)."""
    return uncertainty.text(r["wert"], r.get("ki_unten"), r.get("ki_oben"), r["einheit"], _dec(r))


def _dec(r: dict) -> int | None:
    """The decimals of a profile row's indicator (catalogue ``dezimalstellen``, else by unit)."""
    d = r.get("dezimalstellen")
    return None if d is None or pd.isna(d) else int(d)


def show_chart(chart, alt_text: str, spec: dict | None = None) -> None:
    """The chart (or its ready ``spec``, see :func:`steckbrief_chart`) with its text alternative below."""
    if spec is None:
        vega.altair_chart(charts.german(chart), width="stretch", theme=None, alt=alt_text)
    else:
        st.vega_lite_chart(spec=spec, width="stretch", theme=None, alt=alt_text)
    st.caption(alt_text)


def line_summary(frame: pd.DataFrame, unit, limit: int = charts.MAX_LEGEND) -> str:
    """Text alternative of a line chart: the latest value of every series (with many Sozialräume: the
    references and the three highest and lowest values)."""
    def text(r) -> str:
        out = f"{r['reihe']} {int(r['jahr'])}: {r['wert_text']}"
        return out + (f" (Rang {r['rang_text']})" if r["rang_text"] != fmt.NOTHING else "")

    if frame.empty:
        return "Keine Werte."
    last = frame.sort_values("jahr").groupby("reihe", sort=False).tail(1)
    areas_last = last[last["art"] == "Sozialraum"]
    refs_last = last[last["art"] != "Sozialraum"]
    if len(areas_last) <= limit:
        return "Letzte Werte – " + "; ".join(text(r) for r in last.to_dict("records")) + "."
    ok = areas_last[areas_last["wert"].notna()].sort_values("wert", ascending=False)
    parts = [f"{len(areas_last)} Sozialräume"]
    if len(ok):
        parts.append("höchste: " + ", ".join(text(r) for r in ok.head(3).to_dict("records")))
        parts.append("niedrigste: " + ", ".join(text(r) for r in ok.tail(3).to_dict("records")))
    parts += [text(r) for r in refs_last.to_dict("records")]
    return "Letzte Werte – " + "; ".join(parts) + ". Alle Werte in der Tabelle."


def _ref(r: dict, level: str, unit) -> str:
    """A reference value ('stadt'/'bezirk') of a profile row, or why it has none (incomplete delivery)."""
    note = r.get(f"{level}_hinweis")
    return note if isinstance(note, str) else fmt.value(r[f"wert_{level}"], unit, _dec(r))


def bar_summary(frame: pd.DataFrame, unit, city: str, limit: int = charts.MAX_LEGEND, decimals: int | None = None) -> str:
    rows = frame.to_dict("records")
    if len(rows) > limit:
        ok = frame[frame["wert"].notna()].sort_values("wert", ascending=False).to_dict("records")
        rows = ok[:3] + ok[-3:] if len(ok) > 6 else ok
        head = f"{len(frame)} Sozialräume, höchste und niedrigste Werte – "
    else:
        head = "Werte – "
    parts = [f"{r['sozialraum']}: {r['wert_text']}" for r in rows]
    cv = frame["wert_stadt"].dropna()
    ref = f" Gesamtstadt {city}: {fmt.value(cv.iloc[0], unit, decimals)}." if len(cv) else ""
    return f"{int(frame['jahr'].iloc[0])}: " + head + "; ".join(parts) + "." + ref


def population_block(pop: pd.DataFrame, city: str) -> None:
    st.markdown("#### Bevölkerung und Altersstruktur")
    have = pop.dropna(subset=["einwohner"]) if len(pop) else pop
    if have.empty:
        st.write("Keine Einwohnerzahlen geliefert.")
        return
    last = have.iloc[-1]
    y = int(last["jahr"])
    c = st.columns(4)
    c[0].metric(f"Bevölkerung {y}", fmt.integer(last["einwohner"]), border=True)
    c[1].metric(f"unter 18 Jahren {y}", fmt.integer(last["unter_18"]), border=True)
    c[2].metric(f"18 Jahre und älter {y}", fmt.integer(last["ab_18"]), border=True)
    c[3].metric(f"Anteil unter 18 {y}", fmt.value(last["anteil_u18"], "%"), border=True,
                delta=None if pd.isna(last["anteil_u18_stadt"]) else f"{city}: {fmt.value(last['anteil_u18_stadt'], '%')}",
                delta_color="off", delta_arrow="off")
    with st.expander("Tabelle: Bevölkerung je Jahr"):
        t = pd.DataFrame({
            "Jahr": pop["jahr"].astype(str), "Einwohner": pop["einwohner"].map(fmt.integer),
            "unter 18": pop["unter_18"].map(fmt.integer), "18 und älter": pop["ab_18"].map(fmt.integer),
            "Anteil unter 18": pop["anteil_u18"].map(lambda v: fmt.value(v, "%")),
            f"Anteil unter 18 {city}": pop["anteil_u18_stadt"].map(lambda v: fmt.value(v, "%")),
        })
        st.dataframe(t, hide_index=True, width="stretch")


def _rank_text(r) -> str:
    if pd.isna(r.get("rang")) or pd.isna(r.get("n_rang")):
        return "kein Rang" if r.get("richtung") not in ("higher", "lower") else f"Rang {fmt.NOTHING}"
    return f"Rang {int(r['rang'])} von {int(r['n_rang'])}"


def version_notice() -> None:
    """"Werte vor JJJJ auf heutige Sozialräume umgerechnet" where values of an earlier Gebietsstand are shown."""
    from quartier.areas.versions import change_notice

    text = change_notice(get_con())
    if text:
        st.caption(f":material/layers: {text}.")


def profile_cards(prof: pd.DataFrame, meta: pd.DataFrame, per_row: int = 3) -> None:
    """One bordered card per indicator: latest value, rank, changes with arrow and meaning, references."""
    version_notice()
    recs = prof.to_dict("records")
    for start in range(0, len(recs), per_row):
        cols = st.columns(per_row)
        for col, r in zip(cols, recs[start:start + per_row]):
            unit = r["einheit"]
            year = r["jahr"]
            with col.container(border=True):
                st.markdown(f"**{md(r['kurzname'] or r['name'])}** ({year if year is not None else fmt.NOTHING})",
                            help=definition_md(meta.loc[r["indikator_id"]]))
                if r["status"] == series.STATUS_SUPPRESSED:
                    st.markdown(f"### {fmt.SUPPRESSED} gesperrt")
                elif r["status"] == series.STATUS_MISSING:
                    st.markdown(f"### {fmt.NOTHING} kein Wert")
                else:
                    st.markdown(f"### {value_text(r)}",
                                help="In Klammern: 95-%-Intervall (Wilson-Score für Anteile, exakt nach Poisson für Anzahlen).")
                    if r.get("kleine_basis"):
                        st.caption(f"Vorsicht, {r['kleine_basis']}: der Wert schwankt stark.")
                if _umr(r):  # re-allocated from an earlier Gebietsstand (Issue 19): the method, in words
                    st.caption(f":material/layers: {md(_umr(r))}")
                st.markdown(_rank_text(r))
                y1 = f"ggü. {year - 1}" if year is not None else "ggü. Vorjahr"
                y5 = f"ggü. {year - 5}" if year is not None else "ggü. 5 Jahren"
                st.markdown(tested_trend_md(r, 1, y1) + "  \n" + tested_trend_md(r, 5, y5))
                if (unit or "").strip().lower() != "anzahl":
                    st.caption(f"Stadtbezirk: {_ref(r, 'bezirk', unit)} · Stadt: {_ref(r, 'stadt', unit)}")


def _not_tested(flag, text: str) -> str:
    if text == "keine Angabe":
        return text
    return "nicht auffällig" if flag is False else "ohne Prüfung"


def profile_table(prof: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in prof.to_dict("records"):
        unit = r["einheit"]
        t1 = series.trend(r.get("aenderung_1"), r["richtung"], unit)
        t5 = series.trend(r.get("aenderung_5"), r["richtung"], unit)
        rows.append({
            "Kennzahl": r["name"], "Jahr": str(r["jahr"]) if r["jahr"] is not None else fmt.NOTHING,
            "Wert": (fmt.SUPPRESSED if r["status"] == series.STATUS_SUPPRESSED else value_text(r))
                    + (f" {charts.UMR_MARK}" if _umr(r) else ""),
            "Basis": r.get("kleine_basis") or "",
            "Rang": _rank_text(r).replace("Rang ", ""),
            "Änderung 1 Jahr": fmt.change(r.get("aenderung_1"), unit, _dec(r)),
            "Bewertung 1 Jahr": t1.text if r.get("auffaellig_1") is True else _not_tested(r.get("auffaellig_1"), t1.text),
            "Änderung 5 Jahre": fmt.change(r.get("aenderung_5"), unit, _dec(r)),
            "Bewertung 5 Jahre": t5.text if r.get("auffaellig_5") is True else _not_tested(r.get("auffaellig_5"), t5.text),
            "Stadtbezirk": _ref(r, "bezirk", unit), "Stadt": _ref(r, "stadt", unit),
            "Lieferung": r.get("lieferung") or fmt.NOTHING,
            "Umrechnung": _umr(r),
        })
    out = pd.DataFrame(rows)
    return out if (out.get("Umrechnung", pd.Series(dtype=str)) != "").any() else out.drop(columns="Umrechnung", errors="ignore")


def _umr(r: dict) -> str:
    """The method of a value re-allocated from an earlier Gebietsstand, else ""."""
    u = r.get("umgerechnet")
    return u if isinstance(u, str) else ""


def recommendations_block(sozialraum_id: str, actor: Actor) -> None:
    st.markdown("#### Handlungsempfehlungen")
    recs = store.of_sozialraum(get_con(), sozialraum_id, actor=actor)
    if len(recs) == 0:
        st.write("Für diesen Sozialraum sind keine Handlungsempfehlungen erfasst.")
        return
    names = {"id": "Nr.", "titel": "Handlungsempfehlung", "handlungsfeld": "Handlungsfeld", "status": "Umsetzungsstand",
             "fortschritt": "Fortschritt (%)", "federfuehrung": "Federführung", "ende_geplant": "Ende geplant"}
    t = recs.copy()
    flags = []
    for col, word in (("ueberfaellig", "überfällig"), ("ohne_aktualisierung", "ohne Aktualisierung")):
        if col in t:
            flags.append(t[col].fillna(False).astype(bool).map(lambda b, w=word: w if b else ""))
            t = t.drop(columns=col)
    if flags:
        t["Hinweis"] = [", ".join(x for x in xs if x) or fmt.NOTHING for xs in zip(*flags)]
    if "status" in t:  # the catalogue's status symbols (a second carrier besides the word)
        t["status"] = [f"{STATUS_BY_NAME[x].symbol} {x}" if x in STATUS_BY_NAME else x for x in t["status"]]
    t = t.rename(columns=names)
    if "Ende geplant" in t:
        t["Ende geplant"] = pd.to_datetime(t["Ende geplant"], errors="coerce").dt.strftime("%d.%m.%Y").fillna(fmt.NOTHING)
    st.dataframe(t, hide_index=True, width="stretch")
    counts = recs["status"].value_counts() if "status" in recs else pd.Series(dtype=int)
    st.caption(f"{len(recs)} Handlungsempfehlungen: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")


def offers_block(sozialraum_id: str, actor: Actor) -> None:
    """The open offers of the area (Angebote), a short table."""
    from quartier.offers.store import offers_in_area

    st.markdown("#### Angebote")
    df = offers_in_area(get_con(), sozialraum_id, actor=actor)
    if df.empty:
        st.write("Für diesen Sozialraum sind keine geöffneten Angebote erfasst.")
        return
    st.dataframe(df[["kategorie", "name", "traeger", "plaetze", "adresse"]].rename(columns={
        "kategorie": "Kategorie", "name": "Angebot", "traeger": "Träger", "plaetze": "Plätze", "adresse": "Adresse"}),
        hide_index=True, width="stretch", column_config={"Plätze": st.column_config.NumberColumn(format="localized")})


def comparison_table(comp: pd.DataFrame, meta: pd.DataFrame, city: str):
    """Sozialräume x indicators (numbers, sortable) plus the column configuration with units."""
    if comp.empty:
        return pd.DataFrame(), {}
    base = comp.drop_duplicates("sozialraum_id")[["sozialraum_id", "sozialraum", "bezirk"]]
    wide = base.rename(columns={"sozialraum_id": "Nr.", "sozialraum": "Sozialraum", "bezirk": "Stadtbezirk"}).set_index("Nr.")
    config = {}
    city_row: dict = {"Sozialraum": f"{city} (Stadt)", "Stadtbezirk": ""}
    for iid, part in comp.groupby("indikator_id", sort=False):
        unit = meta.loc[iid, "einheit"] if iid in meta.index else None
        label = charts.unit_title(str(meta.loc[iid, "kurzname"] or meta.loc[iid, "name"]), unit)
        dec = fmt.decimals_for(unit, meta.loc[iid, "dezimalstellen"] if "dezimalstellen" in meta.columns else None)
        wide[label] = part.set_index("sozialraum_id")["wert"].reindex(wide.index).round(dec).to_numpy()
        rank_label = f"Rang {meta.loc[iid, 'kurzname'] or iid}"
        if meta.loc[iid, "richtung"] in ("higher", "lower"):
            wide[rank_label] = part.set_index("sozialraum_id")["rang"].reindex(wide.index).to_numpy()
            config[rank_label] = st.column_config.NumberColumn(rank_label, format="%d")
            city_row[rank_label] = float("nan")
        city_row[label] = round(float(part["wert_stadt"].iloc[0]), dec) if len(part) and pd.notna(part["wert_stadt"].iloc[0]) else None
        config[label] = st.column_config.NumberColumn(label, format="localized",
                                                      help=f"{meta.loc[iid, 'name']}; leer = gesperrt oder nicht geliefert")
    out = pd.concat([wide.reset_index(), pd.DataFrame([{"Nr.": "", **city_row}])], ignore_index=True)
    return out, config
