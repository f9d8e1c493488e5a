"""Issue 16 in Chromium: the Stadtbezirk chosen on one page stays chosen while the user moves through the
sidebar (Mein Bezirk, Karte, Umsetzungsstand, Sozialräume) in one browser session."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_page, wait_for_app


def _go(pg, title: str, path: str) -> None:
    # no_wait_after: Streamlit changes the page without a document navigation; Playwright would wait for a
    # navigation that a component frame on Mein Bezirk keeps "scheduled". The wait below is on the new URL.
    link = pg.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).first
    link.click(no_wait_after=True)
    pg.wait_for_url(re.compile(rf"/{path}(\?.*)?$"), timeout=90_000)
    wait_for_app(pg, timeout=90_000)  # the map pages are heavy on a shared machine
    assert_no_exception(pg)


def _select(pg, label: str):
    return pg.locator('[data-testid="stSelectbox"]').filter(has=pg.get_by_text(label, exact=True)).first


def test_district_survives_the_sidebar(server, page):
    pg = page
    open_page(pg, server, "mein-bezirk?bezirk=hohenlimburg")
    pg.get_by_role("heading", name="Mein Bezirk – Hohenlimburg").wait_for(timeout=30_000)
    _go(pg, "Karte", "karte")
    expect(_select(pg, "Ausschnitt").locator("input")).to_have_value("Hohenlimburg")
    _go(pg, "Umsetzungsstand", "umsetzungsstand")
    box = _select(pg, "Stadtbezirk")
    expect(box.locator("input")).to_have_value("Hohenlimburg")
    # another district chosen here ...
    box.click()
    pg.get_by_role("option", name="Haspe", exact=True).click()
    pg.wait_for_url(re.compile(r"bezirk=haspe"))
    wait_for_app(pg)
    _go(pg, "Sozialräume", "sozialraeume")
    expect(_select(pg, "Stadtbezirk").locator("input")).to_have_value("Haspe")
    # ... is the district of Mein Bezirk and of the map
    _go(pg, "Mein Bezirk", "mein-bezirk")
    pg.get_by_role("heading", name="Mein Bezirk – Haspe").wait_for(timeout=30_000)
    _go(pg, "Karte", "karte")
    expect(_select(pg, "Ausschnitt").locator("input")).to_have_value("Haspe")
