"""Cached loaders and the deck for the page "Angebote" (offers over the need map, reach outline, planning grid)."""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
import streamlit as st  # noqa: I001 - after the core imports on purpose (ui only)

from quartier import format as fmt
from quartier.areas import layers
from quartier.offers import catalogue, gaps, locate, store, supply
from quartier.ui import karte
from quartier.ui.common import arrow, data_stamp, get_con, view_of
from quartier.values.charts import german

LAYER_OFFERS = "angebote"
LAYER_SYMBOLS = "angebote-symbole"
LAYER_REACH = "reichweite"
LAYER_GRID = "planraster"
LAYER_PLANNED = "geplant"
LAYER_SUGGESTED = "vorschlaege"
GLYPH = {"Kreis": "●", "Quadrat": "■", "Dreieck": "▲", "Raute": "◆", "Stern": "★", "Kreuz": "✚"}
NEED_COLORS = [[254, 235, 226], [251, 180, 185], [247, 104, 161], [197, 27, 138], [122, 1, 119]]  # RdPu
NO_NEED = [215, 215, 215]
# Literal strings for layer props. pydeck turns a plain string (and a list of strings) into an accessor
# expression ("@@=pixels"); deck.gl then got radiusUnits = a function (every point drawn over the whole map)
# and TextLayer characterSet = a function ("function is not iterable"): the dark Angebote map of issue 17.
PIXELS = pdk.types.String("pixels")
AUTO = pdk.types.String("auto")


def _rgb(hexcolor: str | None) -> list[int]:
    h = (hexcolor or "#000000").lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)]


@st.cache_data(show_spinner=False, max_entries=4)
def _categories(stamp: int) -> pd.DataFrame:
    return catalogue.categories(get_con())


def categories() -> pd.DataFrame:
    return _categories(data_stamp())


@st.cache_resource(show_spinner=False, max_entries=8)
def _need(stamp: int, year: int, actor, indicator: str | None) -> supply.Need:
    if indicator:
        return gaps.need_from_indicator(get_con(), indicator, year, actor=actor)
    from quartier.need.saved import need_classes  # the UI layer may combine need and offers

    label, rank, order, source = need_classes(get_con(), year, actor=actor)
    return supply.Need(label, rank, order, source)


def need(year: int, actor, indicator: str | None = None) -> supply.Need:
    return _need(data_stamp(), int(year), view_of(actor), indicator)


@st.cache_resource(show_spinner=False, max_entries=32)
def _supply(stamp: int, kat: str, year: int, radius: float, planned: tuple, actor, need_ind: str | None) -> supply.Supply:
    return supply.supply(get_con(), kat, year, radius, planned=[supply.Planned(*p) for p in planned],
                         need=need(year, actor, need_ind), actor=actor)


def supply_for(kat: str, year: int, radius: float, planned: list[dict], actor, need_ind: str | None) -> supply.Supply:
    """The supply result, cached per input (planned offers included) and data stamp; read-only."""
    key = tuple((float(p["lon"]), float(p["lat"]), p.get("plaetze"), p.get("name") or "geplant") for p in planned)
    return _supply(data_stamp(), kat, int(year), float(radius), key, view_of(actor), need_ind)


@st.cache_data(show_spinner=False, max_entries=16)
def _suggest(stamp: int, kat: str, n: int, radius: float, year: int, actor, need_ind: str | None) -> dict:
    return locate.suggest(get_con(), kat, n, radius, year, need(year, actor, need_ind), actor=actor)


def suggest(kat: str, n: int, radius: float, year: int, actor, need_ind: str | None) -> dict:
    return _suggest(data_stamp(), kat, int(n), float(radius), int(year), view_of(actor), need_ind)


@st.cache_resource(show_spinner=False, max_entries=4)
def _grid(stamp: int) -> list[dict]:
    city = store.city_geometry(get_con())
    x, y, where = locate.grid_inside(city, 250)
    lon, lat = store.to_wgs_xy(x, y)
    names = dict(zip(city.ids, city.names))
    return [{"lon": round(float(a), 6), "lat": round(float(b), 6), "position": [round(float(a), 6), round(float(b), 6)],
             "name": "Planungspunkt", "bezirk": "", "text":
             f"Hier ein geplantes Angebot setzen ({names.get(w, w)})"} for a, b, w in zip(lon, lat, where)]


