"""Pure map builders: classification, colour-blind-safe palettes, legends and pydeck decks.

No streamlit here. The UI caches :func:`prepare_geometry` per data stamp (it simplifies the geometry
and builds the GeoJSON payload once) and calls :func:`build_deck` on every run with the values.

Layer ids (stable, needed for ``st.pydeck_chart(on_select=...)``): see ``LAYER_*``. Only the
Sozialraum layer is pickable, so a selection always refers to ``LAYER_AREAS``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize
from shapely.geometry import mapping

from quartier import format as fmt
from quartier.areas import geometry as geo

LAYER_AREAS = "sozialraeume"
LAYER_BEZIRKE = "stadtbezirke"
LAYER_CORRIDOR = "korridor"
LAYER_HIGHLIGHT = "hervorhebung"
LAYER_SELECTED = "auswahl"
LAYER_AXIS_CASING = "achse-rand"
LAYER_AXIS = "achse"
LAYER_AXIS_LABEL = "achse-name"
LAYER_LABELS = "beschriftung"

# ColorBrewer sequential schemes (9 classes, light -> dark) and viridis; all colour-blind safe.
PALETTES: dict[str, list[str]] = {
    "YlGnBu": ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
    "OrRd": ["#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"],
    "Purples": ["#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"],
    "Viridis": ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878"],
}
PALETTE_LABELS = {
    "YlGnBu": "Gelb–Grün–Blau (ColorBrewer)",
    "OrRd": "Orange–Rot (ColorBrewer)",
    "Purples": "Violett (ColorBrewer)",
    "Viridis": "Viridis",
}
DEFAULT_PALETTE = "YlGnBu"
METHODS = {"quantile": "Quantile (gleich viele Gebiete je Klasse)",
           "equal": "Gleiche Intervalle (Spannweite der Werte)",
           "fixed": "Feste Grenzen (aus der Indikatordefinition)"}
SUPPRESSED_COLOR = [150, 150, 150, 255]
MISSING_COLOR = [225, 225, 225, 255]
AXIS_COLOR = [200, 0, 90, 255]
CORRIDOR_COLOR = [230, 97, 0]
SELECTED_COLOR = [0, 0, 0, 255]
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
CARTO_LIGHT = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"
TOOLTIP_HTML = (
    "<b>{name}</b><br/>Stadtbezirk: {bezirk}<br/>%s: <b>{wert_text}</b><br/>"
    "Zähler/Nenner: {bruch}<br/>Rang: {rang}<br/>Veränderung zum Vorjahr: {veraenderung}<br/>{hinweis}"
)


def tooltip_html(indicator_name: str) -> str:
    """The tooltip template; the indicator name is written once here, not into every feature."""
    safe = escape(indicator_name).replace("{", "(").replace("}", ")")
    return TOOLTIP_HTML % safe


def hex_to_rgb(h: str, alpha: int = 255) -> list[int]:
    h = h.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]


def decimals_for(unit: str | None) -> int:
    return 0 if (unit or "").strip().lower() == "anzahl" else 1


# --------------------------------------------------------------------------------------------
# Classification


def class_breaks(values, method: str = "quantile", k: int = 5, *, vmin: float | None = None,
                 vmax: float | None = None, breaks: list[float] | None = None) -> list[float]:
    """Class edges (ascending, len = classes + 1) for the finite ``values``.

    ``quantile``: equal counts; ``equal``: equal widths over the data range; ``fixed``: the given inner
    ``breaks`` (a setting) or, without them, equal widths over the indicator's ``vmin``/``vmax``.
    Duplicate edges (e.g. many equal values) are merged, so fewer classes may result.
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if method not in METHODS:
        raise ValueError(f"Unbekannte Klassifizierung {method!r}: erlaubt sind {', '.join(METHODS)}.")
    k = max(1, int(k))
    if method == "fixed":
        if breaks:
            inner = sorted(float(b) for b in breaks)
            lo = min([inner[0]] + ([float(v.min())] if v.size else []) + ([vmin] if vmin is not None else []))
            hi = max([inner[-1]] + ([float(v.max())] if v.size else []) + ([vmax] if vmax is not None else []))
            edges = [lo] + [b for b in inner if lo < b < hi] + [hi]
        else:
            lo = vmin if vmin is not None else (float(v.min()) if v.size else 0.0)
            hi = vmax if vmax is not None else (float(v.max()) if v.size else 1.0)
            edges = list(np.linspace(lo, hi, k + 1))
    elif v.size == 0:
        return []
    elif method == "quantile":
        edges = list(np.quantile(v, np.linspace(0, 1, k + 1)))
    else:
        edges = list(np.linspace(v.min(), v.max(), k + 1))
    out: list[float] = []
    for e in edges:
        e = float(e)
        if not out or e > out[-1] + 1e-12:
            out.append(e)
    if len(out) == 1:
        out.append(out[0])
    return out


