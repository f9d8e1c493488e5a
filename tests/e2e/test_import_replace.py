"""Daten-Import in Chromium: a corrected file uploaded under the same name replaces the earlier card (issue 16 §4)."""

from __future__ import annotations

import duckdb
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_for_app
from tests.unit.ingest_files import xlsx

HZE = "Hilfen zur Erziehung je 1.000 unter 21-Jährige"
NAME = "jugendamt_korrektur_2025.xlsx"


def _file(demo_db, folder, numerator: int):
    con = duckdb.connect(str(demo_db), read_only=True)
    (area,) = con.execute("SELECT name FROM sozialraum ORDER BY id LIMIT 1").fetchone()
    con.close()
    folder.mkdir()
    return xlsx(folder / NAME, {"Daten": [["Berichtsjahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"],
                                          [2025, area, HZE, numerator, 1816, round(numerator / 1816 * 1000, 1)]]})


def test_corrected_file_with_the_same_name_replaces_the_card(server, page, demo_db, tmp_path):
    wrong, fixed = _file(demo_db, tmp_path / "a", 3000), _file(demo_db, tmp_path / "b", 300)
    open_page(page, server, "daten-import", user="bearbeitung")
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(str(wrong))
    page.get_by_text("ist größer als der Nenner").first.wait_for(timeout=60_000)
    wait_for_app(page)
    cards = page.get_by_role("heading", name=f"Datei 1: {NAME}")
    expect(cards).to_have_count(1)
    # the long message wraps inside the page instead of being cut off
    line = page.locator("li", has_text="ist größer als der Nenner").first
    assert line.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the message line is cut off"
    upload.set_input_files(str(fixed))      # the uploader now holds both files, same name
    page.get_by_text("Ersetzt die zuvor hochgeladene Fassung").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=f"Datei 1: {NAME}")).to_have_count(1)
    expect(page.get_by_role("heading", name=f"Datei 2: {NAME}")).to_have_count(0)
    expect(page.get_by_text("ist größer als der Nenner")).to_have_count(0)
    screenshot(page, "daten-import-ersetzt")
