"""Handlungsbedarf index: 10,000 Sozialräume x 60 indicators with robustness, and the page on the demo city.

(a) ``index_10000x60_robust_s``: :func:`quartier.need.compute.evaluate` on synthetic arrays (status, dynamics,
    leave-one-out and ±50 % weight variation for 60 indicators, 2 % missing, 1 % too small), repeated
    (wall time; ``_cpu_s`` the CPU time of the process, less sensitive to other load on the machine);
    ``index_10000x60_from_rows_s`` additionally turns 1.8 million long rows (3 years) into rates and
    matrices as :func:`quartier.need.compute.compute` does after its query.
(b) ``page_demo_warm_ms`` / ``page_demo_cold_ms``: the page ``pages/handlungsbedarf.py`` through
    ``AppTest`` (app.py with the navigation, as a logged-in editor) on the demo city; warm = repeated runs
    with the caches filled, as on a running server. The demo database is built once into
    ``$QUARTIER_BENCH_CACHE`` (default ``/tmp/quartier_bench``) and copied.
(c) ``index_db_10000x<K>_compute_s``: :func:`quartier.need.compute.compute` end to end on the synthetic city of
    ``bench_scale`` (10,000 Sozialräume x 60 indicators x 20 years, ``quartier.synth``; built once and
    cached), with every indicator that has a direction.

Run alone: ``python -m bench.bench_index``.
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

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
REPEAT = 1
BUDGETS = {"index_10000x60_robust_s": 1.0, "page_demo_warm_ms": 300}
N_AREAS, N_IND = 10_000, 60


def synthetic(n: int = N_AREAS, k: int = N_IND, seed: int = 3):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    load = rng.uniform(0.3, 0.9, k) * rng.choice([-1, 1], k)
    X = 20 + 5 * (latent[:, None] * load + rng.normal(scale=0.8, size=(n, k)))
    X_from = X + rng.normal(scale=0.5, size=(n, k))
    X_to = X.copy()
    miss = rng.random((n, k)) < 0.02
    X[miss] = np.nan
    sup = miss & (rng.random((n, k)) < 0.5)
    pop = rng.integers(100, 20_000, n).astype(float)
    pop[rng.random(n) < 0.01] = 250
    method = {
        "name": "Benchmark", "kind": "zscore",
        "indicators": [{"id": f"i{j:02d}", "weight": float(rng.integers(1, 4)), "direction": "higher" if load[j] > 0 else "lower"}
                       for j in range(k)],
    }
    return method, X, sup, pop, X_from, X_to


def bench_core(repeat: int = 5) -> dict:
    import dataclasses

    from quartier.need import compute
    from quartier.need import method as index_method

    method, X, sup, pop, X_from, X_to = synthetic()
    m = index_method.validate_method(method)
    ids = [f"S{i:05d}" for i in range(N_AREAS)]
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        res = compute.evaluate(m, 2024, ids, ids, X, sup, pop, X_from, X_to, [1])
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    rated = int((res.klass >= 0).sum())
    # from long rows: 3 years x 10,000 x 60 = 1.8 million rows
    rows = []
    for year, mat in ((2022, X_from), (2023, X_to), (2024, X)):
        rows.append(pd.DataFrame({
            "indikator_id": np.tile(m.indicator_ids, N_AREAS),
            "sozialraum_id": np.repeat(ids, N_IND), "jahr": year,
            "wert": mat.ravel(), "zaehler": np.nan, "nenner": np.nan, "gesperrt": False,
        }))
    long = pd.concat(rows, ignore_index=True)
    units = {i: "%" for i in m.indicator_ids}
    t_rows = []
    for _ in range(max(1, repeat // 2)):
        t = time.perf_counter()
        mats = compute.wide_years(long, compute.rates(long, units), ids, m.indicator_ids, [2022, 2023, 2024])
        (Xy, S), (Xf, _), (Xt, _) = mats[2024], mats[2022], mats[2023]
        compute.evaluate(dataclasses.replace(m, dynamics_years=2), 2024, ids, ids, Xy, S, pop, Xf, Xt, [1])
        t_rows.append(time.perf_counter() - t)
    return {"index_10000x60_robust_s": times, "index_10000x60_robust_cpu_s": cpu, "index_10000x60_from_rows_s": t_rows,
            "index_10000x60_rated_areas": rated}


def _demo_db() -> Path:
    return demo_db(CACHE, "demo_index")


def bench_page(repeat: int = 7) -> dict:
    from streamlit.testing.v1 import AppTest

    from quartier.access import EDITOR, Actor
    from quartier.ui.session import ACTOR_KEY

    tmp = Path(tempfile.mkdtemp(prefix="bench_index_"))
    db_path = tmp / "demo.duckdb"
    shutil.copy(_demo_db(), db_path)
    os.environ["QUARTIER_DB"] = str(db_path)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state[ACTOR_KEY] = Actor("bench", EDITOR, raw_data=True)
        at.run()
        at.switch_page("views/handlungsbedarf.py")
        t = time.perf_counter()
        at.run()
        cold = (time.perf_counter() - t) * 1000
        if at.exception:
            raise RuntimeError(f"Seite mit Fehler: {[e.value for e in at.exception]}")
        warm = []
        for _ in range(repeat):
            t = time.perf_counter()
            at.run()
            warm.append((time.perf_counter() - t) * 1000)
        # an empty app run (start page) for comparison: the part of the time that is not this page
        base = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        base.session_state[ACTOR_KEY] = Actor("bench", EDITOR, raw_data=True)
        base.run()
        base.switch_page("views/uebersicht.py")
        base.run()
        ref = []
        for _ in range(repeat):
            t = time.perf_counter()
            base.run()
            ref.append((time.perf_counter() - t) * 1000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"page_demo_cold_ms": cold, "page_demo_warm_ms": warm, "page_uebersicht_warm_ms": ref}


def _synth_db(n: int, k: int = N_IND, y: int = 20) -> Path:
    """The synthetic city of bench_scale (same cache file name), built once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"synth_{n}_{k}_{y}_s1.duckdb"
    if not path.exists():
        from quartier import access, db
        from quartier.demo import synth

        tmp = path.with_suffix(".tmp.duckdb")
        con = db.connect(tmp)
        synth.build(con, n, k, y, seed=1, actor=access.cli_actor("bench"), force=True)
        con.close()
        tmp.rename(path)
    return path


