"""Daten-Import without choosing a Gebietsstand: a file on the earlier areas for years before the change is taken
"by date" onto the earlier Gebietsstand, and the page says so (Issue 19)."""

from __future__ import annotations

import duckdb

from quartier import db
from tests.app.test_versions_demo import merge_two
from tests.app.test_versions_import import SGB, STAFF, XLSX
from tests.unit.ingest_files import long_rows, xlsx


def test_import_by_date_without_choice(run_page, app_db, tmp_path):
    con = db.connect(app_db)
    a, b = merge_two(con)
    con.close()
    path = xlsx(tmp_path / "jobcenter_2019_alt.xlsx", {"Daten": long_rows([
        (2019, a, SGB, 30, 100, "30,0"), (2019, b, SGB, 10, 100, "10,0")])})
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert not at.exception, at.exception
    assert any("nach Datum dem Gebietsstand 1 zugeordnet" in i.value for i in at.info)
    for c in at.checkbox:
        if "Warnung" in c.label:
            c.check()
    at.run(timeout=120)
    next(bt for bt in at.button if bt.label == "Lieferung übernehmen").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    con = duckdb.connect(str(app_db))
    gs = con.execute("SELECT x.gebietsstand_id FROM lieferung l JOIN lieferung_gebietsstand x"
                     " ON x.lieferung_id = l.id WHERE l.dateiname = ?", [path.name]).fetchone()
    con.close()
    assert gs == (1,)
