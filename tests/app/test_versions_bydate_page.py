"""Daten-Import without choosing a Gebietsstand: a file on the earlier areas for years before the change is taken
"by date" onto the earlier Gebietsstand, and the page says so (Issue 19)."""

from __future__ import annotations

import duckdb

from tests.app.test_versions_import import upload_on_earlier_areas


def test_import_by_date_without_choice(run_page, app_db, tmp_path):
    at, a, b, path = upload_on_earlier_areas(run_page, app_db, tmp_path)
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