def bench_db(n: int, repeat: int = 3) -> dict:
    """``need.compute.compute`` end to end (query, rates, matrices, index, robustness) on a synthetic DuckDB city
    with every indicator that has a direction."""
    from quartier import db
    from quartier.access import SYSTEM
    from quartier.need import compute
    from quartier.values import indicators

    tmp = Path(tempfile.mkdtemp(prefix="bench_index_db_"))
    try:
        shutil.copy(_synth_db(n), tmp / "synth.duckdb")
        con = db.connect(tmp / "synth.duckdb")
        cat = indicators.catalogue(con)
        ids = list(cat.loc[cat["richtung"].notna(), "id"])
        year = max(indicators.years(con))
        m = {"name": "Benchmark", "indicators": [{"id": i, "weight": 1} for i in ids]}
        times, cpu, load = [], [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            res = compute.compute(con, m, year, actor=SYSTEM)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            t = time.perf_counter()
            compute.load_values(con, ids + ["ew_gesamt"], [year - 2, year])
            load.append(time.perf_counter() - t)
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {f"index_db_{n}x{len(ids)}_compute_s": times, f"index_db_{n}x{len(ids)}_compute_cpu_s": cpu,
            f"index_db_{n}x{len(ids)}_query_only_s": load, f"index_db_{n}_rated_areas": int((res.klass >= 0).sum())}


def run() -> dict:
    quick = os.environ.get("QUARTIER_BENCH_QUICK") == "1"
    out = bench_core(3 if quick else 7)
    out.update(bench_page(3 if quick else 7))
    out.update(bench_db(1000 if quick else 10_000))
    return out


def _fmt(v) -> str:
    if isinstance(v, list):
        return f"{statistics.median(v):.3f} (min {min(v):.3f}, max {max(v):.3f}, n={len(v)})"
    return str(v)


if __name__ == "__main__":
    res = run()
    for key, val in res.items():
        print(f"{key}: {_fmt(val)}", file=sys.stdout)
