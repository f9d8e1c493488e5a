"""Cached loaders and small renderers for the map page (and other pages that show the map)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import streamlit as st

from quartier import format as fmt
from quartier.access import Actor
from quartier.areas import classes, corridor, corridor_charts, layers, maps, overlays
from quartier.ui.common import arrow, data_stamp, get_con, setting, view_of
from quartier.ui.pages import PAGES
from quartier.ui.text import md
from quartier.values import coverage, indicators, protection

PROFILE_PAGE = "views/sozialraeume.py"


def con():
    return get_con()


@st.cache_resource(show_spinner=False, max_entries=2)
def _payload(stamp: int) -> layers.GeometryPayload:
    return layers.payload_from_db(get_con())


def payload() -> layers.GeometryPayload:
    """Simplified geometry and GeoJSON payload, built once per data stamp (treat as read-only)."""
    return _payload(data_stamp())


@st.cache_resource(show_spinner=False, max_entries=2)
def _geometry(stamp: int) -> corridor.Geometry:
    return corridor.load_geometry(get_con())


def geometry() -> corridor.Geometry:
    return _geometry(data_stamp())


@st.cache_data(show_spinner=False, max_entries=4)
def _areas(stamp: int) -> pd.DataFrame:
    return indicators.areas(get_con())


def areas() -> pd.DataFrame:
    return _areas(data_stamp())


@st.cache_data(show_spinner=False, max_entries=32)
def _values(stamp: int, indicator_id: str, actor) -> pd.DataFrame:
    return indicators.current_values(get_con(), [indicator_id], actor=actor)


def values(indicator_id: str, actor) -> pd.DataFrame:
    """All years of one indicator, with small-number protection for ``actor``."""
    return _values(data_stamp(), indicator_id, view_of(actor))


@st.cache_data(show_spinner=False, max_entries=64)
def _members(stamp: int, axis: str, width_m: float, share: float) -> pd.DataFrame:
    g = geometry()
    return corridor.membership(g.areas_m, g.ids, g.axes_m[axis], width_m, share)


def members(axis: str, width_m: float, share: float) -> pd.DataFrame:
    return _members(data_stamp(), axis, width_m, share)


@st.cache_resource(show_spinner=False, max_entries=32)
def _band(stamp: int, axis: str, width_m: float):
    return corridor.corridor_polygon(geometry().axes_m[axis], width_m)


def corridor_band(axis: str, width_m: float):
    return _band(data_stamp(), axis, width_m)


@st.cache_resource(show_spinner=False, max_entries=64)
def _corridor_bundle(stamp: int, indicator_id: str, year: int, axis: str, width_m: float, share: float, actor,
                     allow_incomplete: bool = False):
    vals = values(indicator_id, actor)
    mem = members(axis, width_m, share)
    res = corridor.analyse(get_con(), indicator_id, year, width_m, share, axis, actor=actor, geometry=geometry(),
                           values=vals, members=mem, allow_incomplete=allow_incomplete)
    years = corridor.over_years(get_con(), indicator_id, width_m, share, axis, actor=actor, values=vals, members=mem)
    scatter = corridor_charts.scatter_chart(res).to_dict(validate=False)
    trend = (corridor_charts.years_chart(years, res.indicator_name, res.unit, axis, width_m,
                                         decimals=res.dec).to_dict(validate=False)
             if len(years) > 1 else None)
    meta = indicator_meta(indicator_id)
    name, unit = meta["name"], meta["einheit"]
    dec = meta["dezimalstellen"]
    sc = corridor_charts.scatter_frame(res)[["sozialraum", "lage", "abstand_km", "wert"]]
    scatter_table = sc.rename(columns={"sozialraum": "Sozialraum", "lage": "Lage", "abstand_km": "Abstand (km)",
                                       "wert": maps.unit_title(name, unit)})
    years_table = years.assign(
        innen=years["innen"].map(lambda v: fmt.value(v, unit, dec)),
        aussen=years["aussen"].map(lambda v: fmt.value(v, unit, dec)),
        differenz=years["differenz"].map(lambda v: fmt.change(v, unit, dec)),
        r=years["r"].map(lambda v: fmt.number(v, 2)),
    ).rename(columns={"jahr": "Jahr", "innen": "Korridor", "aussen": "Übriges Stadtgebiet",
                      "differenz": "Differenz", "r": "Korrelation r", "gesperrt": "gesperrte Werte"})
    return CorridorView(res, years, scatter, trend, arrow(scatter_table), arrow(years_table))


class CorridorView(NamedTuple):
    result: corridor.CorridorResult
    years: pd.DataFrame
    scatter_spec: dict
    years_spec: dict | None
    scatter_table: pa.Table
    years_table: pa.Table


def corridor_bundle(indicator_id: str, year: int, axis: str, width_m: float, share: float, actor,
                    allow_incomplete: bool = False) -> CorridorView:
    """Corridor result, the years, the two chart specs (Vega-Lite dicts) and their tables, cached per data
    stamp and shared between sessions: treat as read-only."""
    return _corridor_bundle(data_stamp(), indicator_id, int(year), axis, float(width_m), float(share), view_of(actor),
                            bool(allow_incomplete))


class MapView(NamedTuple):
    frame: pd.DataFrame
    cls: classes.Classification
    members: pd.DataFrame | None
    deck: object
    city: dict
    table: pd.DataFrame     # every Sozialraum (downloads)
    table_arrow: pa.Table   # the rows shown: those of the map (one district of a large city)
    summary: str
    legend_html: str
    lisa_table: pd.DataFrame | None = None  # the LISA layer's table alternative (when that layer is shown)


LAYER_VALUES = "werte"
LAYER_LISA = "lisa"
MAP_LAYERS = {LAYER_VALUES: "Werte in Klassen", LAYER_LISA: "Hot Spots und Cold Spots (LISA)"}
LISA_NOTE = ("Lokaler Moran-Test (esda, 999 bedingte Permutationen, Nachbarschaft: gemeinsame Grenze oder Ecke). "
             "Hot Spot: hoher Wert mit hohen Nachbarwerten, Cold Spot: niedriger Wert mit niedrigen, je p < 5 %.")


@st.cache_data(show_spinner="Lokaler Moran-Test läuft …", max_entries=16)
def _lisa(stamp: int, indicator_id: str, year: int, actor) -> pd.DataFrame:
    from quartier.areas import corridor_stats

    meta = indicator_meta(indicator_id)
    frame = maps.map_frame(values(indicator_id, actor), areas(), year, meta["einheit"], meta["richtung"])
    g = geometry()
    return corridor_stats.lisa(g.areas_m, g.ids, frame, meta["einheit"])


def lisa_frame(indicator_id: str, year: int, actor) -> pd.DataFrame:
    """LISA (local Moran) of the indicator and year from the values ``actor`` may see, cached per data stamp."""
    return _lisa(data_stamp(), indicator_id, int(year), view_of(actor))


class _MapData(NamedTuple):
    """The part of the map block that does not depend on what the map highlights or where it looks."""
    frame: pd.DataFrame
    cls: classes.Classification
    members: pd.DataFrame | None
    props: dict             # feature properties per Sozialraum (read-only: shared by the decks)
    corridor_ids: set | None
    tooltip: str
    city: dict
    table: pd.DataFrame
    table_arrow: pa.Table   # all rows
    summary: str
    legend_html: str
    lisa_table: pd.DataFrame | None


@st.cache_resource(show_spinner=False, max_entries=24)
def _map_data(stamp: int, indicator_id: str, year: int, actor, method: str, k: int, palette: str,
              breaks: tuple | None, axis: str | None, width_m: float | None, share: float | None,
              layer: str = LAYER_VALUES) -> _MapData:
    """Values, classes, corridor membership, city value, table, text alternative and legend of one map: a
    new selection, district, basemap or outline only draws another deck (:func:`_map_view`) from these."""
    meta = indicator_meta(indicator_id)
    unit, direction, name = meta["einheit"], meta["richtung"], meta["name"]
    frame = maps.map_frame(values(indicator_id, actor), areas(), year, unit, direction)
    cls = classes.classify(frame["wert"], unit, direction, method, k, palette, vmin=meta["min_wert"],
                        vmax=meta["max_wert"], breaks=list(breaks) if breaks else None, decimals=meta["dezimalstellen"])
    mem = members(axis, width_m, share) if axis else None
    corridor_ids = set(mem.loc[mem["in_corridor"], "sozialraum_id"]) if mem is not None else None
    props = maps.area_properties(frame, cls, name, unit, corridor_ids, decimals=meta["dezimalstellen"])
    tooltip = layers.tooltip_html(name)
    lisa = None
    if layer == LAYER_LISA:
        lisa = lisa_frame(indicator_id, year, actor)
        props = overlays.lisa_properties(props, lisa)
        tooltip += "<br/>Lokales Muster (LISA): <b>{lisa}</b>"
    city = city_value(indicator_id, year, actor, unit)
    table = maps.map_table(frame, cls, mem)
    summary = maps.summary_text(frame, name, unit, year, city["wert"], city["gesperrt"], direction,
                               city_incomplete=city.get("unvollstaendig"), decimals=meta["dezimalstellen"])
    legend_html = classes.legend_html(
        classes.legend(cls, int(frame["gesperrt"].sum()), int((frame["wert"].isna() & ~frame["gesperrt"]).sum())),
        maps.unit_title(name, unit),
        note=("Dunkler = mehr Bedarf (höherer Wert)." if direction == "higher" else
              "Dunkler = mehr Bedarf (niedrigerer Wert)." if direction == "lower" else "Dunkler = höherer Wert.")
        + f" Klassen: {classes.METHODS[method].split(' (')[0]}.",
    )
    lisa_tab = None
    if lisa is not None:
        ids = frame["sozialraum_id"].astype(str).tolist()
        names = dict(zip(ids, frame["sozialraum"].astype(str)))
        by_id = dict(zip(lisa["sozialraum_id"], lisa["cluster"])) if len(lisa) else {}
        legend_html = classes.legend_html(overlays.lisa_legend([by_id.get(i) for i in ids]),
                                          f"Hot Spots und Cold Spots: {name}", note=LISA_NOTE)
        summary = overlays.lisa_summary(lisa, names, name, year, len(ids))
        lisa_tab = overlays.lisa_table(lisa, names, ids)
    return _MapData(frame, cls, mem, props, corridor_ids, tooltip, city, table, arrow(table), summary, legend_html,
                    lisa_tab)


@st.cache_resource(show_spinner=False, max_entries=24)
def _map_view(stamp: int, indicator_id: str, year: int, actor, method: str, k: int, palette: str,
              breaks: tuple | None, axis: str | None, width_m: float | None, share: float | None,
              show_corridor: bool, selected: str | None, bezirk: str, basemap: str | None,
              layer: str = LAYER_VALUES, similar: tuple = ()):
    d = _map_data(stamp, indicator_id, year, actor, method, k, palette, breaks, axis, width_m, share, layer)
    pl = payload()
    view = layers.view_for_bounds(pl.bounds if bezirk not in pl.bezirk_bounds else pl.bezirk_bounds[bezirk])
    only = district_only(pl, bezirk)
    deck = layers.build_deck(
        pl, d.props, axis=axis, selected=selected, only=only,
        highlight=sorted(d.corridor_ids) if (show_corridor and d.corridor_ids) else (),
        corridor=corridor_band(axis, width_m) if (show_corridor and axis) else None,
        view=view, basemap=basemap, tooltip_html=d.tooltip, similar=similar,
    ).freeze()
    # the rows shown: those of the map (one district of a large city); downloads keep all rows
    shown = d.table_arrow if only is None else arrow(d.table[d.table["sozialraum_id"].isin(only)])
    return MapView(d.frame, d.cls, d.members, deck, d.city, d.table, shown, d.summary, d.legend_html, d.lisa_table)


DISTRICT_MAP_FROM = 2000  # from this many Sozialräume a district view sends only its own areas


def large_city(pl: layers.GeometryPayload) -> bool:
    """Thousands of Sozialräume: the map opens on one Stadtbezirk (the whole area is MBs per page view)."""
    return len(pl.ids) >= DISTRICT_MAP_FROM and bool(pl.bezirk_bounds)


def district_only(pl: layers.GeometryPayload, bezirk: str | None) -> set[str] | None:
    """The Sozialräume a district view of a large city draws (None: all)."""
    if not large_city(pl) or bezirk not in pl.bezirk_bounds:
        return None
    return {i for i in pl.ids if pl.bezirk_of.get(i) == bezirk}


def map_view(indicator_id: str, year: int, actor, method: str, k: int, palette: str, axis: str | None,
             width_m: float | None, share: float | None, show_corridor: bool, selected: str | None, bezirk: str,
             basemap: str | None, layer: str = LAYER_VALUES, similar: tuple = ()):
    """Everything the map block shows (frame, classes, corridor membership, deck with frozen JSON, city value,
    table, text alternative, legend), cached per input and data stamp.

    Treat the results as read-only: they are shared between script runs and sessions.
    """
    breaks = fixed_breaks(indicator_id)
    return _map_view(data_stamp(), indicator_id, int(year), view_of(actor), method, int(k), palette,
                     tuple(breaks) if breaks else None, axis, None if width_m is None else float(width_m),
                     None if share is None else float(share), bool(show_corridor), selected, bezirk, basemap,
                     layer if layer in MAP_LAYERS else LAYER_VALUES, tuple(similar))


def indicator_meta(indicator_id: str) -> dict:
    """Name, unit, direction and plausible range of one indicator (read-only, cached per data stamp)."""
    return _indicator_meta(data_stamp(), indicator_id)


@st.cache_resource(show_spinner=False, max_entries=256)
def _indicator_meta(stamp: int, indicator_id: str) -> dict:
    from quartier.ui.widgets import catalogue

    cat = catalogue()
    r = cat[cat["id"] == indicator_id].iloc[0]

    def clean(v):
        return None if pd.isna(v) else v

    return {"name": str(r["name"]), "einheit": clean(r["einheit"]), "richtung": clean(r["richtung"]),
            "min_wert": clean(r["min_wert"]), "max_wert": clean(r["max_wert"]),
            "dezimalstellen": fmt.decimals_for(clean(r["einheit"]), r.get("dezimalstellen"))}


def basemap_setting() -> str | None:
    return setting(maps.SETTING_BASEMAP) or None


def fixed_breaks(indicator_id: str) -> list[float] | None:
    try:
        return maps.parse_breaks(setting(maps.SETTING_BREAKS + indicator_id))
    except ValueError:
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def _city_value(stamp: int, indicator_id: str, year: int, actor: Actor, unit: str | None) -> dict:
    """The city value as ``actor`` may see it: raw from summed numerators/denominators for staff, the
    protected table's city row for viewers (a city total next to one hidden area would reveal it)."""
    cn = get_con()
    t = protection.protected_table(cn, [indicator_id], [year], actor=actor)
    city = t[t["ebene"] == protection.LEVEL_CITY]
    if city.empty:
        return {"wert": None, "gesperrt": False, "unvollstaendig": None}
    c = city.iloc[0]
    incomplete = None
    if not pd.isna(c["gebiete_gesamt"]) and int(c["gebiete_geliefert"]) < int(c["gebiete_gesamt"]):
        incomplete = coverage.text(int(c["gebiete_geliefert"]), int(c["gebiete_gesamt"]))
    return {"wert": None if pd.isna(c["wert"]) else float(c["wert"]), "gesperrt": bool(c["gesperrt"]),
            "unvollstaendig": incomplete}


