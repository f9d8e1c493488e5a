"""Location suggestion: the sites that bring the most need-weighted target population newly within reach.

A maximal covering location problem (spopt.locate.MCLP, solved with CBC through pulp) over candidate
points (a grid inside the city, or a list the city supplies). Demand: the target group of each Sozialraum
spread evenly over a point grid inside it, weighted by need (1 + the need rank: more need counts more);
demand already within reach of an open offer counts nothing. Distances are straight lines in metres, or
along the city's footpath network when one is loaded (networkx Dijkstra from every candidate).
The result is a suggestion for planners, never a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from quartier import db
from quartier import format as fmt
from quartier.access import Actor
from quartier.offers.store import CityGeometry, OfferError, city_geometry, to_metric_xy, to_wgs_xy
from quartier.offers.supply import NETZ, Need, Supply, graph, supply

MAX_DEMAND_POINTS = 2000
MAX_CANDIDATES = 300


@dataclass
class Demand:
    x: np.ndarray
    y: np.ndarray
    people: np.ndarray      # target group represented by each point
    weight: np.ndarray      # need-weighted people, 0 where already reached
    area: list[str]


def grid_inside(city: CityGeometry, n_target: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A regular grid of about ``n_target`` points inside the city, with the Sozialraum of each point."""
    if city.city.is_empty:
        return np.array([]), np.array([]), []
    minx, miny, maxx, maxy = city.city.bounds
    step = max(25.0, float(np.sqrt(city.city.area / max(n_target, 1))))
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    where = city.locate(gx, gy)
    keep = np.array([w is not None for w in where], dtype=bool)
    return gx[keep], gy[keep], [w for w in where if w is not None]


def demand_points(city: CityGeometry, res: Supply, need: Need, n_target: int = MAX_DEMAND_POINTS) -> Demand:
    gx, gy, where = grid_inside(city, n_target)
    have = set(where)
    # areas too small for a grid point: their representative point
    for i, aid in enumerate(city.ids):
        if aid not in have:
            p = shapely.point_on_surface(city.geoms[i])
            gx, gy, where = np.append(gx, p.x), np.append(gy, p.y), [*where, aid]
    counts = pd.Series(where).value_counts()
    tg = res.table.set_index("id")["zielgruppe"].fillna(0.0)
    people = np.array([tg.get(a, 0.0) / counts[a] for a in where])
    w = np.array([1.0 + float(need.rank.get(a, 0) or 0) for a in where]) * people
    reached = _within(gx, gy, res.reach_parts)
    w[reached] = 0.0
    return Demand(gx, gy, people, w, where)


def _within(x: np.ndarray, y: np.ndarray, parts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=bool)
    if len(parts) and len(x):
        tree = shapely.STRtree(parts)
        pi, _ = tree.query(shapely.points(x, y), predicate="intersects")
        out[np.unique(pi)] = True
    return out


def cover_straight(dx: np.ndarray, dy: np.ndarray, cx: np.ndarray, cy: np.ndarray, radius: float) -> np.ndarray:
    """Boolean matrix demand x candidate: within ``radius`` metres in a straight line."""
    return np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :]) <= float(radius)


