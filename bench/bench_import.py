"""Importer budget: a 100,000-row long-format .xlsx.

Three measurements, each in its own fresh Python process (so that peak memory is per stage):
- ``calamine_read_s``: python-calamine alone reads the sheet into Python lists;
- ``pipeline_s``: :func:`quartier.ingest.analyse_file` + :func:`quartier.ingest.commit` (read, detect, map,
  parse, validate, compare, write one ``lieferung`` with 100,000 ``messwert`` rows) into a fresh database;
- ``pandas_openpyxl_s``: ``pandas.read_excel(engine="openpyxl")`` followed by a plain insert of the same rows.

Budget (issues 3 and 10, which issue 15 says must stay): ``pipeline_s <= 2 x calamine_read_s`` and
``pandas_openpyxl_s >= 5 x pipeline_s``.
A second file in the layout of a statistical yearbook (:func:`_yearbook`: 23 sheets, multi-row header blocks,
district and city total rows, about 100,000 values) is measured the same way against its raw read (calamine, the reader
the importer uses). We set ourselves 2x there too (``TARGETS``, reported as ``yearbook_within_target``); it is not met:
a wide table holds about one cell per value, so its raw read is six times cheaper per value than the long file's,
while reading through the safe reader, checking and writing cost the same per value (bench/RESULTS_import.md).
openpyxl's read-only read of the same file is reported as a second reference,
and so is the one safe reader alone (``yearbook_safe_read_s``: the upload checks and the sheet-size guard in front of
calamine), the part of the pipeline no import can skip.
The synthetic city has 300 Sozialräume and the 15 demo indicators (23 years: 2003–2025).
Files and the base database are cached in ``$QUARTIER_BENCH_CACHE`` (default ``/tmp/quartier_bench``).

Run: ``python -m bench.bench_import`` (both files) or ``python -m bench.bench_import 3 yearbook`` (the yearbook file only).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
N_ROWS = 100_000
N_AREAS = 300
YEARS = list(range(2003, 2026))
# Keys are metric names (the runner compares their medians); the operator says which side is good.
BUDGETS = {"pipeline_vs_calamine_ratio": ("<=", 2.0), "pandas_vs_pipeline_ratio": (">=", 5.0)}
# Our own stricter target, not an issue's budget (see the module docstring): reported, not part of ``within_budget``.
TARGETS = {"yearbook_pipeline_vs_calamine_ratio": ("<=", 2.0)}


def _base_db() -> Path:
    """A database with 300 square Sozialräume and the demo indicator catalogue (no values)."""
    path = CACHE / "import_base.duckdb"
    if path.exists():
        return path
    from quartier import db
    from quartier.values import indicators

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = db.connect(tmp)
    with db.transaction(con) as cur:
        for i in range(N_AREAS):
            x, y = 7.4 + (i % 20) * 0.01, 51.3 + (i // 20) * 0.01
            geom = json.dumps({"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]})
            cur.execute("INSERT INTO sozialraum (id, name, geometry) VALUES (?, ?, ?)", [f"S{i:03d}", f"Gebiet {i:03d}", geom])
        db.audit(cur, "bench", "bench_aufbauen")
    indicators.load_catalogue(con, ROOT / "data" / "demo" / "indikatoren.csv", user="bench")
    con.close()
    tmp.rename(path)
    return path


def _file() -> Path:
    """The 100,000-row long .xlsx (title rows, header, values with numerator/denominator)."""
    path = CACHE / f"import_long_{N_ROWS}.xlsx"
    if path.exists():
        return path
    import numpy as np
    from openpyxl import Workbook

    from quartier import db

    con = db.connect(_base_db(), read_only=True)
    inds = con.execute("SELECT id, name, einheit FROM indikator ORDER BY sortierung").fetchall()
    con.close()
    rng = np.random.default_rng(11)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Daten")
    ws.append(["Benchmark-Lieferung (synthetische Werte)"])
    ws.append([])
    ws.append(["Jahr", "Sozialraum-Nr.", "Kennzahl", "Zähler", "Nenner", "Wert"])
    n = 0
    for year in YEARS:
        for i in range(N_AREAS):
            for _iid, name, unit in inds:
                if n >= N_ROWS:
                    break
                den = int(rng.integers(200, 5000))
                if unit == "Anzahl":
                    ws.append([year, f"S{i:03d}", name, None, None, den])
                else:
                    factor = 1000 if "1.000" in (unit or "") else 100
                    num = int(rng.integers(0, den // (10 if factor == 1000 else 2)))
                    ws.append([year, f"S{i:03d}", name, num, den, round(num / den * factor, 1)])
                n += 1
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.rename(path)
    return path


def _yearbook() -> Path:
    """A yearbook-style .xlsx of about 100,000 values: one sheet per year (23), each with a title row, a group
    header merged over all indicator columns ("Kennzahlen am 31.12.YYYY"), a row of indicator names, a row of
    descriptions, the area column headed by a cell merged over the three header rows, 300 areas in 10 districts
    each followed by its total row ("Bezirk N": sums of the counts), and the city total at the end."""
    path = CACHE / "import_jahrbuch.xlsx"
    if path.exists():
        return path
    import numpy as np
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from quartier import db

    con = db.connect(_base_db(), read_only=True)
    inds = con.execute("SELECT id, name, einheit, coalesce(definition, '') FROM indikator ORDER BY sortierung").fetchall()
    con.close()
    rng = np.random.default_rng(12)
    wb = Workbook()
    wb.remove(wb.active)
    last = get_column_letter(len(inds) + 1)
    for year in YEARS:
        ws = wb.create_sheet(f"Tabelle {year}")
        ws.append([f"Tabelle 4.{year - YEARS[0] + 1}: Kennzahlen nach Stadtteilen"])
        ws.append(["Stadtteil", f"Kennzahlen am 31.12.{year}"] + [None] * (len(inds) - 1))
        ws.append([None] + [name for _i, name, _u, _d in inds])
        ws.append([None] + [d[:60] for _i, _n, _u, d in inds])
        ws.merge_cells("A2:A4")
        ws.merge_cells(f"B2:{last}2")
        city = np.zeros(len(inds))
        for b in range(10):
            tot = np.zeros(len(inds))
            for i in range(b * 30, b * 30 + 30):
                row = []
                for k, (_iid, _name, unit, _d) in enumerate(inds):
                    v = int(rng.integers(200, 5000)) if unit == "Anzahl" else round(float(rng.uniform(1, 40)), 1)
                    row.append(v)
                    tot[k] += v if unit == "Anzahl" else 0
                ws.append([f"Gebiet {i:03d}"] + row)
            ws.append([f"Bezirk {b + 1}"] + [int(t) if u == "Anzahl" else None for t, (_i, _n, u, _d) in zip(tot, inds)])
            city += tot
        ws.append(["Stadt insgesamt"] + [int(t) if u == "Anzahl" else None for t, (_i, _n, u, _d) in zip(city, inds)])
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.rename(path)
    return path


_STAGES = {
    "calamine": """
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(FILE)
rows = [r for name in wb.sheet_names for r in wb.get_sheet_by_name(name).to_python()]
info = {"rows": len(rows)}
""",
    "openpyxl": """
