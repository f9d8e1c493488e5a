"""Issue 18 §1: the PDF reports show values with their 95 % interval like the Steckbrief ("12,4 % (9,8–15,5)"),
computed from the protected numerators and denominators; read back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from statsmodels.stats.proportion import proportion_confint

from quartier import db
from quartier import format as fmt
from quartier.access import VIEWER, Actor
from quartier.reports import pdf as report_pdf
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary

VIEWER_ACTOR = Actor("betrachtung", VIEWER)
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils fehlt")
INTERVAL = re.compile(r"\d+,\d%\(\d+,\d–\d+,\d\)")


def _flat(path) -> str:
    """pdftotext output without whitespace (a table cell may wrap inside "(9,8–15,5)")."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def ro(demo_db):
    con = db.connect(demo_db, read_only=True)
    yield con
    con.close()


def test_headline_and_area_tables_show_intervals(ro, tmp_path):
    scope = report_scope.bezirk_scope(ro, "haspe")
    sm = report_summary.summary(ro, scope, actor=VIEWER_ACTOR)
    path = tmp_path / "haspe.pdf"
    report_pdf.build_pdf(ro, scope, path, summ=sm, actor=VIEWER_ACTOR)
    flat = _flat(path)
    assert re.sub(r"\s+", "", "In Klammern: 95-%-Konfidenzintervall (Wilson-Score") in flat
    shown = [r for r in sm.headline.to_dict("records") if r["wert_ki_text"] != r["wert_text"]]
    assert shown, "mindestens eine Leitkennzahl mit Intervall"
    for r in sm.headline.to_dict("records"):
        assert r["wert_ki_text"].replace(" ", "") in flat, r["name"]
    # the area table: every cell with its interval text, e.g. for the first Sozialraum
    at = sm.areas
    ids = [c[3:] for c in at.columns if c.startswith("ki_")]
    cells = [at.iloc[0][f"ki_{i}"] for i in ids]
    assert any(INTERVAL.search(c.replace(" ", "")) for c in cells)
    for c in cells:
        assert c.replace(" ", "") in flat


def test_interval_is_wilson_on_the_protected_counts(ro):
    """Known answer: the text equals the Wilson interval of statsmodels on the protected numerator/denominator;
    a protected cell shows "•" and no interval."""
    scope = report_scope.bezirk_scope(ro, "haspe")
    cat = report_summary.indicators.catalogue(ro).set_index("id")
    rate = next(i for i in report_summary.headline_ids(ro) if cat.loc[i, "einheit"] == "%")
    vals = report_scope.protected_values(ro, [rate], actor=VIEWER_ACTOR)
    s = report_scope.series(vals, report_scope.scope_key(scope))
    y = int(s["jahr"].max())
    row = s[s["jahr"] == y].iloc[0]
    lo, hi = proportion_confint(int(row["zaehler"]), int(row["nenner"]), alpha=0.05, method="wilson")
    want = f"{fmt.value(row['wert'], '%')} ({fmt.number(lo * 100)}–{fmt.number(hi * 100)})"
    assert report_summary.with_interval(s, y, "%") == want
    prot = s.assign(gesperrt=True)
    assert report_summary.with_interval(prot, y, "%") == fmt.SUPPRESSED
    nothing = s.assign(zaehler=float("nan"))
    assert report_summary.with_interval(nothing, y, "%") == fmt.value(row["wert"], "%")
