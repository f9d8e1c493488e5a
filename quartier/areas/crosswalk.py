"""Crosswalk between two Gebietsstände: which share of every old area goes to which new area.

Derived from the overlap of every old with every new area in ETRS89/UTM 32N, computed with tobler's
areal-interpolation tables (the allocation table ``area_interpolate`` builds for extensive variables,
``allocate_total``: each old area's shares add up to 1, so sums are preserved). Weighting:

- ``einwohnerpunkte``: a point layer with inhabitants (address or building points) the city loads: the
  share of an old area is the share of its inhabitants living in each piece (areas without points: by area);
- ``einwohnerraster``: a population grid (polygon cells with inhabitants, e.g. the census 100 m grid): each
  cell's inhabitants are spread over the pieces (old x new) by area with tobler's ``area_interpolate``, then
  as with points;
- ``einwohner``: the old version's population count (a count indicator of the catalogue named like
  "Einwohner"): inside an old area by area, across old areas by population (the share of a new area coming
  from each old one, which decides "1:1");
- ``flaeche``: by area only.

An official key table (``amtlich``) loaded by the city wins over the derived crosswalk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape

from quartier import db, units
from quartier.areas import geometry as geo
from quartier.errors import QuartierError
from quartier.names import normalize

MIN_SHARE = 1e-4  # slivers below this share of an old area are digitising noise: dropped, the rest renormalised
KEY_COLUMNS = ["alt_id", "neu_id", "anteil", "basis", "gewicht"]


class CrosswalkError(QuartierError):
    """A crosswalk cannot be derived or an official key table is not usable (German message)."""


@dataclass
class Crosswalk:
    von: int
    nach: int
    basis: str
    table: pd.DataFrame  # KEY_COLUMNS


def _frame(cur: db.Con, version_id: int) -> gpd.GeoDataFrame:
    rows = cur.execute("SELECT id, geometry FROM sozialraum_version WHERE gebietsstand_id = ? ORDER BY id",
                       [int(version_id)]).fetchall()
    if not rows:
        raise CrosswalkError(f"Gebietsstand {version_id} hat keine Gebiete.")
    geoms = [geo.geom_from_text(g) for _, g in rows]
    return gpd.GeoDataFrame({"id": [r[0] for r in rows]}, geometry=geoms, crs="EPSG:4326").to_crs(geo.METRIC_CRS)


def overlap(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Intersection area (m²) of every old with every new area: alt_id, neu_id, flaeche (tobler's table)."""
    from tobler.area_weighted import _area_tables_binning  # imported here: tobler loads statsmodels (~2 s at start)

    table = _area_tables_binning(old, new, "auto").tocoo()
    out = pd.DataFrame({"alt_id": old["id"].to_numpy()[table.row], "neu_id": new["id"].to_numpy()[table.col],
                        "flaeche": table.data.astype("float64")})
    return out[out["flaeche"] > 0].reset_index(drop=True)


def _normalise(pieces: pd.DataFrame, weight: str) -> pd.Series:
    total = pieces.groupby("alt_id")[weight].transform("sum")
    return pieces[weight] / total


def population_indicator(cur: db.Con, version_id: int) -> str | None:
    """The population count delivered in ``version_id``: a count indicator ("Anzahl") named like "Einwohner";
    among several the one delivered for most areas, then the shortest name."""
    rows = cur.execute(
        "SELECT i.id, i.name, i.einheit, count(*) AS n FROM indikator i"
        " JOIN messwert_aktuell v ON v.indikator_id = i.id"
        " JOIN lieferung_gebietsstand x ON x.lieferung_id = v.lieferung_id AND x.gebietsstand_id = ?"
        " WHERE v.wert IS NOT NULL GROUP BY ALL", [int(version_id)]).fetchall()
    cands = [(-n, len(name), iid) for iid, name, unit, n in rows
             if units.is_count(unit) and "einwohner" in normalize(name)]
    return min(cands)[2] if cands else None


