"""Gebietsstände (issue 19): crosswalk 542 x 542 areas and re-allocation of 12 million values to today's areas.

1. Crosswalk: two synthetic Berlin-sized grids (542 Voronoi areas each, ``quartier.demo.synth.build_geometry`` with
   different seeds over the same extent) as Gebietsstand 1 and 2; time ``crosswalk.derive`` (tobler's overlap
   table in EPSG:25832, shares, weights). Budget 5 s.
2. Re-allocation: 10,000 old areas, each split into up to two of 10,000 new ones (a generated crosswalk),
   60 indicators (half counts, half rates with numerator/denominator) x 20 years = 12 million values delivered
   in Gebietsstand 1; time storing all re-allocated values (``quartier.values.realloc.refresh``, migration 018:
   what a new Gebietsstand or key table costs, once), reading all values on today's areas and ``current_raw`` for
   one indicator (what a page reads), and the incremental refresh after one more year delivered in the old
   Gebietsstand (what an import costs). Wall and CPU seconds (the machine is shared). Budget 10 s.

Run: ``python -m bench.bench_versions``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

BUDGETS = {"crosswalk_542x542_s": 5.0, "realloc_12m_s": 10.0}
REPEAT = 1


def _crosswalk(tmp: Path, n: int) -> dict:
    from quartier import db
    from quartier.areas import crosswalk
    from quartier.demo.synth import build_geometry

    con = db.connect(tmp / "cw.duckdb")
    with db.transaction(con) as cur:
        for v, seed in ((1, 1), (2, 2)):
            g = build_geometry(n, seed=seed)
            cur.execute("INSERT INTO gebietsstand (id, name, gueltig_ab, angelegt_von) VALUES (?, ?, DATE '2020-01-01' + ?, 'b')",
                        [v, f"V{v}", v])
            cur.register("_a", g.areas[["id", "name", "bezirk_id", "geometry"]])
            cur.execute("INSERT INTO sozialraum_version SELECT ?, id, name, bezirk_id, geometry FROM _a", [v])
            cur.unregister("_a")
    t0 = time.perf_counter()
    cw = crosswalk.derive(con.cursor(), 1, 2)
    dt = time.perf_counter() - t0
    con.close()
    sums = cw.table.groupby("alt_id")["anteil"].sum()
    return {"crosswalk_542x542_s": round(dt, 3), "crosswalk_rows": len(cw.table),
            "crosswalk_max_share_sum_error": float((sums - 1).abs().max())}


def build_realloc(path: Path, n_areas: int, n_ind: int, n_years: int):
    """The re-allocation city in ``path``: the open connection."""
    from quartier import db

    con = db.connect(path)
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO gebietsstand VALUES (1, 'V1', DATE '2010-01-01', now(), 'b'), (2, 'V2', DATE '2024-01-01', now(), 'b')")
        cur.execute(f"INSERT INTO sozialraum (id, name, geometry) SELECT 'N' || i, 'N' || i, '{{}}' FROM range({n_areas}) t(i)")  # noqa: S608
        # old area i: whole to new i, or (every third) 60 % to new i and 40 % to new i+1
        cur.execute(f"INSERT INTO gebietsstand_schluessel SELECT 1, 2, 'A' || i, 'N' || i, CASE WHEN i % 3 = 0 AND i < {n_areas - 1} THEN 0.6"  # noqa: S608
                    f" ELSE 1 END, 'flaeche', CASE WHEN i % 3 = 0 AND i < {n_areas - 1} THEN 0.6 ELSE 1 END FROM range({n_areas}) t(i)")
        cur.execute(f"INSERT INTO gebietsstand_schluessel SELECT 1, 2, 'A' || i, 'N' || (i + 1), 0.4, 'flaeche', 0.4"  # noqa: S608
                    f" FROM range({n_areas - 1}) t(i) WHERE i % 3 = 0")
        cur.execute(f"INSERT INTO indikator (id, name, einheit) SELECT 'i' || k, 'I ' || k, CASE WHEN k % 2 = 0 THEN 'Anzahl'"  # noqa: S608
                    f" ELSE '%' END FROM range({n_ind}) t(k)")
        cur.execute(f"INSERT INTO lieferung (id, dateiname, sha256, importiert_von) SELECT y, 'j' || y, 's' || y, 'b'"  # noqa: S608
                    f" FROM range(1, {n_years + 1}) t(y)")
        cur.execute(f"INSERT INTO lieferung_gebietsstand SELECT y, 1 FROM range(1, {n_years + 1}) t(y)")  # noqa: S608
        cur.execute(
            "INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner)"  # noqa: S608 - generated test data
            f" SELECT y, 'i' || k, 'A' || i, 2000 + y,"  # noqa: S608
            " CASE WHEN k % 2 = 0 THEN (i % 97) + 10 ELSE ((i % 37) + 1) / ((i % 53) + 60) * 100 END,"
            " CASE WHEN k % 2 = 0 THEN NULL ELSE (i % 37) + 1 END, CASE WHEN k % 2 = 0 THEN NULL ELSE (i % 53) + 60 END"
            f" FROM range({n_areas}) a(i), range({n_ind}) b(k), range(1, {n_years + 1}) c(y)")
    return con


def _timed(fn) -> tuple[float, float, object]:
    """Wall and CPU seconds (this process, all DuckDB threads) of ``fn()`` and its result."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return round(time.perf_counter() - t0, 3), round(time.process_time() - c0, 3), out


