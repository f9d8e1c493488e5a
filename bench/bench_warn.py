"""Early warning (issue 18): Hinweise after an import, comparable areas, the corridor test.

(a) Synthetic city from ``python -m quartier synth --areas 10000 --indicators 60 --years 8`` (4.8 M values,
    built once into the cache) plus a saved index method over four rate indicators; then an "import": one
    new Lieferung with the year 2026 for 12 indicators (120,000 values, the 2025 values with noise),
    inserted with SQL (the importer itself is measured in bench_import).
    ``hinweise_10000x60_after_import_s``      ``alerts.hinweise.hinweise(lieferung=<new>)`` for staff: the 12
                                              indicators x 7 years loaded, all four rules, two index runs;
    ``hinweise_10000x60_after_import_cpu_s``  its CPU time;
    ``hinweise_10000x60_viewer_s``            the same for a viewer (protection of 12 x 7 tables), one run;
    ``hinweise_10000x60_record_s``            ``alerts.store.record``: what the import adds after the commit (the
                                              Hinweise for staff and for viewers stored, profiles precomputed);
    ``hinweise_10000x60_stored_read_s``       ``alerts.store.stored`` for staff: what the Lieferungen page, the
                                              start page and ``hinweise --lieferung`` read afterwards;
    ``similar_10000_one_area_s``              ``alerts.similar.similar_in`` for one area from the loaded profiles
                                              (what the Steckbrief does: profiles cached per data stamp);
    ``similar_10000_one_area_end_to_end_s``   ``alerts.similar.similar`` including the DuckDB read of the stored
                                              profiles (``profil_cache``, after an import: precomputed);
    ``similar_10000_one_area_new_connection_s`` the same in a new connection (what one CLI call does, without
                                              the interpreter start);
    ``similar_10000_one_area_cold_s``         ``alerts.similar.similar`` right after a write (stale profiles: all
                                              values read, profiles computed and stored), one run;
    Every timing also as ``..._cpu_s`` (process CPU time incl. DuckDB's threads): the machine is shared, so
    wall times under load are several times the CPU times.
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
BUDGETS = {"hinweise_10000x60_after_import_s": 2.0, "similar_10000_one_area_s": 0.2,
           "similar_10000_one_area_end_to_end_s": 0.2, "corridor_test_demo_999_s": 3.0}
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
    db.audit(con, "bench", "lieferung_importieren", "bench", None)  # as the importer does: a new data stamp
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
    from quartier.access import ADMIN, PUBLIC, SYSTEM, Actor
    from quartier.alerts import hinweise, similar, store
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
        w, c, _ = _timed(lambda: hinweise.hinweise(con, actor=PUBLIC, lieferung=lid), runs=1)
        res["hinweise_10000x60_viewer_s"], res["hinweise_10000x60_viewer_cpu_s"] = w, c
        admin = Actor("bench", ADMIN, raw_data=True)
        w, c, _ = _timed(lambda: store.record(con, lid, actor=admin), runs=1)
        res["hinweise_10000x60_record_s"], res["hinweise_10000x60_record_cpu_s"] = w, c
        w, c, _ = _timed(lambda: store.stored(con, lid, actor=SYSTEM), runs=5)
        res["hinweise_10000x60_stored_read_s"], res["hinweise_10000x60_stored_read_cpu_s"] = w, c
        area = con.execute("SELECT min(id) FROM sozialraum").fetchone()[0]
        year = similar.latest_year(con, similar.default_indicators(con))
        w, c, _ = _timed(lambda: similar.similar(con, area, year, actor=SYSTEM), runs=5)
        res["similar_10000_one_area_end_to_end_s"], res["similar_10000_one_area_end_to_end_cpu_s"] = w, c
        prof = similar.profiles(con, year, actor=SYSTEM)
        w, c, _ = _timed(lambda: similar.similar_in(prof, area), runs=5)
        res["similar_10000_one_area_s"], res["similar_10000_one_area_cpu_s"] = w, c
        con.close()

        def fresh():
            c2 = db.connect(work)
            try:
                return similar.similar(c2, area, year, actor=SYSTEM)
            finally:
                c2.close()

        w, c, _ = _timed(fresh, runs=3)
        res["similar_10000_one_area_new_connection_s"], res["similar_10000_one_area_new_connection_cpu_s"] = w, c
        con = db.connect(work)
        db.audit(con, "bench", "einstellung_aendern", "bench", None)  # any write: the stored profiles are stale
        w, c, _ = _timed(lambda: similar.similar(con, area, year, actor=SYSTEM), runs=1)
        res["similar_10000_one_area_cold_s"], res["similar_10000_one_area_cold_cpu_s"] = w, c
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