def population(cur: db.Con, version_id: int) -> pd.Series | None:
    """Population per old area (latest year delivered in ``version_id``), or None without such an indicator."""
    iid = population_indicator(cur, version_id)
    if iid is None:
        return None
    df = cur.execute(
        "SELECT v.sozialraum_id, v.wert FROM messwert_aktuell v"
        " JOIN lieferung_gebietsstand x ON x.lieferung_id = v.lieferung_id AND x.gebietsstand_id = ?"
        " WHERE v.indikator_id = ? AND v.wert IS NOT NULL"
        " QUALIFY v.jahr = max(v.jahr) OVER ()", [int(version_id), iid]).df()
    return df.set_index("sozialraum_id")["wert"].astype("float64") if len(df) else None


def _point_weights(pieces: pd.DataFrame, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
                   points: gpd.GeoDataFrame) -> pd.DataFrame:
    """Inhabitants of the points in each piece (old x new) via two spatial joins."""
    pts = points.to_crs(geo.METRIC_CRS)[["einwohner", "geometry"]]
    a = gpd.sjoin(pts, old[["id", "geometry"]], predicate="within", how="inner").rename(columns={"id": "alt_id"})
    a = a.drop(columns="index_right")
    b = gpd.sjoin(a, new[["id", "geometry"]], predicate="within", how="inner").rename(columns={"id": "neu_id"})
    sums = b.groupby(["alt_id", "neu_id"], as_index=False)["einwohner"].sum()
    return pieces.merge(sums, on=["alt_id", "neu_id"], how="left").fillna({"einwohner": 0.0})


def _grid_weights(pieces: pd.DataFrame, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
                  grid: gpd.GeoDataFrame) -> pd.DataFrame:
    """Inhabitants of the grid cells in each piece (old x new), spread by area (tobler, cells cut at the edge
    keep only their share inside)."""
    parts = gpd.overlay(old[["id", "geometry"]].rename(columns={"id": "alt_id"}),
                        new[["id", "geometry"]].rename(columns={"id": "neu_id"}), how="intersection", keep_geom_type=True)
    cells = grid.to_crs(geo.METRIC_CRS)[["einwohner", "geometry"]]
    from tobler.area_weighted import area_interpolate

    est = area_interpolate(cells, parts, extensive_variables=["einwohner"], allocate_total=False)
    parts["einwohner"] = est["einwohner"].to_numpy(dtype=float)
    sums = parts.groupby(["alt_id", "neu_id"], as_index=False)["einwohner"].sum()
    return pieces.merge(sums, on=["alt_id", "neu_id"], how="left").fillna({"einwohner": 0.0})


def derive(cur: db.Con, von: int, nach: int, *, points: gpd.GeoDataFrame | None = None) -> Crosswalk:
    """The crosswalk ``von`` -> ``nach`` from the overlap of the two versions' areas (see module doc)."""
    old, new = _frame(cur, von), _frame(cur, nach)
    pieces = overlap(old, new)
    pieces["anteil"] = _normalise(pieces, "flaeche")
    pieces = pieces[pieces["anteil"] >= MIN_SHARE].copy()
    pieces["anteil"] = _normalise(pieces, "anteil")
    basis = "flaeche"
    pieces["gewicht"] = pieces["flaeche"]
    if points is not None and len(points):
        grid = bool((points.geom_type != "Point").any())
        pieces = (_grid_weights if grid else _point_weights)(pieces, old, new, points)
        by_points = pieces.groupby("alt_id")["einwohner"].transform("sum") > 0
        pieces.loc[by_points, "anteil"] = _normalise(pieces[by_points], "einwohner")
        pieces["gewicht"] = pieces["einwohner"].where(by_points, pieces["gewicht"])
        basis = "einwohnerraster" if grid else "einwohnerpunkte"
    else:
        pop = population(cur, von)
        if pop is not None:
            w = pieces["alt_id"].map(pop)
            if w.notna().all():
                pieces["gewicht"] = w * pieces["anteil"]
                basis = "einwohner"
    pieces["basis"] = basis
    return Crosswalk(von, nach, basis, pieces[KEY_COLUMNS].reset_index(drop=True))


