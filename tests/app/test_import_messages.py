"""Issue 16 §4 on the Daten-Import page (AppTest): messages as wrapping lines with the rule in German, and a
corrected file uploaded under the same name replaces the earlier card."""

from __future__ import annotations

import duckdb

from quartier.access import EDITOR, Actor
from tests.unit.ingest_files import xlsx

STAFF = Actor("pruefer", EDITOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HZE = "Hilfen zur Erziehung je 1.000 unter 21-Jährige"


def _file(app_db, tmp_path, numerator: int, name: str = "jugendamt_2025.xlsx"):
    con = duckdb.connect(str(app_db), read_only=True)
    (area,) = con.execute("SELECT name FROM sozialraum ORDER BY id LIMIT 1").fetchone()
    con.close()
    rows = [["Berichtsjahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"],
            [2025, area, HZE, numerator, 1816, round(numerator / 1816 * 1000, 1)]]
    sub = tmp_path / str(numerator)
    sub.mkdir()
    return xlsx(sub / name, {"Daten": rows})


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_findings_wrap_and_name_the_rule_in_german(run_page, app_db, tmp_path):
    path = _file(app_db, tmp_path, 3000)
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert not at.exception, at.exception
    text = _markdown(at)
    line = next(x for x in text.splitlines() if "ist größer als der Nenner" in x)
    # one Markdown line per finding (wraps on the page), the whole message, the rule in German
    assert "**Fehler**" in line and "Zelle D2" in line and "*Zähler größer als Nenner*" in line
    assert line.rstrip().endswith("vertauscht?\\)."), line
    assert "zaehler_groesser_nenner" not in text
    assert "Anteil 0,125" not in text                       # one message per cause
    table = at.dataframe[-1].value
    assert "Zähler größer als Nenner" in set(table["Regel"]) and not table["Regel"].str.contains("_").any()


def test_corrected_file_with_the_same_name_replaces_the_card(run_page, app_db, tmp_path):
    wrong, fixed = _file(app_db, tmp_path, 3000), _file(app_db, tmp_path, 300)
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value([(wrong.name, wrong.read_bytes(), XLSX)])
    at.run(timeout=120)
    assert "ist größer als der Nenner" in _markdown(at)
    at.file_uploader[0].set_value([(wrong.name, wrong.read_bytes(), XLSX), (fixed.name, fixed.read_bytes(), XLSX)])
    at.run(timeout=120)
    assert not at.exception, at.exception
    cards = [h.value for h in at.subheader if h.value.startswith("Datei ")]
    assert cards == ["Datei 1: jugendamt\\_2025.xlsx"] or cards == ["Datei 1: jugendamt_2025.xlsx"], cards
    assert "ist größer als der Nenner" not in _markdown(at)
    assert any("Ersetzt die zuvor hochgeladene Fassung" in c.value for c in at.caption)
    assert not any("Fehler: die Datei kann so nicht übernommen werden" in e.value for e in at.error)