def grid() -> list[dict]:
    """Clickable planning points inside the city (a map click on one places a planned offer there)."""
    return _grid(data_stamp())


def reach_geojson(res: supply.Supply) -> dict | None:
    if not len(res.reach_parts):
        return None
    u = shapely.union_all(res.reach_parts).simplify(5)
    g = shapely.transform(u, lambda c: np.column_stack(store.to_wgs_xy(c[:, 0], c[:, 1])))
    return {"type": "Feature", "geometry": layers.geometry_dict(g), "properties": {}}


def area_props(res: supply.Supply) -> dict[str, dict]:
    order = {c: i for i, c in enumerate(res_need_order(res))}
    out = {}
    for r in res.table.to_dict("records"):
        k = order.get(r["bedarf_klasse"])
        fill = NEED_COLORS[min(len(NEED_COLORS) - 1, round(k * (len(NEED_COLORS) - 1) / max(1, len(order) - 1)))] \
            if k is not None else NO_NEED
        out[r["id"]] = {"fill": fill + [170], "name": r["name"], "bezirk": r["bezirk"] or "",
                        "text": f"Bedarf: {r['bedarf_klasse'] or 'ohne Klasse'} · {int(r['angebote'])} Angebote · "
                                f"{fmt.number(r['erreichbar_anteil'] * 100, 0)} % in Reichweite"}
    return out


def res_need_order(res: supply.Supply) -> list[str]:
    labels = [c for c in res.table.sort_values("bedarf_rang")["bedarf_klasse"].dropna().unique()]
    return labels


def _point_layers(pts: pd.DataFrame, cats: pd.DataFrame) -> list[pdk.Layer]:
    c = cats.set_index("name")
    data = []
    for r in pts.dropna(subset=["lon", "lat"]).to_dict("records"):
        kat = r.get("kategorie")
        color = _rgb(c.loc[kat, "farbe"]) if kat in c.index else [0, 0, 0]
        sym = c.loc[kat, "symbol"] if kat in c.index else None
        glyph = GLYPH.get(sym, "●")
        size = 7 + 2 * (list(GLYPH).index(sym) % 3 if sym in GLYPH else 0)  # a second carrier besides the colour
        data.append({"lon": r["lon"], "lat": r["lat"], "position": [float(r["lon"]), float(r["lat"])], "color": color + [255], "glyph": glyph, "size": size,
                     "name": html.escape(str(r["name"])), "bezirk": "",
                     "text": html.escape(f"{kat} · {fmt.integer(r['plaetze']) + ' Plätze' if pd.notna(r['plaetze']) else 'ohne Platzzahl'}")})
    return [
        pdk.Layer("ScatterplotLayer", id=LAYER_OFFERS, data=data, get_position="position", get_fill_color="color",
                  get_radius="size", radius_units=PIXELS, pickable=True, stroked=True, get_line_color=[255, 255, 255, 255],
                  line_width_min_pixels=2),
        pdk.Layer("TextLayer", id=LAYER_SYMBOLS, data=data, get_position="position", get_text="glyph",
                  get_color=[255, 255, 255, 255], get_size=11, character_set=AUTO, pickable=False),
    ]