def city_value(indicator_id: str, year: int, actor, unit: str | None) -> dict:
    return _city_value(data_stamp(), indicator_id, year, view_of(actor), unit)


def profile_page_registered() -> bool:
    return Path(PROFILE_PAGE).exists() and any(p.file == PROFILE_PAGE for p in PAGES)


def key_figures(sid: str, frame: pd.DataFrame, members: pd.DataFrame | None, unit: str | None, year: int,
                city: dict, payload: layers.GeometryPayload, decimals: int | None = None) -> None:
    """Key figures of the selected Sozialraum beside the map (``decimals``: the indicator's)."""
    row = frame[frame["sozialraum_id"] == sid]
    if row.empty:
        return
    r = row.iloc[0]
    dec = classes.decimals_for(unit) if decimals is None else decimals
    n_ranked = int(frame["rang"].notna().sum())
    st.markdown(f"#### {md(r['sozialraum'])}")
    st.caption(f"Nr. {md(sid)} · Stadtbezirk {md(r['bezirk'] or fmt.NOTHING)}")
    lines = [f"- **Wert {year}:** {fmt.value(r['wert'], unit, dec, suppressed=bool(r['gesperrt']))}"]
    if r["gesperrt"]:
        lines.append(f"- gesperrt ({fmt.SUPPRESSED}): kleine Fallzahl, aus Datenschutzgründen nicht ausgewiesen")
    if not pd.isna(r["nenner"]):
        z = fmt.SUPPRESSED if r["gesperrt"] or pd.isna(r["zaehler"]) else fmt.integer(r["zaehler"])
        lines.append(f"- **Zähler / Nenner:** {z} / {fmt.integer(r['nenner'])}")
        if maps.small_base(r["nenner"]):
            lines.append("- Hinweis: kleine Basis, Wert mit Vorsicht lesen")
    if not pd.isna(r["rang"]):
        lines.append(f"- **Rang:** {int(r['rang'])} von {n_ranked}")
    if r["veraenderung"] is not None and not pd.isna(r["veraenderung"]):
        lines.append(f"- **Veränderung zu {int(r['vorjahr_jahr'])}:** {fmt.change(r['veraenderung'], unit, dec)}")
    if city.get("unvollstaendig"):
        lines.append(f"- **Gesamtstadt:** {city['unvollstaendig']}")
    elif city["gesperrt"]:
        lines.append(f"- **Gesamtstadt:** {fmt.SUPPRESSED}")
    elif city["wert"] is not None:
        lines.append(f"- **Gesamtstadt:** {fmt.value(city['wert'], unit, dec)}")
    if members is not None:
        m = members[members["sozialraum_id"] == sid]
        if len(m):
            m = m.iloc[0]
            lines.append(f"- **Korridor:** {'ja' if m['in_corridor'] else 'nein'} "
                         f"({fmt.integer(m['area_share'] * 100)} % der Fläche, Mittelpunkt {fmt.integer(m['distance_m'])} m "
                         "von der Achse)")
    st.markdown("\n".join(lines))
    if profile_page_registered():
        st.page_link(PROFILE_PAGE, label=f"Profil von {r['sozialraum']}", icon=":material/arrow_forward:",
                     query_params={"sr": sid})


