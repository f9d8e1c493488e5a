"""Gebietsstände (Issue 19): a hand-made city where A splits into A1/A2 and B, C merge into BC; D stays."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely

from quartier import db, units
from quartier.access import PUBLIC, SYSTEM
from quartier.areas import geometry as geo
from quartier.areas import versions
from quartier.areas.init import replace_geometry
from quartier.values import query

X0, Y0, S = 360000.0, 5690000.0, 1000.0  # UTM 32N, 1 km squares


def sq(x: float, w: float = 1.0):
    return geo.to_wgs84(shapely.box(X0 + x * S, Y0, X0 + (x + w) * S, Y0 + S))


V1 = [geo.Area("A", "Alpha", "Nord", sq(0)), geo.Area("B", "Beta", "Nord", sq(1)),
      geo.Area("C", "Gamma", "Süd", sq(2)), geo.Area("D", "Delta", "Süd", sq(3))]
V2 = [geo.Area("A1", "Alpha West", "Nord", sq(0, 0.5)), geo.Area("A2", "Alpha Ost", "Nord", sq(0.5, 0.5)),
      geo.Area("BC", "Beta-Gamma", "Nord", sq(1, 2)), geo.Area("D", "Delta", "Süd", sq(3))]

INDICATORS = [("ew", "Einwohner insgesamt", "Anzahl"), ("quote", "Quote", "%"), ("idx", "Index ohne Zähler", "Punkte")]
EW = {"A": 1000.0, "B": 300.0, "C": 100.0, "D": 500.0}
QUOTE = {"A": (50.0, 200.0), "B": (30.0, 60.0), "C": (5.0, 40.0), "D": (10.0, 100.0)}
IDX = {"A": 3.0, "B": 2.0, "C": 1.0, "D": 7.0}


def deliver(con, rows: list[tuple], name: str) -> int:
    with db.transaction(con) as cur:
        lid = cur.execute("INSERT INTO lieferung (dateiname, sha256, lieferant, importiert_von) VALUES (?, ?, 'Test', 'test')"
                          " RETURNING id", [name, name]).fetchone()[0]
        for r in rows:
            cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", [lid, *r])
    return lid


def old_rows(year: int, factor: float = 1.0) -> list[tuple]:
    out = []
    for a in "ABCD":
        out.append(("ew", a, year, EW[a] * factor, None, None))
        z, n = QUOTE[a]
        out.append(("quote", a, year, z / n * 100, z, n))
        out.append(("idx", a, year, IDX[a], None, None))
    return out


def _fill_city(con):
    res = replace_geometry(con, V1, city="Teststadt")
    assert res["gebietsstand"] == 1
    with db.transaction(con) as cur:
        for iid, name, unit in INDICATORS:
            cur.execute("INSERT INTO indikator (id, name, einheit, richtung) VALUES (?, ?, ?, 'higher')", [iid, name, unit])
    deliver(con, old_rows(2020), "2020.xlsx")
    deliver(con, old_rows(2021, 1.1), "2021.xlsx")
    out = versions.create_version(con, V2, dt.date(2022, 1, 1), user="test")
    assert out["id"] == 2 and out["schluessel"] == {"1": "einwohner"}
    return con


@pytest.fixture
def city(filled_con):
    return filled_con(_fill_city)


def _vals(con) -> pd.DataFrame:
    return query.current_raw(con, None, None, actor=SYSTEM).set_index(["indikator_id", "sozialraum_id", "jahr"])


def test_counts_reallocated_and_sums_preserved(city):
    v = _vals(city)
    for year, f in ((2020, 1.0), (2021, 1.1)):
        ew = v.xs(("ew", year), level=("indikator_id", "jahr"))["wert"]
        assert ew.sum() == pytest.approx(sum(EW.values()) * f, rel=1e-12)
        assert ew["A1"] == pytest.approx(500 * f, rel=1e-6) and ew["A2"] == pytest.approx(500 * f, rel=1e-6)
        assert ew["BC"] == pytest.approx(400 * f, rel=1e-9)
        assert ew["D"] == pytest.approx(500 * f, rel=1e-9)
        q = v.xs(("quote", year), level=("indikator_id", "jahr"))
        assert q["zaehler"].sum() == pytest.approx(95.0, rel=1e-12)
        assert q["nenner"].sum() == pytest.approx(400.0, rel=1e-12)
    assert v.loc[("ew", "A1", 2020), "umgerechnet"].startswith("umgerechnet (")
    assert pd.isna(v.loc[("ew", "D", 2020), "umgerechnet"])  # unchanged area: as delivered


def test_rates_recomputed_from_counts_not_averaged(city):
    v = _vals(city)
    bc = v.loc[("quote", "BC", 2020)]
    assert bc["wert"] == pytest.approx((30 + 5) / (60 + 40) * 100, rel=1e-9)  # 35 %, not the mean 31.25 %
    assert v.loc[("quote", "A1", 2020), "wert"] == pytest.approx(25.0, rel=1e-6)


def test_rate_without_counts_only_one_to_one(city):
    v = _vals(city)
    for area in ("A1", "A2", "BC"):
        row = v.loc[("idx", area, 2020)]
        assert pd.isna(row["wert"]) and "1:1" in row["umrechnung_grund"]
    assert v.loc[("idx", "D", 2020), "wert"] == 7.0


def test_official_key_wins(city, tmp_path):
    key = pd.DataFrame({"alt_id": ["A", "A", "B", "C", "D"], "neu_id": ["A1", "A2", "BC", "BC", "D"],
                        "anteil": [0.3, 0.7, 1, 1, 1]})
    res = versions.load_key(city, key, 1, 2, user="test")
    assert res["basis"] == "amtlich"
    v = _vals(city)
    assert v.loc[("ew", "A1", 2020), "wert"] == pytest.approx(300.0)
    assert v.loc[("ew", "A2", 2021), "wert"] == pytest.approx(770.0)
    assert "amtlicher Schlüssel" in v.loc[("ew", "A1", 2020), "umgerechnet"]
    kt = versions.key_table(city, 1, 2)
    assert list(kt.columns) == ["alt_id", "neu_id", "anteil", "basis"] and set(kt["basis"]) == {"amtlich"}


def test_official_key_rejected_when_shares_do_not_add_up(city):
    from quartier.areas.crosswalk import CrosswalkError

    key = pd.DataFrame({"alt_id": ["A", "A", "B", "C", "D"], "neu_id": ["A1", "A2", "BC", "BC", "X"],
                        "anteil": [0.3, 0.3, 1, 1, 1]})
    with pytest.raises(CrosswalkError, match="zusammen 1|X"):
        versions.load_key(city, key, 1, 2, user="test")


def test_new_delivery_in_current_version_wins_and_old_values_kept(city):
    deliver(city, [("ew", a, 2021, 1.0, None, None) for a in ("A1", "A2", "BC", "D")], "neu-2021.xlsx")
    v = _vals(city)
    assert v.loc[("ew", "A1", 2021), "wert"] == 1.0 and pd.isna(v.loc[("ew", "A1", 2021), "umgerechnet"])
    assert v.loc[("ew", "A1", 2020), "wert"] == pytest.approx(500.0, rel=1e-6)
    n_old = city.execute("SELECT count(*) FROM messwert WHERE sozialraum_id IN ('A', 'B', 'C')").fetchone()[0]
    assert n_old == 18  # never rewritten


def test_protected_view_protects_reallocated_values(city):
    from quartier.values import indicators

    with db.transaction(city) as cur:
        db.set_setting(cur, "min_fallzahl", "100")
    pub = indicators.current_values(city, ["quote"], [2020], actor=PUBLIC).set_index("sozialraum_id")
    # numerators 25/25 (A1/A2) and 35 (BC) are under 100 cases: hidden for viewers
    assert pub.loc["BC", "gesperrt"] and pd.isna(pub.loc["BC", "wert"])


def test_sql_unit_rules_match_units_module(empty_con):
    for u in ["Anzahl", "Personen", "Fälle", "faelle", "%", "je 1.000", "je 1000 EW", "‰", "Punkte", "Euro", ""]:
        row = empty_con.execute(
            "SELECT lower(trim(?)) IN ('anzahl', 'personen', 'fälle', 'faelle'),"
            " CASE WHEN lower(trim(?)) = '%' THEN 100.0 WHEN lower(trim(?)) LIKE '%1.000%' OR lower(trim(?)) LIKE '%1000%'"
            " OR lower(trim(?)) = '‰' THEN 1000.0 ELSE 1.0 END", [u] * 5).fetchone()
        assert row[0] == units.is_count(u) and row[1] == units.rate_factor(u), u


def _geojson(path, areas) -> None:
    import json

    feats = [{"type": "Feature", "properties": {"sid": a.id, "nm": a.name, "bz": a.bezirk},
              "geometry": shapely.geometry.mapping(a.geom)} for a in areas]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")


def test_cli_versions_new_key_export(tmp_path, capsys):
    import json

    from quartier.cli import main

    dbp = tmp_path / "c.duckdb"
    _geojson(tmp_path / "v1.geojson", V1)
    _geojson(tmp_path / "v2.geojson", V2)
    assert main(["init", "--db", str(dbp), "--geometry", str(tmp_path / "v1.geojson"), "--id-field", "sid",
                 "--name-field", "nm", "--bezirk-field", "bz"]) == 0
    con = db.connect(dbp)
    with db.transaction(con) as cur:
        for iid, name, unit in INDICATORS:
            cur.execute("INSERT INTO indikator (id, name, einheit) VALUES (?, ?, ?)", [iid, name, unit])
    deliver(con, old_rows(2020), "2020.xlsx")
    con.close()
    assert main(["gebiete", "neu", "--db", str(dbp), "--geometry", str(tmp_path / "v2.geojson"), "--id-field", "sid",
                 "--name-field", "nm", "--gueltig-ab", "2022-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == 2
    assert main(["gebiete", "versionen", "--db", str(dbp), "--json"]) == 0
    vs = json.loads(capsys.readouterr().out)
    assert [v["id"] for v in vs] == [1, 2] and vs[1]["aktuell"] and vs[0]["lieferungen"] == 1
    out = tmp_path / "key.csv"
    assert main(["gebiete", "schluessel", "--db", str(dbp), "--von", "1", "--nach", "2", "--out", str(out)]) == 0
    key = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert list(key.columns) == ["alt_id", "neu_id", "anteil", "basis"]
    assert key.groupby("alt_id")["anteil"].sum().round(9).eq(1).all()
    off = tmp_path / "amtlich.csv"
    pd.DataFrame({"alt_id": ["A", "A", "B", "C", "D"], "neu_id": ["A1", "A2", "BC", "BC", "D"],
                  "anteil": [0.3, 0.7, 1, 1, 1]}).to_csv(off, sep=";", index=False)
    assert main(["gebiete", "schluessel", "laden", str(off), "--db", str(dbp), "--von", "1", "--nach", "2"]) == 0
    bad = tmp_path / "falsch.csv"
    pd.DataFrame({"alt_id": ["A"], "neu_id": ["A1"], "anteil": [0.5]}).to_csv(bad, sep=";", index=False)
    assert main(["gebiete", "schluessel", "laden", str(bad), "--db", str(dbp), "--von", "1", "--nach", "2"]) == 1
    ex = tmp_path / "werte.csv"
    assert main(["export", "values", "--db", str(dbp), "--out", str(ex)]) == 0
    vals = pd.read_csv(ex, sep=";", encoding="utf-8-sig", decimal=",")
    assert {"indikator_id", "sozialraum_id", "jahr", "wert", "lieferung", "umgerechnet"} <= set(vals.columns)
    assert set(vals["sozialraum_id"]) == {"A1", "A2", "BC", "D"}
    assert vals.set_index(["indikator_id", "sozialraum_id"]).loc[("ew", "A1"), "umgerechnet"] == 1
    assert main(["export", "values", "--db", str(dbp), "--out", str(ex), "--gebietsstand", "original"]) == 0
    orig = pd.read_csv(ex, sep=";", encoding="utf-8-sig")
    assert set(orig["sozialraum_id"]) == {"A", "B", "C", "D"} and set(orig["gebietsstand"]) == {1}
    assert main(["export", "values", "--db", str(dbp), "--out", str(ex), "--public"]) == 0
    pub = pd.read_csv(ex, sep=";", encoding="utf-8-sig")
    assert "umgerechnet" in pub.columns and pub["umgerechnet"].max() == 1
