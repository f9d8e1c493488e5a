"""Access control costs: small-number protection, backups, password checks.

- ``protected_table_demo_s``: primary + secondary suppression with district/city rows for the whole demo
  (15 indicators x 11 years x 23 Sozialräume).
- ``protect_10k_one_indicator_20y_s`` / ``raw_10k_one_indicator_20y_s``: ``current_values`` for a viewer and
  raw for one indicator over 20 years at 10,000 Sozialräume (synthetic city from the scale benchmark's
  cache ``$QUARTIER_BENCH_CACHE``; built with ``python -m quartier synth`` when missing, skipped with --quick).
- ``backup_demo_s``: CHECKPOINT + copy of the demo database (the automatic backup before each import).
- ``login_verify_s``: one Argon2id password check (the cost every login attempt pays).

Run alone: ``python -m bench.bench_access``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quartier.access import SYSTEM

REPEAT = 1
BUDGETS = {"protected_table_demo_s": 2.0, "backup_demo_s": 2.0, "login_verify_s": 1.5}
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
ROOT = Path(__file__).resolve().parents[1]


def _timed(fn, n: int = 3) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _synth_10k() -> Path | None:
    src = CACHE / "synth_10000_60_20_s1.duckdb"
    if not src.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([sys.executable, "-m", "quartier", "synth", "--db", str(src), "--areas", "10000",
                            "--indicators", "60", "--years", "20"], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0 or not src.exists():
            return None
    return src


def run(quick: bool = False) -> dict:
    from quartier import db
    from quartier.access import Actor
    from quartier.admin import auth, backup
    from quartier.demo import hagen as demo
    from quartier.values import indicators, protection

    quick = quick or os.environ.get("QUARTIER_BENCH_QUICK") == "1"
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp:
        tmp = Path(tmp)
        con = db.connect(tmp / "demo.duckdb")
        demo.build(con, out_dir=tmp / "lieferungen")
        viewer = Actor("bench", "Betrachtung")
        out["protected_table_demo_s"] = _timed(lambda: protection.protected_table(con, actor=viewer))
        t = protection.protected_table(con, actor=viewer)
        out["protected_cells_demo"] = int(t["gesperrt"].sum())
        out["backup_demo_s"] = _timed(lambda: backup.snapshot(con, tmp / "b.duckdb"))
        h = auth.hash_password("ein-langes-passwort")
        out["login_verify_s"] = _timed(lambda: auth.verify_password(h, "ein-langes-passwort"), 5)
        con.close()
        if not quick:
            src = _synth_10k()
            if src is not None:
                copy = tmp / "synth.duckdb"
                shutil.copy(src, copy)
                c = db.connect(copy)
                iid = indicators.catalogue(c)["id"].iloc[0]
                out["raw_10k_one_indicator_20y_s"] = _timed(lambda: indicators.current_values(c, [iid], actor=SYSTEM), 2)
                out["protect_10k_one_indicator_20y_s"] = _timed(lambda: indicators.current_values(c, [iid], actor=viewer), 2)
                c.close()
    return out


if __name__ == "__main__":
    res = run("--quick" in sys.argv)
    for k, v in res.items():
        print(f"{k}: {statistics.median(v) if isinstance(v, list) else v}")
