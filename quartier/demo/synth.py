"""Deterministic synthetic cities for benchmarks and scale tests (``python -m quartier synth``).

A synthetic city has N Sozialräume (Voronoi cells of random seed points in a plausible extent around
Hagen, EPSG:25832), Stadtbezirke (grid cells grouping the Sozialräume), a wavy axis across the extent,
an indicator catalogue of K indicators (the first ones are the demo catalogue, so pages that look for
``ew_gesamt`` or ``sgb2_u18`` find them) and values for Y years with numerators and denominators,
one Lieferung per Lieferant. Need is higher near the axis, like the B 7 in the demo.

Everything is generated with numpy from one seed and inserted with registered DataFrames, one
indicator at a time, so 10,000 areas x 60 indicators x 20 years (12 million values) stay fast and
memory-friendly. All names and numbers are invented.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from quartier import access, db
from quartier.areas import versions
from quartier.demo import guard
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.tables import read_table

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOGUE = ROOT / "data" / "demo" / "indikatoren.csv"
CENTRE = (392_000.0, 5_690_000.0)  # EPSG:25832, around Hagen
AXIS_NAME = "Synthetische Achse"
LAST_YEAR = 2025
LIEFERANTEN = ["Jobcenter", "Einwohnerwesen", "Gesundheitsamt", "Schulverwaltung", "Jugendamt"]
HANDLUNGSFELDER = ["Bildung", "Sprache", "Bewegung", "Gesundheit", "Kulturelle Teilhabe", "Vernetzung"]
_PREFIX = ["Linden", "Eichen", "Birken", "Buchen", "Tannen", "Mühlen", "Kirch", "Wald", "Feld", "Bach",
           "Berg", "Sonnen", "Rosen", "Hasel", "Erlen", "Weiden", "Stein", "Brunnen", "Schloss", "Auen"]
_SUFFIX = ["hof", "feld", "berg", "heide", "au", "dorf", "winkel", "bruch", "hausen", "kamp", "tal", "siepen"]
# Counts (unit "Anzahl"): share of the population they count.
_COUNT_SHARES = {"ew_gesamt": 1.0, "ew_u18": 0.16}


class SynthError(QuartierError):
    """Unusable synth parameters (German message)."""


@dataclass
class SynthGeometry:
    areas: pd.DataFrame       # id, name, bezirk_id, geometry (GeoJSON WGS84), centroid_lon/lat, flaeche_km2, dist_km
    bezirke: pd.DataFrame     # id, nr, name, geometry
    axis_geojson: str
    extent_m: tuple[float, float, float, float]


def extent_for(n_areas: int) -> tuple[float, float, float, float]:
    """About 20 x 15 km per 1,000 areas, scaled by the square root of the number of areas."""
    s = math.sqrt(max(n_areas, 1) / 1000.0)
    w, h = 20_000.0 * s, 15_000.0 * s
    cx, cy = CENTRE
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _to_wgs84(geoms: np.ndarray) -> np.ndarray:
    t = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)

    def fn(coords):
        lon, lat = t.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return shapely.transform(geoms, fn)


def _area_names(n: int) -> list[str]:
    bases = [p + s for p in _PREFIX for s in _SUFFIX]
    return [bases[i % len(bases)] + ("" if i < len(bases) else f" {i // len(bases) + 1}") for i in range(n)]


def build_geometry(n_areas: int, seed: int = 1) -> SynthGeometry:
    """Voronoi Sozialräume, grid Stadtbezirke and a wavy axis, deterministic for ``seed``."""
    if n_areas < 3:
        raise SynthError("Mindestens 3 Sozialräume angeben (--areas 3 oder mehr).")
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent_for(n_areas)
    w, h = x1 - x0, y1 - y0
    # Denser in the middle (a core city) and sparser at the edges, as real small-area grids are.
    core = rng.random(n_areas) < 0.4
    xs = np.where(core, np.clip(rng.normal((x0 + x1) / 2, w / 6, n_areas), x0, x1), rng.uniform(x0, x1, n_areas))
    ys = np.where(core, np.clip(rng.normal((y0 + y1) / 2, h / 6, n_areas), y0, y1), rng.uniform(y0, y1, n_areas))
    xs, ys = np.round(xs, 1), np.round(ys, 1)
    # Jitter exact duplicates apart (Voronoi needs distinct points).
    _, first = np.unique(np.column_stack([xs, ys]), axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(n_areas), first)
    xs[dup] += 0.5 + np.arange(len(dup))
    points = shapely.points(xs, ys)
    box = shapely.box(x0, y0, x1, y1)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box, ordered=True)
    cells = shapely.intersection(np.asarray(shapely.get_parts(cells)), box)
    cells = shapely.make_valid(cells)
    if len(cells) != n_areas:
        raise SynthError(f"Voronoi-Zerlegung ergab {len(cells)} statt {n_areas} Flächen (anderen --seed versuchen).")

    # Stadtbezirke: grid cells over the extent, numbered row by row; empty cells are skipped.
    n_bez = int(np.clip(round(math.sqrt(n_areas) / 1.5), 3, 60))
    cols = max(1, round(math.sqrt(n_bez * w / h)))
    rows = max(1, math.ceil(n_bez / cols))
    ci = np.minimum(((xs - x0) / w * cols).astype(int), cols - 1)
    ri = np.minimum(((y1 - ys) / h * rows).astype(int), rows - 1)
    cell_no = ri * cols + ci
    used = np.unique(cell_no)
    nr_of = {int(c): k + 1 for k, c in enumerate(used)}
    bez_nr = np.array([nr_of[int(c)] for c in cell_no])
    bez_ids = np.array([f"b{nr:02d}" for nr in bez_nr])

    # Axis: a wavy line from west to east through the centre.
    ax = np.linspace(x0, x1, 200)
    ay = (y0 + y1) / 2 + 0.12 * h * np.sin(2 * np.pi * (ax - x0) / w * 1.5) + 0.04 * h * np.sin(2 * np.pi * (ax - x0) / w * 5.3)
    axis_m = shapely.linestrings(ax, ay)
    dist_km = shapely.distance(points, axis_m) / 1000.0

    cent = shapely.centroid(cells)
    cent_w = _to_wgs84(cent)
    cells_w = _to_wgs84(cells)
    names = _area_names(n_areas)
    areas = pd.DataFrame({
        "id": [f"S{i + 1:05d}" for i in range(n_areas)],
        "name": names,
        "bezirk_id": bez_ids,
        "geometry": shapely.to_geojson(cells_w),
        "centroid_lon": shapely.get_x(cent_w),
        "centroid_lat": shapely.get_y(cent_w),
        "flaeche_km2": np.round(shapely.area(cells) / 1e6, 4),
        "dist_km": dist_km,
    })
    bez_rows = []
    for nr in range(1, len(used) + 1):
        union = shapely.coverage_union_all(cells[bez_nr == nr])
        bez_rows.append({"id": f"b{nr:02d}", "nr": nr, "name": f"Bezirk {nr:02d}",
                         "geometry": shapely.to_geojson(_to_wgs84(np.array([union]))[0])})
    return SynthGeometry(areas, pd.DataFrame(bez_rows), shapely.to_geojson(_to_wgs84(np.array([axis_m]))[0]),
                         (x0, y0, x1, y1))


def build_catalogue(n_indicators: int, seed: int = 1) -> pd.DataFrame:
    """The demo catalogue first (as far as it reaches), then generated indicators."""
    if n_indicators < 1:
        raise SynthError("Mindestens 1 Indikator angeben (--indicators 1 oder mehr).")
    rng = np.random.default_rng(seed + 1)
    demo = read_table(DEMO_CATALOGUE)
    rows = []
    for r in demo.head(n_indicators).to_dict("records"):
        richtung = {"höher": "higher", "niedriger": "lower"}.get(str(r.get("richtung") or "").strip())
        rows.append({
            "id": r["id"], "name": r["name"], "kurzname": r["kurzname"], "einheit": r["einheit"],
            "lieferant": r["lieferant"], "richtung": richtung, "definition": r["definition"],
            "zaehler_def": r["zaehler"] or None, "nenner_def": r["nenner"] or None,
            "min_wert": float(r["min"]), "max_wert": float(r["max"]), "handlungsfeld": r["handlungsfeld"] or None,
        })
    units = ["%", "%", "%", "je 1.000", "Anzahl"]
    for k in range(len(rows), n_indicators):
        unit = units[k % len(units)]
        richtung = [None, "higher", "lower", "higher"][k % 4] if unit != "Anzahl" else None
        no = k + 1
        rows.append({
            "id": f"syn_{no:03d}", "name": f"Synthetische Kennzahl {no}", "kurzname": f"Synth {no}", "einheit": unit,
            "lieferant": LIEFERANTEN[int(rng.integers(len(LIEFERANTEN)))], "richtung": richtung,
            "definition": f"Erfundene Kennzahl {no} für Last- und Skalierungstests (Beispieldaten).",
            "zaehler_def": None if unit == "Anzahl" else f"Fälle {no}",
            "nenner_def": None if unit == "Anzahl" else f"Bezugsgruppe {no}",
            "min_wert": 0.0, "max_wert": {"%": 100.0, "je 1.000": 1000.0}.get(unit, 1e7),
            "handlungsfeld": HANDLUNGSFELDER[k % len(HANDLUNGSFELDER)] if unit != "Anzahl" else None,
        })
    cat = pd.DataFrame(rows)
    cat["sortierung"] = np.arange(1, len(cat) + 1)
    return cat


def _population(g: SynthGeometry, years: np.ndarray, rng) -> np.ndarray:
    """Population per area (rows) and year (columns); a few tiny areas to exercise suppression."""
    n = len(g.areas)
    base = rng.lognormal(mean=math.log(1800), sigma=0.5, size=n)
    tiny = rng.random(n) < 0.04
    base[tiny] = rng.uniform(25, 150, tiny.sum())
    growth = rng.normal(0.002, 0.006, n)
    t = years - years[0]
    pop = base[:, None] * (1 + growth[:, None] * t[None, :]) * (1 + rng.normal(0, 0.004, (n, len(years))))
    return np.maximum(np.round(pop), 10)


def _indicator_values(row: dict, need: np.ndarray, pop: np.ndarray, years: np.ndarray, rng) -> dict:
    """Arrays (area x year) for one indicator: wert, zaehler, nenner."""
    unit = row["einheit"]
    n, ny = pop.shape
    if unit == "Anzahl":
        share = _COUNT_SHARES.get(row["id"], float(rng.uniform(0.01, 0.3)))
        wert = np.round(pop * share * (1 + rng.normal(0, 0.01, (n, ny))))
        return {"wert": wert, "zaehler": None, "nenner": None}
    per = 1000.0 if "1.000" in unit else 100.0
    den_share = float(rng.uniform(0.04, 0.8))
    nenner = np.maximum(np.round(pop * den_share), 1)
    if per == 1000.0:
        p0, slope = float(rng.uniform(0.01, 0.03)), float(rng.uniform(0.01, 0.05))
    else:
        p0, slope = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.05, 0.35))
    sign = -1.0 if row["richtung"] == "lower" else 1.0
    trend = float(rng.normal(0, 0.002))
    own = rng.normal(0, 0.02, n)  # area effect, stable over the years
    t = years - years[0]
    p = p0 + sign * slope * (need[:, None] - 0.5) + own[:, None] + trend * t[None, :] + rng.normal(0, 0.005, (n, ny))
    p = np.clip(p, 0.001, 0.97)
    zaehler = rng.binomial(nenner.astype(np.int64), p).astype(float)
    wert = np.round(zaehler / nenner * per, 1)
    return {"wert": wert, "zaehler": zaehler, "nenner": nenner}


def build(con, n_areas: int, n_indicators: int, n_years: int, seed: int = 1, *, actor: access.Actor,
          force: bool = False, progress=lambda msg: None, confirm: str | None = None) -> dict:
    """Replace the database content with a synthetic city; return counts.

    Refuses to overwrite a database with areas unless ``force``. Needs an administrator.
    """
    access.require(actor, access.ADMIN, "eine synthetische Stadt aufbauen")
    if n_years < 1 or n_years > 60:
        raise SynthError("--years muss zwischen 1 und 60 liegen.")
    saved = guard.before_replace(con, force=force, confirm=confirm, command="synth")
    if saved:
        progress(f"Sicherung vor dem Ersetzen: {saved}")
    progress(f"Geometrie: {n_areas} Voronoi-Flächen …")
    g = build_geometry(n_areas, seed)
    cat = build_catalogue(n_indicators, seed)
    years = np.arange(LAST_YEAR - n_years + 1, LAST_YEAR + 1)
    rng = np.random.default_rng(seed + 2)
    # Need: high near the axis, plus area noise; about 0..1.
    need = np.clip(np.exp(-g.areas["dist_km"].to_numpy() / (1.5 * math.sqrt(max(n_areas, 1) / 1000))) * 0.8
                   + rng.normal(0.1, 0.12, n_areas), 0, 1)
    pop = _population(g, years, rng)
    params = f"areas={n_areas};indicators={n_indicators};years={n_years};seed={seed}"
    city = f"Synthetische Stadt ({n_areas} Sozialräume)"

    n_values = n_suppressed = 0
    with db.transaction(con) as tx:
        _write_tables(tx, g, cat)
        lieferung_ids = _write_lieferungen(tx, cat, params, years, actor, n_areas, n_years)
        n_values, n_suppressed = _write_values(tx, cat, lieferung_ids, need, pop, years, rng, progress)
        db.set_setting(tx, "stadt", city)
        db.set_setting(tx, "demo", "1")  # invented data: every page shows the "Beispieldaten" notice
        db.set_setting(tx, "synthetisch", params)
        db.set_setting(tx, "attribution", f"Synthetische Stadt (python -m quartier synth, {params}): "
                                          "Gebiete, Namen und Werte sind erfunden.")
        db.audit(tx, actor.name, "synth_aufbauen", city, json.dumps({"parameter": params, "werte": n_values}))
    recs = _recommendations(con, g, cat, actor, seed)
    try:  # the documented demo accounts (README), as in the demo city, if local login exists (issue 8)
        from quartier.admin.auth import ensure_demo_accounts
    except ImportError:
        pass
    else:
        ensure_demo_accounts(con)
    return {"sozialraeume": n_areas, "stadtbezirke": len(g.bezirke), "indikatoren": len(cat), "jahre": n_years,
            "werte": n_values, "gesperrt": n_suppressed, "lieferungen": len(lieferung_ids), "empfehlungen": recs,
            "seed": seed}


def _write_tables(tx, g: SynthGeometry, cat: pd.DataFrame) -> None:
    """Replace areas, districts, axis, indicators and aliases (registers the helper frames ``synth_*``)."""
    n_areas = len(g.areas)
    areas_tbl = g.areas.drop(columns="dist_km")
    alias_tbl = pd.DataFrame({"art": "sozialraum", "alias_norm": [normalize(x) for x in g.areas["name"]],
                              "ziel_id": g.areas["id"], "alias": g.areas["name"]})
    ind_alias = pd.DataFrame({"art": "indikator", "alias_norm": [normalize(x) for x in cat["name"]],
                              "ziel_id": cat["id"], "alias": cat["name"]})
    codes_a = pd.DataFrame({"k": np.arange(n_areas, dtype=np.int32), "id": g.areas["id"]})
    codes_i = pd.DataFrame({"k": np.arange(len(cat), dtype=np.int32), "id": cat["id"]})
    for table in ("messwert", "lieferung", "alias", "indikator", "sozialraum", "stadtbezirk", "achse"):
        tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    for name, frame in (("synth_areas", areas_tbl), ("synth_bez", g.bezirke), ("synth_cat", cat),
                        ("synth_alias_a", alias_tbl), ("synth_alias_i", ind_alias),
                        ("synth_codes_a", codes_a), ("synth_codes_i", codes_i)):
        tx.register(name, frame)
    tx.execute("INSERT INTO stadtbezirk (id, nr, name, geometry) SELECT id, nr, name, geometry FROM synth_bez")
    tx.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry, centroid_lon, centroid_lat, flaeche_km2)"
               " SELECT id, name, bezirk_id, geometry, centroid_lon, centroid_lat, flaeche_km2 FROM synth_areas")
    tx.execute("INSERT INTO achse (name, geometry) VALUES (?, ?)", [AXIS_NAME, g.axis_geojson])
    versions.reset(tx, "synth")  # a new city: its areas are Gebietsstand 1
    tx.execute("INSERT INTO indikator (id, name, kurzname, einheit, lieferant, richtung, definition, zaehler_def,"
               " nenner_def, min_wert, max_wert, handlungsfeld, sortierung) SELECT id, name, kurzname, einheit,"
               " lieferant, richtung, definition, zaehler_def, nenner_def, min_wert, max_wert, handlungsfeld,"
               " sortierung FROM synth_cat")
    tx.execute("INSERT INTO alias SELECT art, alias_norm, ziel_id, alias FROM synth_alias_a ON CONFLICT DO NOTHING")
    tx.execute("INSERT INTO alias SELECT art, alias_norm, ziel_id, alias FROM synth_alias_i ON CONFLICT DO NOTHING")


def _write_lieferungen(tx, cat: pd.DataFrame, params: str, years: np.ndarray, actor, n_areas: int,
                       n_years: int) -> dict[str, int]:
    """One Lieferung per Lieferant; returns {Lieferant: id}."""
    lieferung_ids = {}
    for lieferant in sorted(set(cat["lieferant"])):
        ids = cat.loc[cat["lieferant"] == lieferant, "id"].tolist()
        sha = hashlib.sha256(f"synth;{params};{lieferant}".encode()).hexdigest()
        lieferung_ids[lieferant] = tx.execute(
            "INSERT INTO lieferung (dateiname, sha256, lieferant, berichtsjahr, importiert_von, n_neu, bericht)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [f"synthetisch_{normalize(lieferant) or lieferant}.xlsx", sha, lieferant, int(years[-1]), actor.name,
             len(ids) * n_areas * n_years,
             json.dumps({"errors": [], "warnings": [], "synthetisch": params}, ensure_ascii=False)],
        ).fetchone()[0]
    return lieferung_ids


def _write_values(tx, cat: pd.DataFrame, lieferung_ids: dict[str, int], need, pop, years: np.ndarray, rng,
                  progress) -> tuple[int, int]:
    """Generate and insert the values of every indicator; returns (values, suppressed)."""
    n_areas, n_years = len(need), len(years)
    n_values = n_suppressed = 0
    area_k = np.repeat(np.arange(n_areas, dtype=np.int32), n_years)
    year_col = np.tile(years.astype(np.int16), n_areas)
    for k, row in enumerate(cat.to_dict("records")):
        if k % 10 == 0:
            progress(f"Werte: Indikator {k + 1}–{min(k + 10, len(cat))} von {len(cat)} …")
        v = _indicator_values(row, need, pop, years, rng)
        wert = v["wert"].ravel()
        zaehler = v["zaehler"].ravel() if v["zaehler"] is not None else np.full(wert.shape, np.nan)
        nenner = v["nenner"].ravel() if v["nenner"] is not None else np.full(wert.shape, np.nan)
        # The Jobcenter suppresses counts below 3 at source.
        gesperrt = np.zeros(wert.shape, dtype=bool)
        if row["lieferant"] == "Jobcenter" and v["zaehler"] is not None:
            gesperrt = zaehler < 3
            wert = np.where(gesperrt, np.nan, wert)
            zaehler = np.where(gesperrt, np.nan, zaehler)
        frame = pd.DataFrame({"ak": area_k, "jahr": year_col, "wert": wert, "zaehler": zaehler,
                              "nenner": nenner, "gesperrt": gesperrt})
        tx.register("synth_values", frame)
        tx.execute(
            "INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt)"
            " SELECT ?, ?, a.id, v.jahr, v.wert, v.zaehler, v.nenner, v.gesperrt"
            " FROM synth_values v JOIN synth_codes_a a ON a.k = v.ak ORDER BY v.ak, v.jahr",
            [lieferung_ids[row["lieferant"]], row["id"]],
        )
        tx.unregister("synth_values")
        n_values += len(frame)
        n_suppressed += int(gesperrt.sum())
    for lid in lieferung_ids.values():
        tx.execute("UPDATE lieferung SET n_gesperrt = (SELECT count(*) FROM messwert WHERE lieferung_id = ?"
                   " AND gesperrt) WHERE id = ?", [lid, lid])
    for name in ("synth_areas", "synth_bez", "synth_cat", "synth_alias_a", "synth_alias_i", "synth_codes_a",
                 "synth_codes_i"):
        tx.unregister(name)
    return n_values, n_suppressed


def _recommendations(con, g: SynthGeometry, cat: pd.DataFrame, actor, seed: int) -> int:
    """Add up to 10 recommendations for areas near the axis."""
    from quartier.actions.store import create

    rng = np.random.default_rng(seed + 3)
    near = g.areas.sort_values("dist_km")["id"].head(max(3, len(g.areas) // 50)).tolist()
    statuses = ["offen", "in Planung", "in Umsetzung", "umgesetzt"]
    made = 0
    for i in range(min(10, len(near))):
        sr = sorted(near[j] for j in rng.choice(len(near), size=min(3, len(near)), replace=False))
        values = {
            "titel": f"Synthetische Empfehlung {i + 1}",
            "beschreibung": "Erfundene Handlungsempfehlung für Last- und Skalierungstests.",
            "handlungsfeld": HANDLUNGSFELDER[i % len(HANDLUNGSFELDER)],
            "sozialraeume": sr, "indikatoren": cat["id"].head(2).tolist(),
            "federfuehrung": "Jugendamt", "status": statuses[i % len(statuses)], "beispiel": True,
        }
        try:
            create(con, actor, f"SYN-{i + 1:02d}", values, "synthetische Stadt")
        except Exception:  # noqa: BLE001 - optional extra; ids taken or the API of issue 7 changed
            continue
        made += 1
    return made
