"""Daten-Import in Chromium: upload through the file input, preview, confirm the warning, write, see it in the history."""

from __future__ import annotations

import re

import duckdb
from playwright.sync_api import expect

from tests.e2e.conftest import AXE, assert_no_exception, open_page, screenshot, wait_for_app
from tests.unit.ingest_files import long_rows, xlsx

SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"


def main_axe_violations(pg) -> list[dict]:
    """Serious/critical WCAG 2.1 AA violations in the page content (the import preview).

    Streamlit's own sidebar navigation is excluded here: for the editor role its collapsible section markup
    (``ul > div > header + li``) trips axe's list rules; that is not this page's content.
    """
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate(
        "async () => await axe.run({exclude: [['[data-testid=\"stSidebarNavItems\"]']]},"
        " {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})"
    )
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_upload_preview_and_confirm_in_the_browser(server, page, demo_db, tmp_path):
    # the current 2025 values of three areas, delivered again: nothing changes for the other browser tests
    con = duckdb.connect(str(demo_db), read_only=True)
    rows = con.execute("SELECT jahr, sozialraum_id, zaehler, nenner, wert FROM messwert_aktuell WHERE indikator_id = 'sgb2_u18'"
                       " AND jahr = 2025 AND NOT gesperrt ORDER BY sozialraum_id LIMIT 3").fetchall()
    con.close()
    path = xlsx(tmp_path / "jobcenter_e2e_2025.xlsx",
                {"Daten": long_rows([(y, sid, SGB, z, n, str(w).replace(".", ",")) for y, sid, z, n, w in rows])})
    open_page(page, server, "daten-import", user="bearbeitung")
    assert_no_exception(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Werte unverändert").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("jobcenter_e2e_2025.xlsx").first.is_visible()
    assert page.get_by_text("Prüfergebnis").first.is_visible()  # the missing Sozialräume are a warning
    button = page.get_by_role("button", name="Lieferung übernehmen")
    assert button.is_disabled()
    page.get_by_text("Warnung(en) geprüft").click()
    expect(button).to_be_enabled(timeout=30_000)  # the rerun after the tick has drawn the button anew
    wait_for_app(page)
    screenshot(page, "daten-import-vorschau")
    violations = main_axe_violations(page)
    assert not violations, violations
    page.get_by_role("button", name="Lieferung übernehmen").click()
    page.get_by_text("Übernommen als Lieferung").wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "daten-import-uebernommen")
    # the history lists it
    page.get_by_role("link", name="Lieferungen").first.click()
    page.wait_for_url("**/lieferungen**")
    wait_for_app(page)
    screenshot(page, "lieferungen-nach-import")
    page.locator("p", has_text=re.compile(r"Lieferung #\d+: jobcenter_e2e_2025\.xlsx")).first.wait_for(timeout=30_000)