def _realloc(tmp: Path, n_areas: int, n_ind: int, n_years: int) -> dict:
    from quartier import db
    from quartier.access import SYSTEM
    from quartier.values import query, realloc

    con = build_realloc(tmp / "re.duckdb", n_areas, n_ind, n_years)
    n_values = con.execute("SELECT count(*) FROM messwert").fetchone()[0]

    def full() -> int:
        with db.transaction(con) as cur:
            return realloc.refresh(cur)

    # 1. all 12 M values re-allocated and stored (what a new Gebietsstand or key table costs, once)
    wall, cpu, _ = _timed(full)
    # 2. reading every value on today's areas (stored: no re-allocation on read; the view of 011 took 21-28 s here)
    wall_read, cpu_read, _ = _timed(lambda: con.execute("CREATE TEMP TABLE heute AS SELECT * FROM messwert_heute").fetchall())
    n_out, total = con.execute("SELECT count(*), sum(wert) FILTER (WHERE indikator_id = 'i0') FROM heute").fetchone()
    before = con.execute("SELECT sum(wert) FROM messwert WHERE indikator_id = 'i0'").fetchone()[0]
    wall_one, cpu_one, one = _timed(lambda: query.current_raw(con, ["i1"], None, actor=SYSTEM))
    # 3. one more year delivered in the old Gebietsstand (600,000 values): only its pairs are re-allocated
    with db.transaction(con) as cur:
        y = n_years + 1
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (?, 'neu', 'neu', 'b')", [y])
        cur.execute("INSERT INTO lieferung_gebietsstand VALUES (?, 1)", [y])
        cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert) SELECT ?, 'i' || k, 'A' || i,"
                    " 2000 + ?, i % 97 FROM range(?) a(i), range(?) b(k)", [y, y, n_areas, n_ind])

    def incremental() -> int:
        with db.transaction(con) as cur:
            return realloc.refresh(cur, [y], was_fresh=True)

    wall_inc, cpu_inc, n_inc = _timed(incremental)
    con.close()
    return {"realloc_values": int(n_values), "realloc_rows_out": int(n_out),
            "realloc_12m_s": wall, "realloc_12m_cpu_s": cpu,
            "read_all_today_s": wall_read, "read_all_today_cpu_s": cpu_read,
            "realloc_sum_error": abs(float(total) - float(before)),
            "current_raw_one_indicator_s": wall_one, "current_raw_one_indicator_cpu_s": cpu_one, "current_raw_rows": len(one),
            "realloc_one_year_import_s": wall_inc, "realloc_one_year_import_cpu_s": cpu_inc, "realloc_one_year_rows": int(n_inc)}


def run(quick: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = _crosswalk(Path(tmp), 542)
        out.update(_realloc(Path(tmp), 1000 if quick else 10_000, 60, 2 if quick else 20))
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