@st.cache_data(show_spinner="Permutationstest läuft …", max_entries=32)
def _corridor_test(stamp: int, indicator_id: str, year: int, axis: str, width_m: float, share: float, actor):
    from quartier.areas import corridor_stats

    # the bundle of the page (same arguments, spelled out: a default left out would be another cache key)
    res = _corridor_bundle(stamp, indicator_id, year, axis, width_m, share, actor, False).result
    t = corridor_stats.for_result(geometry(), res)
    names = dict(zip(res.areas["sozialraum_id"], res.areas["name"]))
    lisa = t.lisa.assign(Sozialraum=t.lisa["sozialraum_id"].map(names) if len(t.lisa) else [])
    table = pd.DataFrame({"Sozialraum": lisa.get("Sozialraum", []), "Nr.": lisa.get("sozialraum_id", []),
                          "Lokales Muster (LISA)": lisa.get("cluster", []),
                          "p": [fmt.number(p, 3) for p in lisa.get("p", [])]})
    return corridor_stats.sentence(t, axis), t.test_json(), t.moran_json(), table


def corridor_test(indicator_id: str, year: int, axis: str, width_m: float, share: float, actor):
    """(sentence, test JSON, Moran JSON, LISA table) for the corridor section, cached per data stamp."""
    return _corridor_test(data_stamp(), indicator_id, int(year), axis, float(width_m), float(share), view_of(actor))
