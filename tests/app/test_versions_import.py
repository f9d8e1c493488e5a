"""Daten-Import on a city with two Gebietsstände: a file delivered on the earlier areas is chosen as such, stored
with its Gebietsstand and re-allocated (Issue 19)."""

from __future__ import annotations

import duckdb

from quartier import db
from quartier.access import EDITOR, Actor
from tests.app.test_versions_demo import merge_two
from tests.unit.ingest_files import long_rows, xlsx

STAFF = Actor("pruefer", EDITOR)
SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def take_over(at, app_db, path) -> tuple[int, int]:
    """Accept the warnings, take the delivery over; return (Lieferung id, its Gebietsstand)."""
    for c in at.checkbox:
        if "Warnung" in c.label:
            c.check()
    at.run(timeout=120)
    next(bt for bt in at.button if bt.label == "Lieferung übernehmen").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    con = duckdb.connect(str(app_db))
    try:
        return con.execute("SELECT l.id, x.gebietsstand_id FROM lieferung l JOIN lieferung_gebietsstand x"
                           " ON x.lieferung_id = l.id WHERE l.dateiname = ?", [path.name]).fetchone()
    finally:
        con.close()


def upload_on_earlier_areas(run_page, app_db, tmp_path):
    """The demo with two Sozialräume merged (a second Gebietsstand) and a 2019 file on the two earlier areas,
    dropped on the Daten-Import page; returns the AppTest after the analysis, the two old ids and the file."""
    con = db.connect(app_db)
    a, b = merge_two(con)
    con.close()
    path = xlsx(tmp_path / "jobcenter_2019_alt.xlsx", {"Daten": long_rows([
        (2019, a, SGB, 30, 100, "30,0"), (2019, b, SGB, 10, 100, "10,0")])})
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert not at.exception, at.exception
    return at, a, b, path


def test_import_on_earlier_gebietsstand(run_page, app_db, tmp_path):
    at, a, b, path = upload_on_earlier_areas(run_page, app_db, tmp_path)
    choice = next(s for s in at.selectbox if s.label == "Gebietsstand der Lieferung")
    assert "aktuell" in choice.format_func(choice.value) and choice.value == 2
    choice.set_value(1)
    at.run(timeout=120)
    assert not at.exception, at.exception
    lid, gs = take_over(at, app_db, path)
    con = duckdb.connect(str(app_db))
    merged = con.execute("SELECT zaehler, nenner, wert, umgerechnet FROM messwert_umgerechnet WHERE sozialraum_id = ?"
                         " AND jahr = 2019 AND lieferung_id = ?", [f"{a}+{b}", lid]).fetchall()
    con.close()
    assert gs == 1
    # the merged area: numerators and denominators summed, the rate recomputed (40 / 200), marked
    assert len(merged) == 1 and merged[0][:3] == (40.0, 200.0, 20.0) and merged[0][3].startswith("umgerechnet (")
