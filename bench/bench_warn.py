"""Early warning (issue 18): Hinweise after an import, comparable areas, the corridor test.

(a) Synthetic city from ``python -m quartier synth --areas 10000 --indicators 60 --years 8`` (4.8 M values,
    built once into the cache) plus a saved index method over four rate indicators; then an "import": one
    new Lieferung with the year 2026 for 12 indicators (120,000 values, the 2025 values with noise),
    inserted with SQL (the importer itself is measured in bench_import).
    ``hinweise_10000x60_after_import_s``      ``alerts.hinweise.hinweise(lieferung=<new>)`` for staff: the 12
                                              indicators x 7 years loaded, all four rules, two index runs;
    ``hinweise_10000x60_after_import_cpu_s``  its CPU time;
    ``hinweise_10000x60_viewer_s``            the same for a viewer (protection of 12 x 7 tables), one run;
    ``similar_10000_one_area_s``              ``alerts.similar.similar_in`` for one area from the loaded profiles
                                              (what the Steckbrief does: profiles cached per data stamp);
    ``similar_10000_one_area_end_to_end_s``   ``alerts.similar.similar`` including the DuckDB read;
(b) Demo city:
    ``similar_demo_one_area_s``               the same on the demo;
    ``corridor_test_demo_999_s``              ``areas.corridor_stats.for_result`` with 999 placements plus
                                              Moran's I and LISA (999 permutations each), geometry loaded;
    ``corridor_test_demo_999_cpu_s``          its CPU time.

Run alone: ``python -m bench.bench_warn`` (prints the numbers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import demo_db

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
REPEAT = 1
RUNS = 3
BUDGETS = {"hinweise_10000x60_after_import_s": 2.0, "similar_10000_one_area_s": 0.2, "corridor_test_demo_999_s": 3.0}
METHOD_INDICATORS = 4


def _synth_db() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "warn_synth10k.duckdb"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "quartier", "synth", "--db", str(path), "--areas", "10000",
                        "--indicators", "60", "--years", "8", "--json"], check=True, cwd=ROOT, capture_output=True)
    return path


def _prepare(path: Path) -> int:
    """A saved method and one new Lieferung (2026, 12 indicators); returns its id."""
    from quartier import db
    from quartier.access import SYSTEM
    from quartier.need import method as need_method
    from quartier.values import indicators

    con = db.connect(path)
    cat = indicators.catalogue(con)
    rates = [i for i, u, r in zip(cat["id"], cat["einheit"], cat["richtung"]) if u == "%" and r in ("higher", "lower")]
    need_method.save_method(con, {
        "name": "Bench", "kind": "zscore", "population_indicator": None, "min_population": 0,
        "indicators": [{"id": i, "weight": 1, "direction": "higher"} for i in rates[:METHOD_INDICATORS]],
    }, SYSTEM)
    con.execute("UPDATE indikator SET schwelle = 30 WHERE id IN (SELECT unnest(?))", [rates[:6]])
    new = rates[:12]
    lid = con.execute("INSERT INTO lieferung (dateiname, sha256, lieferant, berichtsjahr, importiert_von)"
                      " VALUES ('bench_2026.xlsx', 'bench', 'Bench', 2026, 'bench') RETURNING id").fetchone()[0]
    con.execute(
        "INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt)"
        " SELECT ?, indikator_id, sozialraum_id, 2026, round(z2 / nenner * 100, 1), z2, nenner, false FROM ("
        "   SELECT *, greatest(0, least(nenner, round(zaehler * (0.9 + 0.2 * random())))) AS z2"
        "   FROM messwert_aktuell WHERE jahr = 2025 AND list_contains(?, indikator_id) AND zaehler IS NOT NULL)",
        [int(lid), new])
    con.close()
    return int(lid)


def _timed(fn, runs=RUNS):
    walls, cpus, out = [], [], None
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, out


def run(quick: bool = False) -> dict:
    from quartier import db
    from quartier.access import PUBLIC, SYSTEM
    from quartier.alerts import hinweise, similar
    from quartier.areas import corridor, corridor_stats

    res: dict = {}
    if not quick:
        work = CACHE / "warn_synth10k_work.duckdb"
        shutil.copy(_synth_db(), work)
        lid = _prepare(work)
        con = db.connect(work)
        walls, cpus, items = _timed(lambda: hinweise.hinweise(con, actor=SYSTEM, lieferung=lid))
        res["hinweise_10000x60_after_import_s"] = walls
        res["hinweise_10000x60_after_import_cpu_s"] = cpus
        res["hinweise_10000x60_count"] = str(len(items))
        w, _, _ = _timed(lambda: hinweise.hinweise(con, actor=PUBLIC, lieferung=lid), runs=1)
        res["hinweise_10000x60_viewer_s"] = w
        area = con.execute("SELECT min(id) FROM sozialraum").fetchone()[0]
        res["similar_10000_one_area_end_to_end_s"] = _timed(lambda: similar.similar(con, area, 2025, actor=SYSTEM), runs=5)[0]
        prof = similar.profiles(con, 2025, actor=SYSTEM)
        res["similar_10000_one_area_s"] = _timed(lambda: similar.similar_in(prof, area), runs=5)[0]
        con.close()
    demo = db.connect(demo_db(CACHE, "demo_warn"), read_only=True)
    res["similar_demo_one_area_s"] = _timed(lambda: similar.similar(demo, "M04", 2025, actor=SYSTEM), runs=5)[0]
    cres = corridor.analyse(demo, "sgb2_u15", 2025, 500, actor=SYSTEM)

    def test():
        return corridor_stats.for_result(corridor.load_geometry(demo), cres, permutations=999)

    walls, cpus, t = _timed(test)
    res["corridor_test_demo_999_s"] = walls
    res["corridor_test_demo_999_cpu_s"] = cpus
    res["corridor_test_demo_p"] = str(t.p_value)
    demo.close()
    return res


if __name__ == "__main__":
    for k, v in run(quick=bool(os.environ.get("QUARTIER_BENCH_QUICK"))).items():
        print(k, v)