def build_deck(res: supply.Supply, all_points: pd.DataFrame, cats: pd.DataFrame, planned: list[dict],
               suggested: list[dict], show_grid: bool) -> pdk.Deck:
    pl = karte.payload()
    deck = layers.build_deck(pl, area_props(res), view=layers.view_for_bounds(pl.bounds), labels=False,
                             tooltip_html="<b>{name}</b><br/>{bezirk}<br/>{text}")
    extra = []
    reach = reach_geojson(res)
    if reach:
        extra.append(pdk.Layer("GeoJsonLayer", id=LAYER_REACH, data=reach, stroked=True, filled=True,
                               get_fill_color=[0, 114, 178, 25], get_line_color=[0, 70, 140, 255], line_width_min_pixels=2,
                               pickable=False))
    extra += _point_layers(all_points, cats)
    if show_grid:  # above the offers: small, and a click on one must reach it
        extra.append(pdk.Layer("ScatterplotLayer", id=LAYER_GRID, data=grid(), get_position="position",
                               get_fill_color=[60, 60, 60, 110], get_radius=4, radius_units=PIXELS, pickable=True))
    for lid, pts, color in ((LAYER_PLANNED, planned, [0, 0, 0]), (LAYER_SUGGESTED, suggested, [213, 94, 0])):
        if pts:
            data = [{"lon": p["lon"], "lat": p["lat"], "position": [float(p["lon"]), float(p["lat"])], "name": html.escape(p.get("name") or lid), "bezirk": "",
                     "text": "geplant (nicht gespeichert)" if lid == LAYER_PLANNED else "Vorschlag, keine Entscheidung",
                     "glyph": "✚" if lid == LAYER_PLANNED else "☆"} for p in pts]
            extra.append(pdk.Layer("ScatterplotLayer", id=lid, data=data, get_position="position",
                                   get_fill_color=color + [255], get_radius=10, radius_units=PIXELS, stroked=True,
                                   get_line_color=[255, 255, 255, 255], line_width_min_pixels=3, pickable=True))
            extra.append(pdk.Layer("TextLayer", id=lid + "-symbol", data=data, get_position="position", get_text="glyph",
                                   get_color=[255, 255, 255, 255], get_size=14, character_set=AUTO, pickable=False))
    deck.layers = list(deck.layers) + extra
    return deck


@st.cache_resource(show_spinner=False, max_entries=16)
def _deck(stamp: int, kat: str, year: int, radius: float, planned: tuple, suggested: tuple, show_grid: bool, actor):
    res = supply_for(kat, year, radius, [dict(zip(("lon", "lat", "plaetze", "name"), p)) for p in planned], actor, None)
    pts = store.offers(get_con(), kat, year, actor=actor)
    return build_deck(res, pts, categories(), [dict(zip(("lon", "lat", "plaetze", "name"), p)) for p in planned],
                      [dict(zip(("lon", "lat", "name"), p)) for p in suggested], show_grid).freeze()


def deck_for(kat: str, year: int, radius: float, planned: list[dict], suggested: list[dict], show_grid: bool, actor):
    """The page's deck with its JSON built once per input and data stamp (shared: read-only)."""
    pk = tuple((float(p["lon"]), float(p["lat"]), p.get("plaetze"), p.get("name") or "geplant") for p in planned)
    sk = tuple((float(p["lon"]), float(p["lat"]), p.get("name") or "Vorschlag") for p in suggested)
    return _deck(data_stamp(), kat, int(year), float(radius), pk, sk, bool(show_grid), view_of(actor))


@st.cache_resource(show_spinner=False, max_entries=16)
def _bundle(stamp: int, kat: str, year: int, radius: float, planned: tuple, actor) -> dict:
    res = supply_for(kat, year, radius, [dict(zip(("lon", "lat", "plaetze", "name"), p)) for p in planned], actor, None)
    nd = need(year, actor)
    gap = gaps.gaps(res, nd)
    gap_res = supply.Supply(res.kategorie, res.jahr, res.radius_m, res.distanz, res.zielgruppe, gap, res.stadt, res.points,
                            res.reach_parts)
    table = display_table(res)
    return {"table": table, "table_arrow": arrow(table), "chart": need_supply_chart(res),
            "sentence": gaps.gaps_sentence(res, nd, gap), "gaps": arrow(display_table(gap_res)), "n_gaps": len(gap)}


def bundle(kat: str, year: int, radius: float, planned: list[dict], actor) -> dict:
    """Table (frame and Arrow), need x supply chart spec, Versorgungslücken and sentence, cached (read-only)."""
    pk = tuple((float(p["lon"]), float(p["lat"]), p.get("plaetze"), p.get("name") or "geplant") for p in planned)
    return _bundle(data_stamp(), kat, int(year), float(radius), pk, view_of(actor))


