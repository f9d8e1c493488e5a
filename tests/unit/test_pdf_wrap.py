"""Issue 16: PDF tables wrap at spaces and hyphens, never inside a word ("Eckesey-S|üd"); the development
table shows "–" for an incomplete year."""

from __future__ import annotations

import subprocess

import pytest

from quartier import db
from quartier.access import SYSTEM, VIEWER, Actor
from quartier.reports import pdf as report_pdf
from quartier.reports import scope as report_scope
from quartier.reports import summary

# no space at all, many hyphens: wider than the name columns of the ranking and the Sozialraum tables
LONG = "Altenhagen-Eckesey-Süd-Boelerheide-Vorhalle-Kuhlerkamp-Cunosiedlung"


def _text(path) -> str:  # noqa: D103
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_break_points_only_in_words_that_do_not_fit():
    fits = lambda w: len(w) <= 12  # noqa: E731
    assert report_pdf.break_points("Haspe-Zentrum", lambda w: True) == "Haspe-Zentrum"
    out = report_pdf.break_points("M02 Altenhagen/Eckesey-Süd x-y", fits)
    assert out == f"M02 Altenhagen/{report_pdf.ZWSP}Eckesey-{report_pdf.ZWSP}Süd x-y"
    assert report_pdf.break_points("a\nlang-lang-lang-lang", fits).split("\n")[0] == "a"


def test_long_hyphenated_name_wraps_after_hyphens(demo_copy, tmp_path):
    con = db.connect(demo_copy)
    try:
        bezirk = con.execute("SELECT bezirk_id FROM sozialraum WHERE id = 'M02'").fetchone()[0]
        con.execute("UPDATE sozialraum SET name = ? WHERE id = 'M02'", [LONG])
        out = tmp_path / "bezirk.pdf"
        report_pdf.build_pdf(con, report_scope.bezirk_scope(con, bezirk), out, actor=Actor("gast", VIEWER))
    finally:
        con.close()
    # -layout keeps the lines as drawn (plain pdftotext joins a line ending in "-" with the next one)
    layout = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    lines = layout.replace(report_pdf.ZWSP, "").splitlines()
    pieces = [tok for line in lines for tok in line.split()
              if len(tok) >= 4 and tok in LONG and tok != LONG and ("-" in tok or LONG.endswith(tok))]
    assert len(pieces) >= 4, "the name is wider than its columns and must wrap"
    for tok in pieces:
        start = LONG.index(tok)
        assert start == 0 or LONG[start - 1] == "-", f"line starts inside a word: {tok!r}"
        assert start + len(tok) == len(LONG) or tok.endswith("-"), f"line ends inside a word: {tok!r} in {[ln for ln in lines if tok in ln]}"
    assert LONG in " ".join(_text(out).replace(report_pdf.ZWSP, "").split()) or pieces


# One worker runs the whole module, so that its module fixtures (built reports, imported deliveries) are built once.
pytestmark = pytest.mark.xdist_group("test_pdf_wrap")


@pytest.fixture(scope="module")
def partial_city(partial_demo_db):
    """(database path, city summary for SYSTEM) of the demo with the partial delivery (5 of 23 Sozialräume
    for a new year; built once per source state, tests/conftest.py); the tests only read it."""
    target = partial_demo_db
    con = db.connect(target, read_only=True)
    try:
        sm = summary.summary(con, report_scope.city_scope(con), actor=SYSTEM)
    finally:
        con.close()
    return target, sm


def test_development_table_incomplete_year_is_a_dash(partial_city, tmp_path):
    from tests.coverage_files import PARTIAL_YEAR

    path, sm = partial_city
    con = db.connect(path, read_only=True)
    try:
        out = tmp_path / "stadt.pdf"
        report_pdf.build_pdf(con, report_scope.city_scope(con), out, summ=sm, actor=SYSTEM)
    finally:
        con.close()
    dev = sm.development
    inc = dev[dev["unvollstaendig"].astype(bool)]
    assert len(inc) and set(inc["jahr"]) == {PARTIAL_YEAR} and set(inc["wert_text"]) == {"–"}
    flat = " ".join(_text(out).split())
    assert f"„–“ bei Stadtbezirk oder Gesamtstadt in {PARTIAL_YEAR}: unvollständig" in flat


def test_report_ranking_skips_an_incomplete_year(partial_city):
    from tests.coverage_files import PARTIAL_YEAR

    sm = partial_city[1]
    assert set(sm.ranking["jahr"]) == {PARTIAL_YEAR - 1}
    assert f"{PARTIAL_YEAR} ist unvollständig geliefert und wird nicht gereiht" in sm.ranking_note
