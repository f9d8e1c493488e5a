"""Chromium: a staff member changes a status with a justification; the Umsetzungsstand page reflects it."""

from __future__ import annotations

import re

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_for_app


def _status_counts(pg) -> dict[str, int]:
    """The status line on Umsetzungsstand ('○ offen 2 · ◔ in Planung 2 · ...') as {status: count}."""
    text = pg.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Nach Status:").first.inner_text()
    text = text.split("Nach Status:", 1)[1]
    return {re.sub(r"^\W+", "", part.rsplit(" ", 1)[0].strip()).strip(): int(part.rsplit(" ", 1)[1])
            for part in (p.strip() for p in text.split("·")) if part}


def _changes_line(pg) -> str:
    return pg.get_by_text(re.compile(r"^Seit dem .* Änderungen")).first.inner_text()


def test_staff_changes_status_and_overview_reflects_it(server, page):
    open_page(page, server, "umsetzungsstand", user="bearbeitung")
    assert_no_exception(page)
    before = _status_counts(page)
    changes_before = _changes_line(page)

    open_page(page, server, "empfehlungen?id=HE-25", user="bearbeitung")
    assert_no_exception(page)
    page.get_by_role("tab", name="Bearbeiten").click()
    form = page.locator('[data-testid="stForm"]').first
    form.get_by_label("Status").first.click()
    page.get_by_role("option", name=re.compile("in Umsetzung")).first.click()
    form.get_by_label(re.compile("^Begründung")).fill("Beide Stellen besetzt (Browser-Test).")
    form.get_by_role("button", name="Änderungen speichern").click()
    page.get_by_text(re.compile(r"HE-25: \d Feld\(er\) gespeichert")).first.wait_for(timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_role("tab", name="Verlauf").click()
    assert page.get_by_text("Beide Stellen besetzt (Browser-Test).").first.is_visible()
    screenshot(page, "empfehlungen-status-geaendert")

    open_page(page, server, "umsetzungsstand", user="bearbeitung")
    assert_no_exception(page)
    after = _status_counts(page)
    assert after["in Umsetzung"] == before["in Umsetzung"] + 1
    assert after["in Planung"] == before["in Planung"] - 1
    assert _changes_line(page) != changes_before
    screenshot(page, "umsetzungsstand-nach-aenderung")
