"""Coverage of incomplete deliveries: no city/district value unless every expected Sozialraum delivered."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest

from quartier import db
from quartier.access import PUBLIC, SYSTEM
from tests.coverage_files import INCOMPLETE_TEXT, PARTIAL_INDICATOR, PARTIAL_YEAR

# One worker runs the whole module, so that its module fixtures (built reports, imported deliveries) are built once.
pytestmark = pytest.mark.xdist_group("test_coverage")


@pytest.fixture(scope="module")
def partial(partial_demo_db, tmp_path_factory):
    """The demo with the partial delivery imported (built once per source state, tests/conftest.py), copied once
    for this module (test_coverage_counts_expected_areas changes a value at its end; the CLI commands write their
    files elsewhere)."""
    target = tmp_path_factory.mktemp("teillieferung") / "demo.duckdb"
    shutil.copy(partial_demo_db, target)
    return target


def test_coverage_counts_expected_areas(partial):
    from quartier.values import coverage

    con = db.connect(partial)
    try:
        cov = coverage.coverage(con, [PARTIAL_INDICATOR], [PARTIAL_YEAR - 1, PARTIAL_YEAR])
        city = cov[cov["stadtbezirk_id"].isna()].set_index("jahr")
        assert (city.loc[PARTIAL_YEAR, "gebiete_geliefert"], city.loc[PARTIAL_YEAR, "gebiete_gesamt"]) == (5, 23)
        assert (city.loc[PARTIAL_YEAR - 1, "gebiete_geliefert"], city.loc[PARTIAL_YEAR - 1, "gebiete_gesamt"]) == (23, 23)
        dist = cov[(cov["jahr"] == PARTIAL_YEAR) & cov["stadtbezirk_id"].notna()].set_index("stadtbezirk_id")
        assert dist["gebiete_gesamt"].sum() == 23 and dist["gebiete_geliefert"].sum() == 5
        # a suppressed value counts as delivered
        con.execute("UPDATE messwert SET wert = NULL, zaehler = NULL, gesperrt = TRUE WHERE indikator_id = ? AND jahr = ?"
                    " AND sozialraum_id = 'M04'", [PARTIAL_INDICATOR, PARTIAL_YEAR])
        again = coverage.city(con, PARTIAL_INDICATOR, PARTIAL_YEAR)
        assert again == (5, 23)
    finally:
        con.close()


def test_new_indicator_expects_every_area(demo_copy):
    from quartier.values import coverage

    con = db.connect(demo_copy)
    try:
        first = int(db.query_df(con, "SELECT min(jahr) AS j FROM messwert_aktuell")["j"].iloc[0])
        assert coverage.city(con, PARTIAL_INDICATOR, first) == (23, 23)  # no earlier year: all areas expected
    finally:
        con.close()


@pytest.mark.parametrize("actor", [SYSTEM, PUBLIC], ids=["raw", "public"])
def test_totals_empty_when_incomplete(partial, actor):
    from quartier.values import protection, series

    con = db.connect(partial)
    try:
        t = protection.protected_table(con, [PARTIAL_INDICATOR], [PARTIAL_YEAR - 1, PARTIAL_YEAR], actor=actor)
        city = t[t["ebene"] == "Stadt"].set_index("jahr")
        assert city.loc[PARTIAL_YEAR, ["wert", "zaehler", "nenner"]].isna().all()
        assert city.loc[PARTIAL_YEAR, "sperrgrund"] == INCOMPLETE_TEXT
        assert city.loc[PARTIAL_YEAR - 1, "wert"] > 0
        mitte = t[(t["ebene"] == "Stadtbezirk") & (t["jahr"] == PARTIAL_YEAR) & (t["stadtbezirk_id"] == "hagen-mitte")]
        assert mitte["wert"].isna().all() and mitte["sperrgrund"].iloc[0].startswith("unvollständig: 1 von 7")
        refs = series.references(con, [PARTIAL_INDICATOR], None, actor=actor)
        r = refs[(refs["ebene"] == "Stadt") & (refs["jahr"] == PARTIAL_YEAR)].iloc[0]
        assert r["status"] == series.STATUS_INCOMPLETE and r["wert"] != r["wert"]
    finally:
        con.close()


@pytest.mark.parametrize("actor", [SYSTEM, PUBLIC], ids=["raw", "public"])
def test_headline_uses_latest_complete_year(partial, actor):
    from quartier.values import overview

    con = db.connect(partial)
    try:
        h = overview.headline(con, [PARTIAL_INDICATOR], actor=actor).set_index("indikator_id")
        assert h.loc[PARTIAL_INDICATOR, "jahr"] == PARTIAL_YEAR - 1
        assert INCOMPLETE_TEXT in h.loc[PARTIAL_INDICATOR, "unvollstaendig"]
    finally:
        con.close()


def test_cli_export_public_coverage_columns(partial, cli, tmp_path):
    out = tmp_path / "werte.csv"
    p = cli("export", "values", "--public", "--out", str(out), "--db", str(partial))
    assert p.returncode == 0, p.stderr
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert {"gebiete_geliefert", "gebiete_gesamt"} <= set(rows[0])
    totals = [r for r in rows if r["ebene"] in ("Stadt", "Stadtbezirk")]
    assert totals and all(r["gebiete_geliefert"] != "" and r["gebiete_gesamt"] != "" for r in totals)
    assert all(r["gebiete_geliefert"] == "" for r in rows if r["ebene"] == "Sozialraum")
    city = {int(r["jahr"]): r for r in totals if r["ebene"] == "Stadt" and r["indikator_id"] == PARTIAL_INDICATOR}
    assert (city[PARTIAL_YEAR]["gebiete_geliefert"], city[PARTIAL_YEAR]["gebiete_gesamt"]) == ("5", "23")
    assert city[PARTIAL_YEAR]["wert"] == city[PARTIAL_YEAR]["zaehler"] == city[PARTIAL_YEAR]["nenner"] == ""
    assert city[PARTIAL_YEAR - 1]["wert"] != "" and city[PARTIAL_YEAR - 1]["gebiete_gesamt"] == "23"
    for r in totals:  # the contract: empty value exactly when fewer areas delivered than expected
        incomplete = int(r["gebiete_geliefert"]) < int(r["gebiete_gesamt"])
        if incomplete:
            assert r["wert"] == r["zaehler"] == r["nenner"] == ""


def test_cli_corridor_coverage(partial, cli):
    args = ["corridor", "--db", str(partial), "--indicator", PARTIAL_INDICATOR, "--year", str(PARTIAL_YEAR),
            "--width", "500", "--json"]
    p = cli(*args)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["coverage"] == {"delivered": 5, "total": 23}
    assert out["inside"]["value"] is None and out["outside"]["value"] is None and out["difference"] is None
    assert INCOMPLETE_TEXT in out["sentence"] and "nicht berechnet" in out["sentence"]
    p = cli(*args, "--allow-incomplete")
    out = json.loads(p.stdout)
    assert out["coverage"] == {"delivered": 5, "total": 23}
    assert out["inside"]["value"] is not None and out["outside"]["value"] is not None
    assert "trotz unvollständiger Lieferung" in out["sentence"]
    full = json.loads(cli("corridor", "--db", str(partial), "--indicator", PARTIAL_INDICATOR, "--year",
                          str(PARTIAL_YEAR - 1), "--width", "500", "--json").stdout)
    assert full["coverage"] == {"delivered": 23, "total": 23} and full["inside"]["value"] is not None


def test_pdf_says_incomplete(partial, cli, tmp_path):
    pdf = tmp_path / "m04.pdf"
    p = cli("report", "--sozialraum", "M04", "--out", str(pdf), "--db", str(partial))
    assert p.returncode == 0, p.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    # M04 delivered for the new year: its city and district references of that year are incomplete
    assert f"Stadt, Hilfen zur Erziehung je 1.000 unter 21-Jährige {PARTIAL_YEAR}: {INCOMPLETE_TEXT}" in flat
    assert "(5/23)" in flat


def test_time_series_marks_incomplete_year(partial):
    from quartier.values import charts, series

    con = db.connect(partial)
    try:
        d = series.load_series(con, [PARTIAL_INDICATOR], ["M04"], actor=SYSTEM)
        f = charts.line_frame(d.values, d.refs, PARTIAL_INDICATOR, "je 1.000")
        city = f[(f["art"] == "Stadt") & (f["jahr"] == PARTIAL_YEAR)].iloc[0]
        assert city["marke"] == "○" and "5/23" in city["status_text"] and city["wert"] != city["wert"]
        spec = charts.line_chart(f, "HzE", "je 1.000").to_dict()
        assert "○" in json.dumps(spec, ensure_ascii=False)
    finally:
        con.close()