def assign_classes(values, edges: list[float]) -> np.ndarray:
    """Class index 0..n-1 for each value (last class closed on the right); -1 for missing values."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=int)
    if len(edges) < 2:
        return out
    ok = np.isfinite(v)
    idx = np.searchsorted(np.asarray(edges[1:-1]), v[ok], side="right")
    out[ok] = np.clip(idx, 0, len(edges) - 2)
    return out


def class_colors(n: int, palette: str = DEFAULT_PALETTE, direction: str | None = "higher") -> list[list[int]]:
    """``n`` colours for classes in ascending value order; more need is always darker.

    ``direction='lower'`` (a low value means more need) reverses the ramp, so the lowest class is
    darkest. Without a direction, higher values are darker.
    """
    ramp = PALETTES.get(palette, PALETTES[DEFAULT_PALETTE])
    if n <= 0:
        return []
    # Skip the lightest ColorBrewer step so no class looks like "keine Daten".
    lo = 1 if n < len(ramp) else 0
    idx = [round(i) for i in np.linspace(lo, len(ramp) - 1, n)] if n > 1 else [len(ramp) // 2 + 1]
    cols = [hex_to_rgb(ramp[i]) for i in idx]
    return cols[::-1] if direction == "lower" else cols


def luminance(rgb: list[int]) -> float:
    """Relative luminance (WCAG) of an sRGB colour."""
    def ch(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb[:3]
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)


def range_label(lo: float, hi: float, unit: str | None, last: bool, decimals: int) -> str:
    a, b = fmt.number(lo, decimals), fmt.value(hi, unit, decimals)
    if lo == hi:
        return fmt.value(lo, unit, decimals)
    return f"{a} bis {b}" if last else f"{a} bis unter {b}"


@dataclass
class Classification:
    method: str
    edges: list[float]
    colors: list[list[int]]
    classes: np.ndarray  # per value, -1 = no class
    unit: str | None
    direction: str | None

    def color_of(self, i: int, suppressed: bool = False) -> list[int]:
        if suppressed:
            return SUPPRESSED_COLOR
        return self.colors[i] if 0 <= i < len(self.colors) else MISSING_COLOR


def classify(values: pd.Series, unit: str | None, direction: str | None, method: str = "quantile", k: int = 5,
             palette: str = DEFAULT_PALETTE, *, vmin: float | None = None, vmax: float | None = None,
             breaks: list[float] | None = None) -> Classification:
    edges = class_breaks(values.tolist(), method, k, vmin=vmin, vmax=vmax, breaks=breaks)
    n = max(0, len(edges) - 1)
    return Classification(method, edges, class_colors(n, palette, direction), assign_classes(values, edges), unit, direction)


def legend(cls: Classification, counts_suppressed: int = 0, counts_missing: int = 0,
           always_special: bool = True) -> list[dict]:
    """Legend entries: the classes (German ranges, unit, count), then "gesperrt" and "keine Daten"."""
    dec = decimals_for(cls.unit)
    out = []
    n = len(cls.edges) - 1
    for i in range(n):
        out.append({
            "kind": "class",
            "label": range_label(cls.edges[i], cls.edges[i + 1], cls.unit, i == n - 1, dec),
            "color": cls.colors[i],
            "count": int((cls.classes == i).sum()),
        })
    if always_special or counts_suppressed:
        out.append({"kind": "suppressed", "label": f"gesperrt ({fmt.SUPPRESSED}, kleine Fallzahl)",
                    "color": SUPPRESSED_COLOR, "count": int(counts_suppressed)})
    if always_special or counts_missing:
        out.append({"kind": "missing", "label": f"keine Daten ({fmt.NOTHING})", "color": MISSING_COLOR,
                    "count": int(counts_missing)})
    return out


def legend_html(entries: list[dict], title: str, note: str | None = None) -> str:
    """The legend as accessible HTML: a list with colour swatch AND text range and count."""
    items = []
    for e in entries:
        r, g, b = e["color"][:3]
        style = f"background:rgb({r},{g},{b});"
        if e["kind"] == "suppressed":
            style += "background-image:repeating-linear-gradient(45deg,#fff 0 2px,transparent 2px 6px);"
        n = e.get("count")
        count = f" <span style='color:#555'>({n} {'Gebiet' if n == 1 else 'Gebiete'})</span>" if n is not None else ""
        items.append(
            "<li style='display:flex;align-items:center;gap:.5em;margin:.15em 0'>"
            f"<span aria-hidden='true' style='display:inline-block;width:1.6em;height:1em;border:1px solid #444;{style}'></span>"
            f"<span>{escape(e['label'])}{count}</span></li>"
        )
    note_html = f"<div style='font-size:.9em;color:#333'>{escape(note)}</div>" if note else ""
    return (f"<div role='group' aria-label='Legende: {escape(title)}'><b>{escape(title)}</b>"
            f"<ul style='list-style:none;padding:0;margin:.3em 0'>{''.join(items)}</ul>{note_html}</div>")


# --------------------------------------------------------------------------------------------
# Geometry payload (built once per data stamp)


def _round_coords(obj, nd: int):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(c), nd) for c in obj]
        return [_round_coords(o, nd) for o in obj]
    return obj


def geometry_dict(geom, nd: int = 5) -> dict:
    """GeoJSON geometry dict with coordinates rounded to ``nd`` decimals (5 ≈ 1 m)."""
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"], nd)}


def geometry_dicts(geoms, nd: int = 5) -> list[dict]:
    """Vectorised :func:`geometry_dict` for many geometries (rounding and GeoJSON writing in C)."""
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return []
    rounded = shapely.transform(arr, lambda xy: np.round(xy, nd))
    return [json.loads(t) for t in shapely.to_geojson(rounded)]


def tolerance_for(n_areas: int) -> float:
    """Simplification tolerance in metres: small for a real city, coarser for thousands of areas."""
    if n_areas <= 200:
        return 5.0
    if n_areas <= 2000:
        return 15.0
    return 30.0


@dataclass
class GeometryPayload:
    ids: list[str]
    names: dict[str, str]
    bezirk_of: dict[str, str | None]
    bezirk_names: dict[str, str]
    area_geoms: list[dict]                 # simplified GeoJSON geometry per id (same order)
    centroids: dict[str, tuple[float, float]]
    area_bounds: dict[str, tuple[float, float, float, float]]
    bezirk_features: list[dict]
    bezirk_bounds: dict[str, tuple[float, float, float, float]]
    axes: dict[str, dict]                  # name -> {"geometry": dict, "label": (lon, lat), "wgs84": geom}
    bounds: tuple[float, float, float, float]
    metric_areas: dict[str, object] = field(default_factory=dict)  # id -> UTM geometry (for corridors)
    area_km2: dict[str, float] = field(default_factory=dict)

    def area_features(self, props: dict[str, dict] | None = None, only: set[str] | None = None) -> list[dict]:
        props = props or {}
        return [{"type": "Feature", "geometry": g, "properties": props.get(i, {"id": i, "name": self.names[i]})}
                for i, g in zip(self.ids, self.area_geoms) if only is None or i in only]


def prepare_geometry(areas: pd.DataFrame, bezirke: pd.DataFrame | None = None, axes: pd.DataFrame | None = None,
                     tolerance_m: float | None = None) -> GeometryPayload:
    """Simplify and convert the geometry once.

    ``areas``: id, name, bezirk_id, geometry (GeoJSON text, WGS84), optional centroid_lon/lat.
    ``bezirke``: id, name, geometry (may be NULL: then the Sozialräume are dissolved).
    ``axes``: name, geometry.
    """
    tol = tolerance_for(len(areas)) if tolerance_m is None else tolerance_m
    from quartier.areas.corridor import to_metric_many, to_wgs84_many

    geoms_w = shapely.from_geojson(areas["geometry"].tolist())
    full_m = to_metric_many(geoms_w)
    geoms_m = shapely.simplify(full_m, tol, preserve_topology=True)
    simple_w = list(to_wgs84_many(geoms_m))
    ids = [str(i) for i in areas["id"]]
    names = dict(zip(ids, areas["name"].astype(str)))
    bezirk_col = areas["bezirk_id"] if "bezirk_id" in areas else pd.Series([None] * len(areas))
    bezirk_of = {i: (None if pd.isna(b) else str(b)) for i, b in zip(ids, bezirk_col)}
    centroids = {}
    lons = pd.to_numeric(areas["centroid_lon"], errors="coerce").to_numpy(dtype=float) if "centroid_lon" in areas \
        else np.full(len(ids), np.nan)
    lats = pd.to_numeric(areas["centroid_lat"], errors="coerce").to_numpy(dtype=float) if "centroid_lat" in areas \
        else np.full(len(ids), np.nan)
    missing = ~(np.isfinite(lons) & np.isfinite(lats))
    if missing.any():
        reps = to_wgs84_many(shapely.point_on_surface(geoms_m[missing]))
        lons[missing], lats[missing] = shapely.get_x(reps), shapely.get_y(reps)
    for i, lon, lat in zip(ids, lons, lats):
        centroids[i] = (float(lon), float(lat))
    bnds = shapely.bounds(np.asarray(simple_w, dtype=object))
    area_bounds = {i: tuple(b) for i, b in zip(ids, bnds.tolist())}
    bezirk_names: dict[str, str] = {}
    bezirk_features, bezirk_bounds = [], {}
    bz_geom: dict[str, object] = {}
    if bezirke is not None and len(bezirke):
        for r in bezirke.to_dict("records"):
            bezirk_names[str(r["id"])] = str(r["name"])
            if r.get("geometry"):
                bz_geom[str(r["id"])] = geo.to_wgs84(geo.to_metric(geo.geom_from_text(r["geometry"])).simplify(tol))
    for bid in {b for b in bezirk_of.values() if b}:
        if bid not in bz_geom:
            parts = [g for i, g in zip(ids, geoms_m) if bezirk_of[i] == bid]
            bz_geom[bid] = geo.to_wgs84(shapely.union_all(parts).buffer(0.5).buffer(-0.5).simplify(tol))
    for bid, g in bz_geom.items():
        bezirk_features.append({"type": "Feature", "geometry": geometry_dict(g),
                                "properties": {"id": bid, "name": bezirk_names.get(bid, bid)}})
        bezirk_bounds[bid] = tuple(g.bounds)
    axes_out = {}
    if axes is not None:
        for r in axes.to_dict("records"):
            g = geo.geom_from_text(r["geometry"])
            gm = geo.to_metric(g)
            lp = geo.to_wgs84(gm.interpolate(0.5, normalized=True)) if gm.geom_type == "LineString" else \
                geo.to_wgs84(gm.representative_point())
            axes_out[str(r["name"])] = {"geometry": geometry_dict(g), "label": (lp.x, lp.y), "wgs84": g, "metric": gm}
    allb = (float(bnds[:, 0].min()), float(bnds[:, 1].min()), float(bnds[:, 2].max()), float(bnds[:, 3].max())) \
        if len(simple_w) else (0.0, 0.0, 0.0, 0.0)
    return GeometryPayload(ids, names, bezirk_of, bezirk_names, geometry_dicts(simple_w), centroids,
                           area_bounds, bezirk_features, bezirk_bounds, axes_out, allb, dict(zip(ids, full_m)),
                           dict(zip(ids, (shapely.area(full_m) / 1e6).tolist())))


def payload_from_db(con, tolerance_m: float | None = None) -> GeometryPayload:
    from quartier import db

    areas = db.query_df(con, "SELECT s.id, s.name, s.bezirk_id, s.geometry, s.centroid_lon, s.centroid_lat"
                             " FROM sozialraum s LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id ORDER BY b.nr, s.id")
    bez = db.query_df(con, "SELECT id, name, geometry FROM stadtbezirk ORDER BY nr, name")
    axes = db.query_df(con, "SELECT name, geometry FROM achse ORDER BY name")
    return prepare_geometry(areas, bez, axes, tolerance_m)


# --------------------------------------------------------------------------------------------
# View and deck


def view_for_bounds(bounds, width_px: int = 600, height_px: int = 540, padding: float = 0.04) -> pdk.ViewState:
    """A view state that fits ``bounds`` (minlon, minlat, maxlon, maxlat) into the given pixel size."""
    minx, miny, maxx, maxy = bounds
    lon = (minx + maxx) / 2
    lat = (miny + maxy) / 2

    def merc_y(v):
        return math.log(math.tan(math.pi / 4 + math.radians(v) / 2))

    dx = max(maxx - minx, 1e-6) * (1 + 2 * padding)
    dy = max(abs(merc_y(maxy) - merc_y(miny)), 1e-8) * (1 + 2 * padding)
    # deck.gl's web-mercator world is 512 px wide at zoom 0
    zx = math.log2(width_px * 360 / (512 * dx))
    zy = math.log2(height_px * 2 * math.pi / (512 * dy))
    zoom = max(1.0, min(16.0, min(zx, zy)))
    center_lat = math.degrees(2 * math.atan(math.exp((merc_y(maxy) + merc_y(miny)) / 2)) - math.pi / 2)
    return pdk.ViewState(longitude=lon, latitude=center_lat if maxy != miny else lat, zoom=round(zoom, 2),
                         min_zoom=6, max_zoom=17, pitch=0, bearing=0)


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON is compact (pydeck indents by 2, which triples large payloads).

    Call :meth:`freeze` once the deck is complete: the JSON is then computed once and reused (a cached deck
    costs nothing on the next script run).
    """

    _frozen_json: str | None = None

    def freeze(self) -> CompactDeck:
        self._frozen_json = None
        self._frozen_json = self.to_json()
        return self

    def to_json(self):
        if self._frozen_json is not None:
            return self._frozen_json
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def build_deck(payload: GeometryPayload, area_props: dict[str, dict], *, axis: str | None = None,
               selected: str | None = None, highlight: list[str] | tuple = (), corridor=None,
               view: pdk.ViewState | None = None, labels: bool | None = None, basemap: str | None = None,
               tooltip_html: str | None = None, only: set[str] | None = None) -> pdk.Deck:
    """The choropleth deck.

    ``area_props``: id -> feature properties; must contain ``fill`` ([r, g, b, a]) and the fields of
    ``tooltip_html``. ``highlight``: ids outlined (e.g. the corridor's Sozialräume); ``corridor``: a
    WGS84 polygon drawn as a translucent band; ``axis``: the axis drawn (default: all axes).
    Without ``basemap`` no tiles are needed (map_provider None). ``only``: draw just these Sozialräume (a
    Stadtbezirk of a large city); district boundaries and axes stay complete.
    """
    features = payload.area_features(area_props, only)
    layers = [
        pdk.Layer("GeoJsonLayer", id=LAYER_AREAS, data={"type": "FeatureCollection", "features": features},
                  pickable=True, stroked=True, filled=True, get_fill_color="properties.fill",
                  get_line_color=[255, 255, 255, 255], line_width_min_pixels=1, get_line_width=1,
                  auto_highlight=True, highlight_color=[255, 255, 255, 90]),
    ]
    if corridor is not None and not corridor.is_empty:
        layers.append(pdk.Layer(
            "GeoJsonLayer", id=LAYER_CORRIDOR, data={"type": "Feature", "geometry": geometry_dict(corridor), "properties": {}},
            pickable=False, stroked=True, filled=True, get_fill_color=CORRIDOR_COLOR + [30],
            get_line_color=CORRIDOR_COLOR + [255], line_width_min_pixels=2, get_line_width=2))
    layers.append(pdk.Layer("GeoJsonLayer", id=LAYER_BEZIRKE,
                            data={"type": "FeatureCollection", "features": payload.bezirk_features},
                            pickable=False, stroked=True, filled=False, get_line_color=[30, 30, 30, 255],
                            line_width_min_pixels=3, get_line_width=3))
    hl = [i for i in highlight if i in payload.names and (only is None or i in only)]
    if hl:
        idx = {i: n for n, i in enumerate(payload.ids)}
        layers.append(pdk.Layer(
            "GeoJsonLayer", id=LAYER_HIGHLIGHT,
            data={"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": payload.area_geoms[idx[i]], "properties": {"id": i}} for i in hl]},
            pickable=False, stroked=True, filled=False, get_line_color=CORRIDOR_COLOR + [255],
            line_width_min_pixels=3, get_line_width=3))
    axes = payload.axes if axis is None else {k: v for k, v in payload.axes.items() if k == axis}
    if axes:
        paths = [{"name": n, "geometry": a["geometry"]} for n, a in axes.items()]
        layers.append(pdk.Layer("GeoJsonLayer", id=LAYER_AXIS_CASING,
                                data={"type": "FeatureCollection", "features": [
                                    {"type": "Feature", "geometry": p["geometry"], "properties": {"name": p["name"]}} for p in paths]},
                                pickable=False, stroked=True, filled=False, get_line_color=[255, 255, 255, 255],
                                line_width_min_pixels=9, get_line_width=9))
        layers.append(pdk.Layer("GeoJsonLayer", id=LAYER_AXIS,
                                data={"type": "FeatureCollection", "features": [
                                    {"type": "Feature", "geometry": p["geometry"], "properties": {"name": p["name"]}} for p in paths]},
                                pickable=False, stroked=True, filled=False, get_line_color=AXIS_COLOR,
                                line_width_min_pixels=5, get_line_width=5))
    if selected in payload.names:
        i = payload.ids.index(selected)
        # white casing under a black line: the selection differs from the (dark) district boundaries
        layers.append(pdk.Layer("GeoJsonLayer", id=LAYER_SELECTED + "-rand",
                                data={"type": "Feature", "geometry": payload.area_geoms[i], "properties": {"id": selected}},
                                pickable=False, stroked=True, filled=False, get_line_color=[255, 255, 255, 255],
                                line_width_min_pixels=8, get_line_width=8))
        layers.append(pdk.Layer("GeoJsonLayer", id=LAYER_SELECTED,
                                data={"type": "Feature", "geometry": payload.area_geoms[i], "properties": {"id": selected}},
                                pickable=False, stroked=True, filled=False, get_line_color=SELECTED_COLOR,
                                line_width_min_pixels=4, get_line_width=4))
    shown = payload.ids if only is None else [i for i in payload.ids if i in only]
    if labels is None:
        labels = len(shown) <= 300
    if labels:
        # larger areas keep their label when labels would overlap (deck.gl CollisionFilterExtension)
        text = [{"position": list(payload.centroids[i]), "text": area_props.get(i, {}).get("label", payload.names[i]),
                 "prio": round(payload.area_km2.get(i, 0.0), 3)} for i in shown]
        layers.append(pdk.Layer("TextLayer", id=LAYER_LABELS, data=text, pickable=False, get_position="position",
                                get_text="text", get_size=12, size_units=pdk.types.String("pixels"), get_color=[20, 20, 20, 255],
                                background=True, get_background_color=[255, 255, 255, 210], background_padding=[3, 1],
                                character_set=pdk.types.String("auto"), get_text_anchor=pdk.types.String("middle"),
                                get_alignment_baseline=pdk.types.String("center"), font_family=pdk.types.String(FONT),
                                extensions=[{"@@type": "CollisionFilterExtension"}], collision_enabled=True,
                                get_collision_priority="prio", collision_test_props={"sizeScale": 1.15}))
    if axes:
        layers.append(pdk.Layer("TextLayer", id=LAYER_AXIS_LABEL,
                                data=[{"position": list(a["label"]), "text": n} for n, a in axes.items()],
                                pickable=False, get_position="position", get_text="text", get_size=16,
                                size_units=pdk.types.String("pixels"), get_color=[255, 255, 255, 255], background=True,
                                get_background_color=AXIS_COLOR, background_padding=[5, 2],
                                character_set=pdk.types.String("auto"), font_weight=pdk.types.String("bold"),
                                font_family=pdk.types.String(FONT), get_pixel_offset=[0, -16]))
    return CompactDeck(
        layers=layers,
        # no zoom by mouse wheel: the page must scroll past the map; zoom with +/-, double click or keyboard
        views=[pdk.View(type="MapView", controller={"scrollZoom": False, "doubleClickZoom": True, "keyboard": True,
                                                      "dragPan": True, "touchZoom": True})],
        initial_view_state=view or view_for_bounds(payload.bounds),
        # Without a basemap: pydeck's default style sentinel and no provider, so Streamlit neither draws nor
        # requests any tiles or style (map_style=None would make Streamlit fetch Carto's style anyway).
        map_provider="carto" if basemap else None,
        **({"map_style": basemap} if basemap else {}),
        tooltip={"html": tooltip_html or TOOLTIP_HTML % "Wert", "style": {"backgroundColor": "#ffffff", "color": "#111111",
                                                 "border": "1px solid #333", "fontSize": "14px", "padding": "6px"}},
    )


