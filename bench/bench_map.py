"""Map page: script time on the demo city, and a synthetic city of 10,000 Voronoi Sozialräume.

(a) ``page_demo_warm_ms`` / ``page_demo_cold_ms``: ``pages/karte.py`` through ``AppTest`` (app.py with the
    navigation, logged in as an administrator) on the demo city; warm = repeated runs with the caches filled,
    as on a running server. ``page_uebersicht_warm_ms`` is an empty-ish page for comparison (AppTest's own cost).
    ``render_demo_uncached_ms``: the page's per-run work without Streamlit and without caches (values -> classes -> properties -> deck JSON,
    table, summary, corridor comparison and years).
(b) Synthetic city: 10,000 random points in a 24 km x 16 km box (EPSG:25832), ``shapely.voronoi_polygons``
    clipped to the box, 20 grid districts, an axis across, one rate indicator with two years.
    ``synth_geometry_cold_s``: simplifying and converting the geometry once per data stamp (cached);
    ``synth_render_uncached_s``: the per-run work as in (a) on 10,000 areas without any cache, i.e. what a run
    costs after the indicator, year or corridor width changed (budget 1.5 s, like the page);
    ``synth_corridor_membership_s``: area shares within 500 m (cached per width);
    ``*_cpu_*``: CPU time of this process for the same work (less disturbed by other processes on the machine);
    ``synth_deck_json_mb``: the deck spec sent to the browser (budget 5 MB);
    ``page_synth_warm_s``: the real page via AppTest on a DuckDB file with that city.

Run alone: ``python -m bench.bench_map`` (writes bench/RESULTS_map.md).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, box

from bench.common import demo_db
from quartier.access import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
# own directory: other benchmarks clean up /tmp/quartier_bench
CACHE = Path(os.environ.get("QUARTIER_BENCH_MAP_CACHE", "/tmp/quartier_bench_map"))
REPEAT = 1
BUDGETS = {"page_demo_warm_ms": 300, "page_synth_warm_s": 1.5, "synth_render_uncached_s": 1.5, "synth_deck_json_mb": 5.0}
N_SYNTH = 10_000
X0, Y0, W, H = 380_000.0, 5_680_000.0, 24_000.0, 16_000.0


# --------------------------------------------------------------------------------------------
# synthetic city


def synthetic_city(n: int = N_SYNTH, seed: int = 11):
    """(areas list of geo.Area in WGS84, axis in WGS84, values DataFrame) for ``n`` Voronoi areas."""
    from quartier.areas import geometry as geo

    rng = np.random.default_rng(seed)
    pts = np.column_stack([X0 + rng.random(n) * W, Y0 + rng.random(n) * H])
    frame = box(X0, Y0, X0 + W, Y0 + H)
    cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=frame)
    polys = shapely.intersection(np.array(cells.geoms), frame)
    # each cell to its generating point (voronoi order is not the input order)
    tree = shapely.STRtree(shapely.points(pts))
    order = tree.query(polys, predicate="contains")
    point_of_cell = np.full(len(polys), -1)
    point_of_cell[order[0]] = order[1]
    axis_m = LineString([(X0, Y0 + H * 0.45), (X0 + W * 0.3, Y0 + H * 0.55), (X0 + W * 0.7, Y0 + H * 0.48),
                         (X0 + W, Y0 + H * 0.56)])
    areas, rows = [], []
    dist = shapely.distance(shapely.points(pts), axis_m)
    for ci, poly in enumerate(polys):
        pi = int(point_of_cell[ci])
        if pi < 0 or poly.is_empty:
            continue
        x, y = pts[pi]
        bez = f"Bezirk {int((x - X0) // (W / 5)) + 1}-{int((y - Y0) // (H / 4)) + 1}"
        sid = f"S{pi:05d}"
        areas.append(geo.Area(sid, f"Gebiet {pi:05d}", bez, geo.to_wgs84(poly)))
        den = int(rng.integers(20, 2000))
        for year, drift in ((2023, 0.0), (2024, 0.01)):
            rate = float(np.clip(0.45 * np.exp(-dist[pi] / 2500) + 0.08 + drift + rng.normal(0, 0.03), 0.005, 0.95))
            num = int(round(den * rate))
            rows.append({"sozialraum_id": sid, "jahr": year, "wert": num / den * 100, "zaehler": num, "nenner": den})
    return areas, geo.to_wgs84(axis_m), pd.DataFrame(rows)


def synthetic_db(path: Path, n: int = N_SYNTH) -> Path:
    """A DuckDB file with the synthetic city (built once into the cache directory)."""
    from quartier import db
    from quartier.areas.init import replace_geometry

    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    areas, axis, values = synthetic_city(n)
    con = db.connect(tmp)
    replace_geometry(con, areas, axis, "B 7", city="Synthstadt", user="bench")
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO indikator (id, name, einheit, richtung, min_wert, max_wert, sortierung)"
                    " VALUES ('sgb2_u18', 'Minderjährige in SGB-II-Bedarfsgemeinschaften', '%', 'higher', 0, 100, 1)")
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, lieferant, importiert_von)"
                    " VALUES (1, 'synth.xlsx', 'synth', 'Bench', 'bench')")
        v = values.assign(lieferung_id=1, indikator_id="sgb2_u18", gesperrt=False)[
            ["lieferung_id", "indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"]]
        cur.register("v_df", v)
        cur.execute("INSERT INTO messwert SELECT * FROM v_df")
        cur.unregister("v_df")
        db.audit(cur, "bench", "synth_werte")
    con.close()
    tmp.rename(path)
    return path


# --------------------------------------------------------------------------------------------
# the page's per-run work without Streamlit


def render_once(con, payload, geometry, values, areas, members, band, indicator_id="sgb2_u18", year=None) -> dict:
    from quartier.areas import classes, corridor, corridor_charts, layers, maps

    year = int(values["jahr"].max()) if year is None else year
    frame = maps.map_frame(values, areas, year, "%", "higher")
    cls = classes.classify(frame["wert"], "%", "higher", "quantile", 5)
    in_ids = set(members.loc[members["in_corridor"], "sozialraum_id"])
    props = maps.area_properties(frame, cls, "Indikator", "%", in_ids)
    deck = layers.build_deck(payload, props, axis="B 7", highlight=sorted(in_ids), corridor=band,
                           tooltip_html=layers.tooltip_html("Indikator"))
    spec = deck.to_json()
    maps.map_table(frame, cls, members)
    maps.summary_text(frame, "Indikator", "%", year, None, direction="higher")
    res = corridor.analyse(con, indicator_id, year, 500, 0.25, "B 7", geometry=geometry, values=values, members=members, actor=SYSTEM)
    years = corridor.over_years(con, indicator_id, 500, 0.25, "B 7", values=values, members=members, actor=SYSTEM)
    corridor_charts.scatter_chart(res).to_dict(validate=False)
    corridor_charts.years_chart(years, "Indikator", "%", "B 7", 500).to_dict(validate=False)
    return {"json_bytes": len(spec.encode("utf-8")), "inside": res.inside["count"]}


def bench_functions(db_path: Path, repeat: int) -> dict:
    """Cold geometry preparation, corridor membership and warm per-run work on one database."""
    from quartier import db
    from quartier.areas import corridor, layers
    from quartier.values import indicators

    con = db.connect(db_path, read_only=True)
    try:
        t = time.perf_counter()
        payload = layers.payload_from_db(con)
        geometry = corridor.load_geometry(con)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        members = corridor.membership(geometry.areas_m, geometry.ids, geometry.axes_m["B 7"], 500, 0.25)
        band = corridor.corridor_polygon(geometry.axes_m["B 7"], 500)
        member_s = time.perf_counter() - t
        values = indicators.current_values(con, ["sgb2_u18"], actor=SYSTEM)
        areas = indicators.areas(con)
        times, cpu, out = [], [], {}
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            out = render_once(con, payload, geometry, values, areas, members, band)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    finally:
        con.close()
    return {"cold_s": cold, "membership_s": member_s, "render_s": times, "render_cpu_s": cpu, "json_mb": out["json_bytes"] / 1e6,
            "n_areas": len(payload.ids), "inside": out["inside"]}


def bench_page(db_path: Path, repeat: int, page: str = "views/karte.py",
               expect_areas: int | None = None, session: dict | None = None) -> tuple[float, list[float]]:
    """(cold ms, warm ms list) of ``page`` through AppTest as a logged-in administrator; ``session``: widget
    states to start with (e.g. ``{"karte_bezirk": "__stadt__"}`` for the whole city)."""
    from streamlit.testing.v1 import AppTest

    from quartier.access import ADMIN, Actor
    from quartier.ui.session import ACTOR_KEY

    tmp = Path(tempfile.mkdtemp(prefix="bench_map_"))
    copy = tmp / "db.duckdb"
    shutil.copy(db_path, copy)
    os.environ["QUARTIER_DB"] = str(copy)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state[ACTOR_KEY] = Actor("bench", ADMIN, raw_data=True)
        for k, v in (session or {}).items():
            at.session_state[k] = v
        at.run()
        at.switch_page(page)
        t = time.perf_counter()
        at.run()
        cold = (time.perf_counter() - t) * 1000
        if at.exception:
            raise RuntimeError(f"Seite mit Fehler: {[e.value for e in at.exception]}")
        if page.endswith("karte.py"):
            import json

            feats = json.loads(at.get("deck_gl_json_chart")[0].proto.json)["layers"][0]["data"]["features"]
            if expect_areas is not None and len(feats) != expect_areas:
                raise RuntimeError(f"Karte zeigt {len(feats)} statt {expect_areas} Sozialräume")
        warm = []
        for _ in range(repeat):
            t = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - t) * 1000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cold, warm


def _demo_db() -> Path:
    return demo_db(CACHE, "demo_map")


def run() -> dict:
    quick = os.environ.get("QUARTIER_BENCH_QUICK") == "1"
    rep = 3 if quick else 15
    demo = _demo_db()
    out: dict = {}
    cold, warm = bench_page(demo, rep, expect_areas=23)
    out["page_demo_cold_ms"] = cold
    out["page_demo_warm_ms"] = warm
    _, ref = bench_page(demo, rep, "views/uebersicht.py")
    out["page_uebersicht_warm_ms"] = ref
    f = bench_functions(demo, rep)
    out["render_demo_uncached_ms"] = [t * 1000 for t in f["render_s"]]
    out["render_demo_uncached_cpu_ms"] = [t * 1000 for t in f["render_cpu_s"]]
    out["demo_deck_json_kb"] = f["json_mb"] * 1000
    CACHE.mkdir(parents=True, exist_ok=True)
    synth = synthetic_db(CACHE / f"synth_map_{N_SYNTH}.duckdb")
    s = bench_functions(synth, 3 if quick else 7)
    out.update({
        "synth_areas_count": s["n_areas"],
        "synth_geometry_cold_s": s["cold_s"],
        "synth_corridor_membership_s": s["membership_s"],
        "synth_render_uncached_s": s["render_s"],
        "synth_render_uncached_cpu_s": s["render_cpu_s"],
        "synth_deck_json_mb": s["json_mb"],
        "synth_in_corridor_count": s["inside"],
    })
    # the whole city ("Gesamtstadt": every Sozialraum on the map) ...
    cold, warm = bench_page(synth, 2 if quick else 7, expect_areas=s["n_areas"], session={"karte_bezirk": "__stadt__"})
    out["page_synth_cold_s"] = cold / 1000
    out["page_synth_warm_s"] = [w / 1000 for w in warm]
    # ... and the view the page opens with for a city this large: one Stadtbezirk
    cold, warm = bench_page(synth, 2 if quick else 7)
    out["page_synth_district_cold_s"] = cold / 1000
    out["page_synth_district_warm_s"] = [w / 1000 for w in warm]
    return out


def _fmt(v) -> str:
    if isinstance(v, list):
        return f"{statistics.median(v):.3f} (min {min(v):.3f}, max {max(v):.3f}, n={len(v)})"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def write_results(res: dict, path: Path = ROOT / "bench" / "RESULTS_map.md") -> Path:
    import platform

    lines = ["# Benchmark Karte (bench/bench_map.py)", "",
             f"Gemessen {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} auf {platform.machine()}, "
             f"{os.cpu_count()} Kerne, Python {platform.python_version()}; Last (1/5/15 min) "
             f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} – die Maschine teilen sich mehrere Prozesse, "
             "Zeiten auf einer freien Maschine sind kürzer.",
             "", "| Messgröße | Median (min, max, n) | Budget | erfüllt |", "|---|---|---|---|"]
    for k, v in res.items():
        med = statistics.median(v) if isinstance(v, list) else v
        budget = BUDGETS.get(k)
        ok = "" if budget is None or not isinstance(med, (int, float)) else ("ja" if med <= budget else "**nein**")
        lines.append(f"| `{k}` | {_fmt(v)} | {'' if budget is None else f'< {budget}'} | {ok} |")
    lines += ["", "Warm = weitere Läufe mit gefüllten Caches (wie auf dem laufenden Server); die Geometrie wird je "
              "Datenstand einmal vereinfacht und zwischengespeichert (`synth_geometry_cold_s`).", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    result = run()
    for key, val in result.items():
        print(f"{key}: {_fmt(val)}", file=sys.stdout)
    print(f"geschrieben: {write_results(result)}", file=sys.stderr)
