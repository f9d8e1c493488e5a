"""The map of a report: need classes of the scope's Sozialräume over their surroundings, drawn as SVG
(rendered to PNG by vl-convert for the PDF), with a text alternative."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quartier import db
from quartier import format as fmt
from quartier.access import Actor
from quartier.reports.scope import AREA, Scope, protected_values, rank_indicator, year_of
from quartier.values import indicators, uncertainty

# Said under the map of a city without an axis (the Karte page has the full hint, corridor.NO_AXIS_HINT).
NO_AXIS_NOTE = ("Für diese Stadt ist keine Achse eingerichtet; eine Achse (z. B. eine Hauptstraße) richtet die "
                "Administration mit `python -m quartier init … --axis DATEI.geojson --axis-name NAME` ein.")
# Need classes on the map, from least to most need (sequential, colour-blind safe, print-friendly).
MAP_CLASS_COLORS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#d7301f"]


@dataclass
class MapData:
    areas: pd.DataFrame        # id, name, bezirk_id, geom (metric), in_scope, klasse, wert_text
    axes: list                 # (name, metric line)
    bounds: tuple[float, float, float, float]
    classes: list[str]         # legend texts, least to most need
    indicator_name: str


def map_data(con, scope: Scope, values: pd.DataFrame | None = None, year: int | None = None, *, actor: Actor,
             cat: pd.DataFrame | None = None) -> MapData:
    """Geometry (ETRS89/UTM 32N) of the scope's surroundings, need classes of the scope's areas
    (quartiles of the ranking indicator over the whole city), and the axes (if the city has any).
    ``cat``: the catalogue indexed by id, if the caller read it already."""
    from quartier.areas import geometry as geo

    geo_df = db.query_df(con, "SELECT id, name, bezirk_id, geometry FROM sozialraum ORDER BY id")
    import shapely

    from quartier.areas.corridor import to_metric_many

    geo_df["geom"] = list(to_metric_many(shapely.from_geojson(geo_df["geometry"].tolist())))
    geo_df = geo_df.drop(columns="geometry")
    geo_df["in_scope"] = geo_df["id"].isin(scope.area_ids)
    cat = indicators.catalogue(con).set_index("id") if cat is None else cat
    iid = rank_indicator(con, cat)
    classes: list[str] = []
    geo_df["klasse"] = None
    geo_df["wert_text"] = ""
    geo_df["wert_ki_text"] = ""  # the value with its 95 % interval ("12,4 % (9,8–15,5)"), for tooltips
    name = ""
    if iid:
        name = cat.loc[iid, "name"]
        unit = cat.loc[iid, "einheit"]
        dec = fmt.decimals_for(unit, cat.loc[iid].get("dezimalstellen"))  # the indicator's decimals (catalogue)
        v = values if values is not None else protected_values(con, [iid], actor=actor)
        v = v[(v["ebene"] == AREA) & (v["indikator_id"] == iid)]
        y = year_of(v, year)
        v = v[v["jahr"] == y]
        ok = v[v["wert"].notna() & ~v["gesperrt"].fillna(False).astype(bool)]
        if len(ok) >= 4:
            q = np.quantile(ok["wert"], [0.25, 0.5, 0.75])
            edges = [ok["wert"].min(), *q, ok["wert"].max()]
            classes = [f"{fmt.number(edges[i], dec)} bis {fmt.number(edges[i + 1], dec)}" for i in range(4)]
            if cat.loc[iid, "richtung"] == "lower":
                classes = classes[::-1]
            lower = cat.loc[iid, "richtung"] == "lower"
            lo, hi = uncertainty.interval(v["wert"], v["zaehler"], v["nenner"], unit)  # from the values shown
            by_id = {sid: (w, bool(g) if not pd.isna(g) else False, a, b)
                     for sid, w, g, a, b in zip(v["sozialraum_id"], v["wert"], v["gesperrt"], lo, hi)}
            kl, txt, with_ki = [], [], []
            for sid in geo_df["id"]:
                if sid not in by_id:
                    kl.append(None)
                    txt.append(fmt.NOTHING)
                    with_ki.append(fmt.NOTHING)
                    continue
                w, locked, a, b = by_id[sid]
                if locked or pd.isna(w):
                    kl.append(None)
                else:
                    k = int(np.searchsorted(q, w, side="right"))
                    kl.append(3 - k if lower else k)
                txt.append(fmt.value(w, unit, dec, suppressed=locked))
                with_ki.append(txt[-1] if locked else uncertainty.text(w, a, b, unit, dec))
            geo_df["klasse"], geo_df["wert_text"], geo_df["wert_ki_text"] = kl, txt, with_ki
            name = f"{name} {y}"
    axes = [(r["name"], geo.to_metric(geo.geom_from_text(r["geometry"])))
            for r in db.query_df(con, "SELECT name, geometry FROM achse ORDER BY name").to_dict("records")]
    focus = geo_df[geo_df["in_scope"]] if geo_df["in_scope"].any() else geo_df
    minx, miny, maxx, maxy = shapely.union_all(list(focus["geom"])).bounds
    pad = max(maxx - minx, maxy - miny) * 0.06 + 200
    return MapData(geo_df, axes, (minx - pad, miny - pad, maxx + pad, maxy + pad), classes, name)


def _svg_path(geom, tx) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        if not hasattr(p, "exterior"):
            continue
        for ring in [p.exterior, *p.interiors]:
            pts = [tx(x, y) for x, y in ring.coords]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
    return " ".join(parts)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def map_svg(md: MapData, width: int = 900, height: int = 620, label: str = "name") -> str:
    """The map as SVG text: areas of the scope filled by need class, neighbours pale, labels, axes."""
    import shapely

    minx, miny, maxx, maxy = md.bounds
    legend_h = 70
    sx = width / (maxx - minx)
    sy = (height - legend_h) / (maxy - miny)
    s = min(sx, sy)
    ox = (width - (maxx - minx) * s) / 2
    oy = (height - legend_h - (maxy - miny) * s) / 2

    def tx(x, y):
        return ox + (x - minx) * s, oy + (maxy - y) * s

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="8" height="8" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="8" stroke="#888" stroke-width="2"/>'
           '</pattern></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>', '<g>']
    for r in md.areas.to_dict("records"):
        if r["in_scope"]:
            fill = MAP_CLASS_COLORS[r["klasse"]] if r["klasse"] is not None else "url(#hatch)"
            out.append(f'<path d="{_svg_path(r["geom"], tx)}" fill="{fill}" stroke="#222" stroke-width="1.6"/>')
        else:
            out.append(f'<path d="{_svg_path(r["geom"], tx)}" fill="#f4f4f4" stroke="#aaa" stroke-width="0.8"/>')
    for name, line in md.axes:
        lines = getattr(line, "geoms", [line])
        for ln in lines:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (tx(a, b) for a, b in ln.coords))
            out.append(f'<polyline points="{pts}" fill="none" stroke="white" stroke-width="9"/>')
            out.append(f'<polyline points="{pts}" fill="none" stroke="#000000" stroke-width="5"/>')
        # Label the axis where it is inside the frame.
        frame = shapely.box(minx, miny, maxx, maxy)
        inside = line.intersection(frame.buffer(-(maxx - minx) * 0.05))
        if not inside.is_empty:
            # put the label where it is farthest from the area labels
            labels = [r["geom"].representative_point() for r in md.areas[md.areas["in_scope"]].to_dict("records")]
            cands = [inside.interpolate(f, normalized=True) for f in np.linspace(0.05, 0.95, 19)]
            p = max(cands, key=lambda c: min((c.distance(q) for q in labels), default=0))
            x, y = tx(p.x, p.y)
            out.append(f'<rect x="{x - 24:.1f}" y="{y - 32:.1f}" width="48" height="24" rx="4" fill="#000"/>'
                       f'<text x="{x:.1f}" y="{y - 14:.1f}" font-family="DejaVu Sans" font-size="16" font-weight="bold" '
                       f'fill="#fff" text-anchor="middle">{_esc(name)}</text>')
    placed = area_labels(md, tx, label)
    for x, y, fs, lines in placed:
        for i, t in enumerate(lines):
            out.append(f'<text x="{x:.1f}" y="{y + i * (fs + 3):.1f}" font-family="DejaVu Sans" font-size="{fs}" '
                       f'font-weight="{"bold" if i == 0 else "normal"}" text-anchor="middle" fill="#000" stroke="#fff" '
                       f'stroke-width="3" paint-order="stroke">{_esc(t)}</text>')
    out.append("</g>")
    # The map ends above the legend: a white band over it instead of a clip path, which the renderer draws
    # as a full-size mask (three quarters of the time of the whole map).
    out.append(f'<rect x="0" y="{height - legend_h}" width="{width}" height="{legend_h}" fill="white"/>')
    ly = height - legend_h + 12
    out.append(f'<text x="8" y="{ly + 8}" font-family="DejaVu Sans" font-size="14" font-weight="bold">{_esc(md.indicator_name)}'
               ' – Klassen (Quartile der Stadt), von wenig zu viel Bedarf:</text>')
    x = 8
    for i, c in enumerate(md.classes):
        out.append(f'<rect x="{x}" y="{ly + 20}" width="26" height="18" fill="{MAP_CLASS_COLORS[i]}" stroke="#222"/>'
                   f'<text x="{x + 32}" y="{ly + 34}" font-family="DejaVu Sans" font-size="13">{_esc(c)}</text>')
        x += 175
    out.append(f'<rect x="{x}" y="{ly + 20}" width="26" height="18" fill="url(#hatch)" stroke="#222"/>'
               f'<text x="{x + 32}" y="{ly + 34}" font-family="DejaVu Sans" font-size="13">gesperrt/keine Daten</text>')
    hidden = int(md.areas["in_scope"].sum()) - len(placed)
    if hidden > 0:
        out.append(f'<text x="8" y="{ly + 56}" font-family="DejaVu Sans" font-size="12">{hidden} Gebiete sind zu klein für '
                   'eine Beschriftung: ihre Werte stehen in der Tabelle.</text>')
    out.append("</svg>")
    return "\n".join(out)


# Text size on the map (px) and the average glyph width of DejaVu Sans as a share of the font size.
LABEL_SIZE = {"id": 15, "name": 13}
SMALLEST_LABEL = 9
GLYPH_WIDTH = 0.62


def area_labels(md: MapData, tx, label: str = "name") -> list[tuple[float, float, int, list[str]]]:
    """The labels that fit: ``(x, y, font size, lines)`` for each in-scope area whose projected shape holds its
    text (name, else id, with the value below; smaller type down to :data:`SMALLEST_LABEL` px) without touching
    a label already placed. Larger areas are placed first; on a city with hundreds of areas most small ones stay
    unlabelled (their values are in the report's table), instead of ids printed on top of each other."""
    mine = md.areas[md.areas["in_scope"]]
    order = sorted(mine.to_dict("records"), key=lambda r: -r["geom"].area)
    placed: list[tuple[float, float, int, list[str]]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for r in order:
        (x0, y0), (x1, y1) = tx(*r["geom"].bounds[:2]), tx(*r["geom"].bounds[2:])
        w_box, h_box = abs(x1 - x0), abs(y1 - y0)
        c = r["geom"].representative_point()
        x, y = tx(c.x, c.y)
        texts = [r["id"]] if label == "id" else [r["name"], r["id"]]
        for text in texts:
            fit = _fit(text, r["wert_text"], w_box, h_box, LABEL_SIZE.get(label, 13))
            if fit is None:
                continue
            fs, lines, w, h = fit
            box = (x - w / 2, y - fs, x + w / 2, y - fs + h)
            if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in boxes):
                continue
            boxes.append(box)
            placed.append((x, y, fs, lines))
            break
    return placed


def _fit(text: str, value: str, w_box: float, h_box: float, size: int) -> tuple[int, list[str], float, float] | None:
    """The largest font size (``size`` down to the smallest) at which ``text`` and ``value`` fit the box."""
    for fs in range(size, SMALLEST_LABEL - 1, -2):
        lines = [text] + ([value] if value else [])
        w = max(len(t) for t in lines) * fs * GLYPH_WIDTH
        h = len(lines) * (fs + 3)
        if w <= w_box * 0.9 and h <= h_box * 0.9:
            return fs, lines, w, h
    return None


def map_png(md: MapData, width: int = 900, height: int = 620, scale: float = 2.0, label: str = "name") -> bytes:
    from quartier.reports.render import svg_png

    return svg_png(map_svg(md, width, height, label), scale=scale)


def map_text(md: MapData, scope: Scope) -> str:
    """A text alternative of the map."""
    mine = md.areas[md.areas["in_scope"]]
    parts = [f"{r['name']} ({r['wert_text'] or fmt.NOTHING})" for r in mine.to_dict("records")]
    axes = ", ".join(n for n, _ in md.axes)
    crosses = []
    import shapely

    u = shapely.union_all(list(mine["geom"])) if len(mine) else None
    for n, line in md.axes:
        if u is not None and line.intersects(u):
            hit = [r["name"] for r in mine.to_dict("records") if line.intersects(r["geom"])]
            crosses.append(f"Die {n} verläuft durch {', '.join(hit)}.")
    text = f"Karte {scope.label}: {md.indicator_name} – " + "; ".join(parts) + "."
    if crosses:
        text += " " + " ".join(crosses)
    elif axes:
        text += f" Die Achse {axes} berührt dieses Gebiet nicht."
    else:
        text += f" {NO_AXIS_NOTE}"
    return text
