"""Supply per Sozialraum for one category and year: offers, places, target group, places per 100, reach.

Reach is the share of an area's surface within the radius of at least one open offer of the category:
straight line in ETRS89/UTM 32N (shapely buffers, intersections), or, where the city loaded a footpath
network, along the network (networkx multi-source Dijkstra; reachable paths buffered by the setting
``angebote_netz_puffer_m``). Offers known only by Sozialraum count in their area, not in reach. City
values are ratios of sums. The target group comes from ``indicators.current_values(..., actor=actor)``:
a viewer's figures are derived from protected values only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from quartier import db, settings, units
from quartier.access import Actor
from quartier.offers import catalogue
from quartier.offers.store import CityGeometry, OfferError, city_geometry, network_lines, offers, to_metric_xy
from quartier.offers.totals import MISSING, OK, SUPPRESSED, city_coverage, district_table, totals
from quartier.values import coverage, indicators, query

LUFTLINIE, NETZ = "luftlinie", "netz"
QUAD_SEGS = 8


@dataclass(frozen=True)
class Planned:
    """A hypothetical offer for one run (scenario, ``--neu``); never stored unless saved as a scenario."""

    lon: float
    lat: float
    plaetze: float | None = None
    name: str = "geplant"


@dataclass
class Need:
    """Need per Sozialraum: a label and a rank (higher = more need); ``order`` lists the labels by rank."""

    label: dict[str, str | None] = field(default_factory=dict)
    rank: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class Supply:
    kategorie: str
    jahr: int
    radius_m: float
    distanz: str
    zielgruppe: str | None
    table: pd.DataFrame            # one row per Sozialraum
    stadt: dict
    points: pd.DataFrame           # offers used (with coordinates or not), planned ones flagged
    reach_parts: np.ndarray        # reach polygons in metres (for the map outline)
    need_source: str = ""
    bezirke: pd.DataFrame | None = None  # one row per Stadtbezirk (quartier.offers.totals.district_table)

    def to_json(self) -> dict:
        rows = []
        for r in self.table.to_dict("records"):
            rows.append({"id": r["id"], "name": r["name"], "angebote": int(r["angebote"]), "plaetze": _num(r["plaetze"]),
                         "zielgruppe": _num(r["zielgruppe"]), "plaetze_je_100": _num(r["plaetze_je_100"], 2),
                         "erreichbar_anteil": _num(r["erreichbar_anteil"], 4), "bedarf_klasse": r["bedarf_klasse"]})
        return {"kategorie": self.kategorie, "jahr": self.jahr, "radius_m": _num(self.radius_m), "distanz": self.distanz,
                "zielgruppe": self.zielgruppe,
                "stadt": {k: _num(self.stadt[k], 2 if k == "plaetze_je_100" else None)
                          for k in ("angebote", "plaetze", "zielgruppe", "plaetze_je_100")},
                "sozialraeume": rows}


def _num(v, digits: int | None = None):
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    f = float(v)
    if digits is not None:
        return round(f, digits)
    return int(f) if f.is_integer() else round(f, 2)


# ------------------------------------------------------------------------------------------------
# Reach geometry


def covered_share(city: CityGeometry, shapes: np.ndarray) -> np.ndarray:
    """Per area: the share of its surface covered by the union of ``shapes`` (metres)."""
    out = np.zeros(len(city.ids))
    shapes = np.asarray(shapes, dtype=object)
    if not len(shapes) or not len(city.ids):
        return out
    si, ai = city.tree.query(shapes, predicate="intersects")
    if not len(si):
        return out
    # an area inside one circle is covered whole: no intersection needed (most areas of a dense city)
    _, full = city.tree.query(shapes, predicate="contains")
    if len(full):
        whole = np.zeros(len(city.ids), dtype=bool)
        whole[full] = True
        out[whole] = city.areas_m2[whole]
        keep = ~whole[ai]
        si, ai = si[keep], ai[keep]
    if len(si) > 4000:  # GEOS releases the GIL: two halves (split between areas) on two threads
        from concurrent.futures import ThreadPoolExecutor

        order = np.argsort(ai, kind="stable")
        ai, si = ai[order], si[order]
        cut = int(np.searchsorted(ai, ai[len(ai) // 2]))
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda sl: _union_per_area(city, shapes, si[sl], ai[sl], out), (slice(0, cut), slice(cut, None))))
    elif len(si):
        _union_per_area(city, shapes, si, ai, out)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(city.areas_m2 > 0, out / city.areas_m2, 0.0)
    return np.clip(share, 0.0, 1.0)


def _union_per_area(city: CityGeometry, shapes: np.ndarray, si: np.ndarray, ai: np.ndarray, out: np.ndarray) -> None:
    """Per hit area: the union of its reach shapes (one GEOS union per area, vectorised over a padded 2-D array),
    then one intersection with the area (cheaper than intersecting every pair first: 0.8 s instead of 1.35 s CPU
    for 30,000 pairs)."""
    if not len(si):
        return
    order = np.argsort(ai, kind="stable")
    ai, si = ai[order], si[order]
    areas_hit, start, count = np.unique(ai, return_index=True, return_counts=True)
    grid = np.full((len(areas_hit), int(count.max())), None, dtype=object)
    col = np.arange(len(ai)) - np.repeat(start, count)
    grid[np.repeat(np.arange(len(areas_hit)), count), col] = shapes[si]
    single = count == 1
    reach = np.empty(len(areas_hit), dtype=object)
    reach[single] = grid[single, 0]
    if (~single).any():
        reach[~single] = shapely.union_all(grid[~single], axis=1)
    out[areas_hit] = shapely.area(shapely.intersection(city.geoms[areas_hit], reach))


def straight_reach(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    """Circles of ``radius`` metres around the points (one polygon each): 32-gons of the circle's area (the
    polygon's radius enlarged by 0.3 %), so an area inside a circle gets exactly pi r² at half the vertices of a
    64-gon (the intersections and unions dominate the run time)."""
    n = 4 * QUAD_SEGS
    equal_area = float(radius) * math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n)))
    return shapely.buffer(shapely.points(x, y), equal_area, quad_segs=QUAD_SEGS)


def network_graph(lines: np.ndarray) -> nx.Graph:
    """The footpath graph: line vertices (rounded to centimetres) as nodes, segments as edges weighted by length."""
    g = nx.Graph()
    for line in shapely.get_parts(lines):
        c = np.round(shapely.get_coordinates(line), 2)
        for (x0, y0), (x1, y1) in zip(c[:-1], c[1:]):
            w = float(np.hypot(x1 - x0, y1 - y0))
            if w > 0:
                u, v = (float(x0), float(y0)), (float(x1), float(y1))
                if not g.has_edge(u, v) or g[u][v]["weight"] > w:
                    g.add_edge(u, v, weight=w)
    return g


def network_distances(g: nx.Graph, x: np.ndarray, y: np.ndarray, radius: float) -> dict:
    """Network distance from the nearest offer to every node within ``radius`` (offers snap to the nearest node;
    the snap distance counts). networkx multi-source Dijkstra through one virtual source."""
    if not len(x) or not g.number_of_nodes():
        return {}
    nodes = list(g.nodes)
    tree = shapely.STRtree(shapely.points(np.array(nodes)))
    pts = shapely.points(x, y)
    pi, ni = tree.query_nearest(pts, max_distance=float(radius), return_distance=False, all_matches=False)
    h = g.copy()
    src = ("__quelle__",)
    for p, n in zip(pi, ni):
        node = nodes[int(n)]
        d = float(np.hypot(node[0] - x[p], node[1] - y[p]))
        if not h.has_edge(src, node) or h[src][node]["weight"] > d:
            h.add_edge(src, node, weight=d)
    if src not in h:
        return {}
    dist = nx.single_source_dijkstra_path_length(h, src, cutoff=float(radius), weight="weight")
    dist.pop(src, None)
    return dist


def network_reach(g: nx.Graph, x: np.ndarray, y: np.ndarray, radius: float, width: float) -> np.ndarray:
    """Reachable parts of the network within ``radius``, buffered by ``width`` metres, as polygons."""
    dist = network_distances(g, x, y, radius)
    segs = []
    r = float(radius)
    for u, v, data in g.edges(data=True):
        if u == ("__quelle__",) or v == ("__quelle__",):
            continue
        w = data["weight"]
        du, dv = dist.get(u, np.inf), dist.get(v, np.inf)
        if min(du, dv) + w <= r:
            segs.append(((u[0], u[1]), (v[0], v[1])))
            continue
        for a, b, da in ((u, v, du), (v, u, dv)):
            if da < r:
                t = (r - da) / w
                segs.append(((a[0], a[1]), (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))))
    if not segs:
        return np.array([], dtype=object)
    reach = shapely.buffer(shapely.MultiLineString(segs), float(width), quad_segs=8)
    return shapely.get_parts(reach)


# ------------------------------------------------------------------------------------------------
# Figures


def target_group(con: db.Con, indicator: str | None, year: int, ids: list[str], *, actor: Actor) -> pd.Series:
    """The target group per Sozialraum (NaN where missing or protected for this actor)."""
    return target_group_status(con, indicator, year, ids, actor=actor)[0]


def target_group_status(con: db.Con, indicator: str | None, year: int, ids: list[str], *,
                        actor: Actor) -> tuple[pd.Series, pd.Series]:
    """(target group per Sozialraum, status per Sozialraum: "ok" | "gesperrt" | "fehlt"); a suppressed value is NaN
    with status "gesperrt" (neither 0 nor missing). Viewers: protected values."""
    missing = pd.Series(np.nan, index=ids, dtype=float), pd.Series(MISSING, index=ids, dtype=object)
    if not indicator:
        return missing
    vals = indicators.current_values(con, [indicator], [int(year)], actor=actor)
    if vals.empty:
        return missing
    unit = con.cursor().execute("SELECT einheit FROM indikator WHERE id = ?", [indicator]).fetchone()
    col = "wert" if units.is_count(unit[0] if unit else None) else "nenner"
    v = vals.copy()
    supp = v["gesperrt"].fillna(False).astype(bool) if "gesperrt" in v.columns else pd.Series(False, index=v.index)
    v.loc[supp, col] = np.nan
    val = pd.Series(v[col].astype(float).to_numpy(), index=v["sozialraum_id"]).groupby(level=0).first().reindex(ids)
    st = pd.Series(np.where(supp.to_numpy(), SUPPRESSED, np.where(v[col].notna().to_numpy(), OK, MISSING)),
                   index=v["sozialraum_id"]).groupby(level=0).first().reindex(ids).fillna(MISSING)
    return val, st.astype(object)


def default_year(con: db.Con, indicator: str | None) -> int:
    yrs = (query.years(con, [indicator]) if indicator else []) or query.years(con)  # on today's areas
    return yrs[-1] if yrs else pd.Timestamp.today().year


def _points(con: db.Con, kat: str, year: int, planned: list[Planned], city: CityGeometry, *, actor: Actor) -> pd.DataFrame:
    pts = offers(con, kat, year, actor=actor)[["id", "name", "plaetze", "lon", "lat", "sozialraum_id"]].copy()
    pts["geplant"] = False
    if planned:
        px, py = to_metric_xy([p.lon for p in planned], [p.lat for p in planned])
        where = city.locate(px, py)
        for p, sr in zip(planned, where):
            if sr is None:
                raise OfferError(f"Das geplante Angebot bei {p.lat:.5f}, {p.lon:.5f} (Breite, Länge) liegt außerhalb der Stadt.")
        extra = pd.DataFrame({"id": [f"geplant-{i + 1}" for i in range(len(planned))], "name": [p.name for p in planned],
                              "plaetze": [p.plaetze for p in planned], "lon": [p.lon for p in planned],
                              "lat": [p.lat for p in planned], "sozialraum_id": where, "geplant": True})
        pts = pd.concat([pts, extra], ignore_index=True) if len(pts) else extra
    pts["plaetze"] = pd.to_numeric(pts["plaetze"], errors="coerce")
    return pts


def reach_parts(con: db.Con, pts: pd.DataFrame, radius: float) -> tuple[np.ndarray, str]:
    """Reach polygons (metres) of the offers with coordinates, and which distance was used."""
    located = pts.dropna(subset=["lon", "lat"])
    x, y = to_metric_xy(located["lon"].to_numpy(), located["lat"].to_numpy())
    lines = network_lines(con)
    if len(lines):
        width = settings.read_int(con, "angebote_netz_puffer_m")
        return network_reach(graph(con, lines), x, y, radius, width), NETZ
    return straight_reach(x, y, radius), LUFTLINIE


_GRAPH: dict[str, nx.Graph] = {}


def graph(con: db.Con, lines: np.ndarray | None = None) -> nx.Graph:
    """The footpath graph of the loaded network (cached per network content)."""
    if lines is None:
        lines = network_lines(con)
    key = str(con.cursor().execute("SELECT count(*), sum(hash(geometry)) FROM angebot_netz").fetchone())
    if key not in _GRAPH:
        _GRAPH.clear()
        _GRAPH[key] = network_graph(lines)
    return _GRAPH[key]


def supply(con: db.Con, kategorie: str, year: int | None = None, radius: float | None = None,
           zielgruppe: str | None = None, planned: list[Planned] | None = None, need: Need | None = None, *,
           actor: Actor) -> Supply:
    """The figures per Sozialraum and for the city (see module text). ``planned`` offers count for this run only."""
    cat = catalogue.category(con, kategorie)
    ind = zielgruppe or cat["zielgruppe_indikator"]
    year = int(year) if year is not None else default_year(con, ind)
    radius = float(radius if radius is not None else cat["radius_m"])
    if radius <= 0:
        raise OfferError("Der Radius muss größer als 0 Meter sein.")
    city = city_geometry(con)
    pts = _points(con, cat["name"], year, list(planned or []), city, actor=actor)
    parts, distanz = reach_parts(con, pts, radius)
    share = covered_share(city, parts)
    by_area = pts.groupby("sozialraum_id")
    n = by_area.size().reindex(city.ids).fillna(0).astype(int)
    # places of an area: the sum; unknown when an offer in it has no place count (never 0), 0 without offers
    places = by_area["plaetze"].sum(min_count=1).reindex(city.ids)
    unknown = pts["plaetze"].isna().groupby(pts["sozialraum_id"]).any().reindex(city.ids).fillna(False).astype(bool)
    places = places.where(~unknown.to_numpy(), np.nan).where(n.to_numpy() > 0, 0.0)
    tg, tg_status = target_group_status(con, ind, year, city.ids, actor=actor)
    with np.errstate(invalid="ignore", divide="ignore"):
        per100 = np.where(tg.to_numpy() > 0, places.to_numpy() / tg.to_numpy() * 100, np.nan)
    need = need or Need()
    table = pd.DataFrame({"id": city.ids, "name": city.names, "bezirk": city.bezirk,
                          "bezirk_id": city.bezirk_ids or [None] * len(city.ids), "angebote": n.to_numpy(),
                          "plaetze": places.to_numpy(), "zielgruppe": tg.to_numpy(), "zielgruppe_status": tg_status.to_numpy(),
                          "plaetze_je_100": per100, "erreichbar_anteil": share, "flaeche_m2": city.areas_m2,
                          "bedarf_klasse": [need.label.get(i) for i in city.ids],
                          "bedarf_rang": [need.rank.get(i) for i in city.ids]})
    cov = coverage.coverage(con, [ind], [year]) if ind else None
    return Supply(cat["name"], year, radius, distanz, ind, table, totals(table, city_coverage(cov)), pts, parts,
                  need.source, district_table(table, cov))


def reached_population(table: pd.DataFrame) -> float:
    """Target group within reach, estimated with the area share (the target group spread evenly over the area)."""
    tg = table["zielgruppe"].fillna(0.0)
    return float((tg * table["erreichbar_anteil"]).sum())
