"""Stored re-allocation (Issue 19, migration 018): the same rows as the view of migration 011, kept up to date on
import, withdraw, new Gebietsstand, key table and on read; ``import --gebietsstand`` (CLI, in-process)."""

from __future__ import annotations

import json
import re
from importlib import resources

import openpyxl
import pandas as pd
import pytest

from quartier import db
from quartier.access import SYSTEM
from quartier.areas import versions
from quartier.ingest import store
from quartier.values import query, realloc
from tests.unit.test_versions import V1, V2, _geojson, city, deliver, old_rows  # noqa: F401 - fixture

COLS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id",
        "umgerechnet", "umrechnung_grund", "gebietsstand_alt"]


def _view_011(con) -> None:
    """The computing view of migration 011 under another name (the reference the stored rows must equal)."""
    sql = resources.files("quartier.schema").joinpath("011_gebietsstand.sql").read_text(encoding="utf-8")
    view = sql[sql.index("CREATE VIEW messwert_heute AS"):]
    con.execute(view.replace("CREATE VIEW messwert_heute AS", "CREATE OR REPLACE TEMP VIEW heute_011 AS"))


def _rows(con, relation: str) -> pd.DataFrame:
    df = con.execute(f"SELECT {', '.join(COLS)} FROM {relation}").df()  # noqa: S608 - test relation names
    return df.sort_values(COLS[:3]).reset_index(drop=True)


def _assert_same_as_011(con) -> None:
    query.current_source(con)  # brings the stored rows up to date
    _view_011(con)
    got, want = _rows(con, "messwert_heute"), _rows(con, "heute_011")
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def test_stored_rows_equal_view_of_011(city):  # noqa: F811 - the fixture imported above
    # harder cases: a suppressed old value, an old area missing in a year, two old deliveries of one year (newest wins)
    deliver(city, [r for r in old_rows(2019) if r[1] != "C"], "2019-ohne-C.xlsx")
    deliver(city, [("ew", "B", 2018, 1.0, None, None), ("quote", "A", 2018, None, None, None)], "2018.xlsx")
    deliver(city, [("ew", a, 2018, 7.0, None, None) for a in "ABCD"], "2018-neu.xlsx")
    with db.transaction(city) as cur:
        cur.execute("UPDATE messwert SET gesperrt = TRUE, wert = NULL WHERE sozialraum_id = 'B' AND jahr = 2019")
        for lid in (3, 4, 5):
            cur.execute("INSERT INTO lieferung_gebietsstand VALUES (?, 1)", [lid])
    _assert_same_as_011(city)
    heute = query.current_raw(city, ["ew"], [2018], actor=SYSTEM).set_index("sozialraum_id")
    assert heute["wert"].sum() == pytest.approx(28.0)  # the newer 2018 delivery, re-allocated, sum preserved
    # a delivery in today's Gebietsstand for 2021: replaces the re-allocated 2021 values (as in 011)
    deliver(city, [("ew", a, 2021, 1.0, None, None) for a in ("A1", "A2", "BC", "D")], "neu-2021.xlsx")
    _assert_same_as_011(city)


def test_refreshed_when_written_another_way_and_after_key_and_withdraw(city):  # noqa: F811 - the fixture imported above
    assert realloc.fresh(city.cursor())
    n_before = city.execute("SELECT count(*) FROM messwert_umgerechnet").fetchone()[0]
    assert n_before == 2 * 3 * 4  # 2 years x 3 indicators x 4 new areas
    lid = deliver(city, old_rows(2017), "2017.xlsx")  # plain SQL: no refresh, the stamp notices
    with db.transaction(city) as cur:
        cur.execute("INSERT INTO lieferung_gebietsstand VALUES (?, 1)", [lid])
    assert not realloc.fresh(city.cursor())
    v = query.current_raw(city, ["ew"], [2017], actor=SYSTEM)
    assert v["wert"].sum() == pytest.approx(1900.0) and realloc.fresh(city.cursor())
    key = pd.DataFrame({"alt_id": ["A", "A", "B", "C", "D"], "neu_id": ["A1", "A2", "BC", "BC", "D"],
                        "anteil": [0.3, 0.7, 1, 1, 1]})
    versions.load_key(city, key, 1, 2, user="test")
    stored = city.execute("SELECT wert FROM messwert_umgerechnet WHERE indikator_id = 'ew' AND jahr = 2017"
                          " AND sozialraum_id = 'A1'").fetchone()[0]
    assert stored == pytest.approx(300.0)  # recomputed inside load_key, not first on read
    store.withdraw(city, lid, SYSTEM)
    assert city.execute("SELECT count(*) FROM messwert_umgerechnet WHERE jahr = 2017").fetchone()[0] == 0
    assert realloc.fresh(city.cursor())
    _assert_same_as_011(city)


def test_no_earlier_version_reads_messwert_aktuell(empty_con):
    assert query.current_source(empty_con) == "messwert_aktuell"


def test_read_only_connection_with_stale_rows_computes_on_read(city, tmp_path):  # noqa: F811 - the fixture imported above
    lid = deliver(city, old_rows(2016), "2016.xlsx")
    with db.transaction(city) as cur:
        cur.execute("INSERT INTO lieferung_gebietsstand VALUES (?, 1)", [lid])
    path = city.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    city.close()
    ro = db.connect(path, read_only=True)
    src = query.current_source(ro)
    assert src.startswith("(")  # not the stored table: it is stale and cannot be written
    v = query.current_raw(ro, ["ew"], [2016], actor=SYSTEM).set_index("sozialraum_id")
    assert v["wert"].sum() == pytest.approx(1900.0) and v["umgerechnet"].notna().sum() == 3  # D unchanged: as delivered
    ro.close()


