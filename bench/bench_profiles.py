"""Sozialräume page (time series, profile, comparison): demo city and a synthetic large Stadtbezirk.

(a) Demo city (23 Sozialräume, 15 indicators, 11 years):
    ``demo_profile_core_ms``   uncached loaders + chart specs of the Steckbrief of M04 (what a first page
                               run computes): ``series.profile`` + population + small multiples ``to_dict``;
    ``demo_series_core_ms``    Zeitreihen of two Sozialräume x two indicators (loaders + line charts);
    ``demo_page_cold_ms``      the page script through ``AppTest`` (app.py, navigation, logged in) for
                               ``?sr=M04`` with empty caches; ``demo_page_warm_ms`` with filled caches.
    ``demo_profile_core_viewer_ms`` the same for a viewer (small-number protection on every table).
(b) Synthetic city: one Stadtbezirk of 500 Sozialräume (plus two districts of 100) x 60 indicators x 20
    years (840,000 values, 1 % suppressed at source, 1 % missing), generated here with numpy and inserted
    through a registered DataFrame:
    ``district500_series_core_ms``   ``?bezirk=gross`` Zeitreihen for two indicators (500 lines each);
    ``district500_profile_core_ms``  Steckbrief of one Sozialraum with all 60 indicators (ranks among 700);
    ``district500_compare_core_ms``  Vergleich of the 500 Sozialräume for two indicators;
    ``district500_page_cold_ms``     the page script for ``?bezirk=gross`` through AppTest, empty caches;
    ``district500_profile_page_cold_ms`` the page for ``?sr=<area>`` (Steckbrief), empty caches;
    ``district500_*_viewer_ms``      profile and series for a viewer (one run each: dominated by
                                     ``protection.protected_table`` on 60 x 20 tables of 700 areas).

Run alone: ``python -m bench.bench_profiles`` (writes bench/RESULTS_profiles.md).
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

from bench.common import demo_db
from quartier.access import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
REPEAT = 1
BUDGETS = {"demo_page_cold_ms": 300, "district500_page_cold_ms": 1500, "district500_profile_page_cold_ms": 1500}
BIG, SMALL, N_IND, YEARS = 500, 100, 60, list(range(2006, 2026))
GEOM = '{"type": "Point", "coordinates": [7.47, 51.36]}'


# --------------------------------------------------------------------------------------------
# data


def _demo_db() -> Path:
    return demo_db(CACHE, "demo_profiles")


def build_synthetic(path: Path, seed: int = 5) -> dict:
    """A synthetic city: districts gross (500 areas), klein1, klein2 (100 each); 60 indicators, 20 years."""
    from quartier import db

    rng = np.random.default_rng(seed)
    con = db.connect(path)
    districts = [("gross", 1, "Großbezirk", BIG), ("klein1", 2, "Kleinbezirk 1", SMALL), ("klein2", 3, "Kleinbezirk 2", SMALL)]
    areas = []
    for bid, _nr, _name, n in districts:
        areas += [(f"{bid[0].upper()}{bid[-1] if bid[-1].isdigit() else ''}{i:04d}", f"Gebiet {bid} {i}", bid)
                  for i in range(n)]
    area_ids = [a[0] for a in areas]
    inds = [("ew_gesamt", "Einwohnerinnen und Einwohner", "Anzahl", None), ("ew_u18", "Einwohner unter 18", "Anzahl", None)]
    inds += [(f"i{j:02d}", f"Synthetische Kennzahl {j}", "je 1.000" if j % 7 == 0 else "%",
              "higher" if j % 3 else "lower") for j in range(N_IND - 2)]
    n_a, n_y = len(area_ids), len(YEARS)
    pop = rng.integers(800, 12_000, n_a).astype(float)
    with db.transaction(con) as cur:
        for bid, nr, name, _n in districts:
            cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES (?, ?, ?)", [bid, nr, name])
        cur.register("areas_df", pd.DataFrame({"id": area_ids, "name": [a[1] for a in areas], "bezirk_id": [a[2] for a in areas],
                                               "geometry": GEOM, "flaeche_km2": 1.0}))
        cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry, flaeche_km2)"
                    " SELECT id, name, bezirk_id, geometry, flaeche_km2 FROM areas_df")
        for k, (iid, name, unit, richtung) in enumerate(inds):
            cur.execute("INSERT INTO indikator (id, name, kurzname, einheit, richtung, lieferant, sortierung)"
                        " VALUES (?, ?, ?, ?, ?, 'Synthetik', ?)", [iid, name, iid, unit, richtung, k])
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, lieferant, berichtsjahr, importiert_von)"
                    " VALUES (1, 'synthetisch.xlsx', 'x', 'Synthetik', 2025, 'bench')")
        for iid, _name, unit, _r in inds:
            years = np.tile(YEARS, n_a)
            sr = np.repeat(area_ids, n_y)
            growth = np.tile(np.linspace(0.95, 1.05, n_y), n_a)
            p = np.repeat(pop, n_y) * growth
            if unit == "Anzahl":
                share = 1.0 if iid == "ew_gesamt" else 0.17
                wert = np.round(p * share)
                zaehler = nenner = np.full(len(wert), np.nan)
            else:
                den = np.round(p * rng.uniform(0.1, 0.4))
                rate = np.clip(rng.normal(0.2, 0.08, n_a), 0.001, 0.9)
                num = np.round(den * np.clip(np.repeat(rate, n_y) + rng.normal(0, 0.01, n_a * n_y), 0, 1))
                factor = 1000.0 if unit == "je 1.000" else 100.0
                wert, zaehler, nenner = np.round(num / den * factor, 1), num, den
            gesperrt = rng.random(len(wert)) < 0.01
            keep = rng.random(len(wert)) >= 0.01
            wert = np.where(gesperrt, np.nan, wert)
            zaehler = np.where(gesperrt, np.nan, zaehler)
            frame = pd.DataFrame({"lieferung_id": 1, "indikator_id": iid, "sozialraum_id": sr, "jahr": years, "wert": wert,
                                  "zaehler": zaehler, "nenner": nenner, "gesperrt": gesperrt})[keep]
            cur.register("neu", frame)
            cur.execute("INSERT INTO messwert SELECT lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner,"
                        " gesperrt FROM neu")
            cur.unregister("neu")
        cur.execute("INSERT INTO einstellung VALUES ('stadt', 'Synthetikstadt') ON CONFLICT DO NOTHING")
        db.audit(cur, "bench", "synthetik", str(path), f"{n_a} Sozialräume x {len(inds)} Kennzahlen x {n_y} Jahre")
    n_values = con.cursor().execute("SELECT count(*) FROM messwert").fetchone()[0]
    con.close()
    return {"areas": n_a, "indicators": len(inds), "years": n_y, "values": int(n_values), "first_big": area_ids[0]}


# --------------------------------------------------------------------------------------------
# measurements


def _ms(fn, repeat: int) -> tuple[list[float], list[float]]:
    """(wall-clock ms, CPU ms of this process) per call. The CPU time is what the work costs when the
    machine is shared (the benchmark host runs other jobs; wall time then includes waiting)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def _put(out: dict, key: str, measured: tuple[list[float], list[float]]) -> None:
    out[key], out[key.replace("_ms", "_cpu_ms")] = measured


