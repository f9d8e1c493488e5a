"""Values re-allocated from an earlier Gebietsstand carry a visible mark with the method (Issue 19): Steckbrief
table, chart tables and tooltips, map tooltip and table, PDF; year lists and overview read today's areas."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from quartier.access import PUBLIC, SYSTEM
from quartier.areas import maps
from quartier.values import charts, overview, query, series
from tests.unit.test_versions import city, deliver  # noqa: F401 - fixture

METHOD = "umgerechnet (Überschneidung, nach Einwohnern gewichtet, Gebietsstand 1)"


@pytest.mark.parametrize("actor", [SYSTEM, PUBLIC])
def test_series_and_profile_carry_the_method(city, actor):  # noqa: F811 - the fixture imported above
    data = series.load_series(city, ["ew", "quote"], ["A1", "D"], actor=actor)
    v = data.values.set_index(["indikator_id", "sozialraum_id", "jahr"])
    assert v.loc[("ew", "A1", 2020), "umgerechnet"] == METHOD
    assert pd.isna(v.loc[("ew", "D", 2020), "umgerechnet"])  # unchanged area: as delivered, no mark
    prof, _ = series.profile(city, "BC", actor=actor)
    assert set(prof["umgerechnet"].dropna()) == {METHOD}


def test_steckbrief_table_marks_value_and_names_method(city):  # noqa: F811 - the fixture imported above
    from quartier.ui import profiles

    prof, _ = series.profile(city, "BC", actor=SYSTEM)
    t = profiles.profile_table(prof).set_index("Kennzahl")
    assert t.loc["Einwohner insgesamt", "Wert"].endswith(f" {charts.UMR_MARK}")
    assert t.loc["Einwohner insgesamt", "Umrechnung"] == METHOD
    prof_d, _ = series.profile(city, "D", actor=SYSTEM)
    assert "Umrechnung" not in profiles.profile_table(prof_d).columns  # nothing re-allocated: no empty column


def test_chart_table_and_tooltip(city):  # noqa: F811 - the fixture imported above
    from quartier.ui import profiles

    data = series.load_series(city, ["quote"], ["A1", "D"], actor=SYSTEM)
    frame = charts.line_frame(data.values, data.refs, "quote", "%")
    a1 = frame[(frame["reihe"].str.contains("A1")) & (frame["jahr"] == 2020)].iloc[0]
    assert a1["wert_text"].endswith(" *") and a1["umgerechnet"] == METHOD
    city_row = frame[(frame["art"] == "Stadt") & (frame["jahr"] == 2020)].iloc[0]
    assert not city_row["wert_text"].endswith("*")
    table = profiles.line_table(frame)
    assert "Umrechnung" in table.columns and METHOD in set(table["Umrechnung"])
    spec = json.dumps(charts.line_chart(frame, "Quote", "%").to_dict())
    assert '"title": "Umrechnung"' in spec


def test_map_tooltip_and_table(city):  # noqa: F811 - the fixture imported above
    from quartier.areas.classes import classify
    from quartier.values import indicators

    vals = indicators.current_values(city, ["ew"], None, actor=PUBLIC)
    areas = indicators.areas(city)
    frame = maps.map_frame(vals, areas, 2021, "Anzahl", "higher")
    cls = classify(frame["wert"], "Anzahl", "higher", k=2)
    props = maps.area_properties(frame, cls, "Einwohner", "Anzahl")
    assert METHOD in props["BC"]["hinweis"] and "umgerechnet" not in props["D"]["hinweis"]
    table = maps.map_table(frame, cls).set_index("sozialraum_id")
    assert table.loc["A2", "umgerechnet"] == METHOD and table.loc["D", "umgerechnet"] == ""


def test_year_lists_and_population_on_todays_areas(city):  # noqa: F811 - the fixture imported above
    assert query.years(city) == [2020, 2021]
    assert query.year_span(city, ["ew"]) == {"ew": (2020, 2021)}
    pop = overview.latest_population(city).set_index("sozialraum_id")
    assert pop.loc["BC", "einwohner"] == pytest.approx(440.0) and pop.loc["A1", "jahr"] == 2021


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext fehlt")
def test_pdf_marks_reallocated_values(city, tmp_path):  # noqa: F811 - the fixture imported above
    from quartier.reports import pdf as report_pdf
    from quartier.reports import scope as report_scope

    out = tmp_path / "stadt.pdf"
    report_pdf.build_pdf(city, report_scope.city_scope(city), out, actor=PUBLIC)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "„*“ = aus einem früheren Gebietsstand auf die heutigen Sozialräume umgerechnet" in flat
    assert "nach Einwohnern gewichtet, Gebietsstand 1" in flat
    assert re.search(r"\b440( \([^)]*\))? \*", flat)  # BC's re-allocated population, marked