from openpyxl import load_workbook
wb = load_workbook(FILE, read_only=True, data_only=True)
rows = [r for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
wb.close()
info = {"rows": len(rows)}
""",
    "pipeline": """
from pathlib import Path
from quartier import access, ingest
fa = ingest.analyse_file(con, Path(FILE).read_bytes(), Path(FILE).name, lieferant="Bench")
assert not fa.errors, [f.message for f in fa.errors[:3]]
rep = ingest.commit(con, fa, access.Actor("bench", access.EDITOR), confirm_warnings=True)
info = {"rows": con.execute("SELECT count(*) FROM messwert").fetchone()[0], "warnings": len(fa.warnings), **rep["rows"]}
""",
    "safe_read": """
from pathlib import Path
from quartier import uploads
book = uploads.read_book(Path(FILE).read_bytes(), Path(FILE).name)
info = {"rows": sum(len(sh.rows) for sh in book.sheets)}
""",
    "pandas": """
import pandas as pd
df = pd.read_excel(FILE, engine="openpyxl", header=2)
ind = con.execute("SELECT name, id FROM indikator").df().set_index("name")["id"]
out = pd.DataFrame({"lieferung_id": 1, "indikator_id": df["Kennzahl"].map(ind), "sozialraum_id": df["Sozialraum-Nr."],
                    "jahr": df["Jahr"].astype(int), "wert": df["Wert"].astype(float), "zaehler": df["Zähler"].astype(float),
                    "nenner": df["Nenner"].astype(float), "gesperrt": False})
cur = con.cursor()
cur.execute("BEGIN")
cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (1, 'x', 'x', 'bench')")
cur.register("df", out)
cur.execute("INSERT INTO messwert SELECT * FROM df")
cur.execute("COMMIT")
info = {"rows": con.execute("SELECT count(*) FROM messwert").fetchone()[0]}
""",
}

_WRAP = """
import json, resource, sys, time
sys.path.insert(0, ROOT)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
{body}
dt, dc = time.perf_counter() - t0, cpu() - c0
print(json.dumps({{"seconds": dt, "cpu_seconds": dc, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}}))
"""


def _stage(name: str, file: Path, base_db: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_import_"))
    db_copy = tmp / "bench.duckdb"
    shutil.copy(base_db, db_copy)
    body = _STAGES[name]
    # Imports and opening the database are outside the timed part: in the app the modules are loaded and
    # the one connection per process is open before anybody drops a file (both sides alike).
    open_db = "from quartier import db as _db\ncon = _db.connect(DB)\n"
    pre = {"calamine": "import python_calamine\n", "openpyxl": "import openpyxl\n", "pipeline": "import quartier.ingest\n" + open_db,
           "safe_read": "import quartier.ingest\n",
           "pandas": "import pandas, openpyxl\n" + open_db}[name]
    code = f"ROOT={str(ROOT)!r}; FILE={str(file)!r}; DB={str(db_copy)!r}\nimport sys; sys.path.insert(0, ROOT)\n{pre}" + _WRAP.format(body=body)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0:
        raise RuntimeError(f"{name}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_yearbook(repeat: int = 3) -> dict:
    """The yearbook-style file: raw read of every sheet vs. the whole pipeline (detection of the header block,
    years from the group header, totals recognised and checked), interleaved, best of ``repeat``.

    The raw read is calamine's (the reader the importer uses); openpyxl's read-only read of the same file is
    measured as a second reference (``yearbook_openpyxl_read_s``)."""
    file, base = _yearbook(), _base_db()
    cal, pipe, opx = [], [], []
    for _ in range(repeat):
        cal.append(_stage("calamine", file, base))
        pipe.append(_stage("pipeline", file, base))
        opx.append(_stage("openpyxl", file, base))
    best_c, best_p = min(x["seconds"] for x in cal), min(x["seconds"] for x in pipe)
    cpu_c, cpu_p = min(x["cpu_seconds"] for x in cal), min(x["cpu_seconds"] for x in pipe)
    best_o, cpu_o = min(x["seconds"] for x in opx), min(x["cpu_seconds"] for x in opx)
    # the upload checks and the sheet-size guard in front of calamine (the one safe reader every upload goes through):
    # what any import must spend before it looks at a cell
    safe = [_stage("safe_read", file, base) for _ in range(repeat)]
    best_s, cpu_s = min(x["seconds"] for x in safe), min(x["cpu_seconds"] for x in safe)
    return {"yearbook_openpyxl_read_s": round(best_o, 3), "yearbook_openpyxl_read_cpu_s": round(cpu_o, 3),
            "yearbook_pipeline_cpu_s": round(cpu_p, 3), "yearbook_calamine_read_cpu_s": round(cpu_c, 3),
            "yearbook_pipeline_vs_openpyxl_ratio": round(best_p / best_o, 2),
            "yearbook_pipeline_vs_openpyxl_cpu_ratio": round(cpu_p / cpu_o, 2),"yearbook_file_mb": round(file.stat().st_size / 1024 / 1024, 2), "yearbook_values": pipe[-1]["rows"],
            "yearbook_calamine_read_s": round(best_c, 3), "yearbook_pipeline_s": round(best_p, 3),
            "yearbook_pipeline_vs_calamine_ratio": round(best_p / best_c, 2),
            "yearbook_pipeline_vs_calamine_cpu_ratio": round(cpu_p / cpu_c, 2),
            "yearbook_pipeline_peak_rss_mb": round(max(x["maxrss_mb"] for x in pipe), 1),
            "yearbook_safe_read_s": round(best_s, 3), "yearbook_safe_read_cpu_s": round(cpu_s, 3),
            "yearbook_safe_read_vs_calamine_ratio": round(best_s / best_c, 2),
            "load_average_1min": round(os.getloadavg()[0], 1)}


def run(repeat: int = 3) -> dict:
    file, base = _file(), _base_db()
    res: dict = {"file_rows": N_ROWS, "file_mb": round(file.stat().st_size / 1024 / 1024, 2)}
    cal, pipe = [], []
    for _ in range(repeat):  # interleaved, so that load from other processes hits both alike
        cal.append(_stage("calamine", file, base))
        pipe.append(_stage("pipeline", file, base))
    pand = [_stage("pandas", file, base)]
    best = {k: min(x["seconds"] for x in v) for k, v in (("cal", cal), ("pipe", pipe), ("pand", pand))}
    cpu = {k: min(x["cpu_seconds"] for x in v) for k, v in (("cal", cal), ("pipe", pipe), ("pand", pand))}
    res.update({
        "calamine_read_s": round(best["cal"], 3),
        "pipeline_s": round(best["pipe"], 3),
        "pandas_openpyxl_s": round(best["pand"], 3),
        "pipeline_vs_calamine_ratio": round(best["pipe"] / best["cal"], 2),
        "pandas_vs_pipeline_ratio": round(best["pand"] / best["pipe"], 1),
        "calamine_read_cpu_s": round(cpu["cal"], 3),
        "pipeline_cpu_s": round(cpu["pipe"], 3),
        "pandas_openpyxl_cpu_s": round(cpu["pand"], 3),
        "pipeline_vs_calamine_cpu_ratio": round(cpu["pipe"] / cpu["cal"], 2),
        "calamine_peak_rss_mb": round(max(x["maxrss_mb"] for x in cal), 1),
        "pipeline_peak_rss_mb": round(max(x["maxrss_mb"] for x in pipe), 1),
        "pandas_peak_rss_mb": round(max(x["maxrss_mb"] for x in pand), 1),
        "pipeline_rows_written": pipe[-1]["rows"],
        "repeat": repeat,
    })
    res.update(run_yearbook(repeat))
    res["within_budget"] = (res["pipeline_vs_calamine_ratio"] <= BUDGETS["pipeline_vs_calamine_ratio"][1]
                            and res["pandas_vs_pipeline_ratio"] >= BUDGETS["pandas_vs_pipeline_ratio"][1])
    res["yearbook_within_target"] = res["yearbook_pipeline_vs_calamine_ratio"] <= TARGETS["yearbook_pipeline_vs_calamine_ratio"][1]
    return res


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "yearbook":
        print(json.dumps(run_yearbook(int(sys.argv[1])), indent=2, ensure_ascii=False))
    else:
        print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2, ensure_ascii=False))