def _series_core(con, actor, inds, srs, city):
    from quartier.values import charts, series

    data = series.load_series(con, inds, srs, actor=actor)
    for iid in inds:
        unit = data.meta.loc[iid, "einheit"]
        f = charts.line_frame(data.values, data.refs, iid, unit, city=city)
        charts.spec(charts.german(charts.line_chart(f, iid, unit)))


def _profile_core(con, actor, sr, city):
    from quartier.values import charts, series

    prof, data = series.profile(con, sr, actor=actor)
    series.population(data, actor=SYSTEM)
    f = charts.multiples_frame(data.values, data.refs, data.meta, city=city)
    charts.spec(charts.german(charts.small_multiples(f)))


def _compare_core(con, actor, inds, srs, city):
    from quartier.values import charts, series

    data = series.load_series(con, inds, srs, actor=actor)
    comp = series.comparison(data)
    for iid in inds:
        unit = data.meta.loc[iid, "einheit"]
        f = charts.bar_frame(comp, iid, unit)
        charts.spec(charts.german(charts.bar_chart(f, iid, unit, data.meta.loc[iid, "richtung"], city=city)))


def _page(db_path: Path, query: dict, repeat: int):
    """(cold runs with cleared caches, warm runs) of the page script through AppTest."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from quartier.access import ADMIN, Actor
    from quartier.ui.session import ACTOR_KEY

    os.environ["QUARTIER_DB"] = str(db_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state[ACTOR_KEY] = Actor("bench", ADMIN, raw_data=True)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("views/sozialraeume.py")
    at.run()
    if at.exception:
        raise RuntimeError(f"Seite mit Fehler: {[e.value for e in at.exception]}")
    def cold_run():
        st.cache_data.clear()
        at.run()

    cold = _ms(cold_run, repeat)
    warm = _ms(at.run, repeat)
    if at.exception:
        raise RuntimeError(f"Seite mit Fehler: {[e.value for e in at.exception]}")
    return cold, warm


def bench_demo(repeat: int) -> dict:
    from quartier import db
    from quartier.access import ADMIN, VIEWER, Actor

    tmp = Path(tempfile.mkdtemp(prefix="bench_profiles_"))
    path = tmp / "demo.duckdb"
    shutil.copy(_demo_db(), path)
    actor = Actor("bench", ADMIN, raw_data=True)
    try:
        con = db.connect(path)
        out: dict = {}
        _put(out, "demo_profile_core_ms", _ms(lambda: _profile_core(con, actor, "M04", "Hagen"), repeat))
        _put(out, "demo_series_core_ms",
             _ms(lambda: _series_core(con, actor, ["sgb2_u18", "seu_sprache"], ["M04", "S01"], "Hagen"), repeat))
        _put(out, "demo_profile_core_viewer_ms", _ms(lambda: _profile_core(con, Actor("gast", VIEWER), "M04", "Hagen"), repeat))
        con.close()
        cold, warm = _page(path, {"sr": "M04"}, repeat)
        _put(out, "demo_page_cold_ms", cold)
        _put(out, "demo_page_warm_ms", warm)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def bench_district(repeat: int) -> dict:
    from quartier import db
    from quartier.access import ADMIN, VIEWER, Actor

    tmp = Path(tempfile.mkdtemp(prefix="bench_profiles_big_"))
    path = tmp / "synth.duckdb"
    actor = Actor("bench", ADMIN, raw_data=True)
    try:
        t = time.perf_counter()
        info = build_synthetic(path)
        build_s = time.perf_counter() - t
        con = db.connect(path)
        big = [r[0] for r in con.cursor().execute("SELECT id FROM sozialraum WHERE bezirk_id = 'gross' ORDER BY id").fetchall()]
        out: dict = {}
        _put(out, "district500_series_core_ms", _ms(lambda: _series_core(con, actor, ["i01", "i02"], big, "Synthetikstadt"), repeat))
        _put(out, "district500_profile_core_ms", _ms(lambda: _profile_core(con, actor, big[0], "Synthetikstadt"), repeat))
        _put(out, "district500_compare_core_ms",
             _ms(lambda: _compare_core(con, actor, ["i01", "i02"], big, "Synthetikstadt"), repeat))
        # a viewer: small-number protection (primary and secondary) on every table of the profile
        viewer = Actor("bench", VIEWER)
        _put(out, "district500_profile_core_viewer_ms", _ms(lambda: _profile_core(con, viewer, big[0], "Synthetikstadt"), 1))
        _put(out, "district500_series_core_viewer_ms",
             _ms(lambda: _series_core(con, viewer, ["i01", "i02"], big, "Synthetikstadt"), 1))
        con.close()
        cold, warm = _page(path, {"bezirk": "gross", "ind": "i01,i02"}, repeat)
        _put(out, "district500_page_cold_ms", cold)
        _put(out, "district500_page_warm_ms", warm)
        cold, warm = _page(path, {"sr": big[0]}, repeat)
        _put(out, "district500_profile_page_cold_ms", cold)
        out["district500_values"] = info["values"]
        out["district500_build_s"] = round(build_s, 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run() -> dict:
    quick = os.environ.get("QUARTIER_BENCH_QUICK") == "1"
    out = bench_demo(3 if quick else 7)
    out.update(bench_district(2 if quick else 5))
    return out


def _median(v) -> float:
    return statistics.median(v) if isinstance(v, list) else float(v)


def _fmt(v) -> str:
    if isinstance(v, list):
        return f"{statistics.median(v):.0f} (min {min(v):.0f}, max {max(v):.0f}, n={len(v)})"
    return str(v)


def write_results(res: dict, path: Path = ROOT / "bench" / "RESULTS_profiles.md") -> Path:
    import platform

    lines = ["# Benchmark Sozialräume (bench/bench_profiles.py)", "",
             f"Gemessen {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} auf {platform.machine()}, "
             f"{os.cpu_count()} Kerne (geteilt mit anderen Prozessen; Last beim Ende: {os.getloadavg()[0]:.1f}), "
             f"Python {platform.python_version()}.",
             "Median, Minimum und Maximum in Millisekunden; Budget aus Issue 5.", "",
             "| Messgröße | Median (min, max, n) | Budget | eingehalten |", "|---|---|---|---|"]
    for key, val in res.items():
        budget = BUDGETS.get(key)
        ok = "" if budget is None else ("ja" if _median(val) <= budget else "**nein**")
        lines.append(f"| `{key}` | {_fmt(val)} | {'' if budget is None else f'< {budget} ms'} | {ok} |")
    lines += ["", "`*_ms` = Wanduhr (Budget), `*_cpu_ms` = CPU-Zeit dieses Prozesses (ohne Warten auf andere Prozesse "
              "auf der geteilten Maschine). "
              "Kern = Lader und Diagramm-Spezifikationen ohne Streamlit-Cache (was ein erster Seitenaufruf rechnet); "
              "Seite = `pages/sozialraeume.py` über AppTest mit app.py (Navigation, angemeldet), kalt = Caches geleert, "
              "warm = Caches gefüllt wie auf einem laufenden Server.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    res = run()
    for key, val in res.items():
        print(f"{key}: {_fmt(val)}", file=sys.stdout)
    print(f"geschrieben: {write_results(res)}", file=sys.stdout)
