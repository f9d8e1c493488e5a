"""pydeck decks for the maps: geometry payload (simplified GeoJSON), view, layers, selection events.

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

from quartier.areas import geometry as geo
from quartier.areas import labels as area_labels
from quartier.areas import overlays

LAYER_AREAS = "sozialraeume"
LAYER_BEZIRKE = "stadtbezirke"
LAYER_CORRIDOR = "korridor"
LAYER_CORRIDOR_HATCH = "korridor-schraffur"
LAYER_SIMILAR = "vergleichbar"
LAYER_HIGHLIGHT = "hervorhebung"
LAYER_SELECTED = "auswahl"
LAYER_AXIS_CASING = "achse-rand"
LAYER_AXIS = "achse"
LAYER_AXIS_LABEL = "achse-name"
LAYER_LABELS = "beschriftung"
AXIS_COLOR = [200, 0, 90, 255]
CORRIDOR_COLOR = [230, 97, 0]
SELECTED_COLOR = [0, 0, 0, 255]
LABEL_SIZE = 12
AXIS_LABEL_OFFSET = -16  # px: the axis name sits above its line
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
CARTO_LIGHT = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"
KI_NOTE = "Klammer (wo berechenbar): 95-%-Konfidenzintervall"
TOOLTIP_HTML = (
    "<b>{name}</b><br/>Stadtbezirk: {bezirk}<br/>%s: <b>{wert_text}</b>{ki}<br/>"
    "Zähler/Nenner: {bruch}<br/>Rang: {rang}<br/>Veränderung zum Vorjahr: {veraenderung}<br/>{hinweis}"
    "<br/><small>" + KI_NOTE.replace("%", "%%") + "</small>"
)


def tooltip_html(indicator_name: str) -> str:
    """The tooltip template; the indicator name is written once here, not into every feature."""
    safe = escape(indicator_name).replace("{", "(").replace("}", ")")
    return TOOLTIP_HTML % safe


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
               tooltip_html: str | None = None, only: set[str] | None = None, similar: list[str] | tuple = (),
               label_size: int | None = None) -> pdk.Deck:
    """The choropleth deck.

    ``area_props``: id -> feature properties; must contain ``fill`` ([r, g, b, a]) and the fields of
    ``tooltip_html``; an optional ``label`` (empty: no label) and ``label_prio`` (default: the area in km²).
    ``highlight``: ids outlined (e.g. the corridor's Sozialräume); ``corridor``: a WGS84 polygon drawn as
    outline and hatch (no fill); ``similar``: ids outlined in blue (comparable areas); ``axis``: the axis
    drawn (default: all axes). Labels (default: on) are decluttered for the opening zoom
    (:mod:`quartier.areas.labels`); the others show on hover. Without ``basemap`` no tiles are needed
    (map_provider None). ``only``: draw just these Sozialräume (a Stadtbezirk of a large city); district
    boundaries and axes stay complete.
    """
    features = payload.area_features(area_props, only)
    view = view or view_for_bounds(payload.bounds)
    zoom = float(getattr(view, "zoom", 10.0))
    layers = [
        pdk.Layer("GeoJsonLayer", id=LAYER_AREAS, data={"type": "FeatureCollection", "features": features},
                  pickable=True, stroked=True, filled=True, get_fill_color="properties.fill",
                  get_line_color=[255, 255, 255, 255], line_width_min_pixels=1, get_line_width=1,
                  auto_highlight=True, highlight_color=[255, 255, 255, 90]),
    ]
    layers += _overlay_layers(payload, corridor, highlight, only, zoom)
    if similar:
        idx = {i: n for n, i in enumerate(payload.ids)}
        layers += overlays.outline_layers(
            [{"type": "Feature", "geometry": payload.area_geoms[idx[i]], "properties": {"id": i}}
             for i in similar if i in idx and (only is None or i in only)], LAYER_SIMILAR)
    axes = payload.axes if axis is None else {k: v for k, v in payload.axes.items() if k == axis}
    layers += _axis_layers(axes)
    if selected in payload.names:
        layers += _selected_layers(payload, selected)
    shown = payload.ids if only is None else [i for i in payload.ids if i in only]
    if labels is None or labels:
        axis_size = (label_size or LABEL_SIZE) + 4
        obstacles = [(a["label"][0], a["label"][1], n, axis_size, AXIS_LABEL_OFFSET) for n, a in axes.items()]
        layers.append(_label_layer(payload, area_props, shown, zoom, label_size or LABEL_SIZE, obstacles))
    if axes:
        layers.append(_axis_label_layer(axes, (label_size or LABEL_SIZE) + 4))
    return CompactDeck(
        layers=layers,
        # no zoom by mouse wheel: the page must scroll past the map; zoom with +/-, double click or keyboard
        views=[pdk.View(type="MapView", controller={"scrollZoom": False, "doubleClickZoom": True, "keyboard": True,
                                                      "dragPan": True, "touchZoom": True})],
        initial_view_state=view,
        # Without a basemap: pydeck's default style sentinel and no provider, so Streamlit neither draws nor
        # requests any tiles or style (map_style=None would make Streamlit fetch Carto's style anyway).
        map_provider="carto" if basemap else None,
        **({"map_style": basemap} if basemap else {}),
        tooltip={"html": tooltip_html or TOOLTIP_HTML % "Wert", "style": {"backgroundColor": "#ffffff", "color": "#111111",
                                                 "border": "1px solid #333", "fontSize": "14px", "padding": "6px"}},
    )


def _overlay_layers(payload: GeometryPayload, corridor, highlight, only: set[str] | None, zoom: float
                    ) -> list[pdk.Layer]:
    """The corridor band (outline + hatch), the district boundaries and the outlined (highlighted) Sozialräume."""
    layers = []
    if corridor is not None and not corridor.is_empty:
        layers += overlays.corridor_layers(corridor, zoom, CORRIDOR_COLOR, LAYER_CORRIDOR, LAYER_CORRIDOR_HATCH,
                                           geometry_dict(corridor))
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
    return layers


def _axis_layers(axes: dict) -> list[pdk.Layer]:
    """The axes as a coloured line on a white casing."""
    if not axes:
        return []
    paths = [{"name": n, "geometry": a["geometry"]} for n, a in axes.items()]
    return [
        pdk.Layer("GeoJsonLayer", id=LAYER_AXIS_CASING,
                  data={"type": "FeatureCollection", "features": [
                      {"type": "Feature", "geometry": p["geometry"], "properties": {"name": p["name"]}} for p in paths]},
                  pickable=False, stroked=True, filled=False, get_line_color=[255, 255, 255, 255],
                  line_width_min_pixels=9, get_line_width=9),
        pdk.Layer("GeoJsonLayer", id=LAYER_AXIS,
                  data={"type": "FeatureCollection", "features": [
                      {"type": "Feature", "geometry": p["geometry"], "properties": {"name": p["name"]}} for p in paths]},
                  pickable=False, stroked=True, filled=False, get_line_color=AXIS_COLOR,
                  line_width_min_pixels=5, get_line_width=5),
    ]


def _selected_layers(payload: GeometryPayload, selected: str) -> list[pdk.Layer]:
    """White casing under a black line: the selection differs from the (dark) district boundaries."""
    i = payload.ids.index(selected)
    return [
        pdk.Layer("GeoJsonLayer", id=LAYER_SELECTED + "-rand",
                  data={"type": "Feature", "geometry": payload.area_geoms[i], "properties": {"id": selected}},
                  pickable=False, stroked=True, filled=False, get_line_color=[255, 255, 255, 255],
                  line_width_min_pixels=8, get_line_width=8),
        pdk.Layer("GeoJsonLayer", id=LAYER_SELECTED,
                  data={"type": "Feature", "geometry": payload.area_geoms[i], "properties": {"id": selected}},
                  pickable=False, stroked=True, filled=False, get_line_color=SELECTED_COLOR,
                  line_width_min_pixels=4, get_line_width=4),
    ]


def _label_layer(payload: GeometryPayload, area_props: dict[str, dict], shown: list[str], zoom: float,
                 size: int = LABEL_SIZE, obstacles: list = ()) -> pdk.Layer:
    """Area names that fit at the opening zoom: decluttered, larger areas first (:mod:`quartier.areas.labels`);
    the rest show on hover. deck.gl's CollisionFilterExtension additionally hides labels that would collide
    after the user zooms out."""
    names = payload.names
    texts = [area_props[i].get("label", names[i]) if i in area_props else names[i] for i in shown]
    prio = [area_props[i].get("label_prio", payload.area_km2.get(i, 0.0)) if i in area_props
            else payload.area_km2.get(i, 0.0) for i in shown]
    keep = area_labels.placed_labels([payload.centroids[i] for i in shown], texts, prio, zoom, size, obstacles)
    # deck.gl's collision priorities must lie in [-1000, 1000]: the rank among the placed labels, first = 1000
    ranked = sorted(keep.tolist(), key=lambda k: -float(prio[k]))
    step = 2000.0 / max(len(ranked), 1)
    rank_prio = {k: round(1000.0 - n * step, 2) for n, k in enumerate(ranked)}
    text = [{"position": [round(c, 5) for c in payload.centroids[shown[k]]], "text": texts[k],
             "prio": rank_prio[k]} for k in keep.tolist()]
    return pdk.Layer("TextLayer", id=LAYER_LABELS, data=text, pickable=False, get_position="position",
                     get_text="text", get_size=size, size_units=pdk.types.String("pixels"), get_color=[20, 20, 20, 255],
                     background=True, get_background_color=[255, 255, 255, 210], background_padding=[3, 1],
                     character_set=pdk.types.String("auto"), get_text_anchor=pdk.types.String("middle"),
                     get_alignment_baseline=pdk.types.String("center"), font_family=pdk.types.String(FONT),
                     extensions=[{"@@type": "CollisionFilterExtension"}], collision_enabled=True,
                     get_collision_priority="prio", collision_test_props={"sizeScale": 1.15})


def _axis_label_layer(axes: dict, size: int = LABEL_SIZE + 4) -> pdk.Layer:
    return pdk.Layer("TextLayer", id=LAYER_AXIS_LABEL,
                     data=[{"position": list(a["label"]), "text": n} for n, a in axes.items()],
                     pickable=False, get_position="position", get_text="text", get_size=size,
                     size_units=pdk.types.String("pixels"), get_color=[255, 255, 255, 255], background=True,
                     get_background_color=AXIS_COLOR, background_padding=[5, 2],
                     character_set=pdk.types.String("auto"), font_weight=pdk.types.String("bold"),
                     font_family=pdk.types.String(FONT), get_pixel_offset=[0, AXIS_LABEL_OFFSET])


def deck_json_size(deck: pdk.Deck) -> int:
    """Bytes of the spec the browser receives."""
    return len(deck.to_json().encode("utf-8"))


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