def clicked_point(event) -> tuple[float, float] | None:
    """(lon, lat) of a clicked planning point in a ``st.pydeck_chart`` selection, else None."""
    try:
        objs = ((event or {}).get("selection") or {}).get("objects") or {}
    except AttributeError:
        return None
    for o in objs.get(LAYER_GRID) or []:
        if o and "lon" in o and "lat" in o:
            return float(o["lon"]), float(o["lat"])
    return None


def legend_html(cats: pd.DataFrame, need_order: list[str], need_source: str) -> str:
    rows = []
    for r in cats.to_dict("records"):
        rows.append(f"<div><span style='color:{html.escape(r['farbe'] or '#000')};font-size:18px'>"
                    f"{GLYPH.get(r['symbol'], '●')}</span> {html.escape(r['name'])}</div>")
    rows.append("<div><span style='font-size:18px'>⬤</span> geplant (Szenario, schwarz)</div>")
    rows.append("<div><span style='color:#D55E00;font-size:18px'>⬤</span> Standortvorschlag (orange)</div>")
    rows.append("<div><span style='border:2px solid #00468C;padding:0 8px'></span> in Reichweite</div>")
    if need_order:
        rows.append(f"<div style='margin-top:6px'><b>Fläche: Handlungsbedarf</b><br/>{html.escape(need_source)}</div>")
        for i, c in enumerate(need_order):
            col = NEED_COLORS[min(len(NEED_COLORS) - 1, round(i * (len(NEED_COLORS) - 1) / max(1, len(need_order) - 1)))]
            rows.append(f"<div><span style='background:rgb({col[0]},{col[1]},{col[2]});padding:0 10px'></span> "
                        f"{html.escape(c)}</div>")
    items = "".join(r.replace("<div", "<div role='listitem'", 1) for r in rows)
    return "<div role='list' aria-label='Legende'>" + items + "</div>"


def need_supply_chart(res: supply.Supply) -> dict:
    """Scatter: places per 100 (x) against the share within reach (y), colour = need class. Vega-Lite dict."""
    t = res.table.assign(erreichbar_prozent=res.table["erreichbar_anteil"] * 100,
                         bedarf=res.table["bedarf_klasse"].fillna("ohne Klasse"))
    t = t[["name", "plaetze_je_100", "erreichbar_prozent", "bedarf", "angebote"]]
    order = res_need_order(res) + ["ohne Klasse"]
    records = t.astype(object).where(t.notna(), None).to_dict("records")  # inline values: no row limit (10,000 areas)
    chart = alt.Chart(alt.InlineData(values=records)).mark_point(filled=True, size=90).encode(
        x=alt.X("plaetze_je_100:Q", title="Plätze je 100 der Zielgruppe", axis=alt.Axis(format=",.1f")),
        y=alt.Y("erreichbar_prozent:Q", title="Fläche in Reichweite (%)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("bedarf:N", title="Handlungsbedarf", sort=order,
                        scale=alt.Scale(domain=order, range=["#fbb4b9", "#f768a1", "#c51b8a", "#7a0177", "#999999"][-len(order):]
                                        if len(order) <= 5 else None)),
        shape=alt.Shape("bedarf:N", sort=order, legend=None),
        tooltip=[alt.Tooltip("name:N", title="Sozialraum"), alt.Tooltip("plaetze_je_100:Q", title="Plätze je 100", format=",.1f"),
                 alt.Tooltip("erreichbar_prozent:Q", title="in Reichweite (%)", format=",.0f"),
                 alt.Tooltip("angebote:Q", title="Angebote")],
    ).properties(height=320)
    return german(chart).to_dict(validate=False)


def display_table(res: supply.Supply) -> pd.DataFrame:
    t = res.table
    return pd.DataFrame({"Nr.": t["id"], "Sozialraum": t["name"], "Stadtbezirk": t["bezirk"], "Angebote": t["angebote"],
                         "Plätze": t["plaetze"], "Zielgruppe": t["zielgruppe"], "Plätze je 100": t["plaetze_je_100"].round(2),
                         "Fläche in Reichweite (%)": (t["erreichbar_anteil"] * 100).round(1),
                         "Handlungsbedarf": t["bedarf_klasse"]})
