"""The "umgerechnet" mark (Issue 19) also in the comparison bars, the small multiples, the development table of
reports (PDF "Entwicklung als Tabelle") and the ranking of Mein Bezirk."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from quartier.access import PUBLIC, SYSTEM
from quartier.values import charts, series
from tests.unit.test_versions import city, deliver  # noqa: F401 - fixture
from tests.unit.test_versions_marks import METHOD


def test_comparison_bars_mark_and_tooltip(city):  # noqa: F811 - the fixture imported above
    data = series.load_series(city, ["ew"], ["A1", "D"], actor=PUBLIC)
    frame = charts.bar_frame(series.comparison(data, 2020), "ew", "Anzahl").set_index("sozialraum")
    a1 = frame.loc[[s for s in frame.index if "(A1)" in s][0]]
    d = frame.loc[[s for s in frame.index if "(D)" in s][0]]
    assert a1["wert_text"].endswith(f" {charts.UMR_MARK}") and a1["umgerechnet"] == METHOD
    assert not d["wert_text"].endswith(charts.UMR_MARK) and d["umgerechnet"] == ""
    spec = json.dumps(charts.bar_chart(frame.reset_index(), "Einwohner", "Anzahl", "higher").to_dict())
    assert '"title": "Umrechnung"' in spec


def test_small_multiples_tooltip_names_method(city):  # noqa: F811 - the fixture imported above
    _, pdata = series.profile(city, "A1", actor=PUBLIC)
    frame = charts.multiples_frame(pdata.values, pdata.refs, pdata.meta)
    assert METHOD in set(frame["umgerechnet"])
    spec = json.dumps(charts.small_multiples(frame).to_dict())
    assert '"title": "Umrechnung"' in spec and '"field": "umgerechnet"' in spec


def test_development_values_marked(city):  # noqa: F811 - the fixture imported above
    from quartier.reports import scope as report_scope
    from quartier.reports import summary as report_summary

    dev = report_summary.development(city, report_scope.sozialraum_scope(city, "A1"), ["ew"], actor=PUBLIC)
    own = dev[dev["art"] == "Sozialraum"].set_index("jahr")
    assert own.loc[2020, "wert_text"].endswith(f" {charts.UMR_MARK}") and own.loc[2020, "umgerechnet"] == METHOD
    city_rows = dev[dev["art"] == "Gesamtstadt"]
    assert not city_rows["wert_text"].str.endswith(charts.UMR_MARK).any()


def test_ranking_marked_and_mein_bezirk_table(city):  # noqa: F811 - the fixture imported above
    from quartier.reports import scope as report_scope
    from quartier.reports import summary as report_summary
    from quartier.ui import mein_bezirk as mb

    bezirk = city.execute("SELECT bezirk_id FROM sozialraum WHERE id = 'A1'").fetchone()[0]
    rank, _ = report_summary.need_ranking(city, report_scope.bezirk_scope(city, bezirk), actor=SYSTEM)
    if not len(rank):
        pytest.skip("keine Rangfolge in der Teststadt")
    r = rank.set_index("sozialraum_id")
    assert r.loc["A1", "wert_text"].endswith(f" {charts.UMR_MARK}") and r.loc["A1", "umgerechnet"] == METHOD
    t = mb.ranking_table(rank)
    assert "Umrechnung" in t.columns and METHOD in set(t["Umrechnung"])


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext fehlt")
def test_pdf_development_table_marked(city, tmp_path):  # noqa: F811 - the fixture imported above
    from quartier.reports import pdf as report_pdf
    from quartier.reports import scope as report_scope

    out = tmp_path / "a1.pdf"
    report_pdf.build_pdf(city, report_scope.sozialraum_scope(city, "A1"), out, actor=PUBLIC)
    flat = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    dev = flat[flat.index("Entwicklung als Tabelle"):flat.index("Kennzahlen der Sozialräume")]
    assert " * " in dev  # a re-allocated value of A1 in the development table
    assert "Werte vor 2022 auf heutige Sozialräume umgerechnet. „*“ = aus einem früheren Gebietsstand" in dev
    assert "nach Einwohnern gewichtet, Gebietsstand 1" in dev
