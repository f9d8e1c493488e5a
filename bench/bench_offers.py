"""Angebote und Versorgung: a synthetic city of 10,000 Sozialräume with 5,000 offers of one category.

``versorgung_core_ms``   ``offers.supply.supply`` for one category (counts, places, target group, reach by
                         straight line for 5,000 radii of 500 m over 10,000 areas), city geometry cached
                         (as in a running server); ``versorgung_first_ms`` the first call (geometry parsed);
``versorgung_cli_ms``    ``python -m quartier versorgung --kategorie Kita --json`` in-process (needs
                         included: the synthetic city has no saved method);
``page_cold_ms``/``page_warm_ms`` the page "Angebote" through AppTest (app.py, logged in), empty / filled caches.
Budget (issue 17): versorgung < 2 s, page warm < 1.5 s.

Run alone: ``python -m bench.bench_offers``.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np

N_AREAS, N_OFFERS = 10_000, 5_000
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
BUDGETS = {"versorgung_core_ms": 2000, "page_warm_ms": 1500}
REPEAT = 1


def build(path: Path) -> None:
    from quartier import access, db
    from quartier.demo import synth
    from quartier.offers import catalogue, locate, store

    con = db.connect(path)
    synth.build(con, N_AREAS, 5, 2, seed=3, actor=access.SYSTEM, force=True)
    catalogue.save(con, [{"name": "Kita", "zielgruppe_indikator": "ew_u18", "radius_m": 500}], actor=access.SYSTEM)
    city = store.city_geometry(con)
    x, y, where = locate.grid_inside(city, N_OFFERS * 3)
    rng = np.random.default_rng(1)
    pick = rng.choice(len(x), N_OFFERS, replace=False)
    lon, lat = store.to_wgs_xy(x[pick], y[pick])
    with db.transaction(con) as cur:
        cur.executemany("INSERT INTO angebot (id, name, kategorie, plaetze, lon, lat, sozialraum_id) VALUES (?, ?, 'Kita', ?, ?, ?, ?)",
                        [[f"K{i}", f"Kita {i}", int(rng.integers(20, 120)), float(lo), float(la), where[j]]
                         for i, (j, lo, la) in enumerate(zip(pick, lon, lat))])
    con.close()


def _db() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"offers_{N_AREAS}_{N_OFFERS}.duckdb"
    if not path.exists():
        build(path)
    from quartier import db

    db.connect(path).close()  # a database cached by an older version: bring it to today's schema (migrations)
    return path


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _cpu_ms(fn) -> float:
    """CPU time of this process (the machine is shared: wall time includes waiting for other jobs)."""
    t = time.process_time()
    fn()
    return (time.process_time() - t) * 1000


def run() -> dict:
    from quartier import access, db
    from quartier.offers import supply

    path = _db()
    out: dict = {}
    con = db.connect(path, read_only=True)
    out["versorgung_first_ms"] = _ms(lambda: supply.supply(con, "Kita", actor=access.PUBLIC))
    warm = [_ms(lambda: supply.supply(con, "Kita", actor=access.PUBLIC)) for _ in range(3)]
    out["versorgung_core_ms"] = sorted(warm)[1]
    out["versorgung_core_cpu_ms"] = sorted(_cpu_ms(lambda: supply.supply(con, "Kita", actor=access.PUBLIC)) for _ in range(3))[1]
    con.close()
    from quartier.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        out["versorgung_cli_ms"] = _ms(lambda: main(["versorgung", "--kategorie", "Kita", "--json", "--db", str(path)]))
    out.update(_page(path))
    return out


def _page(path: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    from quartier.access import ADMIN, Actor
    from quartier.ui.session import ACTOR_KEY

    os.environ["QUARTIER_DB"] = str(path)
    app = Path(__file__).resolve().parents[1] / "app.py"
    at = AppTest.from_file(str(app), default_timeout=300)
    at.session_state[ACTOR_KEY] = Actor("bench", ADMIN, raw_data=True)
    at.run()
    at.switch_page("views/angebote.py")
    cold = _ms(at.run)
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    warm = sorted(_ms(at.run) for _ in range(3))[1]
    warm_cpu = sorted(_cpu_ms(at.run) for _ in range(3))[1]
    return {"page_cold_ms": cold, "page_warm_ms": warm, "page_warm_cpu_ms": warm_cpu}


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v:.0f}")
