"""Corridor analysis on hand-made geometry with known answers (squares in UTM 32N, a straight axis)."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import LineString, box

from quartier import db
from quartier.access import SYSTEM, VIEWER, Actor
from quartier.areas import corridor
from quartier.areas import geometry as geo
from quartier.areas.init import replace_geometry
from quartier.values import indicators

X0, Y0 = 390_000.0, 5_690_000.0  # near Hagen, metres in EPSG:25832

# 1 km squares north of an east-west axis along y = Y0 from X0 to X0 + 4 km.
SQUARES = {
    "A": box(X0, Y0, X0 + 1000, Y0 + 1000),            # touches the axis: 50 % within 500 m, centroid 500 m
    "B": box(X0 + 1000, Y0 + 250, X0 + 2000, Y0 + 1250),  # 25 % within 500 m, centroid 750 m
    "C": box(X0 + 2000, Y0 + 1000, X0 + 3000, Y0 + 2000),  # 0 % within 500 m, centroid 1.500 m
    "D": box(X0 + 3000, Y0 + 3000, X0 + 4000, Y0 + 4000),  # far away, centroid 3.500 m
}
AXIS = LineString([(X0 - 10, Y0), (X0 + 4010, Y0)])
# numerator, denominator -> A 40 %, B 10 %, C 5 %, D 20 %
VALUES = {"A": (40, 100), "B": (30, 300), "C": (10, 200), "D": (20, 100)}


def wgs(g):
    return geo.to_wgs84(g)


def test_membership_shares_and_distances():
    ids = list(SQUARES)
    m = corridor.membership([SQUARES[i] for i in ids], ids, AXIS, 500, 0.25).set_index("sozialraum_id")
    assert m.loc["A", "area_share"] == pytest.approx(0.5, abs=1e-9)
    assert m.loc["B", "area_share"] == pytest.approx(0.25, abs=1e-9)
    assert m.loc["C", "area_share"] == pytest.approx(0.0, abs=1e-9)
    assert list(m["distance_m"].round(6)) == [500.0, 750.0, 1500.0, 3500.0]
    assert list(m["in_corridor"]) == [True, True, False, False]
    # a stricter threshold drops B; a wider corridor takes C in
    assert list(corridor.membership([SQUARES[i] for i in ids], ids, AXIS, 500, 0.3)["in_corridor"]) == [True, False, False, False]
    wide = corridor.membership([SQUARES[i] for i in ids], ids, AXIS, 1500, 0.25).set_index("sozialraum_id")
    assert wide.loc["C", "area_share"] == pytest.approx(0.5) and wide.loc["B", "area_share"] == pytest.approx(1.0)


def test_wgs84_roundtrip_keeps_metric_answers():
    """Stored as WGS84 (like the database), measured again in UTM: same shares and distances."""
    a = geo.to_metric(wgs(SQUARES["A"]))
    ax = geo.to_metric(wgs(AXIS))
    assert geo.corridor_share(wgs(SQUARES["A"]), wgs(AXIS), 500) == pytest.approx(0.5, abs=1e-4)
    assert a.centroid.distance(ax) == pytest.approx(500, abs=0.05)


def test_invalid_parameters_are_explained():
    with pytest.raises(corridor.CorridorError, match="größer als 0"):
        corridor.membership([SQUARES["A"]], ["A"], AXIS, 0)
    with pytest.raises(corridor.CorridorError, match="zwischen 0 und 1"):
        corridor.membership([SQUARES["A"]], ["A"], AXIS, 500, 25)


def test_fit_line_known_answer():
    f = corridor.fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert f["r"] == pytest.approx(1.0) and f["slope"] == pytest.approx(2.0) and f["intercept"] == pytest.approx(1.0)
    assert corridor.fit_line([1, 2], [1, 2])["r"] is None  # too few points
    assert corridor.fit_line([1, 2, 3], [4, 4, 4])["r"] is None  # no spread


def _fill_square_city(con):
    areas = [geo.Area(i, f"Gebiet {i}", "Nord" if i in "ABC" else "Süd", wgs(g)) for i, g in SQUARES.items()]
    replace_geometry(con, areas, wgs(AXIS), "Testachse", city="Teststadt")
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO indikator (id, name, einheit, richtung) VALUES ('quote', 'Testquote', '%', 'higher')")
        cur.execute("INSERT INTO indikator (id, name, einheit) VALUES ('anzahl', 'Testanzahl', 'Anzahl')")
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (1, 't.xlsx', 'x', 'test')")
        for year, add in ((2023, 0), (2024, 10)):
            for sid, (num, den) in VALUES.items():
                n = num + (add if sid == "A" else 0)
                cur.execute("INSERT INTO messwert VALUES (1, 'quote', ?, ?, ?, ?, ?, false)", [sid, year, n / den * 100, n, den])
                cur.execute("INSERT INTO messwert VALUES (1, 'anzahl', ?, ?, ?, NULL, NULL, false)", [sid, year, den])
        # a value with a small numerator (2 < 3 cases): suppressed for viewers
        cur.execute("UPDATE messwert SET zaehler = 2, wert = 2 WHERE sozialraum_id = 'B' AND jahr = 2024 AND indikator_id = 'quote'")
        db.audit(cur, "test", "testdaten")
    return con


@pytest.fixture
def square_city(filled_con):
    return filled_con(_fill_square_city)


def test_weighted_inside_outside_by_denominator(square_city):
    res = corridor.analyse(square_city, "quote", 2023, 500, 0.25, actor=SYSTEM)
    assert res.axis == "Testachse"
    # inside A+B: (40+30)/(100+300) = 17,5 % (the mean of the rates would be 25 %);
    # outside C+D: (10+20)/(200+100) = 10 % (mean of rates 12,5 %)
    assert res.inside == {"value": pytest.approx(17.5), "numerator": 70, "denominator": 400, "count": 2}
    assert res.outside == {"value": pytest.approx(10.0), "numerator": 30, "denominator": 300, "count": 2}
    assert res.difference == pytest.approx(7.5)
    assert res.sentence.startswith("Im 500-m-Korridor um die Testachse liegt „Testquote“ 2023 bei 17,5 % gegenüber 10,0 %")
    assert "7,5 Prozentpunkte höher" in res.sentence and "mehr Bedarf" in res.sentence
    assert "2 von 4 Sozialräumen" in res.sentence
    # r and the line over (centroid distance, value) = (500, 40), (750, 10), (1500, 5), (3500, 20)
    assert res.fit["r"] == pytest.approx(-0.1930, abs=1e-4)
    assert res.fit["n"] == 4


def test_suppressed_value_is_left_out_for_viewers_and_noted(square_city):
    viewer = Actor("gast", VIEWER)
    res = corridor.analyse(square_city, "quote", 2024, 500, 0.25, actor=viewer)
    # B (2 cases) is suppressed for viewers; protection may hide more cells (secondary suppression).
    seen = indicators.current_values(square_city, ["quote"], [2024], actor=viewer).set_index("sozialraum_id")
    hidden = set(seen.index[seen["gesperrt"]])
    assert "B" in hidden
    raw = {"A": (50, 100), "B": (2, 300), "C": (10, 200), "D": (20, 100)}
    visible_in = [raw[i] for i in ("A", "B") if i not in hidden]
    if visible_in:
        assert res.inside["value"] == pytest.approx(sum(n for n, _ in visible_in) / sum(d for _, d in visible_in) * 100)
    else:
        assert res.inside["value"] is None
    assert res.inside["count"] == len(visible_in)
    assert res.suppressed_inside + res.suppressed_outside == len(hidden)
    assert f"{len(hidden)} gesperrte" in res.sentence
    out = res.to_json()
    assert next(s for s in out["sozialraeume"] if s["id"] == "B")["value"] is None
    # the administrator (command line) sees the raw value and counts it
    raw = corridor.analyse(square_city, "quote", 2024, 500, 0.25, actor=SYSTEM)
    assert raw.inside["value"] == pytest.approx(13.0)


def test_count_indicator_is_summed(square_city):
    res = corridor.analyse(square_city, "anzahl", 2023, 500, 0.25, actor=SYSTEM)
    assert res.inside["value"] == 400 and res.outside["value"] == 300
    assert "zusammen 400 gegenüber 300" in res.sentence


def test_no_area_in_corridor_is_explained(square_city):
    res = corridor.analyse(square_city, "quote", 2023, 500, 0.9, actor=SYSTEM)
    assert res.inside["value"] is None and res.difference is None
    assert "kein Sozialraum" in res.sentence


def test_over_years(square_city):
    years = corridor.over_years(square_city, "quote", 500, 0.25, actor=SYSTEM)
    assert list(years["jahr"]) == [2023, 2024]
    assert years["innen"].tolist() == pytest.approx([17.5, 13.0])


def test_unknown_indicator_year_axis(square_city):
    with pytest.raises(corridor.CorridorError, match="nicht bekannt"):
        corridor.analyse(square_city, "gibtsnicht", 2023, 500, actor=SYSTEM)
    with pytest.raises(corridor.CorridorError, match="2030 keine Werte.*2023, 2024"):
        corridor.analyse(square_city, "quote", 2030, 500, actor=SYSTEM)
    with pytest.raises(corridor.CorridorError, match="Achse 'B 8'"):
        corridor.analyse(square_city, "quote", 2023, 500, axis="B 8", actor=SYSTEM)


def test_result_tables_for_xlsx(square_city, tmp_path):
    from python_calamine import CalamineWorkbook

    from quartier.tables import to_xlsx_bytes

    res = corridor.analyse(square_city, "quote", 2023, 500, actor=SYSTEM)
    path = tmp_path / "korridor.xlsx"
    to_xlsx_bytes(corridor.result_tables(res, corridor.over_years(square_city, "quote", 500, actor=SYSTEM)), path)
    wb = CalamineWorkbook.from_path(str(path))
    assert wb.sheet_names == ["Ergebnis", "Sozialräume", "Jahre"]
    rows = wb.get_sheet_by_name("Ergebnis").to_python()
    assert ["Wert im Korridor", "17,5 %"] in [list(r) for r in rows]


def test_cli_corridor_json(cli, demo_db):
    p = cli("corridor", "--db", str(demo_db), "--indicator", "sgb2_u15", "--year", "2025", "--width", "500", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert list(out) == ["axis", "width_m", "share", "indicator", "year", "inside", "outside", "difference",
                         "sentence", "sozialraeume", "coverage", "test", "moran"]  # issue 18 added test and moran
    assert out["axis"] == "B 7" and out["width_m"] == 500 and out["share"] == 0.25
    assert set(out["inside"]) == {"value", "numerator", "denominator", "count"}
    assert out["inside"]["value"] == pytest.approx(out["inside"]["numerator"] / out["inside"]["denominator"] * 100)
    assert out["difference"] == pytest.approx(out["inside"]["value"] - out["outside"]["value"])
    assert out["inside"]["value"] > out["outside"]["value"]  # the demo's B 7 hypothesis
    assert len(out["sozialraeume"]) == 23
    s = out["sozialraeume"][0]
    assert set(s) == {"id", "name", "area_share", "distance_m", "value", "in_corridor"}
    assert all(0 <= x["area_share"] <= 1 for x in out["sozialraeume"])
    assert sum(x["in_corridor"] for x in out["sozialraeume"]) == out["inside"]["count"]
    assert "B 7" in out["sentence"] and "übrigen Stadtgebiet" in out["sentence"]


def test_cli_corridor_errors_exit_2(cli, demo_db):
    p = cli("corridor", "--db", str(demo_db), "--indicator", "nix", "--year", "2025", "--width", "500")
    assert p.returncode == 2 and "Indikator 'nix' ist nicht bekannt" in p.stderr and "Traceback" not in p.stderr
    p = cli("corridor", "--db", str(demo_db), "--indicator", "sgb2_u15", "--year", "1990", "--width", "500")
    assert p.returncode == 2 and "1990 keine Werte" in p.stderr


def test_cli_export_geometry(cli, demo_db, tmp_path):
    out = tmp_path / "geo.geojson"
    p = cli("export", "geometry", "--db", str(demo_db), "--out", str(out))
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    areas = [f for f in doc["features"] if f["properties"]["art"] == "sozialraum"]
    axes = [f for f in doc["features"] if f["properties"]["art"] == "achse"]
    assert len(areas) == 23 and axes[0]["properties"]["name"] == "B 7"
    wh = next(f for f in areas if f["properties"]["id"] == "M04")
    assert wh["properties"]["name"] == "Wehringhausen" and wh["properties"]["stadtbezirk"] == "Hagen-Mitte"
    lon, lat = wh["geometry"]["coordinates"][0][0][:2] if wh["geometry"]["type"] == "Polygon" else wh["geometry"]["coordinates"][0][0][0][:2]
    assert 7.3 < lon < 7.7 and 51.2 < lat < 51.5  # WGS84


def test_cli_corridor_text_and_bad_share(cli, demo_db, tmp_path):
    p = cli("corridor", "--db", str(demo_db), "--indicator", "sgb2_u15", "--year", "2025", "--width", "1000")
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith("Im 1.000-m-Korridor um die B 7")
    assert "Wehringhausen" in p.stdout and " m " in p.stdout
    p = cli("corridor", "--db", str(demo_db), "--indicator", "sgb2_u15", "--year", "2025", "--width", "500",
            "--share", "25")
    assert p.returncode == 2 and "zwischen 0 und 1" in p.stderr
    p = cli("export", "geometry", "--db", str(demo_db), "--out", str(tmp_path / "x.shp"))
    assert p.returncode == 2 and ".geojson" in p.stderr
