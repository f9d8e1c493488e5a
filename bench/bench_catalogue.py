"""Handlungsempfehlungen at scale: 1,000 recommendations (issue 7 sets no budget; these are measured, not asserted).

In a fresh database without areas: import a 1,000-row catalogue .xlsx (validation + commit), list the catalogue
with derived flags, export it again, re-import the export (round trip, must change nothing), change the status
of 100 recommendations at once, and freeze a Berichtsstand at an earlier date (rolls the history back).

Run: ``python -m bench.bench_catalogue``.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

N = 1000


def run() -> dict:
    from openpyxl import Workbook

    from quartier import db
    from quartier.access import EDITOR, Actor
    from quartier.actions import excel as cio
    from quartier.actions import model, snapshots, store

    actor = Actor("bench", EDITOR)
    out: dict = {"empfehlungen": N}
    with tempfile.TemporaryDirectory() as tmp:
        con = db.connect(Path(tmp) / "bench.duckdb")
        wb = Workbook()
        ws = wb.active
        ws.title = "Empfehlungen"
        ws.append(["Nummer", "Titel", "Beschreibung", "Handlungsfeld", "Ebene", "Status", "Fortschritt %", "Beginn geplant",
                   "Ende geplant", "Federführung", "Vorlage", "Gremium"])
        for i in range(N):
            ws.append([f"B-{i:04d}", f"Empfehlung {i}", "Beschreibung " * 20, model.HANDLUNGSFELDER[i % 6], "stadtweit",
                       model.STATUS_NAMES[i % 5], (i * 7) % 101, date(2021 + i % 4, 1 + i % 12, 1),
                       date(2024 + i % 4, 1 + i % 12, 28), f"Amt {i % 12}", "1069/2020", "Jugendhilfeausschuss"])
        src = Path(tmp) / "katalog.xlsx"
        wb.save(src)

        t = time.perf_counter()
        res = cio.import_file(con, actor, src, now=datetime(2024, 1, 1, 9))
        out["import_1000_s"] = round(time.perf_counter() - t, 3)
        assert res.status == "imported" and res.new == N, res.errors[:3]

        t = time.perf_counter()
        df = store.listing(con, date(2026, 11, 1), actor=actor)
        out["listing_with_flags_s"] = round(time.perf_counter() - t, 3)
        out["ueberfaellig"] = int(df["ueberfaellig"].sum())

        t = time.perf_counter()
        exp = Path(tmp) / "export.xlsx"
        cio.export_xlsx(con, exp)
        out["export_xlsx_s"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        again = cio.import_file(con, actor, exp, dry_run=True)
        out["roundtrip_dry_run_s"] = round(time.perf_counter() - t, 3)
        out["roundtrip_changed"] = again.changed

        t = time.perf_counter()
        n = store.bulk_status(con, actor, list(df["id"][:100]), "zurückgestellt", "Bench", now=datetime(2025, 6, 1, 9))
        out["bulk_status_100_s"] = round(time.perf_counter() - t, 3)
        out["bulk_changed"] = n

        t = time.perf_counter()
        sid = snapshots.create_snapshot(con, actor, "Bench", date(2025, 1, 1), now=datetime(2025, 7, 1, 9))
        out["snapshot_rollback_s"] = round(time.perf_counter() - t, 3)
        out["snapshot_rows"] = len(snapshots.load_snapshot(con, sid, actor=actor))
        con.close()
    return out


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