def official(cur: db.Con, table: pd.DataFrame, von: int, nach: int) -> Crosswalk:
    """Check an official key table (columns alt_id, neu_id, anteil) against both versions."""
    if von == nach:
        raise CrosswalkError("--von und --nach müssen verschiedene Gebietsstände sein.")
    names = {"altid": "alt_id", "neuid": "neu_id", "anteil": "anteil"}
    cols = {names[normalize(c)]: c for c in table.columns if normalize(c) in names}
    missing = [c for c in ("alt_id", "neu_id", "anteil") if c not in cols]
    if missing:
        raise CrosswalkError(f"Spalte(n) {', '.join(missing)} fehlen; erwartet: alt_id, neu_id, anteil.")
    t = pd.DataFrame({"alt_id": table[cols["alt_id"]].astype(str).str.strip(),
                      "neu_id": table[cols["neu_id"]].astype(str).str.strip(),
                      "anteil": pd.to_numeric(table[cols["anteil"]].astype(str).str.replace(",", "."), errors="coerce")})
    errors: list[str] = []
    bad = t["anteil"].isna() | (t["anteil"] < 0) | (t["anteil"] > 1)
    errors += [f"Zeile {i + 2}: Anteil muss eine Zahl zwischen 0 und 1 sein." for i in t.index[bad][:10]]
    old, new = _frame(cur, von), _frame(cur, nach)
    for col, frame, label in (("alt_id", old, f"Gebietsstand {von}"), ("neu_id", new, f"Gebietsstand {nach}")):
        unknown = sorted(set(t[col]) - set(frame["id"]))
        if unknown:
            errors.append(f"{col}: {', '.join(unknown[:10])} gibt es in {label} nicht.")
    missing_old = sorted(set(old["id"]) - set(t["alt_id"]))
    if missing_old:
        errors.append(f"Für {len(missing_old)} alte Gebiete fehlt eine Zeile: {', '.join(missing_old[:10])}.")
    sums = t.groupby("alt_id")["anteil"].sum()
    off = sums[(sums - 1).abs() > 0.01]
    if len(off):
        errors.append("Die Anteile eines alten Gebiets müssen zusammen 1 ergeben: "
                      + ", ".join(f"{k} = {v:.3f}".replace(".", ",") for k, v in off.head(10).items()) + ".")
    if t.duplicated(["alt_id", "neu_id"]).any():
        errors.append("Paare aus alt_id und neu_id kommen doppelt vor.")
    if errors:
        raise CrosswalkError(" ".join(errors))
    t = t[t["anteil"] > 0].copy()
    t["anteil"] = t["anteil"] / t.groupby("alt_id")["anteil"].transform("sum")
    size = old.set_index("id").area
    pop = population(cur, von)
    weight = pop if pop is not None and set(t["alt_id"]) <= set(pop.index) else size
    t["gewicht"] = t["alt_id"].map(weight) * t["anteil"]
    t["basis"] = "amtlich"
    return Crosswalk(von, nach, "amtlich", t[KEY_COLUMNS].reset_index(drop=True))


def read_points(path: str, field: str) -> gpd.GeoDataFrame:
    """Population points (GeoJSON points with an inhabitants property) or a population grid (polygon cells with
    an inhabitants property), read through quartier.uploads."""
    doc = geo.load_geojson(path)
    crs = geo.detect_crs(doc, path)
    recs: list[dict[str, Any]] = []
    for i, feat in enumerate(doc.get("features") or [], start=1):
        gj = feat.get("geometry") or {}
        if gj.get("type") not in ("Point", "Polygon", "MultiPolygon"):
            raise CrosswalkError(f"{path}, Feature {i}: Einwohner-Punkte oder -Rasterzellen müssen Punkte oder Flächen "
                                 f"sein, nicht {gj.get('type')!r}.")
        val = pd.to_numeric(str((feat.get("properties") or {}).get(field, "")).replace(",", "."), errors="coerce")
        if not np.isfinite(val) or val < 0:
            raise CrosswalkError(f"{path}, Feature {i}: das Feld {field!r} enthält keine Einwohnerzahl.")
        recs.append({"einwohner": float(val), "geometry": shape(gj)})
    if not recs:
        raise CrosswalkError(f"{path}: keine Punkte.")
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=crs)
