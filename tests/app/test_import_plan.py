"""Daten-Import page: the table range (header rows, first data row, rows not read) can be set where detection
missed, and the Lieferant box follows the analysis. On the second city (tests/city2.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from quartier.access import EDITOR, Actor
from tests import city2
from tests.app.conftest import upload_on_import_page
from tests.unit.ingest_files import xlsx

STAFF = Actor("pruefer", EDITOR)


@pytest.fixture
def upload(city2_copy, monkeypatch):
    monkeypatch.setenv("QUARTIER_DB", str(city2_copy))

    def _upload(path: Path) -> AppTest:
        return upload_on_import_page(path, STAFF)

    return _upload


def new_values(at) -> int:
    return int({m.label: m.value for m in at.metric}["Werte neu"].replace(".", ""))


def by_label(items, start: str):
    return next(w for w in items if w.label.startswith(start))


def apply_range(at, top=None, last=None, first=None, exclude=None) -> AppTest:
    if top is not None:
        by_label(at.number_input, "Erste Kopfzeile").set_value(top)
    if last is not None:
        by_label(at.number_input, "Letzte Kopfzeile").set_value(last)
    if first is not None:
        by_label(at.number_input, "Erste Datenzeile").set_value(first)
    if exclude is not None:
        by_label(at.multiselect, "Zeilen nicht lesen").set_value(exclude)
    by_label(at.button, "Bereich anwenden").click()
    at.run()
    assert not at.exception, at.exception
    return at


def text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [e.value for e in at.error] + [i.value for i in at.info]
                     + [d.value.to_csv() for d in at.dataframe])


def test_range_controls_show_the_detected_block_and_change_it(upload, tmp_path):
    at = upload(city2.yearbook(tmp_path / "jahrbuch_2025.xlsx", 2025))
    # detected: header rows 2-4 (group header, names, descriptions), data from row 5, totals found by themselves
    assert by_label(at.number_input, "Erste Kopfzeile").value == 2
    assert by_label(at.number_input, "Letzte Kopfzeile").value == 4
    assert by_label(at.number_input, "Erste Datenzeile").value == 5
    assert new_values(at) == 80 and "Kopfzeilen 2–4" in text(at)
    # applying the detected range unchanged gives the same result
    at = apply_range(at)
    assert new_values(at) == 80
    # the first data row one lower: Nordviertel 1 (row 5) is not read
    at = apply_range(at, first=6)
    assert new_values(at) == 78 and by_label(at.number_input, "Erste Datenzeile").value == 6
    # exclude a row: Nordviertel 2 (row 6) is not read either, and the check says so
    excl = by_label(at.multiselect, "Zeilen nicht lesen")
    assert any("Nordviertel 2" in excl.format_func(o) for o in excl.options)
    at = apply_range(at, exclude=[6])
    assert new_values(at) == 76
    assert "auf Wunsch" in text(at)


def test_header_rows_below_the_first_data_row_are_refused(upload, tmp_path):
    at = upload(city2.yearbook(tmp_path / "jahrbuch_2025.xlsx", 2025))
    at = apply_range(at, top=2, last=6, first=5)
    assert "müssen über der ersten Datenzeile" in text(at)
    assert new_values(at) == 80                              # nothing changed


def test_header_rows_set_by_hand_are_read_as_the_header(upload, tmp_path):
    """A sheet whose header detection would take the title as header: the page sets rows 3-3 and the columns
    are read from there."""
    rows = [["Kennzahlen der Stadtteile"], ["Quelle: Statistikstelle, eigene Auswertung"],
            ["Stadtteil", "Einwohnerzahl", "Kinder unter 18 Jahren"],
            *[[a["name"], 1000 + k, 100 + k] for k, a in enumerate(city2.areas()[:5])]]
    at = upload(xlsx(tmp_path / "kennzahlen.xlsx", {"2025": rows}))
    at = apply_range(at, top=3, last=3, first=4)
    assert new_values(at) == 10
    assert "Kopfzeile in Zeile 3" in text(at)


def test_lieferant_box_follows_the_analysis(upload, tmp_path):
    """No Lieferant in the file name and an unknown indicator spelling: the box is empty; once the suggestion
    is accepted the analysis knows the indicator and its Lieferant, and the box shows it."""
    path = xlsx(tmp_path / "werte.xlsx", {"Daten": [["Jahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"],
                                                    [2025, "P001", "Kinder in Armutslage", 10, 100, 10.0],
                                                    [2025, "P002", "Kinder in Armutslage", 12, 100, 12.0]]})
    at = upload(path)
    box = by_label(at.selectbox, "Lieferant")
    assert box.value is None
    next(c for c in at.checkbox if "Kinder in Armutslage" in c.label).check()
    at.run()
    assert not at.exception, at.exception
    assert by_label(at.selectbox, "Lieferant").value == "Sozialamt"