def deck_json_size(deck: pdk.Deck) -> int:
    """Bytes of the spec the browser receives."""
    return len(deck.to_json().encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Per-area properties for the map (tooltip, colour, label)


def map_frame(values: pd.DataFrame, areas: pd.DataFrame, year: int, unit: str | None,
              direction: str | None) -> pd.DataFrame:
    """One row per Sozialraum for ``year``: value, numerator/denominator, suppression, rank, change.

    ``values``: rows of one indicator (any years) as from ``indicators.current_values``.
    Rank 1 = most need (respecting the direction; without a direction: highest value).
    """
    ids = areas["id"].astype(str)
    years = values["jahr"]
    prev_year = int(years[years < year].max()) if (years < year).any() else None

    def one(y):
        cur = values[values["jahr"] == y].drop_duplicates("sozialraum_id").set_index("sozialraum_id")
        return cur.reindex(ids)

    cur = one(year)
    hidden = cur["gesperrt"].fillna(False).astype(bool).to_numpy()
    wert = pd.to_numeric(cur["wert"], errors="coerce").to_numpy(dtype=float, copy=True)
    wert[hidden] = np.nan
    if prev_year is not None:
        prev = one(prev_year)
        pv = pd.to_numeric(prev["wert"], errors="coerce").to_numpy(dtype=float, copy=True)
        pv[prev["gesperrt"].fillna(False).astype(bool).to_numpy()] = np.nan
    else:
        pv = np.full(len(ids), np.nan)
    df = pd.DataFrame({
        "sozialraum_id": ids.to_numpy(), "sozialraum": areas["name"].to_numpy(),
        "bezirk": areas["bezirk"].to_numpy() if "bezirk" in areas else None,
        "wert": wert, "zaehler": pd.to_numeric(cur["zaehler"], errors="coerce").to_numpy(dtype=float),
        "nenner": pd.to_numeric(cur["nenner"], errors="coerce").to_numpy(dtype=float),
        "gesperrt": hidden, "vorjahr": pv, "vorjahr_jahr": prev_year, "veraenderung": wert - pv,
    })
    df["rang"] = df["wert"].rank(ascending=direction == "lower", method="min")
    return df


def small_base(nenner, threshold: float = 50) -> bool:
    return nenner is not None and not pd.isna(nenner) and 0 < float(nenner) < threshold


_DE = str.maketrans({",": ".", ".": ","})


def _num_texts(values: np.ndarray, decimals: int) -> list[str]:
    """German number texts for many values at once (same output as :func:`quartier.format.number`)."""
    fmt_spec = f"{{:,.{decimals}f}}"
    return [fmt.NOTHING if not np.isfinite(v) else fmt_spec.format(v).translate(_DE) for v in values]


def _value_texts(values: np.ndarray, unit: str | None, decimals: int) -> list[str]:
    u = (unit or "").strip()
    if u.lower() == "anzahl":
        return _num_texts(values, 0)
    suffix = " %" if u == "%" else (f" {u}" if u else "")
    return [t if t == fmt.NOTHING else t + suffix for t in _num_texts(values, decimals)]


def _change_texts(values: np.ndarray, unit: str | None, decimals: int) -> list[str]:
    u = (unit or "").strip()
    suffix = " Pp." if u == "%" else (f" {u}" if u and u.lower() != "anzahl" else "")
    texts = _num_texts(np.abs(values), 0 if u.lower() == "anzahl" else decimals)
    return [t if t == fmt.NOTHING else ("+" if v > 0 else "−" if v < 0 else "±") + t + suffix
            for t, v in zip(texts, values)]


def area_properties(frame: pd.DataFrame, cls: Classification, indicator_name: str, unit: str | None,
                    corridor_ids: set[str] | None = None) -> dict[str, dict]:
    """Feature properties per Sozialraum: fill colour, label and tooltip texts (plain text; escaped later).

    Column-wise (10,000 areas in well under a second); texts equal those of :mod:`quartier.format`.
    """
    dec = decimals_for(unit)
    n = len(frame)
    n_ranked = int(frame["rang"].notna().sum())
    ids = frame["sozialraum_id"].astype(str).tolist()
    names = frame["sozialraum"].astype(str).tolist()
    bez = [b if isinstance(b, str) and b else fmt.NOTHING for b in frame["bezirk"].tolist()]
    hidden = frame["gesperrt"].to_numpy(dtype=bool)
    wert = frame["wert"].to_numpy(dtype=float)
    num = frame["zaehler"].to_numpy(dtype=float)
    den = frame["nenner"].to_numpy(dtype=float)
    rang = frame["rang"].to_numpy(dtype=float)
    wert_t = _value_texts(wert, unit, dec)
    change_t = _change_texts(frame["veraenderung"].to_numpy(dtype=float), unit, dec)
    num_t = _num_texts(num, 0)
    den_t = _num_texts(den, 0)
    classes = cls.classes if len(cls.classes) == n else np.full(n, -1)
    small = np.isfinite(den) & (den > 0) & (den < 50)
    out = {}
    for i in range(n):
        hint = []
        if hidden[i]:
            hint.append("Wert gesperrt (kleine Fallzahl, Datenschutz)")
        elif not np.isfinite(wert[i]):
            hint.append("keine Daten")
        if small[i]:
            hint.append(f"kleine Basis (Nenner {den_t[i]}): Wert mit Vorsicht lesen")
        if corridor_ids is not None and ids[i] in corridor_ids:
            hint.append("im Korridor")
        if np.isfinite(den[i]):
            z = fmt.SUPPRESSED if hidden[i] or not np.isfinite(num[i]) else num_t[i]
            bruch = f"{z} / {den_t[i]}"
        else:
            bruch = fmt.NOTHING
        out[ids[i]] = {
            "id": ids[i],
            "name": names[i],
            "bezirk": bez[i],
            "wert_text": fmt.SUPPRESSED if hidden[i] else wert_t[i],
            "bruch": bruch,
            "rang": f"{int(rang[i])} von {n_ranked}" if np.isfinite(rang[i]) else fmt.NOTHING,
            "veraenderung": change_t[i],
            "hinweis": "; ".join(hint),
            "fill": cls.color_of(int(classes[i]), bool(hidden[i])),
            "label": names[i],
        }
    return out


def selected_from_event(event, layer_id: str = LAYER_AREAS, valid_ids=None) -> str | None:
    """The Sozialraum id selected in a ``st.pydeck_chart`` event (or ``None``).

    The event is ``{"selection": {"indices": {layer: [i]}, "objects": {layer: [feature]}}}``; the
    feature's ``properties.id`` wins, the index is the fallback.
    """
    if not event:
        return None
    try:
        sel = event["selection"]
    except (KeyError, TypeError):
        sel = getattr(event, "selection", None)
    if not sel:
        return None
    objs = (sel.get("objects") or {}).get(layer_id) or []
    for o in objs:
        props = (o or {}).get("properties") or o or {}
        sid = props.get("id")
        if sid is not None and (valid_ids is None or str(sid) in valid_ids):
            return str(sid)
    idx = (sel.get("indices") or {}).get(layer_id) or []
    if idx and valid_ids is not None:
        ids = list(valid_ids)
        if 0 <= int(idx[0]) < len(ids):
            return ids[int(idx[0])]
    return None


def next_selection(map_id: str | None, last_map_id: str | None, box_id: str | None) -> tuple[str | None, str | None]:
    """Which Sozialraum is selected, from the map click and the (keyboard) select box.

    A new click on the map (``map_id`` differs from the click seen last run) wins and is remembered;
    otherwise the select box decides. Returns (selected id, map id to remember).
    """
    if map_id is not None and map_id != last_map_id:
        return map_id, map_id
    return box_id, map_id


def summary_text(frame: pd.DataFrame, indicator_name: str, unit: str | None, year: int,
                 city_value: float | None, city_suppressed: bool = False, direction: str | None = None, n: int = 3) -> str:
    """A plain-language description of the map (text alternative)."""
    dec = decimals_for(unit)
    ok = frame[frame["wert"].notna()].sort_values("wert", ascending=False)
    if ok.empty:
        return f"Für „{indicator_name}“ liegen {year} keine darstellbaren Werte vor."

    def lst(df):
        return ", ".join(f"{r['sozialraum']} ({fmt.value(r['wert'], unit, dec)})" for r in df.to_dict("records"))

    parts = [f"Die Karte zeigt „{indicator_name}“ {year} für {len(frame)} Sozialräume."]
    parts.append(f"Die höchsten Werte haben {lst(ok.head(n))}.")
    parts.append(f"Die niedrigsten Werte haben {lst(ok.tail(n).iloc[::-1])}.")
    if city_suppressed:
        parts.append(f"Der Wert der Gesamtstadt ist gesperrt ({fmt.SUPPRESSED}).")
    elif city_value is not None and not pd.isna(city_value):
        parts.append(f"Gesamtstadt: {fmt.value(city_value, unit, dec)}.")
    if direction in ("higher", "lower"):
        parts.append("Ein höherer Wert bedeutet mehr Bedarf." if direction == "higher"
                     else "Ein niedrigerer Wert bedeutet mehr Bedarf.")
    n_sup = int(frame["gesperrt"].sum())
    n_missing = int((frame["wert"].isna() & ~frame["gesperrt"]).sum())
    if n_sup:
        parts.append(f"{n_sup} Sozialr{'aum ist' if n_sup == 1 else 'äume sind'} gesperrt (kleine Fallzahlen).")
    if n_missing:
        parts.append(f"Für {n_missing} Sozialr{'aum' if n_missing == 1 else 'äume'} fehlen Werte.")
    return " ".join(parts)


def map_table(frame: pd.DataFrame, cls: Classification, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """The mapped values as a table (ids as columns, numbers numeric, so it sorts and exports well)."""
    labels = {i: e["label"] for i, e in enumerate(legend(cls, always_special=False)) if e["kind"] == "class"}
    out = pd.DataFrame({
        "sozialraum_id": frame["sozialraum_id"],
        "sozialraum": frame["sozialraum"],
        "stadtbezirk": frame["bezirk"],
        "wert": frame["wert"],
        "zaehler": frame["zaehler"].where(~frame["gesperrt"]),
        "nenner": frame["nenner"],
        "gesperrt": frame["gesperrt"].map({True: "ja", False: "nein"}),
        "rang": frame["rang"].astype("Int64"),
        "veraenderung_vorjahr": frame["veraenderung"],
        "klasse": ["gesperrt" if s else labels.get(int(c), "keine Daten")
                   for c, s in zip(cls.classes, frame["gesperrt"])],
    })
    if members is not None:
        pos = {s: i for i, s in enumerate(members["sozialraum_id"].tolist())}
        idx = np.fromiter((pos.get(s, -1) for s in out["sozialraum_id"].tolist()), dtype=np.int64, count=len(out))
        ok = idx >= 0

        def pick(col, fill):
            arr = np.full(len(out), fill, dtype=object if isinstance(fill, str) else float)
            arr[ok] = members[col].to_numpy()[idx[ok]]
            return arr

        out["im_korridor"] = np.where(pick("in_corridor", np.nan) == 1, "ja", "nein")
        out["flaechenanteil_korridor_prozent"] = np.round(pick("area_share", np.nan) * 100, 1)
        out["abstand_achse_m"] = np.round(pick("distance_m", np.nan), 0)
    return out


def unit_title(name: str, unit: str | None) -> str:
    u = (unit or "").strip()
    return f"{name} (in {u})" if u in ("%", "‰") else (f"{name} ({u})" if u else name)


SETTING_BASEMAP = "karte_basiskarte"
SETTING_BREAKS = "karte_grenzen."  # + indicator id: inner class breaks "10;20;30"


def parse_breaks(text: str | None) -> list[float] | None:
    """Inner class breaks from a setting such as "10; 20,5; 30" (German decimal comma allowed)."""
    if not text or not text.strip():
        return None
    out = []
    for part in text.replace("|", ";").split(";"):
        p = part.strip().replace(",", ".")
        if p:
            try:
                out.append(float(p))
            except ValueError as exc:
                raise ValueError(f"Klassengrenze {part.strip()!r} ist keine Zahl. Beispiel: 10; 20; 30") from exc
    return sorted(set(out)) or None


def save_map_settings(con, actor, *, basemap: str | None = None, indicator_id: str | None = None,
                      breaks: str | None = None) -> None:
    """Store the basemap URL (empty = none) and/or fixed breaks of one indicator (administration only)."""
    from quartier import access, db

    access.require(actor, access.ADMIN, "Karteneinstellungen ändern")
    if basemap is not None and basemap.strip() and not basemap.strip().startswith("https://"):
        raise ValueError("Die Adresse der Hintergrundkarte muss mit https:// beginnen (z. B. " + CARTO_LIGHT + ").")
    if breaks is not None:
        parse_breaks(breaks)
    with db.transaction(con) as cur:
        if basemap is not None:
            db.set_setting(cur, SETTING_BASEMAP, basemap.strip())
            db.audit(cur, actor.name, "karte_basiskarte", SETTING_BASEMAP, basemap.strip() or "(keine)")
        if indicator_id is not None and breaks is not None:
            db.set_setting(cur, SETTING_BREAKS + indicator_id, breaks.strip())
            db.audit(cur, actor.name, "karte_klassengrenzen", indicator_id, breaks.strip() or "(keine)")
