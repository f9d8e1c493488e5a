"""Map overlays that must not wash out the classes: the corridor as outline + hatch, outlined areas
(similar Sozialräume) and the colours of the LISA layer (hot and cold spots).

No streamlit here; :mod:`quartier.areas.layers` puts the layers into the deck.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from quartier.areas import geometry as geo

HATCH_SPACING_PX = 9.0      # distance between hatch lines at the map's opening zoom
HATCH_MIN_SPACING_M = 20.0
MAX_HATCH_LINES = 400
EARTH_CIRCUMFERENCE_M = 40_075_016.686


def metres_per_pixel(lat: float, zoom: float) -> float:
    """Ground metres per screen pixel at ``lat`` and ``zoom`` (deck.gl: 512 px world at zoom 0)."""
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (512.0 * 2.0 ** zoom)


def hatch_lines(polygon_m, spacing_m: float, angle_deg: float = 45.0) -> list:
    """Parallel lines at ``angle_deg`` every ``spacing_m`` metres, clipped to ``polygon_m`` (metric CRS).

    Returns the clipped LineStrings (parts of lines that leave and re-enter the polygon are separate)."""
    if polygon_m is None or polygon_m.is_empty:
        return []
    x0, y0, x1, y1 = polygon_m.bounds
    diag = math.hypot(x1 - x0, y1 - y0)
    spacing = max(float(spacing_m), HATCH_MIN_SPACING_M, diag / MAX_HATCH_LINES)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), math.sin(a)])          # line direction
    nrm = np.array([-d[1], d[0]])                     # offset direction
    offs = np.arange(-diag / 2, diag / 2 + spacing, spacing)
    centres = np.array([cx, cy]) + offs[:, None] * nrm
    starts, ends = centres - d * diag, centres + d * diag
    lines = shapely.linestrings(np.stack([starts, ends], axis=1))
    clipped = shapely.intersection(lines, polygon_m)
    parts = shapely.get_parts(clipped[~shapely.is_empty(clipped)])
    return [p for p in parts if p.geom_type == "LineString" and p.length > 0]


def hatch_paths(polygon_wgs84, zoom: float, spacing_px: float = HATCH_SPACING_PX, nd: int = 5) -> list[list[list[float]]]:
    """Hatch lines of a WGS84 polygon as PathLayer paths ([[lon, lat], ...]); spacing in px at ``zoom``."""
    if polygon_wgs84 is None or polygon_wgs84.is_empty:
        return []
    lat = polygon_wgs84.centroid.y
    poly_m = geo.to_metric(polygon_wgs84)
    lines = hatch_lines(poly_m, spacing_px * metres_per_pixel(lat, zoom))
    if not lines:
        return []
    from quartier.areas.corridor import to_wgs84_many

    out = []
    for g in to_wgs84_many(np.asarray(lines, dtype=object)):
        xy = np.round(shapely.get_coordinates(g), nd)
        out.append(xy.tolist())
    return out


def corridor_layers(polygon_wgs84, zoom: float, color: list[int], outline_id: str, hatch_id: str,
                    outline_geojson: dict) -> list[pdk.Layer]:
    """The corridor band: an outline (no fill) and hatch lines inside it, so the class colours stay readable."""
    paths = [{"path": p} for p in hatch_paths(polygon_wgs84, zoom)]
    return [
        pdk.Layer("PathLayer", id=hatch_id, data=paths, pickable=False, get_path="path",
                  get_color=color + [200], width_units=pdk.types.String("pixels"), get_width=1.5,
                  width_min_pixels=1, cap_rounded=False),
        pdk.Layer("GeoJsonLayer", id=outline_id, data={"type": "Feature", "geometry": outline_geojson, "properties": {}},
                  pickable=False, stroked=True, filled=False, get_line_color=color + [255],
                  line_width_min_pixels=2, get_line_width=2),
    ]


# --------------------------------------------------------------------------------------------
# outlined areas (similar Sozialräume)

SIMILAR_COLOR = [0, 90, 181, 255]   # blue: differs from the orange corridor and the black selection


def outline_layers(features: list[dict], layer_id: str, color: list[int] = SIMILAR_COLOR, width: int = 4
                   ) -> list[pdk.Layer]:
    """A coloured outline on a white casing around the given area features (no fill)."""
    if not features:
        return []
    data = {"type": "FeatureCollection", "features": features}
    return [
        pdk.Layer("GeoJsonLayer", id=layer_id + "-rand", data=data, pickable=False, stroked=True, filled=False,
                  get_line_color=[255, 255, 255, 255], line_width_min_pixels=width + 3, get_line_width=width + 3),
        pdk.Layer("GeoJsonLayer", id=layer_id, data=data, pickable=False, stroked=True, filled=False,
                  get_line_color=color, line_width_min_pixels=width, get_line_width=width),
    ]


# --------------------------------------------------------------------------------------------
# LISA (local Moran) as a map layer: colour-blind safe diverging colours (ColorBrewer RdBu)

LISA_COLORS = {
    "Hot Spot (hoch, Nachbarn hoch)": [178, 24, 43],
    "hoch, Nachbarn niedrig": [244, 165, 130],
    "niedrig, Nachbarn hoch": [146, 197, 222],
    "Cold Spot (niedrig, Nachbarn niedrig)": [33, 102, 172],
    "nicht signifikant": [236, 236, 236],
    "ohne Nachbarn": [250, 240, 190],
    "ohne verwendbaren Wert": [190, 190, 190],
}
NO_VALUE = "ohne verwendbaren Wert"


def lisa_color(cluster: str | None, alpha: int = 235) -> list[int]:
    return LISA_COLORS.get(cluster or NO_VALUE, LISA_COLORS[NO_VALUE]) + [alpha]


def lisa_legend(clusters) -> list[dict]:
    """Legend entries (for :func:`quartier.areas.classes.legend_html`) with the count of each LISA category."""
    vals = [c or NO_VALUE for c in clusters]
    return [{"kind": "class", "label": k, "color": v, "count": vals.count(k)}
            for k, v in LISA_COLORS.items() if k in vals or k.startswith(("Hot", "Cold"))]


def lisa_properties(area_props: dict[str, dict], lisa: pd.DataFrame) -> dict[str, dict]:
    """Copies of the feature properties with the LISA category as fill colour and as text (``lisa``).

    Areas without a usable value (protected, missing) get "ohne verwendbaren Wert"."""
    cluster = dict(zip(lisa["sozialraum_id"], lisa["cluster"])) if len(lisa) else {}
    out = {}
    for i, p in area_props.items():
        c = cluster.get(i) or NO_VALUE
        out[i] = {**p, "fill": lisa_color(c), "lisa": c}
    return out


def lisa_summary(lisa: pd.DataFrame, names: dict[str, str], indicator_name: str, year: int, n_areas: int) -> str:
    """Text alternative of the LISA map: how many areas fall in each category, naming hot and cold spots."""
    if not len(lisa):
        return (f"Für „{indicator_name}“ {year} lässt sich kein lokales Muster bestimmen (zu wenige Sozialräume mit "
                "verwendbarem Wert oder keine Streuung).")
    parts = [f"Die Karte zeigt lokale Muster (LISA) von „{indicator_name}“ {year} für {n_areas} Sozialräume."]
    for label in ("Hot Spot (hoch, Nachbarn hoch)", "Cold Spot (niedrig, Nachbarn niedrig)",
                  "hoch, Nachbarn niedrig", "niedrig, Nachbarn hoch"):
        ids = lisa.loc[lisa["cluster"] == label, "sozialraum_id"].tolist()
        if not ids:
            continue
        listed = ", ".join(names.get(i, i) for i in ids[:12]) + (f" und {len(ids) - 12} weitere" if len(ids) > 12 else "")
        parts.append(f"{label}: {len(ids)} ({listed}).")
    if not any(lisa["cluster"].str.startswith(("Hot", "Cold", "hoch", "niedrig"))):
        parts.append("Kein Sozialraum bildet ein signifikantes lokales Muster (p < 5 %).")
    n_ns = int((lisa["cluster"] == "nicht signifikant").sum())
    parts.append(f"{n_ns} Sozialräume ohne signifikantes Muster; {n_areas - len(lisa)} ohne verwendbaren Wert.")
    return " ".join(parts)


def lisa_table(lisa: pd.DataFrame, names: dict[str, str], all_ids: list[str]) -> pd.DataFrame:
    """Every area with its LISA category and p-value (table alternative of the LISA map), hot spots first."""
    from quartier import format as fmt

    by_id = lisa.set_index("sozialraum_id") if len(lisa) else pd.DataFrame(columns=["cluster", "p"])
    order = {k: n for n, k in enumerate(LISA_COLORS)}
    rows = []
    for i in all_ids:
        has = i in by_id.index
        c = str(by_id.at[i, "cluster"]) if has else NO_VALUE
        rows.append({"Sozialraum": names.get(i, i), "Nr.": i, "Lokales Muster (LISA)": c,
                     "p": fmt.number(float(by_id.at[i, "p"]), 3) if has else fmt.NOTHING, "_o": order.get(c, 99)})
    t = pd.DataFrame(rows, columns=["Sozialraum", "Nr.", "Lokales Muster (LISA)", "p", "_o"])
    return t.sort_values(["_o", "Nr."], kind="stable").drop(columns="_o").reset_index(drop=True)
