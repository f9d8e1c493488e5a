"""A large faulty file must not tie up the server (issue 20, item 7).

A 1,000,000-row long-format .xlsx in which every row is faulty (unknown Sozialraum in half of the rows, a text
instead of a number in the other half). Measured in a fresh Python process, as the Daten-Import page does it on the
first run after the upload: :func:`quartier.ingest.analyse_file` plus what the page computes to show the findings
(``counts``, ``changes``, ``coverage``, ``findings_frame``); the Excel error report is no longer built on the run but only
on click (measured separately, ``report_xlsx_s``, as the cost a click pays).

Budgets: ``first_findings_s <= 15`` (analysis + page data) and ``peak_rss_mb <= 1536`` (VmHWM of the analysing
process, which holds the upload, the workbook rows and the analysis — what the server holds for one such upload).
The base database (300 Sozialräume, demo catalogue) comes from :mod:`bench.bench_import`; the file is cached in
``$QUARTIER_BENCH_CACHE``.

Run: ``python -m bench.bench_badfile``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_import import CACHE, N_AREAS, ROOT, YEARS, _base_db

N_ROWS = 1_000_000
REPEAT = 1
BUDGETS = {"first_findings_s": ("<=", 15.0), "peak_rss_mb": ("<=", 1536.0)}


def _file() -> Path:
    path = CACHE / f"badfile_{N_ROWS}.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    from quartier import db

    con = db.connect(_base_db(), read_only=True)
    names = [r[0] for r in con.execute("SELECT name FROM indikator WHERE einheit = 'Anzahl' ORDER BY sortierung").fetchall()]
    con.close()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Daten")
    ws.append(["Jahr", "Sozialraum-Nr.", "Kennzahl", "Wert"])
    for n in range(N_ROWS):
        year = YEARS[n % len(YEARS)]
        if n % 2:
            ws.append([year, f"X{n:07d}", names[n % len(names)], n % 997])      # unknown Sozialraum
        else:
            ws.append([year, f"S{n % N_AREAS:03d}", names[n % len(names)], "k. A."])  # text instead of a number
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.rename(path)
    return path


_CODE = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, ROOT)
from quartier import db, ingest
from quartier.ingest.template import error_report_xlsx
con = db.connect(DB)
data = Path(FILE).read_bytes()
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
fa = ingest.analyse_file(con, data, Path(FILE).name, lieferant="Bench")
t1 = time.perf_counter()
counts, changes, coverage, ff = fa.counts(), fa.changes(), fa.coverage(), fa.findings_frame()
t2, c2 = time.perf_counter(), cpu()
rss_findings = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rep = error_report_xlsx(fa, data) if REPORT else b""
t3 = time.perf_counter()
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(json.dumps({"cpu_s": c2 - c0, "analyse_s": t1 - t0, "page_data_s": t2 - t1, "report_xlsx_s": t3 - t2, "errors": len(fa.errors),
                  "findings_shown": len(ff), "peak_rss_findings_mb": rss_findings, "peak_rss_with_report_mb": hwm,
                  "report_kb": len(rep) / 1024}))
"""


def _measure(file: Path, report: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_badfile_"))
    db_copy = tmp / "bench.duckdb"
    shutil.copy(_base_db(), db_copy)
    code = f"ROOT={str(ROOT)!r}; FILE={str(file)!r}; DB={str(db_copy)!r}; REPORT={report!r}\n" + _CODE
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def run() -> dict:
    file = _file()
    first = _measure(file, report=False)   # what a page run does now
    click = _measure(file, report=True)    # plus one click on "Prüfbericht als Excel"
    res = {
        "file_rows": N_ROWS, "file_mb": round(file.stat().st_size / 1024 / 1024, 1),
        "analyse_s": round(first["analyse_s"], 2), "page_data_s": round(first["page_data_s"], 2),
        "first_findings_s": round(first["analyse_s"] + first["page_data_s"], 2),
        "first_findings_cpu_s": round(first["cpu_s"], 2),  # the same work in CPU seconds (wall time suffers on a shared machine)
        "peak_rss_mb": round(first["peak_rss_findings_mb"], 0),
        "errors_found": first["errors"], "findings_listed": first["findings_shown"],
        "report_xlsx_s": round(click["report_xlsx_s"], 2), "peak_rss_with_report_mb": round(click["peak_rss_with_report_mb"], 0),
    }
    res["within_budget"] = (res["first_findings_s"] <= BUDGETS["first_findings_s"][1]
                            and res["peak_rss_mb"] <= BUDGETS["peak_rss_mb"][1])
    return res


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
