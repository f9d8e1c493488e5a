"""Reports (PDF) and the district view on the demo city.

``district_summary_ms``   ``reports.summary.district_summary`` for Haspe as a viewer (protected table, index ranking,
                          development, recommendations, the table of all indicators) – what a district PDF computes;
``district_view_ms``      the same with ``with_table=False`` – what the page "Mein Bezirk" computes uncached;
``pdf_bezirk_ms``, ``pdf_stadt_ms``, ``pdf_sozialraum_ms``   ``reports.pdf.build_pdf`` for Haspe, the city and M04
                          (map SVG -> PNG and the charts through vl-convert included);
``pdf_bezirk_kb``         size of the district PDF.
Medians of ``REPEAT`` runs after one warm-up (vl-convert starts its JavaScript engine on the first call).
No budget is set in issue 9; these numbers are for comparison over time.

Run alone: ``python -m bench.bench_report``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

REPEAT = 3


def _median_ms(fn, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def run() -> dict:
    from quartier import db
    from quartier.access import VIEWER, Actor
    from quartier.demo import hagen as demo
    from quartier.reports import pdf as report_pdf
    from quartier.reports import scope as report_scope
    from quartier.reports import summary as report_summary

    actor = Actor("bench", VIEWER)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.duckdb"
        con = db.connect(path)
        demo.build(con, out_dir=Path(tmp) / "lieferungen")
        haspe = report_scope.bezirk_scope(con, "haspe")
        city = report_scope.city_scope(con)
        m04 = report_scope.sozialraum_scope(con, "M04")
        out = Path(tmp) / "x.pdf"
        report_pdf.build_pdf(con, haspe, out, actor=actor)  # warm-up
        res = {
            "district_summary_ms": _median_ms(lambda: report_summary.district_summary(con, "haspe", actor=actor)),
            "district_view_ms": _median_ms(lambda: report_summary.district_summary(con, "haspe", with_table=False,
                                                                                   actor=actor)),
            "pdf_bezirk_ms": _median_ms(lambda: report_pdf.build_pdf(con, haspe, out, actor=actor)),
            "pdf_stadt_ms": _median_ms(lambda: report_pdf.build_pdf(con, city, out, actor=actor)),
            "pdf_sozialraum_ms": _median_ms(lambda: report_pdf.build_pdf(con, m04, out, actor=actor)),
        }
        res["pdf_bezirk_kb"] = round(len(report_pdf.build_pdf(con, haspe, None, actor=actor)) / 1024, 1)
        con.close()
    return res


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v}")
