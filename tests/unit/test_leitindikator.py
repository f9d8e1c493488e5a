"""Headline and default indicators come from the catalogue (flag ``leitindikator``), never from ids in code."""

from __future__ import annotations

from quartier import db
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary
from quartier.values import indicators

CATALOGUE = (
    "id;name;einheit;richtung;min;max;leitindikator\n"
    "zz_bev;Wohnbevölkerung;Anzahl;;0;;\n"
    "zz_alg;Arbeitslosenanteil;%;höher;0;100;ja\n"
    "zz_kita;Kita-Versorgung;%;niedriger;0;100;ja\n"
    "zz_saldo;Wanderungssaldo;Anzahl;;-100000;;\n"
)


def test_flags_choose_headlines_and_default_indicator_and_round_trip(empty_con, tmp_path):
    path = tmp_path / "kat.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    indicators.load_catalogue(empty_con, path)
    assert indicators.headline_ids(empty_con) == ["zz_alg", "zz_kita"]
    assert indicators.default_indicator(empty_con) == "zz_alg"
    assert report_scope.rank_indicator(empty_con) == "zz_alg"
    assert report_summary.chart_ids(empty_con) == ["zz_alg", "zz_kita"]
    out = indicators.export_catalogue(empty_con, tmp_path / "export.csv")
    assert "leitindikator" in out.read_text(encoding="utf-8").splitlines()[0]
    again = db.connect(tmp_path / "zwei.duckdb")
    indicators.load_catalogue(again, out)
    assert indicators.headline_ids(again) == ["zz_alg", "zz_kita"]


def test_without_flags_the_first_indicators_in_catalogue_order(empty_con, tmp_path):
    path = tmp_path / "kat.csv"
    path.write_text(CATALOGUE.replace(";ja\n", ";\n"), encoding="utf-8")
    indicators.load_catalogue(empty_con, path)
    assert indicators.headline_ids(empty_con, n=3) == ["zz_bev", "zz_alg", "zz_kita"]
    assert indicators.default_indicator(empty_con) == "zz_alg"   # the first rate with a direction


def test_demo_catalogue_flags_the_former_headlines(demo_db):
    con = db.connect(demo_db, read_only=True)
    assert indicators.headline_ids(con) == ["sgb2_u15", "sgb2_u18", "ew_gesamt", "ew_u18", "seu_sprache", "hze_quote"] or \
        set(indicators.headline_ids(con)) == {"ew_gesamt", "ew_u18", "sgb2_u18", "sgb2_u15", "seu_sprache", "hze_quote"}