def _xlsx(path, year: int, areas: dict[str, float]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Sozialraum", "Jahr", "Indikator", "Wert"])
    for a, w in areas.items():
        ws.append([a, year, "ew", w])
    wb.save(path)


def _two_versions(tmp_path) -> str:
    from quartier.cli import main

    dbp = tmp_path / "c.duckdb"
    _geojson(tmp_path / "v1.geojson", V1)
    _geojson(tmp_path / "v2.geojson", V2)
    assert main(["init", "--db", str(dbp), "--geometry", str(tmp_path / "v1.geojson"), "--id-field", "sid",
                 "--name-field", "nm", "--bezirk-field", "bz"]) == 0
    con = db.connect(dbp)
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO indikator (id, name, einheit) VALUES ('ew', 'Einwohner insgesamt', 'Anzahl')")
    con.close()
    assert main(["gebiete", "neu", "--db", str(dbp), "--geometry", str(tmp_path / "v2.geojson"), "--id-field", "sid",
                 "--name-field", "nm", "--gueltig-ab", "2022-01-01"]) == 0
    return str(dbp)


def test_cli_import_on_earlier_gebietsstand(tmp_path, capsys):
    from quartier.cli import main

    dbp = _two_versions(tmp_path)
    capsys.readouterr()
    f = tmp_path / "einwohner-2019.xlsx"
    _xlsx(f, 2019, {"A": 1000, "B": 300, "C": 100, "D": 500})
    # old areas for a year after today's Gebietsstand began (2022): A, B, C unknown, not taken "by date": rejected
    late = tmp_path / "einwohner-2023-alt.xlsx"
    _xlsx(late, 2023, {"A": 1000, "B": 300, "C": 100, "D": 500})
    assert main(["import", str(late), "--db", dbp, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "rejected"
    assert main(["import", str(f), "--db", dbp, "--gebietsstand", "9", "--json"]) == 2
    assert "Gebietsstand 9 gibt es nicht" in capsys.readouterr().err
    assert main(["import", str(f), "--db", dbp, "--gebietsstand", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "imported" and list(out)[:6] == ["file", "status", "lieferung_id", "rows", "errors", "warnings"]
    con = db.connect(dbp)
    assert con.execute("SELECT gebietsstand_id FROM lieferung_gebietsstand WHERE lieferung_id = ?",
                       [out["lieferung_id"]]).fetchone()[0] == 1
    raw = con.execute("SELECT sozialraum_id FROM messwert WHERE lieferung_id = ? ORDER BY 1", [out["lieferung_id"]]).fetchall()
    assert [r[0] for r in raw] == ["A", "B", "C", "D"]  # stored as delivered
    v = query.current_raw(con, ["ew"], [2019], actor=SYSTEM).set_index("sozialraum_id")
    assert set(v.index) == {"A1", "A2", "BC", "D"} and v["wert"].sum() == pytest.approx(1900.0)
    assert v.loc["BC", "wert"] == pytest.approx(400.0) and re.match(r"umgerechnet \(.*Gebietsstand 1\)", v.loc["BC", "umgerechnet"])
    # stored at import (incrementally), not first on this read
    n = con.execute("SELECT count(*) FROM messwert_umgerechnet WHERE jahr = 2019").fetchone()[0]
    assert n == 4
    con.close()
    # a delivery on today's areas still imports without the option
    g = tmp_path / "einwohner-2023.xlsx"
    _xlsx(g, 2023, {"A1": 1, "A2": 2, "BC": 3, "D": 4})
    assert main(["import", str(g), "--db", dbp, "--json"]) == 0
    capsys.readouterr()


def test_population_grid_weights_the_crosswalk(empty_con, tmp_path):
    import datetime as dt

    import shapely

    from quartier.areas import crosswalk
    from quartier.areas.init import replace_geometry
    from tests.unit.test_versions import INDICATORS, sq

    con = empty_con
    replace_geometry(con, V1, city="Teststadt")
    with db.transaction(con) as cur:
        for iid, name, unit in INDICATORS:
            cur.execute("INSERT INTO indikator (id, name, einheit) VALUES (?, ?, ?)", [iid, name, unit])
    deliver(con, old_rows(2020), "2020.xlsx")
    # a population grid: A's west half holds 900 people, its east half 100; one cell over B, C, D
    cells = [(sq(0, 0.5), 900), (sq(0.5, 0.5), 100), (sq(1, 3), 900)]
    feats = [{"type": "Feature", "properties": {"EW": ew}, "geometry": shapely.geometry.mapping(g)} for g, ew in cells]
    (tmp_path / "raster.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    grid = crosswalk.read_points(str(tmp_path / "raster.geojson"), "EW")
    out = versions.create_version(con, V2, dt.date(2022, 1, 1), user="test", points=grid)
    assert out["schluessel"] == {"1": "einwohnerraster"}
    key = versions.key_table(con, 1, 2).set_index(["alt_id", "neu_id"])["anteil"]
    assert key[("A", "A1")] == pytest.approx(0.9, abs=1e-6) and key[("A", "A2")] == pytest.approx(0.1, abs=1e-6)
    v = query.current_raw(con, ["ew"], [2020], actor=SYSTEM).set_index("sozialraum_id")
    assert v.loc["A1", "wert"] == pytest.approx(900.0, rel=1e-6) and v["wert"].sum() == pytest.approx(1900.0)
    assert "Einwohner-Raster" in v.loc["A1", "umgerechnet"]
