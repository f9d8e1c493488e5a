"""Daten-Import page with a real published workbook (Statistikamt Nord, Stadtteil-Profile 2017) on a city built from
its Stadtteile: the detected range, every column in the mapping table (also A, whose header is merged over three
rows) and the values to import. The file lives in ../shared/published (tests/data/published/README.md)."""

from __future__ import annotations

from quartier.access import EDITOR, Actor
from tests.app.conftest import upload_on_import_page
from tests.unit.test_ingest_real import HH17, HH17_CATALOGUE, HH_DISTRICTS, build_city, hamburg_areas, needs


@needs(HH17)
def test_stadtteil_profile_on_the_import_page(empty_con, tmp_path, monkeypatch):
    build_city(empty_con, "Hamburg", HH_DISTRICTS, hamburg_areas(HH17), HH17_CATALOGUE)
    empty_con.close()
    monkeypatch.setenv("QUARTIER_DB", str(tmp_path / "empty.duckdb"))
    at = upload_on_import_page(HH17, Actor("pruefer", EDITOR))
    numbers = {w.label: w.value for w in at.number_input}
    assert (numbers["Erste Kopfzeile"], numbers["Letzte Kopfzeile"], numbers["Erste Datenzeile"]) == (2, 4, 5)
    assert {m.label: m.value for m in at.metric}["Werte neu"] == "594"          # 6 indicators x 99 Stadtteile
    table = next(d.value for d in at.dataframe if "Überschrift" in d.value.columns)
    assert len(table) == 67 and list(table["Spalte"][:2]) == ["A", "B"]          # A to BO, none left out
    a = table.iloc[0]
    assert a["Überschrift"] == "Stadtgebiet" and a["Zuordnung"].startswith("Sozialraum")
    assert table.set_index("Spalte").loc["AA", "Indikator"] == "hh_wanderung"