def cover_network(g: nx.Graph, dx: np.ndarray, dy: np.ndarray, cx: np.ndarray, cy: np.ndarray,
                  radius: float) -> np.ndarray:
    """Boolean matrix demand x candidate: within ``radius`` metres along the footpath network. Points snap to
    their nearest network node (the snap distance counts on both ends); one networkx Dijkstra per candidate,
    cut off at the radius."""
    out = np.zeros((len(dx), len(cx)), dtype=bool)
    if not g.number_of_nodes() or not len(dx) or not len(cx):
        return out
    nodes = list(g.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    tree = shapely.STRtree(shapely.points(np.array(nodes)))
    _, d_node = tree.query_nearest(shapely.points(dx, dy), all_matches=False)
    _, c_node = tree.query_nearest(shapely.points(cx, cy), all_matches=False)
    xy = np.array(nodes)
    d_snap = np.hypot(xy[d_node, 0] - dx, xy[d_node, 1] - dy)
    c_snap = np.hypot(xy[c_node, 0] - cx, xy[c_node, 1] - cy)
    r = float(radius)
    for j in range(len(cx)):
        left = r - c_snap[j]
        if left < 0:
            continue
        lengths = nx.single_source_dijkstra_path_length(g, nodes[int(c_node[j])], cutoff=left, weight="weight")
        dist = np.full(len(nodes), np.inf)
        dist[[index[n] for n in lengths]] = list(lengths.values())
        out[:, j] = dist[d_node] + d_snap + c_snap[j] <= r
    return out


def solve_mclp(cover: np.ndarray, weight: np.ndarray, p: int) -> list[int]:
    """Indices of the ``p`` candidates covering the most demand weight (MCLP with spopt, CBC through pulp),
    ordered by what each adds. ``cover``: boolean matrix demand x candidate."""
    import pulp
    from spopt.locate import MCLP

    use = weight > 0
    if not use.any() or not cover.shape[1]:
        return []
    cover_u = cover[use]
    idx = np.flatnonzero(cover_u.any(axis=0))
    if not len(idx):
        return []
    # demand points covered by exactly the same candidates are one client (exact; shrinks the problem a lot)
    rows, inverse = np.unique(cover_u[:, idx], axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=weight[use], minlength=len(rows))
    keep = rows.any(axis=1)
    cost = np.where(rows[keep], 0.0, 2.0)
    p = min(int(p), len(idx))
    model = MCLP.from_cost_matrix(cost, w[keep], 1.0, p_facilities=p, name="angebote")
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=60))
    chosen = [int(idx[j]) for j, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
    return _by_contribution(chosen, cover_u, weight[use])


def _by_contribution(chosen: list[int], cover: np.ndarray, w: np.ndarray) -> list[int]:
    """The chosen sites ordered greedily by what each adds (largest first), for a readable explanation."""
    covered = np.zeros(cover.shape[0], dtype=bool)
    out, left = [], list(chosen)
    while left:
        gains = [float(w[(~covered) & cover[:, j]].sum()) for j in left]
        j = left.pop(int(np.argmax(gains)))
        covered |= cover[:, j]
        out.append(j)
    return out


def suggest(con: db.Con, kategorie: str, anzahl: int, radius: float | None = None, year: int | None = None,
            need: Need | None = None, candidates: list[tuple[float, float]] | None = None, *, actor: Actor) -> dict:
    """N suggested sites with the target group each newly reaches; ``vorher``/``nachher``: the target group within
    reach before and after (estimated on the demand points). Distance as in :func:`supply` (along the footpath
    network when the city loaded one, else straight line); ``candidates``: the city's site list (lon, lat)."""
    if int(anzahl) < 1:
        raise OfferError("Bitte mindestens einen Standort anfordern (--anzahl 1 oder mehr).")
    need = need or Need()
    res = supply(con, kategorie, year, radius, need=need, actor=actor)
    city = city_geometry(con)
    d = demand_points(city, res, need)
    if candidates:
        cx, cy = to_metric_xy([c[0] for c in candidates], [c[1] for c in candidates])
    else:
        cx, cy, _ = grid_inside(city, MAX_CANDIDATES)
    if res.distanz == NETZ:
        cover = cover_network(graph(con), d.x, d.y, cx, cy, res.radius_m)
    else:
        cover = cover_straight(d.x, d.y, cx, cy, res.radius_m)
    chosen = solve_mclp(cover, d.weight, int(anzahl))
    reached = d.weight <= 0
    vorher = float(d.people[reached].sum())
    covered = reached.copy()
    out = []
    lon, lat = to_wgs_xy(cx[chosen], cy[chosen]) if chosen else (np.array([]), np.array([]))
    where = city.locate(cx[chosen], cy[chosen]) if chosen else []
    for k, j in enumerate(chosen):
        new = (~covered) & cover[:, j]
        out.append({"lon": round(float(lon[k]), 6), "lat": round(float(lat[k]), 6), "sozialraum": where[k],
                    "neu_erreicht": round(float(d.people[new].sum()), 1)})
        covered |= new
    return {"vorschlaege": out, "vorher": round(vorher, 1), "nachher": round(float(d.people[covered].sum()), 1)}


def explain(result: dict, kategorie: str, radius: float, names: dict[str, str]) -> str:
    """The suggestion in words."""
    s = result["vorschlaege"]
    if not s:
        return (f"Für „{kategorie}“ lässt sich kein Standort vorschlagen, der zusätzliche Zielgruppe erreicht "
                "(alles Erreichbare ist schon versorgt, oder es fehlen Zielgruppenwerte).")
    parts = [f"{i + 1}. in {names.get(v['sozialraum'], v['sozialraum'])} (erreicht etwa {fmt.number(v['neu_erreicht'], 0)} "
             "Personen der Zielgruppe zusätzlich)" for i, v in enumerate(s)]
    return (f"Vorschlag, keine Entscheidung: {len(s)} neue Standorte für „{kategorie}“ im Umkreis von "
            f"{fmt.number(radius, 0)} m erreichen zusammen zusätzlich etwa "
            f"{fmt.number(result['nachher'] - result['vorher'], 0)} Personen der Zielgruppe (vorher "
            f"{fmt.number(result['vorher'], 0)}, nachher {fmt.number(result['nachher'], 0)}); Gebiete mit höherem "
            "Handlungsbedarf zählen stärker. " + "; ".join(parts) + ".")
